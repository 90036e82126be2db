"""Evaluation protocols: how a dataset's rows split into training and test folds.

``kfold20``  random 20-fold (stratified, shuffled) over rows, as the stress proposal evaluated. Consecutive
    minutes of one person land on both sides, so it is optimistic; kept to compare with the proposal.
``blocks``   held-out contiguous time blocks: rows are cut into blocks of BLOCK_S seconds within each group
    (session / subject), and whole blocks go to 5 folds (balanced by size). No block is on both sides.
``loso``     leave one group out (subject for synthetic data, recording session for the proposal's file).

Every protocol also defines its *units* (row, block, group): the inner validation split used to choose
consensus weights (``holdout``) holds out whole units of the training part only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold

from vigil.data.hrv_csv import HrvDataset

PROTOCOLS: tuple[str, ...] = ("kfold20", "blocks", "loso")
BLOCK_S = 600  # 10-minute blocks
BLOCK_FOLDS = 5


@dataclass(frozen=True)
class Fold:
    train: np.ndarray  # row indices
    test: np.ndarray


def block_ids(dataset: HrvDataset, block_s: int = BLOCK_S) -> np.ndarray:
    """One id per row: its group's BLOCK_S-second block, counted from the group's first timestamp."""
    ids = np.zeros(len(dataset), dtype=np.int64)
    keys: dict[tuple[int, int], int] = {}
    for g in np.unique(dataset.groups):
        rows = np.flatnonzero(dataset.groups == g)
        t = dataset.timestamps[rows]
        for r, b in zip(rows, (t - t.min()) // block_s):
            ids[r] = keys.setdefault((int(g), int(b)), len(keys))
    return ids


def units(dataset: HrvDataset, protocol: str) -> np.ndarray:
    """The protocol's indivisible units: row index (kfold20), block id (blocks), group id (loso)."""
    if protocol == "kfold20":
        return np.arange(len(dataset))
    if protocol == "blocks":
        return block_ids(dataset)
    if protocol == "loso":
        return np.asarray(dataset.groups)
    raise ValueError(f"protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")


def kfold20(dataset: HrvDataset, seed: int = 0) -> list[Fold]:
    skf = StratifiedKFold(n_splits=20, shuffle=True, random_state=seed)
    return [Fold(tr, te) for tr, te in skf.split(dataset.features, dataset.labels)]


def blocks(dataset: HrvDataset, seed: int = 0, n_folds: int = BLOCK_FOLDS) -> list[Fold]:
    ids = block_ids(dataset)
    unique, sizes = np.unique(ids, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(unique))
    order = order[np.argsort(-sizes[order], kind="stable")]  # largest first, random among equal sizes
    load = np.zeros(n_folds, dtype=np.int64)
    fold_of = {}
    for i in order:
        k = int(np.argmin(load))
        fold_of[int(unique[i])] = k
        load[k] += sizes[i]
    assign = np.array([fold_of[int(b)] for b in ids])
    return [Fold(np.flatnonzero(assign != k), np.flatnonzero(assign == k)) for k in range(n_folds) if np.any(assign == k)]


def loso(dataset: HrvDataset, seed: int = 0) -> list[Fold]:
    del seed  # deterministic
    return [Fold(tr, te) for tr, te in LeaveOneGroupOut().split(dataset.features, dataset.labels, dataset.groups)]


SPLITTERS: dict[str, Callable[..., list[Fold]]] = {"kfold20": kfold20, "blocks": blocks, "loso": loso}


def folds(dataset: HrvDataset, protocol: str, seed: int = 0) -> list[Fold]:
    if protocol not in SPLITTERS:
        raise ValueError(f"protocol {protocol!r}: expected one of {', '.join(PROTOCOLS)}")
    return SPLITTERS[protocol](dataset, seed=seed)


def holdout(unit_ids: np.ndarray, labels: np.ndarray, fraction: float = 0.25, seed: int = 0) -> Fold:
    """Split rows into fit / validation by whole units (about `fraction` of the rows to validation), such that
    both sides hold both classes when that is possible (tries a few shuffles)."""
    unit_ids, labels = np.asarray(unit_ids), np.asarray(labels)
    unique = np.unique(unit_ids)
    best = None
    for attempt in range(20):
        order = np.random.default_rng([seed, attempt]).permutation(unique)
        chosen, count = [], 0
        for u in order:
            if count >= fraction * len(labels) or len(chosen) == len(unique) - 1:
                break
            chosen.append(u)
            count += int(np.sum(unit_ids == u))
        val = np.isin(unit_ids, chosen)
        split = Fold(np.flatnonzero(~val), np.flatnonzero(val))
        best = best or split
        if len(np.unique(labels[split.train])) == 2 and len(np.unique(labels[split.test])) == 2:
            return split
    assert best is not None
    return best


def group_folds(groups: np.ndarray, n_folds: int | None = None, seed: int = 0) -> list[Fold]:
    """Leave-groups-out folds over a group id per row (e.g. sleep subjects): every group is tested once, never
    on both sides. ``n_folds`` None: one fold per group (leave one out); else groups are shuffled (seeded) and
    dealt to ``min(n_folds, groups)`` folds, largest first to the lightest fold."""
    groups = np.asarray(groups)
    unique, sizes = np.unique(groups, return_counts=True)
    if len(unique) < 2:
        raise ValueError(f"leave-groups-out needs at least 2 groups, got {len(unique)}")
    if n_folds is None or n_folds >= len(unique):
        return [Fold(np.flatnonzero(groups != g), np.flatnonzero(groups == g)) for g in unique]
    order = np.random.default_rng(seed).permutation(len(unique))
    order = order[np.argsort(-sizes[order], kind="stable")]
    load = np.zeros(n_folds, dtype=np.int64)
    fold_of = np.zeros(len(unique), dtype=np.int64)
    for i in order:
        fold_of[i] = int(np.argmin(load))
        load[fold_of[i]] += sizes[i]
    assign = fold_of[np.searchsorted(unique, groups)]
    return [Fold(np.flatnonzero(assign != k), np.flatnonzero(assign == k)) for k in range(n_folds)]
