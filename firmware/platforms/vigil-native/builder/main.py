"""PlatformIO build script of the local "vigil-native" platform.

Builds the sources selected by the environment's build_src_filter into a host
program ($BUILD_DIR/program) with the system gcc. Project-wide flags (C standard,
warnings, optimisation, include path) come from platformio.ini's build_flags.
"""
from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()

env.Replace(
    CC="gcc",
    CXX="g++",
    AS="gcc",
    AR="gcc-ar",
    RANLIB="gcc-ranlib",
    ARFLAGS=["rc"],
    ASPPFLAGS=["-x", "assembler-with-cpp"],
    SIZETOOL=None,
)
env.Append(LIBS=["m"])

program = env.BuildProgram()

# `pio run -e native -t exec` builds and runs the program.
AlwaysBuild(
    env.Alias(
        "exec", program, env.VerboseAction("$SOURCE $PROGRAM_ARGS", "Executing $SOURCE")
    )
)

Default([program])
