"""Synthetic whole nights: a hypnogram and the wrist accelerometer it moves, for training and testing the
sleep CNN with no download (and, with PPG, for replaying a night through a board).

    rec = synthetic_night(hours=8.0, seed=3, difficulty="moderate")   # Recording with sleep_labels
    stages = synthetic_hypnogram(960, np.random.default_rng(3))        # PhysioNet stage codes per 30 s

**Hypnogram** (one stage per 30-s epoch, PhysioNet codes 0 wake, 1-3 N1-N3, 5 REM; the recording keeps
the three classes 0 wake / 1 NREM / 2 REM, as ``vigil.data.walch.map_walch_stages`` maps them):
- wake at the edges: a sleep onset latency (log-normal, median 15 min, 3-60 min) and a final awakening
  (3-25 min) before the end;
- NREM-REM cycles of about 90 min (normal, sd 10 min, 70-120 min): N1 for 1-3 epochs, N2, deep sleep (N3)
  in the middle of the NREM part (half of it in the first cycle, 15 points less each cycle, none after
  the fourth), N2 again, then REM, which lengthens through the night (5 min in the first cycle, 8 min more
  each cycle, at most 40 min, times 0.7-1.3);
- brief awakenings (1-6 epochs, then 1-2 epochs of N1): after a cycle's REM with probability 0.5, and
  inside N2 at 0.5 an hour (Poisson).

**Movement** per stage (``MOVEMENT``: bursts, twitches and posture shifts per minute and their sizes),
built from ``vigil.data.synthetic_accel``'s pieces (orientation walk, bursts, twitches, sensor readout):
wake has frequent bursts and posture shifts; NREM rare movement, less the deeper; every stage a
breathing-scale drift (0.2-0.3 Hz, 2-3 milli-g along gravity, shallower in REM); REM atonia with brief
small twitches in clusters of 2-6 within 3-12 s (phasic REM). Posture shifts
happen mostly at stage transitions (``SHIFT_AT_TRANSITION``: into or out of wake, REM -> NREM).

**Difficulty** (``DIFFICULTY``: a name or a float in [0, 1]) is how much the stages overlap in movement:
each stage's rates move towards the geometric mean of all stages (log-linear, by ``difficulty``); a wake
run is "quiet wake" (lying still, moving like N1) with probability min(1, 1.5 x difficulty); and each subject's
rates are scaled by a log-normal factor (sd 0.6 x difficulty) so people differ. 0 gives well-separated
stages, 1 nearly indistinguishable ones.

Seeds: the subject's traits come from ``default_rng(seed)``, night ``night`` from ``default_rng([seed,
night])``: same arguments, same samples; several nights of one seed are one person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vigil.data.recording import Recording
from vigil.data.synthetic_accel import (
    GRAVITY_MG,
    add_bursts,
    add_twitches,
    orientation_walk,
    sensor_readout,
    shift_spans,
)
from vigil.data.walch import map_walch_stages
from vigil.dsp.config import ACCEL_RATE_HZ, EPOCH_S, PPG_RATES_HZ
from vigil.errors import VigilError

STAGE_WAKE, STAGE_N1, STAGE_N2, STAGE_N3, STAGE_REM = 0, 1, 2, 3, 5  # PhysioNet codes
EPOCHS_PER_MIN = 60 // EPOCH_S
DIFFICULTY: dict[str, float] = {"clean": 0.0, "easy": 0.15, "typical": 0.25, "moderate": 0.35, "hard": 0.6}

ONSET_MEDIAN_MIN, ONSET_RANGE_MIN = 15.0, (3.0, 60.0)
FINAL_WAKE_MIN = (3.0, 25.0)
CYCLE_MIN, CYCLE_SD_MIN, CYCLE_RANGE_MIN = 90.0, 10.0, (70.0, 120.0)
REM_FIRST_MIN, REM_STEP_MIN, REM_MAX_MIN = 5.0, 8.0, 40.0
N3_FIRST_SHARE, N3_SHARE_STEP = 0.5, 0.15
AWAKENING_AFTER_REM_P = 0.5
AWAKENINGS_PER_HOUR_N2 = 0.5
AWAKENING_EPOCHS = (1, 6)

PHASIC_TWITCHES = (2, 6)  # a REM twitch comes as a cluster of this many
PHASIC_SPAN_S = (3.0, 12.0)  # within this many seconds (phasic REM)
BREATH_HZ = (0.2, 0.3)
# Amplitude (milli-g, along gravity) of the breathing drift by stage: every lying person breathes; REM's is
# shallower. Each night's amplitudes are scaled by a log-normal factor (sd BREATH_SPREAD).
BREATH_MG = {STAGE_WAKE: 3.0, STAGE_N1: 3.0, STAGE_N2: 3.0, STAGE_N3: 3.0, STAGE_REM: 2.0}
BREATH_SPREAD = 0.3
QUIET_WAKE_P = 1.5  # times difficulty (at most 1): share of wake runs spent lying still
SUBJECT_SPREAD = 0.6  # times difficulty: sd of the log of a subject's movement factor


@dataclass(frozen=True)
class StageMovement:
    """How a stage moves the wrist: events per minute and peak sizes (milli-g)."""

    bursts_per_min: float
    twitches_per_min: float
    shifts_per_min: float
    burst_mg: tuple[float, float]
    twitch_mg: tuple[float, float]


MOVEMENT: dict[int, StageMovement] = {
    STAGE_WAKE: StageMovement(2.0, 1.0, 0.25, (40.0, 400.0), (100.0, 600.0)),
    STAGE_N1: StageMovement(0.3, 0.3, 0.05, (20.0, 200.0), (60.0, 300.0)),
    STAGE_N2: StageMovement(0.08, 0.1, 0.02, (20.0, 150.0), (50.0, 250.0)),
    STAGE_N3: StageMovement(0.02, 0.03, 0.005, (20.0, 100.0), (40.0, 200.0)),
    STAGE_REM: StageMovement(0.03, 1.0, 0.005, (20.0, 100.0), (30.0, 150.0)),  # twitch clusters, see PHASIC_*
}
# probability of a posture shift at a transition (from, to); other transitions 0.1
SHIFT_AT_TRANSITION = {"to_wake": 0.5, "from_wake": 0.5, "rem_to_nrem": 0.3, "other": 0.1}


def difficulty_value(difficulty: str | float) -> float:
    """A DIFFICULTY name or a float in [0, 1] -> the float."""
    if isinstance(difficulty, str):
        if difficulty not in DIFFICULTY:
            names = ", ".join(DIFFICULTY)
            raise VigilError(f"difficulty {difficulty!r}: expected one of {names} or a number in [0, 1]")
        return DIFFICULTY[difficulty]
    value = float(difficulty)
    if not 0.0 <= value <= 1.0:
        raise VigilError(f"difficulty {value:g}: expected a number in [0, 1]")
    return value


# ---------------------------------------------------------------- hypnogram


def _minutes(rng: np.random.Generator, lo: float, hi: float) -> int:
    return int(round(rng.uniform(lo, hi) * EPOCHS_PER_MIN))


def _cycle(i: int, rng: np.random.Generator) -> list[int]:
    """Cycle ``i`` (0 = first): N1, N2, N3 (early cycles), N2, REM."""
    length = int(round(np.clip(rng.normal(CYCLE_MIN, CYCLE_SD_MIN), *CYCLE_RANGE_MIN) * EPOCHS_PER_MIN))
    rem_min = min(REM_FIRST_MIN + REM_STEP_MIN * i, REM_MAX_MIN) * rng.uniform(0.7, 1.3)
    rem = max(2, int(round(rem_min * EPOCHS_PER_MIN)))
    n1 = int(rng.integers(1, 4))
    nrem = max(length - rem - n1, 4)
    n3 = int(round(nrem * max(0.0, N3_FIRST_SHARE - N3_SHARE_STEP * i)))
    n2_before = (nrem - n3) // 2 if n3 else nrem
    n2_after = nrem - n3 - n2_before
    return [STAGE_N1] * n1 + [STAGE_N2] * n2_before + [STAGE_N3] * n3 + [STAGE_N2] * n2_after + [STAGE_REM] * rem


def _awaken(stages: np.ndarray, at: int, rng: np.random.Generator) -> None:
    """A brief awakening at epoch ``at`` (1-6 epochs), then 1-2 epochs of N1, in place."""
    wake = int(rng.integers(AWAKENING_EPOCHS[0], AWAKENING_EPOCHS[1] + 1))
    stages[at : at + wake] = STAGE_WAKE
    stages[at + wake : at + wake + int(rng.integers(1, 3))] = STAGE_N1


def synthetic_hypnogram(epochs: int, rng: np.random.Generator) -> np.ndarray:
    """(epochs,) int8 PhysioNet stage codes of one night in bed (see the module doc)."""
    if epochs <= 0:
        return np.zeros(0, dtype=np.int8)
    onset = int(round(np.clip(ONSET_MEDIAN_MIN * rng.lognormal(0.0, 0.5), *ONSET_RANGE_MIN) * EPOCHS_PER_MIN))
    final = _minutes(rng, *FINAL_WAKE_MIN)
    sleep_epochs = max(epochs - onset - final, 0)
    sleep: list[int] = []
    cycle_ends = []
    while len(sleep) < sleep_epochs:
        sleep += _cycle(len(cycle_ends), rng)
        cycle_ends.append(len(sleep))
    body = np.array(sleep[:sleep_epochs], dtype=np.int8)
    for end in cycle_ends[:-1]:
        if end < sleep_epochs and rng.uniform() < AWAKENING_AFTER_REM_P:
            _awaken(body, end, rng)
    n2 = np.flatnonzero(body == STAGE_N2)
    count = min(len(n2), rng.poisson(AWAKENINGS_PER_HOUR_N2 * sleep_epochs / 120))
    for at in rng.choice(n2, size=count, replace=False):
        _awaken(body, int(at), rng)
    stages = np.full(epochs, STAGE_WAKE, dtype=np.int8)
    stages[onset : onset + sleep_epochs] = body
    return stages


# ---------------------------------------------------------------- movement


def _runs(stages: np.ndarray) -> list[tuple[int, int, int]]:
    """(first epoch, length, stage) of each run of equal stages."""
    cuts = np.flatnonzero(np.diff(stages)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(stages)]])
    return [(int(a), int(b - a), int(stages[a])) for a, b in zip(starts, ends)]


def stage_movement(difficulty: float) -> dict[int, StageMovement]:
    """MOVEMENT with each rate moved towards the stages' geometric mean by ``difficulty`` (log-linear)."""

    def blend(values: list[float]) -> list[float]:
        logs = np.log(values)
        return list(np.exp((1.0 - difficulty) * logs + difficulty * logs.mean()))

    stages = list(MOVEMENT)
    fields = ("bursts_per_min", "twitches_per_min", "shifts_per_min")
    cols = [blend([getattr(MOVEMENT[s], f) for s in stages]) for f in fields]
    return {s: StageMovement(cols[0][i], cols[1][i], cols[2][i], MOVEMENT[s].burst_mg, MOVEMENT[s].twitch_mg)
            for i, s in enumerate(stages)}  # fmt: skip


