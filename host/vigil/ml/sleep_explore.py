"""The seed's unsupervised look at sleep: what the epochs group into, without labels, against the PSG stages.

    report = explore_sleep("../shared/data/ichi2014_train", "ichi", method="kmeans", features="movement")
    report["table"]   # per cluster: wake / NREM / REM epochs, its majority stage, its features' means
    report["purity"], report["adjusted_rand_index"]

Per scored epoch (the context dataset's rows, ``vigil.ml.sleep_context.context_dataset``) one feature vector:

- ``movement``: the seven movement features of ``vigil.ml.sleep_references.movement_features`` (activity,
  magnitude spread, ENMO, z-angle change and its largest step, per-axis spread, still 5-s windows);
- ``context``: the device's context input (``vigil.dsp.epoch_features``: four features of each of the 54 epochs
  around the decided one, 216 values), what the device's sleep model sees.

The features are standardized (zero mean, unit variance over the epochs), then clustered by scikit-learn's
``KMeans`` (``clusters`` clusters, 10 seeded starts) or ``OPTICS`` (density: it finds its own number of clusters and
calls the epochs in no dense region noise; ``min_samples`` OPTICS_MIN_SAMPLES_SHARE of the points, xi 0.05). OPTICS
is quadratic in time, so above ``max_points`` epochs it runs on a seeded random subsample of that many epochs
(the report says so: ``subsample``), and on more than OPTICS_COMPONENTS features (``context``) it clusters their
first OPTICS_COMPONENTS principal components (distances flatten out in 216 dimensions, and a 4,000-epoch run takes
75 s there, 8 s on the components; ``pca_components``); KMeans always takes every epoch and every feature.

Against the PSG stages (wake, NREM, REM): the contingency table (clusters x stages; OPTICS' noise is one more row,
``noise``, and counts as a cluster in both figures), purity (each cluster's majority stage counted as correct:
sum of the rows' largest counts / all epochs; at least the largest stage's share, 1 for clusters that never mix
stages) and the adjusted Rand index (``sklearn.metrics.adjusted_rand_score``: 0 for chance, 1 for the PSG's own
partition). Clusters are numbered by their share of wake, most wake first.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from vigil.errors import VigilError
from vigil.ml.sleep_context import ContextDataset
from vigil.records import SLEEP_CLASS_LABELS

METHODS = ("kmeans", "optics")
FEATURE_SETS = ("movement", "context")
DEFAULT_CLUSTERS = 3
OPTICS_MAX_POINTS = 4000
OPTICS_MIN_SAMPLES_SHARE = 0.01
OPTICS_XI = 0.05
OPTICS_COMPONENTS = 10
PLOT_POINTS = 3000
NOISE = "noise"
STAGE_COLOURS = ("#f4a261", "#457b9d", "#e63946")  # wake, NREM, REM: the report's colours
CLUSTER_COLOURS = ("#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#17becf", "#8c564b",
                   "#bcbd22", "#9467bd")  # none of them a stage's colour  # fmt: skip
NOISE_COLOUR = "#b0b0b0"
#: ``new(description, total)`` -> a per-step callback or None (vigil.console.bars)
Bars = Callable[[str, int], Callable[[int], None] | None]


def feature_matrix(ds: ContextDataset, features: str) -> tuple[np.ndarray, list[str]]:
    """The (n, d) float64 features of ``features`` (FEATURE_SETS) and their names."""
    from vigil.dsp.config import SLEEP_CONTEXT_DELAY, SLEEP_CONTEXT_EPOCHS
    from vigil.dsp.epoch_features import FEATURE_NAMES
    from vigil.ml.sleep_references import MOVEMENT_FEATURES

    if features == "movement":
        return ds.movement.astype(np.float64), list(MOVEMENT_FEATURES)
    if features == "context":  # rows oldest first; the decided epoch is SLEEP_CONTEXT_DELAY rows before the last
        offsets = range(SLEEP_CONTEXT_DELAY + 1 - SLEEP_CONTEXT_EPOCHS, SLEEP_CONTEXT_DELAY + 1)
        names = [f"{name}[{t:+d}]" for t in offsets for name in FEATURE_NAMES]
        return ds.inputs.astype(np.float64) + 128.0, names  # the feature codes (int8 + 128)
    raise VigilError(f"--features {features}: expected one of {', '.join(FEATURE_SETS)}")


def contingency(clusters: np.ndarray, labels: np.ndarray, n_stages: int = len(SLEEP_CLASS_LABELS)) -> np.ndarray:
    """(clusters, stages) int64 counts; ``clusters`` are 0..k-1."""
    k = int(clusters.max()) + 1 if len(clusters) else 0
    return np.bincount(clusters * n_stages + labels, minlength=k * n_stages).reshape(k, n_stages)


def purity(table: np.ndarray) -> float:
    """Share of epochs in their cluster's majority stage: sum of each row's largest count / total (0 when empty)."""
    table = np.asarray(table)
    return float(table.max(axis=1).sum() / table.sum()) if table.sum() else 0.0


def cluster(x: np.ndarray, method: str, clusters: int, seed: int) -> np.ndarray:
    """Cluster ids of the rows of standardized ``x`` (OPTICS: -1 is noise; on at most OPTICS_COMPONENTS principal
    components)."""
    import warnings

    from sklearn.cluster import OPTICS, KMeans
    from sklearn.decomposition import PCA

    if method == "kmeans":
        if not 1 <= clusters <= len(x):
            raise VigilError(f"--clusters {clusters}: expected 1 to {len(x)} (the epochs)")
        return KMeans(n_clusters=clusters, n_init=10, random_state=seed).fit_predict(x)
    if method == "optics":
        min_samples = max(5, round(OPTICS_MIN_SAMPLES_SHARE * len(x)))
        if x.shape[1] > OPTICS_COMPONENTS:
            x = PCA(OPTICS_COMPONENTS, random_state=seed).fit_transform(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # identical epochs (a still night): reachability 0
            return OPTICS(min_samples=min(min_samples, len(x)), xi=OPTICS_XI, n_jobs=1).fit_predict(x)
    raise VigilError(f"--method {method}: expected one of {', '.join(METHODS)}")


def ordered_by_wake(raw: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Renumber cluster ids 0..k-1 by falling share of wake (ties: larger first), noise (-1) last; with row names."""
    ids = [c for c in np.unique(raw) if c >= 0]
    ids.sort(key=lambda c: (-np.mean(labels[raw == c] == 0), -np.sum(raw == c)))
    names = [str(i) for i in range(len(ids))] + ([NOISE] if (raw < 0).any() else [])
    lookup = {c: i for i, c in enumerate(ids)} | {-1: len(ids)}
    return np.array([lookup[int(c)] for c in raw], dtype=np.int64), names


