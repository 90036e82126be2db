"""Fetch the vendors' SVD files that the board ports' register definitions are checked against
(tests/test_board_registers.py): STM32F41x.svd (STM32F405) and nrf52840.svd, as shipped inside the `pyocd` wheel on
PyPI (no vendor pack or registry is reachable here; PyPI is). Only the wheel is downloaded (no install, no
dependencies) and only the two files are kept, in .venv/share/vigil-svd/. A second run with the files present does
nothing.

    .venv/bin/python tools/fetch_svd.py [--dest DIR]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PYOCD = "pyocd==0.46.0"  # the wheel whose svd_data.zip holds the files; pinned so the check is reproducible
SVD_ZIP = "pyocd/debug/svd/svd_data.zip"
SVD_FILES = ("STM32F41x.svd", "nrf52840.svd")
DEFAULT_DEST = Path(sys.prefix) / "share" / "vigil-svd"


def fetch(dest: Path) -> list[Path]:
    wanted = [dest / name for name in SVD_FILES]
    if all(p.is_file() for p in wanted):
        return wanted
    with tempfile.TemporaryDirectory(prefix="vigil-svd-") as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp, PYOCD],
                       check=True)  # fmt: skip
        wheel = next(Path(tmp).glob("pyocd-*.whl"))
        with zipfile.ZipFile(wheel) as whl, zipfile.ZipFile(io.BytesIO(whl.read(SVD_ZIP))) as svds:
            dest.mkdir(parents=True, exist_ok=True)
            for name in SVD_FILES:
                (dest / name).write_bytes(svds.read(name))
    return wanted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help=f"Where to keep them (default {DEFAULT_DEST}).")
    args = parser.parse_args()
    for path in fetch(args.dest):
        print(f"svd: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
