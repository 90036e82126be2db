"""Link and firmware figures for docs/benchmarks.md.

    .venv/bin/python benchmarks/link_bench.py [--board vwrist] [--echo 10000] [--json]

Prints: firmware flash/RAM (from the ELF's sections), echo round trips per second through
the board, sample replay throughput, and the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import time

from vigil.device import board as boards
from vigil.device import flash, linkcheck
from vigil.device.link import Link


def firmware_size(env: str) -> dict[str, int]:
    """text/data/bss of the ELF (arm-none-eabi-size -B): flash = text + data, RAM = data + bss."""
    elf = flash.build_dir(env) / "firmware.elf"
    out = subprocess.run(["arm-none-eabi-size", "-B", str(elf)], capture_output=True, text=True, check=True).stdout
    text, data, bss = (int(v) for v in re.split(r"\s+", out.splitlines()[1].strip())[:3])
    return {"text": text, "data": data, "bss": bss, "flash": text + data, "ram": data + bss}


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    return f"{platform.machine()} {model}, {os.cpu_count()} cores, QEMU {qemu_version()}"


def qemu_version() -> str:
    out = subprocess.run(["qemu-system-arm", "--version"], capture_output=True, text=True).stdout
    return out.split()[3] if out else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--board", default="vwrist", choices=sorted(boards.BOARDS))
    parser.add_argument("--echo", type=int, default=10_000)
    parser.add_argument("--replay-bytes", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    result: dict = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "board": args.board,
    }
    with boards.running_board(args.board) as proc, Link.open(proc.port) as link:
        link.request_hello()
        echo = linkcheck.echo_test(link, args.echo)
        replay = linkcheck.replay_test(link, args.replay_bytes)
        stats = link.stats()
    if args.board == "vwrist":
        result["firmware"] = firmware_size("vwrist")
    result["echo"] = {"frames": echo.frames, "ok": echo.ok, "round_trips_per_second": round(echo.round_trips_per_second)}
    result["replay"] = {"bytes": replay.bytes, "ok": replay.ok, "kB_per_second": round(replay.bytes / replay.seconds / 1e3, 1),
                        "queue_high_water": replay.queue_high_water}  # fmt: skip
    result["stack_high_water"] = stats["stack_high_water"]
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key:18} {value}")


if __name__ == "__main__":
    main()