def _phasic_offsets(rng: np.random.Generator) -> np.ndarray:
    """Offsets (s) of the twitches of one phasic-REM cluster from its start."""
    span = rng.uniform(*PHASIC_SPAN_S)
    count = rng.integers(PHASIC_TWITCHES[0], PHASIC_TWITCHES[1] + 1)
    return np.sort(rng.uniform(0.0, span, size=count))


def _transition_shift_p(before: int, after: int) -> float:
    if after == STAGE_WAKE:
        return SHIFT_AT_TRANSITION["to_wake"]
    if before == STAGE_WAKE:
        return SHIFT_AT_TRANSITION["from_wake"]
    if before == STAGE_REM:
        return SHIFT_AT_TRANSITION["rem_to_nrem"]
    return SHIFT_AT_TRANSITION["other"]


@dataclass
class NightEvents:
    bursts: list[float]
    burst_mg: list[tuple[float, float]]
    twitches: list[float]
    twitch_mg: list[tuple[float, float]]
    shifts: list[float]


def night_events(stages: np.ndarray, difficulty: float, factor: float, rng: np.random.Generator) -> NightEvents:
    """Event times (s) of bursts, twitches and posture shifts, run by run of the hypnogram."""
    movement = stage_movement(difficulty)
    ev = NightEvents([], [], [], [], [])
    previous = None
    for first, length, stage in _runs(stages):
        t0, seconds = first * EPOCH_S, length * EPOCH_S
        quiet_wake = stage == STAGE_WAKE and rng.uniform() < QUIET_WAKE_P * difficulty
        m = movement[STAGE_N1 if quiet_wake else stage]
        for times, sizes, per_min, mg in ((ev.bursts, ev.burst_mg, m.bursts_per_min, m.burst_mg),
                                          (ev.twitches, ev.twitch_mg, m.twitches_per_min, m.twitch_mg),
                                          (ev.shifts, None, m.shifts_per_min, None)):  # fmt: skip
            count = rng.poisson(per_min * factor * seconds / 60.0)
            starts = sorted(t0 + rng.uniform(0.0, seconds, size=count))
            if stage == STAGE_REM and times is ev.twitches:  # phasic REM: twitches in clusters
                starts = [a + float(o) for a in starts for o in _phasic_offsets(rng)]
            times.extend(starts)
            if sizes is not None and mg is not None:
                sizes.extend([mg] * len(starts))
        if previous is not None and rng.uniform() < _transition_shift_p(previous, stage):
            ev.shifts.append(t0 + rng.uniform(-10.0, 10.0))
        previous = stage
    ev.shifts = sorted(max(0.0, s) for s in ev.shifts)
    return ev


