"""vigil: on-device sleep and stress monitoring with bit-exact Python twins of the firmware."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vigil")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0"
