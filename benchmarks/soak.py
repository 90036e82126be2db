"""Soak: a day of signal through one running firmware, every output checked, the device's and the host's memory
watched (issue 15, item 7). The figures go into docs/benchmarks.md.

    PYTHONPATH=host .venv/bin/python benchmarks/soak.py [--hours 24] [--block-hours 4] [--speed 400] [--board native]

The board is started once and never restarted. The day runs as live sessions of --block-hours each (the seeded wrist
at --speed times the board's clock, the raw tap on, every output compared with the twins at the block's end; a
block's session is a CONFIG, so the pipelines restart but the firmware does not), each followed by a 10-minute
replay that goes through the sample queue (live chunks do not). After each block: the device's stack and sample-queue
high-water marks (STATS, since boot), what the sources dropped and held, and the host's memory: the heap it holds
(every Python object and numpy buffer, traced by tracemalloc) and its resident size. The run fails on any mismatch,
any unexplained drop, high-water marks that grow after the first block, or a heap that grows by more than
HOST_HEAP_GROWTH_MAX_MB. The resident size is reported, not judged: it drifts up by about 6 MB per 4-h block while
the heap stays flat, because CPython's small-object allocator keeps an arena as long as one object in it lives, and a
block's millions of frames leave a few long-lived objects scattered over many arenas. Run with PYTHONMALLOC=malloc
(every object from glibc, trimmed before each reading) and the drift is under 1 MB per block.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import time
import tracemalloc

from vigil.data.recording import Recording
from vigil.data.synthetic_accel import synthetic_accel
from vigil.data.synthetic_ppg import synthetic_ppg
from vigil.device import board as boards
from vigil.device.link import Link
from vigil.live import LiveSettings, run_live_verify
from vigil.verify import verify_recording

HOST_HEAP_GROWTH_MAX_MB = 1.0  # what the host holds (traced heap) may grow from the first block to the last


def resident_mb() -> float:
    """Resident memory after handing glibc's free pages back (malloc_trim): without it the figure follows where a
    block's large arrays happened to land in the heap, not what the host still holds."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the untrimmed figure
        pass
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def block(link: Link, index: int, hours: float, speed: int) -> dict:
    settings = LiveSettings(seed=100 + index, speed=speed, signal_s=hours * 3600, check_every_s=1e9)
    started = time.monotonic()
    live = run_live_verify(link, settings, None).report
    replay = Recording.from_arrays(synthetic_accel(600, seed=index), synthetic_ppg(600, 64, seed=index)[0], 64)
    verified = verify_recording(link, replay)
    stats = link.stats()
    del live["stages"]
    gc.collect()
    return {"block": index, "signal_h": round(live["signal_s"] / 3600, 3), "wall_s": round(time.monotonic() - started, 1),
            "live_ok": live["ok"], "replay_ok": verified["ok"], "dropped": live["dropped"], "held": live["held"],
            "stack_high_water": stats["stack_high_water"], "stack_size": stats["stack_size"],
            "sample_queue_high_water": stats["sample_queue_high_water"], "host_resident_mb": round(resident_mb(), 1),
            "host_heap_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--block-hours", type=float, default=4.0)
    ap.add_argument("--speed", type=int, default=400,
                    help="The seeded wrist's clock in multiples of the board's; above about 500 the traced host falls "
                    "behind and the device drops samples (counted and held, still checked)")
    ap.add_argument("--board", default="native", choices=sorted(boards.BOARDS))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    blocks = []
    tracemalloc.start(1)  # one frame per allocation: the heap's size at little cost
    with boards.running_board(args.board) as proc, Link.open(proc.port) as link:
        boot = link.request_hello().boot_id
        for i in range(max(1, round(args.hours / args.block_hours))):
            blocks.append(block(link, i, args.block_hours, args.speed))
            if not args.json:
                print(json.dumps(blocks[-1]), flush=True)
        same_boot = link.request_hello().boot_id == boot
    first, last = blocks[0], blocks[-1]
    summary = {
        "board": args.board, "speed": args.speed, "signal_h": round(sum(b["signal_h"] for b in blocks), 2),
        "wall_s": round(sum(b["wall_s"] for b in blocks), 1), "same_boot": same_boot,
        "all_bit_exact": all(b["live_ok"] and b["replay_ok"] for b in blocks),
        "dropped": sum(b["dropped"] for b in blocks),
        # high-water marks are since boot: the first block sets them, later ones must not raise them
        "stack_high_water_flat": last["stack_high_water"] == first["stack_high_water"],
        "queue_high_water_flat": last["sample_queue_high_water"] == first["sample_queue_high_water"],
        "host_memory_flat": last["host_heap_mb"] - first["host_heap_mb"] <= HOST_HEAP_GROWTH_MAX_MB,
        "blocks": blocks,
    }
    summary["ok"] = all(summary[k] for k in ("same_boot", "all_bit_exact", "stack_high_water_flat",
                                             "queue_high_water_flat", "host_memory_flat"))  # fmt: skip
    print(json.dumps(summary, indent=None if args.json else 2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