def night_accel(stages: np.ndarray, difficulty: float, factor: float, rng: np.random.Generator,
                rate_hz: int = ACCEL_RATE_HZ) -> np.ndarray:  # fmt: skip
    """(len(stages) * 30 * rate_hz, 3) int16 milli-g moved by the hypnogram ``stages``."""
    n = len(stages) * EPOCH_S * rate_hz
    if n == 0:
        return np.zeros((0, 3), dtype=np.int16)
    ev = night_events(stages, difficulty, factor, rng)
    g = orientation_walk(n, rate_hz, rng, shift_spans(ev.shifts, n, rate_hz, rng))
    acc = GRAVITY_MG * g
    # Breathing-scale drift: the chest moves the resting arm a few milli-g along gravity. The derivative's
    # noise is low in the lowest bins, so this shows there (the first 1-2 bins of the image).
    lut = np.zeros(6)
    for stage, mg in BREATH_MG.items():
        lut[stage] = mg
    amplitude = np.repeat(lut[stages], EPOCH_S * rate_hz) * np.exp(rng.normal(0.0, BREATH_SPREAD))
    t = np.arange(n) / rate_hz
    acc += (amplitude * np.sin(2 * np.pi * rng.uniform(*BREATH_HZ) * t + rng.uniform(0, 2 * np.pi)))[:, None] * g
    shift_mg = [MOVEMENT[STAGE_WAKE].burst_mg] * len(ev.shifts)  # a posture shift moves the whole arm
    add_bursts(acc, ev.bursts + ev.shifts, rate_hz, rng, ev.burst_mg + shift_mg)
    add_twitches(acc, ev.twitches, rate_hz, rng, ev.twitch_mg)
    return sensor_readout(acc, rng)


