"""A synthetic stress dataset computed the way the device computes it: synthetic PPG sessions
(`vigil.data.synthetic.synthetic_session`) through the PPG twin (`vigil.dsp.ppg.ppg_chain`), one row per valid
60-s segment, labelled by the session's condition.

    ds = synthetic_stress_dataset(difficulty="moderate")   # 10 subjects x (3 relax + 3 stress) x 6 min, ~4 s

Why subjects need a baseline: `synthetic_ppg`'s `stress` in [0, 1] moves heart rate 68 -> 90 bpm, variability
55 -> 25 ms and respiration 0.25 -> 0.35 Hz together, identically for every seed. Sessions at stress 0 and 1
differ by 22 bpm against a within-session spread of about 1 bpm: any model is perfect, which teaches nothing.
So each synthetic subject gets a resting arousal `b` (spread over the population) and a personal stress
response `r`; a relax session runs at stress level b + jitter, a stress session at b + r + jitter (clipped to
0..1). One subject's stress then overlaps another's relax, as between real people, and leave-one-subject-out
is harder than random folds over minutes. The PPG's noise, wander and motion artifacts come from
`synthetic_ppg`'s difficulty presets (segments the twin flags invalid are dropped, as the device drops them).

Difficulty (DIFFICULTY): ppg preset, baseline spread, mean stress response, session jitter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from vigil.data.hrv_csv import FEATURE_NAMES, HrvDataset
from vigil.data.synthetic import synthetic_session
from vigil.dsp.accel import wrist_motion
from vigil.dsp.ppg import ppg_chain


@dataclass(frozen=True)
class StressDifficulty:
    ppg: str  # synthetic_ppg difficulty preset
    baseline_spread: float  # resting arousal b ~ U(0, spread)
    response: float  # stress response r ~ response x U(0.5, 1.5)
    jitter: float  # per-session level ~ N(0, jitter)


DIFFICULTY: dict[str, StressDifficulty] = {  # the names of vigil.data.difficulty
    "clean": StressDifficulty("clean", 0.0, 1.0, 0.0),
    "easy": StressDifficulty("typical", 0.10, 0.70, 0.03),
    "typical": StressDifficulty("typical", 0.25, 0.50, 0.05),
    "moderate": StressDifficulty("moderate", 0.40, 0.30, 0.08),
    "hard": StressDifficulty("hard", 0.50, 0.20, 0.10),
}
PPG_RATE_HZ = 64
SESSION_GAP_S = 3600  # sessions of one subject start an hour apart (timestamps)


def session_levels(subject: int, sessions_per_condition: int, level: StressDifficulty, seed: int) -> list[tuple[int, float]]:
    """(label, stress level) of one subject's sessions, in recording order (conditions shuffled)."""
    rng = np.random.default_rng([seed, subject, 1])
    base = rng.uniform(0.0, level.baseline_spread)
    response = level.response * rng.uniform(0.5, 1.5)
    labels = rng.permutation([0] * sessions_per_condition + [1] * sessions_per_condition)
    out = []
    for y in labels:
        value = base + response * int(y) + level.jitter * rng.standard_normal()
        out.append((int(y), float(np.clip(value, 0.0, 1.0))))
    return out


def synthetic_stress_dataset(
    subjects: int = 10,
    sessions_per_condition: int = 3,
    session_s: float = 360.0,
    difficulty: str = "moderate",
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> HrvDataset:
    """Rows = valid 60-s segments of every session of every subject; groups = subject; timestamps = seconds
    (subject s's sessions start at s x 1e6 + k x SESSION_GAP_S). `progress(done_sessions)` is called after each."""
    if difficulty not in DIFFICULTY:
        raise ValueError(f"difficulty {difficulty!r}: expected one of {sorted(DIFFICULTY)}")
    level = DIFFICULTY[difficulty]
    feats, labels, times, groups = [], [], [], []
    done = 0
    for s in range(subjects):
        for k, (y, stress) in enumerate(session_levels(s, sessions_per_condition, level, seed)):
            session_seed = (seed * 1000 + s) * 100 + k
            rec = synthetic_session(session_s, session_seed, ppg_rate_hz=PPG_RATE_HZ, stress=stress,
                                    difficulty=level.ppg)  # fmt: skip
            _, _, segments = ppg_chain(rec.ppg, PPG_RATE_HZ, motion=wrist_motion(rec.accel))
            for seg in segments:
                if seg.valid:
                    feats.append([getattr(seg, name) for name in FEATURE_NAMES])
                    labels.append(y)
                    times.append(s * 1_000_000 + k * SESSION_GAP_S + seg.segment * 60)
                    groups.append(s)
            done += 1
            if progress:
                progress(done)
    return HrvDataset(
        features=np.asarray(feats, dtype=np.int32).reshape(-1, len(FEATURE_NAMES)),
        labels=np.asarray(labels, dtype=np.int64),
        timestamps=np.asarray(times, dtype=np.int64),
        groups=np.asarray(groups, dtype=np.int64),
        source={"kind": "synthetic", "subjects": subjects, "sessions_per_condition": sessions_per_condition,
                "session_s": session_s, "difficulty": difficulty, "seed": seed, "ppg_rate_hz": PPG_RATE_HZ},
    )  # fmt: skip
