"""Post-build-setup script for the registry environments (platformio.ini: feather_f405, nano33ble_registry).

PlatformIO's own ststm32 and nordicnrf52 platforms build a project without a framework with their
board's CPU flags; whether they add the Cortex-M4F's hard-float flags depends on the platform's
version. vigil's firmware is compiled and linked hard-float on every Cortex-M4F board (as the local
vigil-cortexm platform does), so this script makes sure of it: the same flags on the compiler, the
assembler and the linker, added once.
"""
Import("env")  # noqa: F821  (PlatformIO's SCons environment)

HARD_FLOAT = ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"]

for var in ("CCFLAGS", "ASFLAGS", "LINKFLAGS"):
    present = [str(flag) for flag in env.get(var, [])]  # noqa: F821
    missing = [flag for flag in HARD_FLOAT if flag not in present]
    env.Append(**{var: missing})  # noqa: F821
