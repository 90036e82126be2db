"""The comparison itself: a single wrong integer anywhere is found and named."""

from __future__ import annotations

import numpy as np

from vigil import verify as verify_mod
from vigil.device import protocol as p
from vigil.replay import DeviceOutputs


def device_from_twin(twin: verify_mod.TwinOutputs) -> DeviceOutputs:
    out = DeviceOutputs()
    for start in range(0, len(twin.deriv), 84):
        out.deriv.append((start, tuple(int(v) for v in twin.deriv[start : start + 84])))
    for start in range(0, len(twin.ppg_filtered), 64):
        out.ppg_filtered.append((start, tuple(int(v) for v in twin.ppg_filtered[start : start + 64])))
    out.columns = [p.SpecColumn(j, twin.columns[j].astype(np.int8).tobytes()) for j in range(len(twin.columns))]
    out.images = [p.EpochImage(e.epoch, e.first_column, 73, 65, e.crc) for e in twin.images]
    out.beats = [int(b) for b in twin.beats]
    out.hrv = [dict(h) for h in twin.hrv]
    return out


def fake_twin() -> verify_mod.TwinOutputs:
    from vigil.dsp.epoch_image import epoch_images

    rng = np.random.default_rng(0)
    columns = rng.integers(-128, 128, (200, 65)).astype(np.int8)
    hrv = [dict(zip(p.HRV_FIELDS, [s, 1, 0, 70, 69, 0, 7000, 857, 40, 30, 500, 2000, s + 1, 0, 0, 0, 0, 0, 0, 0,
                                      21, 50, 300, 0, 0, 0, 0]))
           for s in range(3)]  # fmt: skip
    return verify_mod.TwinOutputs(
        deriv=rng.integers(-500, 500, 200 * 64 + 64), columns=columns, images=epoch_images(columns),
        ppg_filtered=rng.integers(-9999, 9999, 3 * 60 * 64), beats=np.arange(10, 3 * 60 * 64, 55), hrv=hrv,
    )  # fmt: skip


def test_identical_outputs_pass() -> None:
    twin = fake_twin()
    report = verify_mod.summary(verify_mod.compare(device_from_twin(twin), twin, 64))
    assert report["ok"] and report["first_mismatch"] is None
    assert report["stages"]["stft_columns"]["windows"] == 200


def test_one_wrong_bin_is_named() -> None:
    twin = fake_twin()
    dev = device_from_twin(twin)
    values = bytearray(dev.columns[57].values)
    values[12] = (values[12] + 1) % 256
    dev.columns[57] = p.SpecColumn(57, bytes(values))
    results = verify_mod.compare(dev, twin, 64)
    assert results["stft_columns"].mismatches == 1
    first = results["stft_columns"].first
    assert (first.window, first.index) == (57, 12)


def test_one_wrong_sample_and_a_missing_beat_are_named() -> None:
    twin = fake_twin()
    dev = device_from_twin(twin)
    first, values = dev.ppg_filtered[100]
    dev.ppg_filtered[100] = (first, (values[0] + 1,) + values[1:])
    dev.beats.pop(80)
    dev.hrv[2]["rmssd"] += 1
    results = verify_mod.compare(dev, twin, 64)
    f = results["ppg_filtered"].first
    assert (f.window, f.index) == (100 * 64 // 3840, 100 * 64)
    assert results["ppg_beats"].mismatches == 1
    assert results["hrv_features"].first.index == "rmssd"
    assert not verify_mod.summary(results)["ok"]
