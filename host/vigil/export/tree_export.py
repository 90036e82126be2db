"""Decision tree → integer tables for ``firmware/core/ml/tree_classifier_q15.c``, and its twin.

The tree is trained on scaled features s_f = a_f * raw_f + b_f (``vigil.export.feature_affine``). The
device compares the RAW int32 feature against an int32 threshold, ``raw <= T``: the scaler is folded into
the thresholds. T is not computed by inverting the affine map in floating point (which can be off by
one at the boundary) but found by binary search over all int32 values of the decision scikit-learn
itself makes: ``float32(scaler.transform(raw)) <= threshold`` (sklearn's trees cast X to float32).
That predicate is monotone in raw (every float operation of an affine map with a_f > 0 is monotone),
so T = the largest raw for which it holds, and ``raw <= T`` equals sklearn's decision for EVERY int32
raw; ``export_tree`` checks T and T + 1 against the predicate. For a_f < 0 the children are swapped
(raw >= T' <=> not raw <= T' - 1); a split that sends every int32 one way becomes ``raw <= INT32_MAX``
with that child on the left.

Leaf probabilities: sklearn's class fractions of the leaf, in Q15 (1.0 = 32768) as uint16, each row
summing to exactly 32768 by largest remainder: floor(p * 32768) per class, then the missing units go
one each to the classes with the largest remainders (ties to the lower class index). Every entry is
within 1 unit of p * 32768. The class is the argmax (first maximum) of the row, as np.argmax.

Node arrays (sklearn's node order, root 0): ``feature`` (int8, -1 at a leaf), ``threshold`` (int32,
raw units), ``left``/``right`` (uint16 node indices; at a leaf ``left`` is the row of ``proba_q15``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vigil.errors import VigilError
from vigil.export.feature_affine import FeatureAffine

Q15_ONE = 1 << 15
LEAF = -1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MAX_NODES = 0xFFFF
MAX_FEATURES = 127
MAX_CLASSES = 255


@dataclass(frozen=True)
class TreeQ15:
    """The tables of ``tree_q15_model_t``."""

    feature: np.ndarray  # int, LEAF at leaves
    threshold: np.ndarray  # int32 values (raw feature units)
    left: np.ndarray  # node index; at a leaf, the row of proba_q15
    right: np.ndarray
    proba_q15: np.ndarray  # (n_leaves, n_classes), rows sum to Q15_ONE
    n_features: int
    classes: tuple[Any, ...]

    @property
    def n_nodes(self) -> int:
        return len(self.feature)

    @property
    def n_classes(self) -> int:
        return self.proba_q15.shape[1]


def q15_distribution(p: np.ndarray) -> np.ndarray:
    """Rows of probabilities → Q15 rows summing to exactly 32768 (largest remainder, ties to the
    lower index)."""
    p = np.asarray(p, dtype=np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    scaled = p * Q15_ONE
    q = np.floor(scaled).astype(np.int64)
    rest = scaled - q
    for row in range(len(q)):
        missing = Q15_ONE - int(q[row].sum())
        order = np.lexsort((np.arange(q.shape[1]), -rest[row]))  # largest remainder first, then index
        q[row, order[:missing]] += 1
    return q


def _sklearn_goes_left(affine: FeatureAffine, features: np.ndarray, raw: np.ndarray, thr: np.ndarray) -> np.ndarray:
    """sklearn's split decision at each node i for raw value raw[i] of feature features[i]."""
    x = np.zeros((len(raw), affine.n_features))
    x[np.arange(len(raw)), features] = raw
    scaled = affine.transform(x)[np.arange(len(raw)), features]
    return scaled.astype(np.float32).astype(np.float64) <= thr


