"""The local consensus's alert on the native board, where it fires and where each gate blocks it: a stressed awake
seated person alerts; a relaxed one does not; the same stressed PPG under a sleeping wrist fails "awake", under a
restless wrist "little motion", under a walking one the beats' motion reference too, and a flat PPG fails "features
valid", with the committed sleep model and a stress
trio trained on synthetic stress sessions (tests/conftest.py: synthetic_stress_models). Every SLEEP and STRESS record the device
sends equals its twin (vigil.bundle.consensus_twin), field for field; the reason bits asserted are the twin's too."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from vigil.data.recording import Recording
from vigil.data.synthetic_day import day_accel, synthetic_day
from vigil.data.synthetic_night import synthetic_night
from vigil.device import board as boards
from vigil.device.link import Link
from vigil.dsp import ppg_tables
from vigil.dsp.config import ACCEL_RATE_HZ, SLEEP_CONTEXT_EPOCHS
from vigil.bundle import consensus_twin as ct
from vigil.replay import replay
from vigil.verify import check_models, twin_outputs

pytestmark = pytest.mark.board

SECONDS = 360  # 6 segments, 12 epochs; a segment's record waits for its 2nd epoch's sleep decision (models.sleep_delay
# epochs late), so the device sends (12 - delay) // 2 of them: 3 with the context model, 5 with the CNN
PPG_RATE_HZ = 64
STRESSED_SEED, RELAXED_SEED = 12, 903  # benchmarks/alert_gating.py: stress 1.0 is unanimous on 2/3 of segments
NIGHT_SEED, NIGHT_FROM_EPOCH = 901, 120  # the 3-h night's epochs 120-131 are all NREM (checked below)
MIN_STRESSED_ALERTS = 2  # of the 3 records: the first stressed minute is not yet SUSTAINED
# what a segment's context must hold for the alert beside the trio: every gate this file exercises
CONTEXT_BITS = ct.REASON_FEATURES_VALID | ct.REASON_CONTEXT_KNOWN | ct.REASON_AWAKE | ct.REASON_LITTLE_MOTION


@pytest.fixture(scope="module")
def models(synthetic_stress_models_in_use: tuple[Path, Path]) -> ct.DeviceModels:
    """The committed sleep model and a trio trained on synthetic stress (tests/conftest.py says why)."""
    return ct.DeviceModels.load(synthetic_stress_models_in_use[0])


@pytest.fixture(scope="module")
def link(models: ct.DeviceModels, synthetic_stress_models_in_use: tuple[Path, Path]) -> Iterator[Link]:
    program = synthetic_stress_models_in_use[1]
    with boards.running_board("native", artifact=program) as proc, Link.open(proc.port) as lnk:
        check_models(lnk.request_hello(), models.hashes)  # the firmware carries the twin's models (motion limit)
        yield lnk


@pytest.fixture(scope="module")
def stressed() -> Recording:
    return synthetic_day(SECONDS, STRESSED_SEED, "seated", stress=1.0, ppg_rate_hz=PPG_RATE_HZ)


def with_accel(rec: Recording, accel: np.ndarray) -> Recording:
    return Recording.from_arrays(accel=accel, ppg=rec.ppg, ppg_rate_hz=PPG_RATE_HZ)


def device_stress_records(link: Link, rec: Recording, models: ct.DeviceModels) -> list[dict[str, int]]:
    """The device's STRESS records for ``rec``, after checking its SLEEP and STRESS records equal the twin's."""
    got = replay(link, rec, trace=False)
    twin = twin_outputs(rec, PPG_RATE_HZ, models)
    assert got.errors == []
    assert got.sleep == twin.sleep
    assert got.stress == twin.stress
    assert len(got.stress) == (len(rec.accel) // (30 * 50) - models.sleep_delay) // 2
    return got.stress


def test_a_stressed_awake_seated_person_gets_alerts(link: Link, models: ct.DeviceModels, stressed: Recording) -> None:
    records = device_stress_records(link, stressed, models)
    assert all(r["reasons"] & CONTEXT_BITS == CONTEXT_BITS for r in records)  # awake, still, clean signal
    alerts = [r for r in records if r["alert"]]
    assert len(alerts) >= MIN_STRESSED_ALERTS
    assert all(r["reasons"] == ct.REASON_ALL and r["weighted_q15"] >= models.consensus.threshold_q15 for r in alerts)
    # a record without alert failed on the trio (not unanimous) or was its first stressed minute, never on the context
    evidence = [r["reasons"] & ct.REASON_EVIDENCE == ct.REASON_EVIDENCE for r in records]
    first = evidence.index(True)
    assert records[first]["reasons"] == ct.REASON_ALL & ~ct.REASON_SUSTAINED and records[first]["alert"] == 0
    assert all(not r["reasons"] & ct.REASON_UNANIMOUS for r in records[first + 1 :] if not r["alert"])


def test_a_relaxed_awake_seated_person_gets_none(link: Link, models: ct.DeviceModels) -> None:
    records = device_stress_records(link, synthetic_day(SECONDS, RELAXED_SEED, "seated", ppg_rate_hz=PPG_RATE_HZ),
                                    models)  # fmt: skip
    assert all(r["reasons"] & CONTEXT_BITS == CONTEXT_BITS for r in records)
    assert all(r["alert"] == 0 and r["decision"] == 0 and r["votes"] == 0 for r in records)


def test_a_sleeping_wrist_blocks_the_alert_on_awake(link: Link, models: ct.DeviceModels) -> None:
    """The stressed PPG on a sleeping wrist: wherever the device's sleep model calls both epochs of a segment asleep,
    only "awake" fails and no alert goes out. The wrist lies still for SLEEP_CONTEXT_EPOCHS epochs first: the context
    model, trained on nights that start awake, calls the first ~20 minutes of any stream wake."""
    lead = SLEEP_CONTEXT_EPOCHS
    night = synthetic_night(hours=3.0, seed=NIGHT_SEED, difficulty="moderate")
    epochs = slice(NIGHT_FROM_EPOCH - lead, NIGHT_FROM_EPOCH + SECONDS // 30)
    assert set(np.asarray(night.sleep_labels)[epochs].tolist()) == {1}  # NREM throughout
    seconds = (epochs.stop - epochs.start) * 30
    stressed = synthetic_day(seconds, STRESSED_SEED, "seated", stress=1.0, ppg_rate_hz=PPG_RATE_HZ)
    samples = slice(epochs.start * 30 * 50, epochs.stop * 30 * 50)
    sleeping = with_accel(stressed, night.accel[samples])
    records = device_stress_records(link, sleeping, models)
    asleep_epochs = {r["epoch"] for r in twin_outputs(sleeping, PPG_RATE_HZ, models).sleep if r["cls"] != 0}
    awake = {r["segment"]: r for r in twin_outputs(stressed, PPG_RATE_HZ, models).stress}
    blocked = [r for r in records if {2 * r["segment"], 2 * r["segment"] + 1} <= asleep_epochs]
    assert len(blocked) >= 3, [hex(r["reasons"]) for r in records]
    for r in blocked:
        seated = awake[r["segment"]]
        assert r["features_crc"] == seated["features_crc"]  # the same PPG: the same trio verdict
        assert r["reasons"] == seated["reasons"] & ~ct.REASON_AWAKE and r["alert"] == 0
    assert any(r["reasons"] == ct.REASON_ALL & ~ct.REASON_AWAKE for r in blocked)  # only "awake" kept them silent


def restless_accel(seconds: int, slope_mg: int) -> np.ndarray:
    """A wrist moving steadily: the magnitude rises and falls by ``slope_mg`` every sample (a 0.8-s triangle), so its
    motion level is ``slope_mg`` in every second and every epoch."""
    n = seconds * ACCEL_RATE_HZ
    phase = np.arange(n) % 40
    z = 1000 + slope_mg * np.where(phase < 20, phase, 40 - phase)
    return np.stack([np.zeros(n), np.zeros(n), z], axis=1).astype(np.int16)


def test_walking_blocks_the_alert_on_little_motion_and_the_motion_reference(
        link: Link, models: ct.DeviceModels, stressed: Recording) -> None:  # fmt: skip
    """Walking moves the wrist in nearly every second: the beats' motion reference leaves the intervals out, so the
    minutes are not classified at all, and the motion gate would block them anyway."""
    walking = day_accel(SECONDS, np.random.default_rng(STRESSED_SEED), "walking")
    records = device_stress_records(link, with_accel(stressed, walking), models)
    assert all(r["motion"] > models.consensus.motion_limit and r["alert"] == 0 for r in records)
    assert all(not r["reasons"] & ct.REASON_LITTLE_MOTION and r["reasons"] & ct.REASON_AWAKE for r in records)
    assert all(not r["reasons"] & ct.REASON_FEATURES_VALID for r in records)


def test_a_restless_wrist_blocks_the_alert_on_little_motion(link: Link, models: ct.DeviceModels,
                                                           stressed: Recording) -> None:  # fmt: skip
    """Motion above the alert's limit but under the beats' bound: the beats are judged, the trio says stress, and only
    "little motion" keeps the alert silent."""
    slope = (models.consensus.motion_limit + ppg_tables.BEAT_MOTION_MAX) // 2
    records = device_stress_records(link, with_accel(stressed, restless_accel(SECONDS, slope)), models)
    assert all(r["motion"] == slope and r["alert"] == 0 for r in records)
    assert all(not r["reasons"] & ct.REASON_LITTLE_MOTION and r["reasons"] & ct.REASON_FEATURES_VALID for r in records)
    assert any(r["reasons"] == ct.REASON_ALL & ~ct.REASON_LITTLE_MOTION for r in records)


@pytest.mark.parametrize("signal", ["flat", "clipped"])
def test_a_flat_or_clipped_ppg_fails_features_valid(link: Link, models: ct.DeviceModels, stressed: Recording,
                                                    signal: str) -> None:  # fmt: skip
    ppg = np.asarray(stressed.ppg)
    mid = int(np.median(ppg))
    bad = np.full_like(ppg, mid) if signal == "flat" else np.clip(ppg, mid - 5, mid + 5)  # a railed front end
    rec = Recording.from_arrays(accel=stressed.accel, ppg=bad, ppg_rate_hz=PPG_RATE_HZ)
    records = device_stress_records(link, rec, models)
    assert all(not r["reasons"] & ct.REASON_FEATURES_VALID and r["alert"] == 0 for r in records)
    assert all(r["reasons"] & ct.REASON_AWAKE and r["reasons"] & ct.REASON_LITTLE_MOTION for r in records)
