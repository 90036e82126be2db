"""vigil: on-device sleep and stress monitoring with bit-exact Python twins of the firmware."""

from importlib.metadata import PackageNotFoundError, version

from vigil import quiet_tensorflow

try:
    __version__ = version("vigil")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0"

quiet_tensorflow.install()  # before anything imports TensorFlow: its import prints C++ log lines otherwise