def explore_dataset(ds: ContextDataset, method: str = "kmeans", features: str = "movement",
                    clusters: int = DEFAULT_CLUSTERS, seed: int = 0, max_points: int = OPTICS_MAX_POINTS
                    ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:  # fmt: skip
    """Cluster ``ds``'s epochs (module doc). Returns the report and the arrays behind it (``x``: the standardized
    features, ``cluster``: each row's cluster index into the table, ``labels``: its stage) for a plot."""
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import StandardScaler

    if method not in METHODS:
        raise VigilError(f"--method {method}: expected one of {', '.join(METHODS)}")
    raw_x, names = feature_matrix(ds, features)
    rows = np.arange(len(ds))
    subsample = method == "optics" and len(ds) > max_points
    if subsample:
        rows = np.sort(np.random.default_rng(seed).choice(len(ds), size=max_points, replace=False))
    started = time.monotonic()
    x = StandardScaler().fit_transform(raw_x[rows])
    labels = ds.labels[rows]
    ids, row_names = ordered_by_wake(cluster(x, method, clusters, seed), labels)
    table = contingency(ids, labels)
    stages = [s.lower() for s in SLEEP_CLASS_LABELS]
    rows_out = [{"cluster": name, **dict(zip(stages, map(int, table[i]))), "total": int(table[i].sum()),
                 "majority": SLEEP_CLASS_LABELS[int(np.argmax(table[i]))],
                 "feature_means": dict(zip(names, np.round(raw_x[rows][ids == i].mean(axis=0), 4).tolist()))
                 if features == "movement" else None} for i, name in enumerate(row_names)]  # fmt: skip
    report = {
        "method": method, "features": features, "feature_count": len(names), "standardized": True, "seed": seed,
        "clusters_asked": clusters if method == "kmeans" else None,
        "pca_components": OPTICS_COMPONENTS if method == "optics" and len(names) > OPTICS_COMPONENTS else None,
        "clusters": len(row_names) - (NOISE in row_names), "noise": int(table[-1].sum()) if NOISE in row_names else 0,
        "epochs_scored": len(ds), "epochs_clustered": len(rows),
        "subsample": {"points": len(rows), "seed": seed, "of": len(ds)} if subsample else None,
        "stages": list(SLEEP_CLASS_LABELS), "table": rows_out,
        "stage_totals": dict(zip(stages, map(int, table.sum(axis=0)))),
        "purity": purity(table), "adjusted_rand_index": float(adjusted_rand_score(labels, ids)),
        "largest_stage_share": float(table.sum(axis=0).max() / max(table.sum(), 1)),
        "seconds": round(time.monotonic() - started, 1),
    }  # fmt: skip
    return report, {"x": x, "cluster": ids, "labels": labels}


def explore_sleep(data: str, data_format: str | None = None, method: str = "kmeans", features: str = "movement",
                  clusters: int = DEFAULT_CLUSTERS, subjects: int | None = None, seed: int = 0,
                  plot: Path | None = None, max_points: int = OPTICS_MAX_POINTS, hours: float = 8.0,
                  progress: Bars | None = None, labels_name: str = "PSG") -> dict[str, Any]:  # fmt: skip
    """`vigil explore sleep`: the recordings of ``data`` (``vigil.ml.sleep_data.sleep_recordings``: "synthetic", a
    Walch or ICHI-2014 folder) through the twin, clustered as ``explore_dataset``; with ``plot`` also a PNG there
    (its labels called ``labels_name``)."""
    from vigil.ml.sleep_context import context_dataset
    from vigil.ml.sleep_data import recording_count, sleep_recordings

    if method not in METHODS:  # before reading a single night
        raise VigilError(f"--method {method}: expected one of {', '.join(METHODS)}")
    if features not in FEATURE_SETS:
        raise VigilError(f"--features {features}: expected one of {', '.join(FEATURE_SETS)}")
    if method == "kmeans" and clusters < 1:
        raise VigilError(f"--clusters {clusters}: expected at least 1")
    new = progress or (lambda description, total: None)
    source, recordings = sleep_recordings(data, data_format, subjects, seed=seed, hours=hours)
    ds = context_dataset(recordings, source, new("recordings → features", recording_count(data, data_format, subjects)))
    report, arrays = explore_dataset(ds, method, features, clusters, seed, max_points)
    report = {"data": source, "subjects": len(ds.subject_names), "nights": len(ds.night_names), **report}
    if plot is not None:
        plot_exploration(report, arrays, Path(plot), seed, labels_name=labels_name)
        report["plot"] = str(plot)
    return report


def plot_exploration(report: dict[str, Any], arrays: dict[str, np.ndarray], path: Path, seed: int = 0,
                     labels_name: str = "PSG") -> tuple[int, int]:  # fmt: skip
    """A PNG: the PSG stage share of every cluster (stacked bars, epochs per cluster on top) and the epochs in the
    features' first two principal components, coloured by cluster and by PSG stage (a seeded sample of at most
    PLOT_POINTS epochs). ``labels_name`` names the labels where they are not PSG (e.g. "synthetic stages").
    Returns the PNG's (width, height) in pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from sklearn.decomposition import PCA

    table = report["table"]
    stages = [s.lower() for s in report["stages"]]
    fig = Figure(figsize=(13.0, 4.4), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    bars, by_cluster, by_stage = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1, 1]})
    names = [r["cluster"] for r in table]
    bottom = np.zeros(len(table))
    for k, stage in enumerate(stages):
        share = np.array([r[stage] / max(r["total"], 1) for r in table])
        bars.bar(names, share, bottom=bottom, color=STAGE_COLOURS[k], label=report["stages"][k], edgecolor="white")
        bottom += share
    for i, r in enumerate(table):
        bars.text(i, 1.01, f"{r['total']:,}", ha="center", va="bottom", fontsize=8)
    bars.set(ylim=(0, 1.25), yticks=np.linspace(0, 1, 6), ylabel=f"share of the cluster's epochs ({labels_name})",
             xlabel="cluster (most wake first); epochs above the bar")  # fmt: skip
    bars.set_title(f"{report['method']} on {report['features']} features: purity {report['purity']:.2f}, "
                   f"ARI {report['adjusted_rand_index']:.2f}", fontsize=10)  # fmt: skip
    bars.legend(loc="upper center", fontsize=8, ncols=3, framealpha=0.9)
    x, ids, labels = arrays["x"], arrays["cluster"], arrays["labels"]
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(x), size=min(PLOT_POINTS, len(x)), replace=False))
    pc = PCA(n_components=2, random_state=seed).fit(x)
    xy = pc.transform(x[pick])
    dot = 5 if len(pick) > 1000 else 10
    colour = [NOISE_COLOUR if n == NOISE else CLUSTER_COLOURS[i % len(CLUSTER_COLOURS)] for i, n in enumerate(names)]
    for c in np.argsort([-np.sum(ids[pick] == c) for c in range(len(names))], kind="stable"):  # largest first
        at = ids[pick] == c
        by_cluster.scatter(xy[at, 0], xy[at, 1], color=colour[c], s=dot, alpha=0.6, linewidths=0, label=names[c])
    for k in (1, 0, 2):  # NREM, the most epochs, below wake and REM
        at = labels[pick] == k
        by_stage.scatter(xy[at, 0], xy[at, 1], color=STAGE_COLOURS[k], s=dot, alpha=0.6, linewidths=0,
                         label=report["stages"][k])  # fmt: skip
    for ax, title in ((by_cluster, "cluster"), (by_stage, labels_name)):
        handles, texts = ax.get_legend_handles_labels()
        order = sorted(range(len(texts)), key=lambda i: (names + report["stages"]).index(texts[i]))[:12]
        ax.legend([handles[i] for i in order], [texts[i] for i in order], title=title, fontsize=7, title_fontsize=8,
                  loc="best", markerscale=2.5)  # fmt: skip
    var = pc.explained_variance_ratio_
    for ax, what in ((by_cluster, "coloured by cluster"), (by_stage, f"coloured by {labels_name} stage")):
        ax.set(xlabel=f"PC 1 ({var[0]:.0%} of variance)", ylabel=f"PC 2 ({var[1]:.0%})")
        ax.set_title(f"{len(pick):,} epochs, {what}", fontsize=10)
    sub = report.get("subsample")
    fig.suptitle(f"{report['epochs_clustered']:,} scored epochs"
                 + (f" (a seeded sample of {sub['of']:,})" if sub else "")
                 + (f" of {report['nights']} night{'s' if report['nights'] != 1 else ''}" if "nights" in report else "")
                 + (f", OPTICS on {report['pca_components']} principal components" if report.get("pca_components")
                    else ""), fontsize=11)  # fmt: skip
    fig.savefig(path, facecolor="white")
    width, height = fig.get_size_inches() * fig.dpi
    return round(width), round(height)
