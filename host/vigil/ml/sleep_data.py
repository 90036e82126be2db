"""Sleep-CNN training data: recordings -> the device's int8 epoch images, their labels and subjects.

    ds = synthetic_sleep_dataset(subjects=8, hours=8.0, difficulty="moderate", seed=0)
    ds = walch_sleep_dataset("sleep-accel/")               # one recording per subject
    ds = ichi_sleep_dataset("ichi2014_train/")             # one recording per night, one subject per patient
    ds.images  # (n, 65, 73) int8, bins x frames: the CNN's input (vigil.ml.architectures.SLEEP_IMAGE_SHAPE)

The images are made by the DSP twin (``vigil.dsp.accel.accel_columns`` -> ``vigil.dsp.epoch_image.epoch_images``),
so they are exactly what the device computes: image ``k`` is epoch ``k``'s (centred on device samples
``[1500 k, 1500 k + 1500)``) and gets ``Recording.epoch_labels()[k]``, the label of the same samples.
Unscored epochs (-1) and epochs without an image (the last ones, whose image would need columns past the
end) are dropped. The twin's ``epoch_image`` is (frames, bins) as the device's ring holds it; the dataset
stores its transpose, (bins, frames), the CNN's input layout — the device transposes when it unrolls its
ring into the model's input tensor. Nothing is cached on disk: the twin runs at about 0.6 s per 8-hour night.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from vigil.data.recording import LABEL_UNSCORED, Recording
from vigil.dsp.accel import accel_columns
from vigil.dsp.epoch_image import epoch_images
from vigil.errors import VigilError
from vigil.manifest import source_path

DATA_FORMATS = ("synthetic", "walch", "ichi")
SUBJECT_SEED_STRIDE = 1000  # synthetic subject i of seed s is person s * 1000 + i
DEFAULT_SUBJECTS = 8
DEFAULT_HOURS = 8.0


@dataclass
class SleepDataset:
    images: np.ndarray  # (n, 65, 73) int8, bins x frames, the CNN's input quantization
    labels: np.ndarray  # (n,) int64: 0 wake, 1 NREM, 2 REM
    subjects: np.ndarray  # (n,) int64 index into subject_names
    epochs: np.ndarray  # (n,) int64 device epoch of each image within its recording
    subject_names: list[str]
    source: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, rows: np.ndarray) -> SleepDataset:
        return SleepDataset(self.images[rows], self.labels[rows], self.subjects[rows], self.epochs[rows],
                            self.subject_names, self.source)  # fmt: skip


def cnn_image(image: np.ndarray) -> np.ndarray:
    """An epoch image (frames x bins, as the device's ring holds it) in the CNN's layout: bins x frames, values
    unchanged (firmware/app/models.c unrolls the ring the same way)."""
    return np.asarray(image, dtype=np.int8).T


def recording_images(rec: Recording) -> tuple[np.ndarray, np.ndarray]:
    """Every epoch image of ``rec`` as (k, 65, 73) int8 (bins x frames) and each one's label (k,) int8
    (-1 where unscored); image ``k`` is device epoch ``k``."""
    images = epoch_images(accel_columns(rec.accel))
    stack = np.stack([cnn_image(im.image) for im in images]) if images else np.zeros((0, 65, 73), dtype=np.int8)
    labels = rec.epoch_labels()
    k = min(len(stack), len(labels))
    return np.ascontiguousarray(stack[:k]), labels[:k]


def sleep_dataset(recordings: Iterable[tuple[str, Recording]], source: dict[str, Any],
                  progress: Callable[[int], None] | None = None) -> SleepDataset:  # fmt: skip
    """(name, recording) pairs -> the scored images of all, one subject per name (names may repeat:
    several nights of one person)."""
    names: list[str] = []
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []
    for i, (name, rec) in enumerate(recordings):
        images, labels = recording_images(rec)
        keep = np.flatnonzero(labels != LABEL_UNSCORED)
        if name not in names:
            names.append(name)
        parts.append((images[keep], labels[keep].astype(np.int64), keep.astype(np.int64), names.index(name)))
        if progress:
            progress(i + 1)
    if not parts or sum(len(p[1]) for p in parts) == 0:
        raise VigilError(f"{source.get('path', source.get('kind'))}: no scored epochs; a sleep dataset needs "
                         "recordings with sleep labels (0 wake, 1 NREM, 2 REM)")  # fmt: skip
    return SleepDataset(
        np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
        np.concatenate([np.full(len(p[1]), p[3], dtype=np.int64) for p in parts]),
        np.concatenate([p[2] for p in parts]), names, source,
    )  # fmt: skip


def synthetic_sleep_dataset(subjects: int = DEFAULT_SUBJECTS, nights: int = 1, hours: float = DEFAULT_HOURS,
                            difficulty: str | float = "moderate", seed: int = 0,
                            progress: Callable[[int], None] | None = None) -> SleepDataset:  # fmt: skip
    """``subjects`` synthetic people (``vigil.data.synthetic_night``, person ``seed * 1000 + i``), ``nights``
    nights each, through the twin."""
    from vigil.data.synthetic_night import synthetic_night

    if subjects < 1 or nights < 1 or hours <= 0:
        raise VigilError(f"synthetic sleep data: subjects {subjects}, nights {nights}, hours {hours:g}; "
                         "expected at least one subject and night of positive length")  # fmt: skip
    source = {"kind": "synthetic", "subjects": subjects, "nights": nights, "hours": hours,
              "difficulty": difficulty, "seed": seed}  # fmt: skip

    def nights_of_all() -> Iterable[tuple[str, Recording]]:
        for i in range(subjects):
            person = seed * SUBJECT_SEED_STRIDE + i
            for night in range(nights):
                yield f"synthetic-{person}", synthetic_night(hours, seed=person, difficulty=difficulty, night=night)

    return sleep_dataset(nights_of_all(), source, progress)


def walch_sleep_dataset(path: str | Path, subjects: int | None = None,
                        progress: Callable[[int], None] | None = None) -> SleepDataset:  # fmt: skip
    """A Walch sleep-accel folder (every subject with a motion file, or the first ``subjects`` of them in
    id order) or one acceleration file, through ``vigil.data.walch.load_walch`` and the twin."""
    from vigil.data.walch import LABELS_SUFFIX, load_walch, walch_subjects

    path = Path(path)
    if not path.exists():
        raise VigilError(f"{path}: no such file or folder (give a Walch sleep-accel folder or 'synthetic')")
    ids: list[str | None] = [None] if path.is_file() else list(walch_subjects(path))
    if not ids:
        raise VigilError(f"{path}: no motion/<id>_acceleration.txt files; expected a Walch sleep-accel folder")
    if subjects is not None:
        ids = ids[:subjects]
    source: dict[str, Any] = {"kind": "walch", "path": str(path), "subjects": len(ids), "without_labels": []}

    def recordings() -> Iterable[tuple[str, Recording]]:
        for sid in ids:
            rec = load_walch(path, subject=sid)
            if rec.sleep_labels is None:  # a folder may hold subjects never scored: skip them, say so
                source["without_labels"].append(rec.meta["source"]["motion_file"])
                continue
            yield str(rec.meta["source"]["subject"]), rec

    try:
        return sleep_dataset(recordings(), source, progress)
    except VigilError:
        if source["without_labels"]:
            raise VigilError(
                f"{source['without_labels'][0]}:1: no labels file found (expected labels/<id>{LABELS_SUFFIX} beside "
                f"the motion folder, or <id>{LABELS_SUFFIX} next to the file); training needs the PSG sleep stages"
            ) from None
        raise


def ichi_sleep_dataset(path: str | Path, subjects: int | None = None,
                       progress: Callable[[int], None] | None = None) -> SleepDataset:  # fmt: skip
    """An ICHI-2014 folder (every ``p*.npy`` night, or the nights of the first ``subjects`` patients in id order) or
    one night file, through ``vigil.data.ichi.load_ichi`` and the twin. The subject is the patient: the two nights
    of ``p08a`` / ``p08b`` are one subject (``p008``), so held-out folds never split a person."""
    from vigil.data.ichi import load_ichi

    nights = ichi_night_files(path, subjects)
    source: dict[str, Any] = {"kind": "ichi", "path": str(path), "subjects": subjects_of(nights),
                              "nights": len(nights)}  # fmt: skip

    def recordings() -> Iterable[tuple[str, Recording]]:
        for night in nights:
            rec = load_ichi(night)
            yield str(rec.meta["source"]["subject"]), rec

    return sleep_dataset(recordings(), source, progress)


def ichi_night_files(path: str | Path, subjects: int | None = None) -> list[Path]:
    """The night files ``ichi_sleep_dataset`` reads: ``path`` itself, or the folder's nights of its first
    ``subjects`` patients (all when None), in patient order (``p005``, ``p08a``, ``p08b``, ``p011``)."""
    from vigil.data.ichi import ichi_nights, night_name

    path = Path(path)
    if not path.exists():
        raise VigilError(f"{path}: no such file or folder (give an ICHI-2014 folder of p*.npy nights or one night)")
    nights = [path] if path.is_file() else sorted(ichi_nights(path), key=lambda p: (night_name(p)[0], p.name))
    if not nights:
        raise VigilError(f"{path}: no p*.npy night files; expected an ICHI-2014 folder")
    if subjects is not None:
        keep = sorted({night_name(p)[0] for p in nights})[:subjects]
        nights = [p for p in nights if night_name(p)[0] in keep]
    return nights


def subjects_of(nights: list[Path]) -> int:
    from vigil.data.ichi import night_name

    return len({night_name(p)[0] for p in nights})


def detect_sleep_format(data: str) -> str:
    """"synthetic"; "ichi" for a folder holding ``p*.npy`` nights or an ICHI ``.npy`` file; else "walch"."""
    from vigil.data.ichi import ichi_nights, is_ichi_file

    if data == "synthetic":
        return "synthetic"
    path = Path(data)
    if (path.is_dir() and ichi_nights(path)) or is_ichi_file(path):
        return "ichi"
    return "walch"


def load_sleep_data(data: str, data_format: str | None = None, subjects: int | None = None,
                    difficulty: str = "moderate", seed: int = 0, hours: float = DEFAULT_HOURS,
                    progress: Callable[[int], None] | None = None) -> SleepDataset:  # fmt: skip
    """``data`` = "synthetic", a Walch path or an ICHI-2014 path; ``data_format`` ("synthetic" / "walch" / "ichi")
    is detected when None (``detect_sleep_format``)."""
    data_format = data_format or detect_sleep_format(data)
    if data == "synthetic" or data_format == "synthetic":
        return synthetic_sleep_dataset(subjects or DEFAULT_SUBJECTS, hours=hours, difficulty=difficulty, seed=seed,
                                       progress=progress)  # fmt: skip
    if data_format == "ichi":
        return ichi_sleep_dataset(data, subjects, progress)
    if data_format != "walch":
        raise VigilError(f"--from {data_format}: expected one of {', '.join(DATA_FORMATS)}")
    return walch_sleep_dataset(data, subjects, progress)


def recording_count(data: str, data_format: str | None = None, subjects: int | None = None) -> int:
    """How many recordings ``load_sleep_data`` will read (for a progress bar); 0 when it cannot tell."""
    data_format = data_format or detect_sleep_format(data)
    if data == "synthetic" or data_format == "synthetic":
        return subjects or DEFAULT_SUBJECTS
    path = Path(data)
    if data_format == "ichi":
        return len(ichi_night_files(path, subjects)) if path.exists() else 0
    from vigil.data.walch import walch_subjects

    found = 1 if path.is_file() else len(walch_subjects(path)) if path.is_dir() else 0
    return min(found, subjects) if subjects else found


def dataset_from_source(source: dict[str, Any]) -> SleepDataset:
    """Rebuild the dataset a manifest's ``data`` entry describes."""
    if source["kind"] == "synthetic":
        keys = ("subjects", "nights", "hours", "difficulty", "seed")
        return synthetic_sleep_dataset(**{k: source[k] for k in keys})
    if source["kind"] == "walch":
        return walch_sleep_dataset(source_path(source), source["subjects"])
    if source["kind"] == "ichi":
        return ichi_sleep_dataset(source_path(source), source["subjects"])
    raise VigilError(f"data kind {source['kind']!r}: expected synthetic, walch or ichi")


def sleep_recordings(data: str, data_format: str | None = None, subjects: int | None = None,
                     difficulty: str = "moderate", seed: int = 0, hours: float = DEFAULT_HOURS,
                     ) -> tuple[dict[str, Any], Iterable[tuple[str, str, Recording]]]:  # fmt: skip
    """The labelled recordings ``load_sleep_data`` reads, as (subject, night, recording) triples (lazily), with the
    data source a manifest records; for models whose inputs are not the epoch images (``vigil.ml.sleep_context``)."""
    data_format = data_format or detect_sleep_format(data)
    if data == "synthetic" or data_format == "synthetic":
        from vigil.data.synthetic_night import synthetic_night

        n = subjects or DEFAULT_SUBJECTS
        source = {"kind": "synthetic", "subjects": n, "nights": 1, "hours": hours, "difficulty": difficulty,
                  "seed": seed}  # fmt: skip
        people = [seed * SUBJECT_SEED_STRIDE + i for i in range(n)]
        return source, ((f"synthetic-{p}", f"synthetic-{p}", synthetic_night(hours, seed=p, difficulty=difficulty))
                        for p in people)  # fmt: skip
    if data_format == "ichi":
        from vigil.data.ichi import load_ichi

        nights = ichi_night_files(data, subjects)
        source = {"kind": "ichi", "path": str(data), "subjects": subjects_of(nights), "nights": len(nights)}
        return source, ((str(r.meta["source"]["subject"]), night.stem, r)
                        for night in nights for r in [load_ichi(night)])  # fmt: skip
    if data_format != "walch":
        raise VigilError(f"--from {data_format}: expected one of {', '.join(DATA_FORMATS)}")
    from vigil.data.walch import load_walch, walch_subjects

    path = Path(data)
    if not path.exists():
        raise VigilError(f"{path}: no such file or folder (give a Walch sleep-accel folder or 'synthetic')")
    ids: list[str | None] = [None] if path.is_file() else list(walch_subjects(path))[:subjects]
    source = {"kind": "walch", "path": str(path), "subjects": len(ids)}
    labelled = (r for sid in ids for r in [load_walch(path, subject=sid)] if r.sleep_labels is not None)
    return source, ((str(r.meta["source"]["subject"]),) * 2 + (r,) for r in labelled)


def source_recordings(source: dict[str, Any]) -> Iterable[tuple[str, str, Recording]]:
    """The recordings of a manifest's ``data`` entry (``sleep_recordings``' source), again."""
    keys = {"synthetic": ("subjects", "difficulty", "seed", "hours")}.get(source["kind"], ("subjects",))
    data = "synthetic" if source["kind"] == "synthetic" else str(source_path(source))
    return sleep_recordings(data, source["kind"], **{k: source[k] for k in keys})[1]