# ---------------------------------------------------------------- the night as a recording


def synthetic_night(hours: float = 8.0, seed: int = 0, difficulty: str | float = "moderate",
                    ppg_rate_hz: int | None = None, night: int = 0) -> Recording:  # fmt: skip
    """One night in bed of the synthetic person ``seed``: accelerometer (50 Hz, int16 milli-g), one
    sleep label per 30-s epoch from the first sample (0 wake, 1 NREM, 2 REM) and, unless ``ppg_rate_hz``
    is None, relaxed PPG (``vigil.data.synthetic_ppg``, the same difficulty name when it has one).
    ``hours`` is rounded down to whole epochs."""
    level = difficulty_value(difficulty)
    epochs = int(hours * 3600 // EPOCH_S)
    if epochs < 1:
        raise VigilError(f"hours {hours:g}: a night needs at least one 30-s epoch")
    if ppg_rate_hz is not None and ppg_rate_hz not in PPG_RATES_HZ:
        raise VigilError(f"PPG rate {ppg_rate_hz} Hz: choose one of {PPG_RATES_HZ}")
    traits = np.random.default_rng(seed)
    factor = float(np.exp(traits.normal(0.0, SUBJECT_SPREAD * level)))
    rng = np.random.default_rng([seed, night])
    stages = synthetic_hypnogram(epochs, rng)
    accel = night_accel(stages, level, factor, rng)
    source = {"kind": "synthetic", "generator": "synthetic_night", "seed": seed, "night": night,
              "difficulty": difficulty, "hours": hours}  # fmt: skip
    ppg = None
    if ppg_rate_hz is not None:
        from vigil.data.synthetic_ppg import DIFFICULTY as PPG_DIFFICULTY
        from vigil.data.synthetic_ppg import synthetic_ppg

        ppg_level = difficulty if isinstance(difficulty, str) and difficulty in PPG_DIFFICULTY else "typical"
        ppg, _beats = synthetic_ppg(epochs * EPOCH_S, ppg_rate_hz, seed=seed, stress=0.0, difficulty=ppg_level)
    return Recording.from_arrays(
        accel=accel, ppg=ppg, ppg_rate_hz=ppg_rate_hz if ppg is not None else None,
        sleep_labels=map_walch_stages(stages), sleep_labels_start_s=0.0, source=source,
        notes=f"synthetic night: {hours:g} h in bed, difficulty {difficulty}",
    )  # fmt: skip
