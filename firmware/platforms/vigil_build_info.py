"""Pre-build script (platformio.ini: extra_scripts = pre:firmware/platforms/vigil_build_info.py).

Defines two C string macros for every environment:

  VIGIL_BUILD_ID    first 12 hex digits of SHA-256 over the contents of every file
                    under firmware/core, firmware/app, the environment's board
                    directory (option `custom_vigil_board_dir`, may be empty), the
                    files taken in order of their project-relative POSIX path
                    (plain string sort), contents concatenated with no separator;
                    then the files of the models' firmware folder (below), in
                    order of their path relative to that folder.

and puts the models' generated headers on the include path: MODELS_DIR/firmware, where
MODELS_DIR is $VIGIL_MODELS_DIR if set (e.g. freshly trained models, `make demo`), else
the project's models/ (written by `vigil export models`).
  VIGIL_FW_VERSION  project.version from the root pyproject.toml (the first
                    `version = "..."` line if [project] has none); "0.0.0" if the
                    file or the line is missing.

It is also a plain script / importable module (build_id, fw_version), to compute
the same values outside a build:
    python firmware/platforms/vigil_build_info.py [board_dir]
e.g. `... firmware/boards/native` prints the VIGIL_BUILD_ID of env:native.
"""
import hashlib
import os
import re
import sys

HASHED_DIRS = ("firmware/core", "firmware/app")
DEFAULT_VERSION = "0.0.0"
MODELS_ENV = "VIGIL_MODELS_DIR"


def models_firmware_dir(project_dir):
    """The folder of generated model headers the firmware includes."""
    models = os.environ.get(MODELS_ENV) or os.path.join(project_dir, "models")
    return os.path.join(os.path.abspath(models), "firmware")


def build_id(project_dir, board_dir=None):
    roots = list(HASHED_DIRS) + ([board_dir] if board_dir else [])
    files = set()
    for root in roots:
        top = os.path.join(project_dir, root)
        for dirpath, _dirnames, filenames in os.walk(top):
            for name in filenames:
                path = os.path.join(dirpath, name)
                if os.path.isfile(path):
                    rel = os.path.relpath(path, project_dir).replace(os.sep, "/")
                    files.add(rel)
    digest = hashlib.sha256()
    for rel in sorted(files):
        with open(os.path.join(project_dir, rel), "rb") as fp:
            digest.update(fp.read())
    models = models_firmware_dir(project_dir)
    if os.path.isdir(models):
        for name in sorted(os.listdir(models)):
            path = os.path.join(models, name)
            if os.path.isfile(path):
                with open(path, "rb") as fp:
                    digest.update(fp.read())
    return digest.hexdigest()[:12]


def fw_version(project_dir):
    path = os.path.join(project_dir, "pyproject.toml")
    try:
        with open(path, "rb") as fp:
            raw = fp.read()
    except OSError:
        return DEFAULT_VERSION
    try:
        import tomllib  # Python >= 3.11

        version = tomllib.loads(raw.decode("utf-8")).get("project", {}).get("version")
        if isinstance(version, str) and version:
            return version
    except Exception:  # pylint: disable=broad-except
        pass  # no tomllib or unparsable file: fall back to the line
    match = re.search(
        r'^\s*version\s*=\s*["\']([^"\']+)["\']', raw.decode("utf-8", "replace"), re.M
    )
    return match.group(1) if match else DEFAULT_VERSION


def _apply(env):
    project_dir = env.subst("$PROJECT_DIR")
    board_dir = (env.GetProjectOption("custom_vigil_board_dir", "") or "").strip()
    if board_dir and not os.path.isdir(os.path.join(project_dir, board_dir)):
        sys.stderr.write(
            "Warning! custom_vigil_board_dir `%s` of env:%s does not exist\n"
            % (board_dir, env["PIOENV"])
        )
    bid = build_id(project_dir, board_dir)
    version = fw_version(project_dir)
    models = models_firmware_dir(project_dir)
    if " " in models:
        sys.stderr.write("Warning! the models folder %s has a space: PlatformIO cannot include it\n" % models)
    env.Append(CPPPATH=[models])
    env.Append(
        CPPDEFINES=[
            ("VIGIL_BUILD_ID", env.StringifyMacro(bid)),
            ("VIGIL_FW_VERSION", env.StringifyMacro(version)),
        ]
    )
    print("Vigil build %s, version %s" % (bid, version))


if __name__ == "__main__":
    _here = os.path.dirname(os.path.abspath(__file__))
    print(build_id(os.path.dirname(os.path.dirname(_here)), *sys.argv[1:2]))
elif "Import" in globals():  # run by SCons as a PlatformIO extra script
    Import("env")  # noqa: F821
    _apply(env)  # noqa: F821
