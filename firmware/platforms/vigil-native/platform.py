# Local PlatformIO platform "vigil-native": no packages, the toolchain is the host gcc on PATH.
from platformio.public import PlatformBase


class VigilnativePlatform(PlatformBase):
    pass
