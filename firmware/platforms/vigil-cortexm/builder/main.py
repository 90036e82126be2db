"""PlatformIO build script of the local "vigil-cortexm" platform.

Bare-metal Cortex-M build with the system arm-none-eabi-gcc (no PlatformIO
toolchain package). CPU, FPU and float ABI come from the board manifest
(boards/<board>.json: build.cpu, build.fpu, build.float_abi), the linker script
from the environment's `board_build.ldscript` (relative to the project dir), the
project-wide flags from platformio.ini's build_flags. Produces
$BUILD_DIR/firmware.elf, firmware.bin and firmware.map, and prints flash/RAM use
against the board's upload.maximum_size / upload.maximum_ram_size.
"""
import os
import sys

from SCons.Script import AlwaysBuild, Builder, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()

cpu = board.get("build.cpu")
machine_flags = ["-mcpu=%s" % cpu, "-mthumb"]
fpu = board.get("build.fpu", "")
if fpu:
    machine_flags += [
        "-mfloat-abi=%s" % board.get("build.float_abi", "hard"),
        "-mfpu=%s" % fpu,
    ]
else:
    machine_flags.append("-mfloat-abi=soft")

env.Replace(
    AR="arm-none-eabi-gcc-ar",
    AS="arm-none-eabi-gcc",
    CC="arm-none-eabi-gcc",
    CXX="arm-none-eabi-g++",
    GDB="arm-none-eabi-gdb",
    OBJCOPY="arm-none-eabi-objcopy",
    RANLIB="arm-none-eabi-gcc-ranlib",
    SIZETOOL="arm-none-eabi-size",
    ARFLAGS=["rc"],
    # Berkeley format: flash = text + data, RAM = data + bss (incl. NOLOAD stack/heap).
    SIZECHECKCMD="$SIZETOOL -B -d $SOURCES",
    SIZEPROGREGEXP=r"^(\d+)\s+(\d+)\s+\d+\s",
    SIZEDATAREGEXP=r"^\d+\s+(\d+)\s+(\d+)\s+\d+",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
)

env.Append(
    ASFLAGS=machine_flags,
    ASPPFLAGS=["-x", "assembler-with-cpp"],
    CCFLAGS=machine_flags + ["-ffunction-sections", "-fdata-sections"],
    LINKFLAGS=machine_flags
    + [
        "-nostartfiles",
        "--specs=nano.specs",
        "--specs=nosys.specs",
        "-Wl,--gc-sections",
        # substituted now: a path with spaces stays one argument
        "-Wl,-Map," + env.subst(os.path.join("$BUILD_DIR", "${PROGNAME}.map")),
    ],
    LIBS=["m"],
    BUILDERS=dict(
        ElfToBin=Builder(
            action=env.VerboseAction(
                "$OBJCOPY -O binary $SOURCES $TARGET", "Building $TARGET"
            ),
            suffix=".bin",
        )
    ),
)

# board_build.ldscript is given relative to the project; make it absolute so the
# result does not depend on the directory the linker happens to run in.
ldscript = env.get("LDSCRIPT_PATH")
if not ldscript:
    sys.stderr.write(
        "Error: env:%s needs `board_build.ldscript = <path to .ld>` in platformio.ini\n"
        % env["PIOENV"]
    )
    env.Exit(1)
ldscript = env.subst(ldscript)
if not os.path.isabs(ldscript):
    ldscript = os.path.join(env.subst("$PROJECT_DIR"), ldscript)
env.Replace(LDSCRIPT_PATH=ldscript)

target_elf = env.BuildProgram()
env.Depends(target_elf, ldscript)
target_bin = env.ElfToBin(os.path.join("$BUILD_DIR", "${PROGNAME}"), target_elf)
env.Depends(target_bin, "checkprogsize")

AlwaysBuild(env.Alias("nobuild", target_bin))
target_buildprog = env.Alias("buildprog", target_bin, target_bin)

target_size = env.AddPlatformTarget(
    "size",
    target_elf,
    env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"),
    "Program Size",
    "Calculate program size",
)

Default([target_buildprog, target_size])