def _integer_thresholds(affine: FeatureAffine, features: np.ndarray, thr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each split: (T, swap) such that sklearn goes left <=> (raw <= T) != swap, for all int32 raw."""
    n = len(features)
    rising = affine.scale[features] > 0  # scaled grows with raw: predicate true then false
    falling = affine.scale[features] < 0
    at_min = _sklearn_goes_left(affine, features, np.full(n, INT32_MIN), thr)
    at_max = _sklearn_goes_left(affine, features, np.full(n, INT32_MAX), thr)
    # binary search for the boundary b: predicate(lo) == at_min, predicate(hi) != at_min, hi = lo + 1
    lo = np.full(n, INT32_MIN, dtype=np.int64)
    hi = np.full(n, INT32_MAX, dtype=np.int64)
    flips = at_min != at_max
    for _ in range(33):
        mid = (lo + hi) // 2
        same = _sklearn_goes_left(affine, features, mid, thr) == at_min
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    t = np.full(n, INT32_MAX, dtype=np.int64)
    swap = np.zeros(n, dtype=bool)
    # monotone rising (left for raw <= lo): T = lo, no swap
    t = np.where(flips & at_min, lo, t)
    # left for raw >= hi: raw <= lo goes right -> swap children, T = lo
    swap = np.where(flips & ~at_min, True, swap)
    t = np.where(flips & ~at_min, lo, t)
    # constant decision: raw <= INT32_MAX always true; swap when it always goes right
    swap = np.where(~flips & ~at_min, True, swap)
    if np.any(flips & at_min & falling) or np.any(flips & ~at_min & rising):
        raise VigilError("tree export: the scaler's transform is not monotone in the direction of its scale")
    # check: for T in range, the predicate flips exactly between T and T + 1
    check = flips
    left_at_t = _sklearn_goes_left(affine, features, t, thr)
    left_after = _sklearn_goes_left(affine, features, np.minimum(t + 1, INT32_MAX), thr)
    if np.any(check & ((left_at_t == swap) | (left_after != swap))):
        raise VigilError("tree export: integer threshold search failed (scaler transform not monotone?)")
    return t, swap


def export_tree(tree: Any, scaler: Any) -> TreeQ15:
    """Integer tables of a fitted ``DecisionTreeClassifier`` trained on scaler-scaled features."""
    t = getattr(tree, "tree_", None)
    if t is None or not hasattr(tree, "classes_"):
        raise VigilError("tree export: expected a fitted sklearn DecisionTreeClassifier")
    if t.n_outputs != 1:
        raise VigilError(f"tree export: expected a single-output tree, got {t.n_outputs} outputs")
    if t.node_count > MAX_NODES:
        raise VigilError(f"tree export: expected at most {MAX_NODES} nodes, got {t.node_count}")
    if not 1 <= t.n_classes[0] <= MAX_CLASSES:
        raise VigilError(f"tree export: expected 1..{MAX_CLASSES} classes, got {t.n_classes[0]}")
    n_features = int(tree.n_features_in_)
    if n_features > MAX_FEATURES:
        raise VigilError(f"tree export: expected at most {MAX_FEATURES} features, got {n_features}")
    affine = FeatureAffine.of(scaler, n_features)
    is_leaf = t.children_left < 0
    split = np.flatnonzero(~is_leaf)
    leaves = np.flatnonzero(is_leaf)
    feature = np.where(is_leaf, LEAF, t.feature).astype(np.int64)
    threshold = np.zeros(t.node_count, dtype=np.int64)
    left = np.where(is_leaf, 0, t.children_left).astype(np.int64)
    right = np.where(is_leaf, 0, t.children_right).astype(np.int64)
    if len(split):
        thr, swap = _integer_thresholds(affine, t.feature[split], t.threshold[split])
        threshold[split] = thr
        l0, r0 = left[split].copy(), right[split].copy()
        left[split] = np.where(swap, r0, l0)
        right[split] = np.where(swap, l0, r0)
    left[leaves] = np.arange(len(leaves))
    proba = q15_distribution(t.value[leaves, 0, :])
    return TreeQ15(feature, threshold, left, right, proba, n_features, tuple(tree.classes_.tolist()))


def tree_predict_q15(model: TreeQ15, X_int: np.ndarray) -> np.ndarray:
    """Twin of tree_classifier_q15(): Q15 class probabilities (n, n_classes) int64 for raw int32
    features (n, n_features). The class is ``argmax`` of a row."""
    x = np.asarray(X_int, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != model.n_features:
        raise VigilError(f"tree_predict_q15: expected features of shape (n, {model.n_features}), got {x.shape}")
    if np.any(x < INT32_MIN) or np.any(x > INT32_MAX):
        raise VigilError("tree_predict_q15: features must be int32")
    node = np.zeros(len(x), dtype=np.int64)
    rows = np.arange(len(x))
    for _ in range(model.n_nodes):
        f = model.feature[node]
        active = f != LEAF
        if not active.any():
            break
        go_left = x[rows, np.maximum(f, 0)] <= model.threshold[node]
        node = np.where(active, np.where(go_left, model.left[node], model.right[node]), node)
    return model.proba_q15[model.left[node]]


def render_tree_header(model: TreeQ15, name: str, scaler: FeatureAffine | None = None) -> str:
    """``NAME_tree.h``: the node tables and ``static const tree_q15_model_t NAME_tree``."""
    from vigil.codegen import banner
    from vigil.export.headers import c_header_open, c_static_array, check_name

    check_name(name)
    guard = f"{name.upper()}_TREE_H"
    n_leaves = model.proba_q15.shape[0]
    lines = [
        f"/* Decision tree {name}: {model.n_nodes} nodes, {n_leaves} leaves, {model.n_features} features, "
        f"{model.n_classes} classes.",
        " * Features: raw int32 in the device's units; the scaler is folded into the thresholds.",
        f" * Classes (index order): {', '.join(map(str, model.classes))}.",
    ]
    lines += scaler.comment_lines("Scaler folded in") if scaler is not None else []
    first = banner("vigil.export.tree_export", f"the trained tree {name}", "vigil export models")
    lines = c_header_open(first, lines, guard, "ml/tree_classifier_q15.h") + [
        f"#define {name.upper()}_TREE_N_CLASSES {model.n_classes}u",
        f"#define {name.upper()}_TREE_N_FEATURES {model.n_features}u",
        "",
        c_static_array("int8_t", f"{name}_tree_feature", model.feature, 16),
        c_static_array("int32_t", f"{name}_tree_threshold", model.threshold, 8),
        c_static_array("uint16_t", f"{name}_tree_left", model.left, 16),
        c_static_array("uint16_t", f"{name}_tree_right", model.right, 16),
        c_static_array("uint16_t", f"{name}_tree_proba_q15", model.proba_q15,
                       model.n_classes * max(1, 8 // model.n_classes)),
        f"static const tree_q15_model_t {name}_tree = {{",
        f"    {model.n_nodes}u, {n_leaves}u, {model.n_features}u, {model.n_classes}u,",
        f"    {name}_tree_feature, {name}_tree_threshold, {name}_tree_left, {name}_tree_right, {name}_tree_proba_q15,",
        "};",
        "",
        f"#endif /* {guard} */",
        "",
    ]
    return "\n".join(lines)


def tree_header(model: Any, scaler: Any, name: str) -> str:
    """``NAME_tree.h`` for a fitted DecisionTreeClassifier ``model`` trained on ``scaler``-scaled features."""
    affine = FeatureAffine.of(scaler, int(model.n_features_in_))
    return render_tree_header(export_tree(model, affine), name, affine)
