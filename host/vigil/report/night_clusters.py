"""The seed's unsupervised look at the report's night: its scored epochs clustered without their labels (KMeans on the
seven movement features, ``vigil.ml.sleep_explore.explore_dataset``) and held against the night's own labels
(contingency table, purity, adjusted Rand index), for the report's "Epochs clustered without labels" part.

    clusters = night_clusters(rec, "night.vrec")      # None when the night has fewer scored epochs than CLUSTERS
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from vigil.data.recording import Recording
from vigil.report.frozen import freeze

CLUSTERS = 3  # as many as the stages: each cluster could be one stage
METHOD = "kmeans"
FEATURES = "movement"


@dataclass(frozen=True)
class NightClusters:
    report: Mapping[str, Any]  # explore_dataset's report
    arrays: Mapping[str, np.ndarray]  # its standardized features, cluster and label per epoch (for the plot)

    def __post_init__(self) -> None:
        freeze(self)


def night_clusters(rec: Recording, name: str, seed: int = 0) -> NightClusters | None:
    """The night's scored epochs clustered (module doc), or None when it has no labels or too few scored epochs."""
    from vigil.ml.sleep_context import context_dataset
    from vigil.ml.sleep_explore import explore_dataset

    if rec.sleep_labels is None or int((rec.epoch_labels() >= 0).sum()) < CLUSTERS:
        return None
    ds = context_dataset([(name, name, rec)], {"kind": "report", "path": name})
    if len(ds) < CLUSTERS:
        return None
    report, arrays = explore_dataset(ds, METHOD, FEATURES, CLUSTERS, seed)
    return NightClusters({**report, "nights": 1}, arrays)
