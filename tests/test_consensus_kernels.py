"""stress_consensus_q15 (C) against its twin vigil.bundle.consensus_twin.stress_verdict, each alert reason flipping,
and the SUSTAINED look back over a stream of segments."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np

from vigil.bundle import consensus_twin as ct
from vigil.bundle import model_bundle as mb

WEIGHTS = [18204, 10923, 3641]


def constants(threshold: int = 19661, motion_limit: int = 40, weights: list[int] = WEIGHTS,
              sustain_lookback: int = 0, decision: int = 16384) -> mb.ConsensusConstants:
    return mb.ConsensusConstants([], [], [], [], list(weights), threshold, motion_limit, False, sustain_lookback,
                                 decision)  # fmt: skip


def run_c(program: Path, cases: list[tuple[mb.ConsensusConstants, ct.Evidence]]) -> list[dict[str, int]]:
    """The C kernel on ``cases`` in order, through one alert memory (as the twin's ``twin_run``)."""
    data = b""
    for c, e in cases:
        rec = np.array([*c.weights_q15, c.threshold_q15, c.motion_limit, *e.p_stress_q15], dtype="<u2").tobytes()
        valid_ready = int(e.features_valid) | int(e.baseline_ready) << 1  # the harness's byte 17: bit 0, bit 1
        rec += bytes([sum(1 << j for j, v in enumerate(e.votes_stress) if v), valid_ready, e.context_known, e.awake])
        rec += int(e.motion).to_bytes(2, "little") + bytes([c.sustain_lookback]) + int(e.segment).to_bytes(4, "little")
        rec += int(c.decision_q15).to_bytes(2, "little")
        data += rec
    out = subprocess.run([str(program), "harness", "consensus"], input=data, capture_output=True, check=True).stdout
    rows = np.frombuffer(out, dtype=np.uint8).reshape(-1, 6)
    return [{"weighted_q15": int(r[0]) | int(r[1]) << 8, "decision": int(r[2]), "unanimous": int(r[3]),
             "alert": int(r[4]), "reasons": int(r[5])} for r in rows]  # fmt: skip


def twin_run(cases: list[tuple[mb.ConsensusConstants, ct.Evidence]]) -> list[dict[str, int]]:
    memory = ct.AlertMemory()
    return [ct.stress_verdict(c, e, memory) for c, e in cases]


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
    for (name, e), device, twin in zip(cases, got, twin_run([(c, e) for _, e in cases])):
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
        # the decision threshold: 0.5, a learnt one (0.20-0.60), or at the weighted value's edges
        decision = int(rng.choice([16384, int(rng.integers(6554, 19662)), 0, 32767, 32768]))
        cases.append((constants(int(rng.integers(0, 32769)), int(rng.integers(0, 80)), weights, decision=decision), e))
    got = run_c(ctest_program, cases)
    assert got == twin_run(cases)
    assert {r["alert"] for r in got} == {0, 1} and {r["decision"] for r in got} == {0, 1}


def test_the_decision_is_the_weighted_vote_above_the_trios_threshold(ctest_program: Path) -> None:
    """Weighted 9830 (P = 0.30): relax at 0.5, stress above a learnt 0.25, relax at exactly its own value (a tie)."""
    e = ct.Evidence((9830, 9830, 9830), (False, False, False), True, True, True, 3)
    cases = [(constants(decision=d), e) for d in (16384, 8192, 9830, 9829)]
    got = run_c(ctest_program, cases)
    assert got == twin_run(cases)
    assert [r["weighted_q15"] for r in got] == [9830] * 4 and [r["decision"] for r in got] == [0, 1, 0, 1]


def test_sustained_looks_back_at_the_evidence_only() -> None:
    c = constants(sustain_lookback=2)
    e, f = all_held(), flips()
    seq = [(10, e), (11, e), (14, e), (16, f["awake"]), (17, f["unanimous"]), (18, e), (19, e)]
    got = twin_run([(c, replace(ev, segment=s)) for s, ev in seq])
    assert [r["alert"] for r in got] == [0, 1, 0, 0, 0, 1, 1]
    # 14: 11 is 3 before; 16 asleep but its evidence held (14 is 2 before), 17 dissents (sustained by 16),
    # 18 sustained by 16 (2 before), 19 by 18
    assert [bool(r["reasons"] & ct.REASON_SUSTAINED) for r in got] == [False, True, False, True, True, True, True]
    off = twin_run([(constants(sustain_lookback=0), replace(all_held(), segment=3))])
    assert off[0]["alert"] == 1 and off[0]["reasons"] == ct.REASON_ALL


def test_random_streams_sustain_as_the_twin(ctest_program: Path) -> None:
    """Streams of segments with gaps and every look back 0..3, C against the twin, memory carried across cases."""
    rng = np.random.default_rng(11)
    e, f = all_held(), list(flips().values())
    cases, segment = [], 0
    for _ in range(3000):
        segment += int(rng.choice([1, 1, 1, 2, 3, 4]))
        ev = e if rng.random() < 0.5 else f[int(rng.integers(0, len(f)))]
        cases.append((constants(sustain_lookback=int(rng.integers(0, 4))), replace(ev, segment=segment)))
    got = run_c(ctest_program, cases)
    assert got == twin_run(cases)
    sustained = [bool(r["reasons"] & ct.REASON_SUSTAINED) for r in got]
    assert any(sustained) and not all(sustained)
