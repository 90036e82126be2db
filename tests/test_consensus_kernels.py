"""stress_consensus_q15 (C) against its twin vigil.bundle.consensus_twin.stress_verdict, and each alert reason flipping."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from vigil.bundle import model_bundle as mb
from vigil.bundle import consensus_twin as ct

WEIGHTS = [18204, 10923, 3641]


def constants(threshold: int = 19661, motion_limit: int = 40, weights: list[int] = WEIGHTS) -> mb.ConsensusConstants:
    return mb.ConsensusConstants([], [], [], [], list(weights), threshold, motion_limit)


def run_c(program: Path, cases: list[tuple[mb.ConsensusConstants, ct.Evidence]]) -> list[dict[str, int]]:
    data = b""
    for c, e in cases:
        rec = np.array([*c.weights_q15, c.threshold_q15, c.motion_limit, *e.p_stress_q15], dtype="<u2").tobytes()
        valid_ready = int(e.features_valid) | int(e.baseline_ready) << 1  # the harness's byte 17: bit 0, bit 1
        rec += bytes([sum(1 << j for j, v in enumerate(e.votes_stress) if v), valid_ready, e.context_known, e.awake])
        rec += int(e.motion).to_bytes(2, "little")
        data += rec
    out = subprocess.run([str(program), "harness", "consensus"], input=data, capture_output=True, check=True).stdout
    rows = np.frombuffer(out, dtype=np.uint8).reshape(-1, 6)
    return [{"weighted_q15": int(r[0]) | int(r[1]) << 8, "decision": int(r[2]), "unanimous": int(r[3]),
             "alert": int(r[4]), "reasons": int(r[5])} for r in rows]  # fmt: skip


def all_held() -> ct.Evidence:
    return ct.Evidence((30000, 30000, 30000), (True, True, True), True, True, True, 3)


def flips() -> dict[str, ct.Evidence]:
    """Evidence that blocks the alert for exactly one reason each (unknown context clears three bits)."""
    e = all_held()
    return {
        "unanimous": ct.Evidence(e.p_stress_q15, (True, False, True), True, True, True, 3),
        "above_threshold": ct.Evidence((19660, 19660, 19660), e.votes_stress, True, True, True, 3),
        "features_valid": ct.Evidence(e.p_stress_q15, e.votes_stress, False, True, True, 3),
        "awake": ct.Evidence(e.p_stress_q15, e.votes_stress, True, True, False, 3),
        "little_motion": ct.Evidence(e.p_stress_q15, e.votes_stress, True, True, True, 41),
        "context_known": ct.Evidence(e.p_stress_q15, e.votes_stress, True, False, True, 3),
        "baseline_ready": ct.Evidence(e.p_stress_q15, e.votes_stress, True, True, True, 3, False),
    }


def test_each_reason_flips_the_alert_in_c_and_twin(ctest_program: Path) -> None:
    c = constants()
    cases = [("none", all_held()), *flips().items()]
    got = run_c(ctest_program, [(c, e) for _, e in cases])
    for (name, e), device in zip(cases, got):
        twin = ct.stress_verdict(c, e)
        assert device == twin, name
        held = ct.reason_names(twin["reasons"])
        if name == "none":
            assert twin["alert"] == 1 and all(held.values())
        else:
            assert twin["alert"] == 0 and not held[name], (name, held)
            cleared = {k for k, v in held.items() if not v}
            assert cleared == ({name} if name != "context_known" else {"context_known", "awake", "little_motion"})


def test_random_evidence_matches_the_twin(ctest_program: Path) -> None:
    rng = np.random.default_rng(7)
    cases = []
    for _ in range(2000):
        w = rng.integers(0, 6, size=3)
        w = w if w.sum() else np.array([1, 1, 1])
        weights = [int(v) for v in mb.consensus_weights_q15(list(w / w.sum()))]
        p = tuple(int(v) for v in rng.choice([0, 1, 16383, 16384, 16385, 19660, 19661, 32767, 32768], size=3)) \
            if rng.random() < 0.3 else tuple(int(v) for v in rng.integers(0, 32769, size=3))  # fmt: skip
        e = ct.Evidence(p, tuple(bool(v) for v in rng.integers(0, 2, size=3)), bool(rng.integers(0, 2)),  # type: ignore[arg-type]
                        bool(rng.integers(0, 2)), bool(rng.integers(0, 2)), int(rng.integers(0, 80)),
                        bool(rng.random() < 0.8))  # fmt: skip
        cases.append((constants(int(rng.integers(0, 32769)), int(rng.integers(0, 80)), weights), e))
    got = run_c(ctest_program, cases)
    assert got == [ct.stress_verdict(c, e) for c, e in cases]
    assert {r["alert"] for r in got} == {0, 1}
