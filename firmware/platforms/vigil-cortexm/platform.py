# Local PlatformIO platform "vigil-cortexm": no packages, the toolchain is the system
# arm-none-eabi-gcc on PATH.
from platformio.public import PlatformBase


class VigilcortexmPlatform(PlatformBase):
    def is_embedded(self):
        # No "uploader" package is declared (nothing may be downloaded), but this is a
        # bare-metal target: tell PlatformIO so (test runner, debugger, size checks).
        return True
