"""WESAD's wrist data → an `HrvDataset` of the device's own HRV features, labelled by condition.

A WESAD root holds one folder per subject::

    WESAD/S2/S2_quest.csv          the protocol: which condition ran when
    WESAD/S2/S2_E4_Data/           the Empatica E4 wrist files (or S2_E4_Data.zip, as distributed)

``S<n>_quest.csv`` is semicolon separated; the rows that matter here::

    # ORDER;Base;TSST;Medi 1;Fun;Medi 2;sRead;fRead;;
    # START;7.08;39.55;70.19;...
    # END;26.32;50.30;77.10;...

START and END are ``minutes.seconds`` from the recording start (``7.08`` is 7 min 8 s, not 7.08 minutes: the
seconds field never exceeds 59 in the files, and WESAD's readme gives that format). Conditions used: ``Base``
(baseline, label 0 relax) and ``TSST`` (Trier Social Stress Test, label 1 stress); the others (amusement,
meditation, reading) are neither and are left out.

Each subject's E4 folder goes through `load_empatica` (BVP kept at 64 Hz) and the device's PPG twin
(`vigil.dsp.ppg.ppg_chain`), so the features are the integers the device computes. A 60-s segment gets a
condition's label only when it lies wholly inside that condition; segments the device marks invalid are dropped.

The quest times count from the start of the chest device's recording, not the E4's: in the raw E4 files the
wristband was running 18-25 minutes before it, until the double tap that synchronised the two devices (WESAD's
own synchronised files are cut at that tap). `sync_tap_s` finds the tap in the E4 accelerometer: the sharpest
change of acceleration magnitude (> SYNC_TAP_MIN_MG in one sample) before the protocol, searched in the part of
the recording that still leaves room for the whole protocol after it, past the first 5 minutes. Taking the times from the E4's start
instead labels minutes 20 minutes off: the 10 training subjects' "TSST" minutes then had a lower heart rate
than their "Base" ones (docs/stress.md). Without an accelerometer, or without a tap, the times count from the
recording's start and the recording's metadata says so.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from vigil.data.hrv_csv import FEATURE_NAMES, HrvDataset
from vigil.data.recording import Recording
from vigil.errors import VigilError

#: WESAD condition name → label (0 relax, 1 stress); conditions not listed are not used.
CONDITION_LABELS = {"base": 0, "tsst": 1}
WESAD_PPG_RATE_HZ = 64
SEGMENT_S = 60
#: The synchronising double tap moves the wrist by more than this between two accelerometer samples (the 10
#: training subjects' taps: 1,445-2,917 mg at 50 Hz; walking and gestures stay under it only rarely, so the
#: search is also confined to before the protocol).
SYNC_TAP_MIN_MG = 1000
#: The tap is searched no later than this into the E4 recording (the training subjects': 18-25 min) ...
SYNC_TAP_SEARCH_S = 45 * 60
#: ... and not in its first 5 minutes, while the wristband is put on (jolts of 1,283-1,670 mg there in 3 of the 10
#: training subjects, near their taps' size), unless the search window is too short to spare them.
SYNC_TAP_SETTLE_S = 5 * 60


@dataclass(frozen=True)
class Condition:
    name: str
    start_s: float
    end_s: float


def _min_sec(text: str, path: Path, line: int, what: str) -> float:
    """``m.ss`` → seconds."""
    match = re.fullmatch(r"\s*(\d+)(?:\.(\d{1,2}))?\s*", text)
    if not match:
        raise VigilError(f"{path}:{line}: {what} {text.strip()!r}; expected minutes.seconds such as 7.08")
    seconds = match.group(2) or "0"
    if len(seconds) == 1:  # "39.5" is how a spreadsheet writes 39.50
        seconds += "0"
    if int(seconds) > 59:
        raise VigilError(f"{path}:{line}: {what} {text.strip()!r}; expected minutes.seconds with seconds 00-59")
    return int(match.group(1)) * 60.0 + int(seconds)


def read_quest(path: str | Path) -> list[Condition]:
    """The conditions of one ``S<n>_quest.csv``, in protocol order."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    except OSError as exc:
        raise VigilError(f"{path}: cannot read ({exc.strerror})") from None
    rows: dict[str, tuple[int, list[str]]] = {}
    for number, line in enumerate(lines, start=1):
        cells = [c.strip() for c in line.split(";")]
        key = cells[0].lstrip("#").strip().rstrip(":").upper()
        if key in ("ORDER", "START", "END") and key not in rows:
            rows[key] = (number, cells[1:])
    for key in ("ORDER", "START", "END"):
        if key not in rows:
            raise VigilError(f"{path}:{len(lines) + 1}: no '# {key};...' row; expected WESAD's quest format "
                             "(# ORDER, # START, # END rows, semicolon separated)")  # fmt: skip
    order_line, names = rows["ORDER"]
    names = [n for n in names if n]
    conditions = []
    for i, name in enumerate(names):
        start_line, starts = rows["START"]
        end_line, ends = rows["END"]
        if i >= len(starts) or not starts[i] or i >= len(ends) or not ends[i]:
            raise VigilError(f"{path}:{start_line if i >= len(starts) or not starts[i] else end_line}: "
                             f"no time for condition {name!r} (column {i + 2}); expected one per # ORDER entry")  # fmt: skip
        start = _min_sec(starts[i], path, start_line, f"start of {name}")
        end = _min_sec(ends[i], path, end_line, f"end of {name}")
        if end <= start:
            raise VigilError(f"{path}:{end_line}: {name} ends ({ends[i]}) before it starts ({starts[i]})")
        conditions.append(Condition(name, start, end))
    if not conditions:
        raise VigilError(f"{path}:{order_line}: empty # ORDER row; expected condition names")
    return conditions


