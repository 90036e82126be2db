"""The native firmware under AddressSanitizer and UBSan (board native_asan: the sanitizers stop it at the first report)
takes millions of fuzzed frames, a full verify of a recording and a live session with the raw tap; the figures go
into docs/benchmarks.md (issue 15, item 3).

    PYTHONPATH=host .venv/bin/python benchmarks/asan_fuzz.py [--frames 10000000] [--seed 1] [--json]

The frames are vigil.device.frame_fuzz's (the differential fuzz's generator: well-formed frames of every type, too
long, other versions, wrong length fields, each mutated half of the time, noise), written to the board's serial port
as fast as it takes them while the link's reader drains every answer. Whatever a random frame asks for happens:
resets, CONFIGs (live mode at any speed included), SAMPLES, NN runs on junk inputs. Afterwards the device must still
answer, and a sanitizer report (in the board's log) or a dead process fails the run.
"""

from __future__ import annotations

import argparse
import json
import re
import time

from vigil.data.recording import Recording
from vigil.data.synthetic_accel import synthetic_accel
from vigil.data.synthetic_ppg import synthetic_ppg
from vigil.device import board as boards
from vigil.device import protocol as p
from vigil.device.frame_fuzz import stream
from vigil.device.link import Link
from vigil.live import LiveSettings, run_live_verify
from vigil.verify import verify_recording

BATCH = 20_000  # inputs per write
SANITIZER_REPORT = re.compile(r"AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|LeakSanitizer")


def sanitizer_reports(log_path: str) -> list[str]:
    with open(log_path, errors="replace") as f:
        return [line.rstrip() for line in f if SANITIZER_REPORT.search(line)]


def fuzz(link: Link, proc: boards.BoardProcess, frames: int, seed: int) -> dict:
    started, sent_bytes, sent = time.monotonic(), 0, 0
    while sent < frames:
        n = min(BATCH, frames - sent)
        data = stream(n, seed + sent)
        link.write_raw(data)
        sent, sent_bytes = sent + n, sent_bytes + len(data)
        link.drain()
        if not proc.alive():
            raise SystemExit(f"native_asan stopped after {sent} fuzzed inputs: {sanitizer_reports(proc.log)[:3]}")
        if sent % 1_000_000 < BATCH:
            print(f"{sent:,} inputs, {time.monotonic() - started:.0f} s", flush=True)
    seconds = time.monotonic() - started
    link.request_hello(timeout=30)  # still answering, after whatever the fuzz asked for
    link.send(p.MsgType.SAMPLES_HOLD, b"\0")  # a fuzzed SAMPLES_HOLD may have paused the samples
    stats = link.stats()
    return {"inputs": sent, "bytes": sent_bytes, "seconds": round(seconds, 1),
            "inputs_per_second": round(sent / seconds), "device_reboots_seen": link.counters.reboots,
            "device_counters": {k: stats[k] for k in ("frames_rx", "crc_errors", "framing_errors", "oversize_errors",
                                                      "version_errors", "unknown_types", "bad_payloads")}}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--frames", type=int, default=10_000_000, help="fuzzed inputs to send")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out: dict = {"board": "native_asan"}
    with boards.running_board("native_asan") as proc, Link.open(proc.port) as link:
        link.request_hello(timeout=30)
        out["fuzz"] = fuzz(link, proc, args.frames, args.seed)
        rec = Recording.from_arrays(synthetic_accel(1800, seed=4), synthetic_ppg(1800, 64, seed=4)[0], 64)
        started = time.monotonic()
        report = verify_recording(link, rec)
        out["verify"] = {"ok": report["ok"], "signal_s": 1800, "seconds": round(time.monotonic() - started, 1)}
        live = run_live_verify(link, LiveSettings(seed=9, speed=120, signal_s=1800, check_every_s=10.0), None).report
        out["live"] = {"ok": live["ok"], "signal_s": live["signal_s"], "dropped": live["dropped"],
                       "wall_s": live["wall_s"]}  # fmt: skip
        reports = sanitizer_reports(proc.log) if proc.alive() else ["the board died"]  # the log goes with the board
    out["sanitizer_reports"] = len(reports)
    out["ok"] = bool(not reports and out["verify"]["ok"] and out["live"]["ok"])
    print(json.dumps(out, indent=None if args.json else 2))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
