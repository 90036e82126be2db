"""A night's sleep statistics from a sequence of 30-s epoch stages, as a sleep lab reports them, for the PSG and
for a model's prediction alike, so the two can be compared epoch for epoch.

    night_statistics(stages)            # stages: (n,) ints, 0 wake, 1 NREM, 2 REM, -1 not scored / not predicted

The night is the span from the first to the last epoch that has a stage (the PSG's lights-off to lights-on when
the stages are the PSG's). Epochs without a stage inside it (PSG movement or unknown) count as neither sleep nor
wake: they are left out of every sum, and the span's length still counts them (time in bed is clock time).

- ``tst_min`` total sleep time: NREM + REM epochs x 0.5 min.
- ``time_in_bed_min``: the span's length; ``sleep_efficiency`` = TST / time in bed.
- ``sleep_onset_latency_min``: from the span's start to the first sleep epoch (AASM: the first epoch of any sleep
  stage); the whole span when nobody fell asleep.
- ``waso_min`` wake after sleep onset: wake epochs between the first and the last sleep epoch.
- ``rem_latency_min``: from sleep onset to the first REM epoch; None without REM.
- ``stage_percent``: NREM and REM as shares of TST (percent), wake as a share of the scored epochs.

To compare a prediction with the PSG, give both on the same epochs (``paired_statistics``): only epochs the PSG
scored and the model decided count, so a model's missing first epochs are not read as wake.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vigil.dsp.config import EPOCH_S
from vigil.records import SLEEP_CLASS_NAMES

EPOCH_MIN = EPOCH_S / 60.0
STATISTICS = ("tst_min", "time_in_bed_min", "sleep_efficiency", "sleep_onset_latency_min", "waso_min",
              "rem_latency_min")  # fmt: skip
#: The statistics whose prediction error is reported in minutes.
MINUTE_STATISTICS = ("tst_min", "sleep_onset_latency_min", "waso_min")


def night_statistics(stages: np.ndarray) -> dict[str, Any]:
    """The statistics of the module doc for one night; all None when no epoch has a stage."""
    s = np.asarray(stages, dtype=np.int64)
    staged = np.flatnonzero(s >= 0)
    if len(staged) == 0:
        return {**{k: None for k in STATISTICS}, "stage_percent": None, "epochs_staged": 0}
    span = s[staged[0] : staged[-1] + 1]
    asleep = np.flatnonzero(span > 0)
    tib = len(span) * EPOCH_MIN
    tst = len(asleep) * EPOCH_MIN
    scored = span[span >= 0]
    if len(asleep):
        onset, last = asleep[0], asleep[-1]
        rem = np.flatnonzero(span[onset:] == 2)
        sol, waso = onset * EPOCH_MIN, float(np.count_nonzero(span[onset : last + 1] == 0)) * EPOCH_MIN
        rem_latency = float(rem[0]) * EPOCH_MIN if len(rem) else None
    else:
        sol, waso, rem_latency = tib, 0.0, None
    percent: dict[str, float | None] = {}
    for k, name in enumerate(SLEEP_CLASS_NAMES):
        whole = len(asleep) if k else len(scored)  # sleep stages as shares of TST, wake of the scored epochs
        percent[name] = round(100.0 * np.count_nonzero(span == k) / whole, 2) if whole else None
    return {"tst_min": tst, "time_in_bed_min": tib, "sleep_efficiency": round(tst / tib, 4) if tib else None,
            "sleep_onset_latency_min": sol, "waso_min": waso, "rem_latency_min": rem_latency,
            "stage_percent": percent, "epochs_staged": int(len(scored))}  # fmt: skip


def paired_statistics(truth: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """PSG and predicted statistics on the epochs both have (see the module doc), and the prediction's error
    (predicted - PSG) in minutes for TST, sleep-onset latency and WASO, and in points for sleep efficiency."""
    y, p = np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    if y.shape != p.shape:
        raise ValueError(f"truth {y.shape} and prediction {p.shape} must cover the same epochs")
    both = (y >= 0) & (p >= 0)
    psg = night_statistics(np.where(both, y, -1))
    pred = night_statistics(np.where(both, p, -1))
    errors: dict[str, float | None] = {}
    for key in MINUTE_STATISTICS:
        errors[f"{key[:-4]}_error_min"] = None if psg[key] is None else pred[key] - psg[key]
    se_p, se_t = pred["sleep_efficiency"], psg["sleep_efficiency"]
    errors["sleep_efficiency_error"] = None if se_p is None or se_t is None else round(se_p - se_t, 4)
    return {"psg": psg, "predicted": pred, "errors": errors}