def _condition_key(name: str) -> str:
    return re.sub(r"[\s_]+", "", name).lower()


def segment_labels(conditions: list[Condition], n_segments: int, offset_s: float = 0.0) -> np.ndarray:
    """Label per 60-s segment (segment k spans [offset + 60k, offset + 60k + 60) s of the protocol): 0 / 1 when it
    lies inside a Base / TSST condition, -1 otherwise."""
    labels = np.full(n_segments, -1, dtype=np.int64)
    for c in conditions:
        label = CONDITION_LABELS.get(_condition_key(c.name))
        if label is None:
            continue
        for k in range(n_segments):
            t0 = offset_s + k * SEGMENT_S
            if t0 >= c.start_s and t0 + SEGMENT_S <= c.end_s:
                labels[k] = label
    return labels


def wesad_subject_folders(root: str | Path) -> list[Path]:
    """The subject folders under a WESAD root (or the root itself when it is one subject's folder)."""
    root = Path(root)
    if not root.is_dir():
        raise VigilError(f"{root}: no such folder; expected a WESAD root or one subject's folder (S<n>/)")
    if list(root.glob("*_quest.csv")):
        return [root]
    subjects = sorted((p for p in root.iterdir() if p.is_dir() and list(p.glob("*_quest.csv"))),
                      key=lambda p: (len(p.name), p.name))  # fmt: skip
    if not subjects:
        raise VigilError(f"{root}: no S<n>/S<n>_quest.csv; expected WESAD's folder layout (see `vigil train stress --help`)")
    return subjects


def _e4_data(subject: Path, scratch: Path) -> Path:
    """The subject's E4 folder, extracting ``S<n>_E4_Data.zip`` into ``scratch`` when only the zip is there."""
    folders = [p for p in subject.glob("*_E4_Data") if p.is_dir()]
    if folders:
        return folders[0]
    zips = list(subject.glob("*_E4_Data.zip"))
    if not zips:
        raise VigilError(f"{subject}: no *_E4_Data folder or .zip; expected the subject's Empatica E4 files")
    target = scratch / subject.name
    with zipfile.ZipFile(zips[0]) as archive:
        archive.extractall(target)
    return target


def sync_tap_s(rec: Recording, conditions: list[Condition]) -> float | None:
    """Seconds from the recording's first sample to the devices' synchronising double tap (the protocol's time 0),
    or None when the recording has no accelerometer or no change of magnitude reaches SYNC_TAP_MIN_MG where the tap
    can be: early enough that the whole protocol (to the last condition's END) still fits after it, and after the
    first SYNC_TAP_SETTLE_S when the window allows."""
    if len(rec.accel) < 2:
        return None
    duration = len(rec.accel) / rec.accel_rate_hz
    protocol_end = max((c.end_s for c in conditions), default=0.0)
    search_s = min(duration - protocol_end, SYNC_TAP_SEARCH_S)
    search = int(search_s * rec.accel_rate_hz)
    if search < 1:
        return None
    magnitude = np.sqrt(np.sum(rec.accel[: search + 1].astype(np.float64) ** 2, axis=1))
    jerk = np.abs(np.diff(magnitude))
    if search_s > 2 * SYNC_TAP_SETTLE_S:
        jerk[: SYNC_TAP_SETTLE_S * rec.accel_rate_hz] = 0.0
    peak = int(np.argmax(jerk))
    if jerk[peak] < SYNC_TAP_MIN_MG:
        return None
    return (peak + 1) / rec.accel_rate_hz


def subject_session(subject: Path, scratch: Path) -> tuple[Recording, list[Condition], float]:
    """One subject's E4 recording (PPG at WESAD_PPG_RATE_HZ), its quest conditions, and the time (s) in the protocol
    of the recording's first sample (``segment_labels``' ``offset_s``: minus the sync tap's time, see the module's
    docstring; ``rec.meta["wesad"]`` says which)."""
    from vigil.data.empatica import load_empatica

    conditions = read_quest(next(iter(subject.glob("*_quest.csv"))))
    rec = load_empatica(_e4_data(subject, scratch), ppg_rate_hz=WESAD_PPG_RATE_HZ)
    if not len(rec.ppg):
        raise VigilError(f"{subject}: no BVP.csv in the E4 data; expected the wrist PPG")
    tap = sync_tap_s(rec, conditions)
    if tap is None:
        offset = float(rec.meta["conversion"]["alignment"].get("bvp", {}).get("trimmed_start_s", 0.0))
        rec.meta["wesad"] = {"sync_tap_s": None, "protocol_offset_s": offset,
                             "note": "no synchronising tap found in ACC.csv: protocol times count from BVP.csv's start"}
    else:
        offset = -tap
        rec.meta["wesad"] = {"sync_tap_s": round(tap, 3), "protocol_offset_s": round(offset, 3)}
    return rec, conditions, offset


#: What the models read: the six features as they are ("raw"), or relative to the wearer's own baseline ("baseline":
#: the device's rel_* fields, vigil.dsp.hrv_baseline; a segment needs the baseline ready).
MODEL_INPUTS = ("raw", "baseline")


def subject_segments(subject: Path, scratch: Path, inputs: str = "raw") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features (m, 6) int32, labels (m,), segment start unix s (m,)) of one subject's labelled valid segments; with
    ``inputs="baseline"`` the features relative to the wearer's baseline, on the segments where it is ready."""
    from vigil.dsp.accel import wrist_motion
    from vigil.dsp.ppg import ppg_chain

    rec, conditions, offset = subject_session(subject, scratch)
    alignment = rec.meta["conversion"]["alignment"]
    _, _, segments = ppg_chain(rec.ppg, WESAD_PPG_RATE_HZ, motion=wrist_motion(rec.accel))
    labels = segment_labels(conditions, len(segments), offset)
    relative = inputs == "baseline"
    keep = [k for k, seg in enumerate(segments)
            if seg.valid and labels[k] >= 0 and (seg.baseline_ready or not relative)]  # fmt: skip
    names = [f"rel_{n}" if relative else n for n in FEATURE_NAMES]
    feats = np.asarray([[getattr(segments[k], n) for n in names] for k in keep], dtype=np.int32)
    times = np.asarray([alignment["start_unix"] + k * SEGMENT_S for k in keep], dtype=np.int64)
    return feats.reshape(-1, len(FEATURE_NAMES)), labels[keep], times


def load_wesad(root: str | Path, progress: Callable[[int], None] | None = None, inputs: str = "raw") -> HrvDataset:
    """Every subject's Base and TSST segments; groups = subject number (S2 → 2); ``inputs``: MODEL_INPUTS."""
    if inputs not in MODEL_INPUTS:
        raise VigilError(f"inputs {inputs!r}: expected one of {', '.join(MODEL_INPUTS)}")
    subjects = wesad_subject_folders(root)
    feats, labels, times, groups = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="vigil-wesad-") as scratch:
        for done, subject in enumerate(subjects, start=1):
            f, y, t = subject_segments(subject, Path(scratch), inputs)
            digits = re.sub(r"\D", "", subject.name)
            feats.append(f)
            labels.append(y)
            times.append(t)
            groups.append(np.full(len(y), int(digits) if digits else done, dtype=np.int64))
            if progress:
                progress(done)
    labels_all = np.concatenate(labels)
    if not len(labels_all):
        raise VigilError(f"{root}: no valid 60-s segment inside a Base or TSST condition")
    return HrvDataset(np.concatenate(feats), labels_all, np.concatenate(times), np.concatenate(groups),
                      source={"kind": "wesad", "path": str(root), "subjects": [s.name for s in subjects],
                              "ppg_rate_hz": WESAD_PPG_RATE_HZ, "inputs": inputs})  # fmt: skip
