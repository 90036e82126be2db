"""Binary RBF SVM with Platt probabilities → integer tables for ``firmware/core/ml/svm_rbf_q15.c``, and its twin.

Model (scikit-learn ``SVC(kernel="rbf", probability=True)``, classes_ = [c0, c1], trained on scaled
features s = a * raw + b): f(s) = sum_i alpha_i exp(-gamma |s - sv_i|^2) + b0 (``decision_function``,
f > 0 → c1), and Platt's P(c1) = 1 / (1 + exp(A f - B)) with A = probA_[0], B = probB_[0]. (libsvm
computes P(c0) = 1 / (1 + exp(A d + B)) on its own decision value d = -f; sklearn stores the negated
dual coefficients and intercept but not negated probA_/probB_.) sklearn's predict_proba then passes
P through libsvm's pairwise coupling (``multiclass_probability``), which for two classes stops at a
tolerance of 0.0025 and so differs from the exact sigmoid by up to 0.005 (and returns exactly 0.5 when
|P - 0.5| < 0.005); the device computes the exact sigmoid. ``libsvm_coupled_proba`` reproduces
sklearn's numbers from P, so the tests can tell the two differences apart.

Fixed point (every step integer; shifts of signed values are arithmetic, i.e. floor):
1. scaled features, Q20 (``SCALED_FRAC``): s_f = clamp((raw_f * mul_f + add_f) >> shift_f, +-2^28),
   mul_f = round(a_f 2^(shift_f+20)) with 2^29 <= |mul_f| < 2^30, add_f = round(b_f 2^(shift_f+20)) + 2^(shift_f-1).
2. support vectors in Q20 int32; d2 = sum_f (s_f - sv_f)^2 in Q40, int64.
3. kernel K = 2^-u with u = gamma log2(e) d2 in Q24: u = ((d2 >> d2_shift) * gamma_mul + 2^(gamma_shift-1))
   >> gamma_shift, K = ml_exp2_neg_q30(u) (Q30); d2 >= d2_cutoff (u >= 32) gives K = 0.
4. acc = intercept + sum_i alpha_i K_i in int64, alpha_i = round(alpha 2^alpha_shift) (int32),
   intercept = round(b0 2^(alpha_shift + 30)); alpha_shift keeps |acc| <= 2^62.
5. f = clamp((acc + 2^(decision_shift-1)) >> decision_shift, int32) in Q(decision_frac), a range that
   reaches past where the sigmoid is flat.
6. v = log2(e) (A f - B) in Q24: v = clamp(((f * platt_mul + 2^(platt_shift-1)) >> platt_shift) + platt_add,
   +-32 * 2^24); P(c1) = 1 / (1 + 2^v): with e = ml_exp2_neg_q30(|v|), den = 2^30 + e,
   p1 = (e 2^15 + den/2) / den for v >= 0, (2^45 + den/2) / den for v < 0; p0 = 32768 - p1.
   Probabilities Q15 as uint16 (32768 = 1.0); class = 1 iff p1 > p0.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from vigil.errors import VigilError
from vigil.export.feature_affine import FeatureAffine
from vigil.export.ml_exp_table import exp2_neg_q30

SCALED_FRAC = 20
SCALED_LIMIT = 1 << 28  # +-256 in scaled units
KERNEL_FRAC = 30
U_FRAC = 24
V_LIMIT = 32 << U_FRAC
Q15_ONE = 1 << 15
MAX_FEATURES = 16
MAX_SV = 0xFFFF
LOG2E = 1.0 / math.log(2.0)
_ACC_BOUND = 1 << 61  # |sum alpha K| and |intercept| each stay below this
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MAX = 2**63 - 1
_TWIN_BLOCK = 512  # rows per step of the twin (bounds its n x n_sv x n_features temporaries)


@dataclass(frozen=True)
class SvmQ15:
    """The tables and constants of ``svm_rbf_q15_model_t``."""

    scale_mul: np.ndarray  # int32 per feature
    scale_add: np.ndarray  # int64 per feature
    scale_shift: np.ndarray  # per feature
    sv: np.ndarray  # (n_sv, n_features) Q20 int32
    alpha: np.ndarray  # (n_sv,) int32
    intercept: int
    d2_cutoff: int
    d2_shift: int
    gamma_mul: int
    gamma_shift: int
    decision_shift: int
    decision_frac: int
    platt_mul: int
    platt_shift: int
    platt_add: int
    classes: tuple[Any, ...]

    @property
    def n_sv(self) -> int:
        return self.sv.shape[0]

    @property
    def n_features(self) -> int:
        return self.sv.shape[1]


@dataclass(frozen=True)
class SvmFloat:
    """The float model, read out of the SVC: f = sum alpha K(sv, s) + b0, P(c1) = 1 / (1 + exp(A f - B))."""

    sv: np.ndarray
    alpha: np.ndarray
    b0: float
    gamma: float
    A: float
    B: float
    classes: tuple[Any, ...]


def svm_float(svm: Any) -> SvmFloat:
    if getattr(svm, "kernel", None) != "rbf" or not hasattr(svm, "support_vectors_"):
        raise VigilError("svm export: expected a fitted sklearn SVC(kernel='rbf', probability=True)")
    if len(svm.classes_) != 2:
        raise VigilError(f"svm export: expected a binary SVC, got {len(svm.classes_)} classes")
    with warnings.catch_warnings():  # probA_/probB_ are deprecated with probability=True in sklearn 1.9
        warnings.simplefilter("ignore", FutureWarning)
        prob_a, prob_b = np.asarray(svm.probA_), np.asarray(svm.probB_)
    if prob_a.size != 1 or prob_b.size != 1:
        raise VigilError("svm export: expected an SVC fitted with probability=True (Platt's probA_, probB_)")
    return SvmFloat(
        np.asarray(svm.support_vectors_, dtype=np.float64),
        np.asarray(svm.dual_coef_[0], dtype=np.float64),
        float(svm.intercept_[0]),
        float(svm._gamma),  # the fitted gamma ('scale' resolved); sklearn has no public attribute for it
        float(prob_a[0]),
        float(prob_b[0]),
        tuple(svm.classes_.tolist()),
    )


def platt_float(model: SvmFloat, scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(decision f, exact Platt P(c1)) in float64 for scaled features."""
    s = np.asarray(scaled, dtype=np.float64)
    d2 = ((s[:, None, :] - model.sv[None, :, :]) ** 2).sum(axis=2)
    f = np.exp(-model.gamma * d2) @ model.alpha + model.b0
    return f, 1.0 / (1.0 + np.exp(model.A * f - model.B))


def libsvm_coupled_proba(p1: np.ndarray) -> np.ndarray:
    """sklearn's binary predict_proba from the exact Platt P(c1): libsvm's min_prob clipping and its
    ``multiclass_probability`` (Wu, Lin and Weng's method 2, eps = 0.005 / k) for k = 2, step by step."""
    out = np.empty((len(p1), 2))
    for n, pc1 in enumerate(np.asarray(p1, dtype=np.float64)):
        r = min(max(1.0 - pc1, 1e-7), 1 - 1e-7)  # libsvm's pairwise_prob[0][1] = P(c0)
        rr = [[0.0, r], [1.0 - r, 0.0]]
        q = [[rr[1][0] ** 2, -rr[1][0] * rr[0][1]], [-rr[1][0] * rr[0][1], rr[0][1] ** 2]]
        p = [0.5, 0.5]
        qp = [0.0, 0.0]
        for _ in range(100):
            pqp = 0.0
            for t in range(2):
                qp[t] = q[t][0] * p[0] + q[t][1] * p[1]
                pqp += p[t] * qp[t]
            if max(abs(qp[t] - pqp) for t in range(2)) < 0.0025:
                break
            for t in range(2):
                diff = (-qp[t] + pqp) / q[t][t]
                p[t] += diff
                pqp = (pqp + diff * (diff * q[t][t] + 2 * qp[t])) / (1 + diff) / (1 + diff)
                for j in range(2):
                    qp[j] = (qp[j] + diff * q[t][j]) / (1 + diff)
                    p[j] /= 1 + diff
        out[n] = p
    return out


def _mantissa_shift(value: float, max_shift: int = 62) -> tuple[int, int]:
    """(mul, shift): mul = round(value 2^shift), 2^29 <= |mul| < 2^30 (or (0, 1) for 0)."""
    if value == 0.0:
        return 0, 1
    shift = 29 - math.floor(math.log2(abs(value)))
    mul = round(value * 2.0**shift)
    if abs(mul) >= 1 << 30:
        shift -= 1
        mul = round(value * 2.0**shift)
    if not 1 <= shift <= max_shift:
        raise VigilError(f"svm export: constant {value!r} is out of the fixed-point range")
    return mul, shift


def _feature_affine_q(affine: FeatureAffine) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    muls, adds, shifts = [], [], []
    for a, b in zip(affine.scale, affine.offset):
        if a == 0.0:
            mul, shift = 0, SCALED_FRAC + 1
        else:
            mul, shift = _mantissa_shift(float(a))
        if shift < SCALED_FRAC + 1:
            raise VigilError(f"svm export: scaler slope {a!r} too large (expected |a| < 2^{30 - SCALED_FRAC - 1})")
        add = round(float(b) * 2.0**shift) + (1 << (shift - SCALED_FRAC - 1))
        if abs(add) >= _ACC_BOUND:
            raise VigilError(f"svm export: scaler offset {b!r} too large for slope {a!r}")
        muls.append(mul)
        adds.append(add)
        shifts.append(shift)
    right_shifts = np.array(shifts, dtype=np.int64) - SCALED_FRAC  # to Q20
    return np.array(muls, dtype=np.int64), np.array(adds, dtype=np.int64), right_shifts


def export_svm(svm: Any, scaler: Any) -> SvmQ15:
    """Integer tables of a fitted binary ``SVC(kernel='rbf', probability=True)`` trained on
    scaler-scaled features."""
    m = svm_float(svm)
    n_sv, n_features = m.sv.shape
    if n_features > MAX_FEATURES or n_sv > MAX_SV or n_sv == 0:
        raise VigilError(
            f"svm export: expected 1..{MAX_SV} support vectors of <= {MAX_FEATURES} features, got {m.sv.shape}"
        )
    affine = FeatureAffine.of(scaler, n_features)
    scale_mul, scale_add, scale_shift = _feature_affine_q(affine)
    sv = np.clip(np.round(m.sv * (1 << SCALED_FRAC)), -SCALED_LIMIT, SCALED_LIMIT).astype(np.int64)
    # kernel: u (Q24) = gamma log2e d2 (Q40) 2^-16
    g = m.gamma * LOG2E
    if not g > 0:
        raise VigilError(f"svm export: expected gamma > 0, got {m.gamma!r}")
    d2_max = n_features * (2 * SCALED_LIMIT) ** 2
    d2_cutoff = min(math.ceil(32.0 / g * 2.0 ** (2 * SCALED_FRAC)), d2_max + 1, INT64_MAX)
    d2_shift = max(0, int(d2_cutoff).bit_length() - 32)
    gamma_mul, gamma_shift = _mantissa_shift(g * 2.0 ** (d2_shift - (2 * SCALED_FRAC - U_FRAC)))
    # weights: n_sv max|alpha_q| 2^30 <= 2^61, |intercept_q| <= 2^61
    amax = float(np.abs(m.alpha).max())
    limits = [math.floor(math.log2((_ACC_BOUND >> KERNEL_FRAC) / n_sv / amax))] if amax > 0 else [40]
    limits.append(30 - math.ceil(math.log2(amax)) if amax > 0 else 40)
    if m.b0 != 0.0:
        limits.append(math.floor(math.log2(_ACC_BOUND / abs(m.b0))) - KERNEL_FRAC)
    alpha_shift = min(limits)
    alpha = np.round(m.alpha * 2.0**alpha_shift).astype(np.int64)
    intercept = round(m.b0 * 2.0 ** (alpha_shift + KERNEL_FRAC))
    # decision range: past |A f - B| = 32 the sigmoid is flat in Q15
    f_lim = (32.0 + abs(m.B)) / abs(m.A) if m.A != 0 else 2.0**31
    decision_frac = max(0, min(24, math.floor(31 - math.log2(f_lim)) if f_lim > 1 else 24))
    decision_shift = alpha_shift + KERNEL_FRAC - decision_frac
    if decision_shift < 1:
        raise VigilError("svm export: dual coefficients too large for the fixed-point decision function")
    platt_mul, platt_shift = _mantissa_shift(m.A * LOG2E * 2.0 ** (U_FRAC - decision_frac))
    platt_add = round(-m.B * LOG2E * 2.0**U_FRAC)
    if abs(platt_add) >= V_LIMIT:
        platt_add = int(np.sign(platt_add)) * V_LIMIT
    return SvmQ15(
        scale_mul, scale_add, scale_shift, sv, alpha, intercept, int(d2_cutoff), d2_shift, gamma_mul, gamma_shift,
        decision_shift, decision_frac, platt_mul, platt_shift, platt_add, m.classes,
    )  # fmt: skip


def _rshift_round(x: np.ndarray, shift: int | np.ndarray) -> np.ndarray:
    return (x + ((np.int64(1) << shift) >> 1)) >> shift


def svm_scaled_q20(model: SvmQ15, X_int: np.ndarray) -> np.ndarray:
    x = np.asarray(X_int, dtype=np.int64)
    if x.ndim != 2 or x.shape[1] != model.n_features:
        raise VigilError(f"svm_predict_q15: expected features of shape (n, {model.n_features}), got {x.shape}")
    if np.any(x < INT32_MIN) or np.any(x > INT32_MAX):
        raise VigilError("svm_predict_q15: features must be int32")
    s = (x * model.scale_mul + model.scale_add) >> model.scale_shift
    return np.clip(s, -SCALED_LIMIT, SCALED_LIMIT)


def svm_decision_q(model: SvmQ15, X_int: np.ndarray) -> np.ndarray:
    """Twin of svm_rbf_decision_q(): the decision function in Q(decision_frac), int32 values."""
    s = svm_scaled_q20(model, X_int)
    acc = np.empty(len(s), dtype=np.int64)
    for start in range(0, len(s), _TWIN_BLOCK):
        block = s[start : start + _TWIN_BLOCK]
        diff = block[:, None, :] - model.sv[None, :, :]
        d2 = (diff * diff).sum(axis=2)  # < 2^62
        near = d2 < model.d2_cutoff
        u = _rshift_round((np.minimum(d2, model.d2_cutoff - 1) >> model.d2_shift) * model.gamma_mul, model.gamma_shift)
        k = np.where(near, exp2_neg_q30(np.where(near, u, 0)), 0)
        acc[start : start + _TWIN_BLOCK] = (k * model.alpha).sum(axis=1) + model.intercept  # exact: |acc| <= 2^62
    return np.clip(_rshift_round(acc, model.decision_shift), INT32_MIN, INT32_MAX)


def svm_predict_q15(model: SvmQ15, X_int: np.ndarray) -> np.ndarray:
    """Twin of svm_rbf_q15(): Q15 probabilities (n, 2) int64 of classes (c0, c1) for raw int32 features."""
    f = svm_decision_q(model, X_int)
    v = np.clip(_rshift_round(f * model.platt_mul, model.platt_shift) + model.platt_add, -V_LIMIT, V_LIMIT)
    e = exp2_neg_q30(np.abs(v))
    den = (1 << KERNEL_FRAC) + e
    num = np.where(v >= 0, e << 15, np.int64(1) << (KERNEL_FRAC + 15))
    p1 = (num + (den >> 1)) // den
    return np.stack([Q15_ONE - p1, p1], axis=1)


def render_svm_header(model: SvmQ15, name: str, scaler: FeatureAffine | None = None) -> str:
    """``NAME_svm.h``: the tables and ``static const svm_rbf_q15_model_t NAME_svm``."""
    from vigil.codegen import banner
    from vigil.export.headers import c_header_open, c_static_array, check_name

    check_name(name)
    guard = f"{name.upper()}_SVM_H"
    p = f"{name}_svm"
    lines = [
        f"/* RBF SVM {name}: {model.n_sv} support vectors, {model.n_features} features, Platt probabilities.",
        " * Features: raw int32 in the device's units; the scaler is applied as an integer affine map.",
        f" * Classes (index order): {', '.join(map(str, model.classes))}.",
    ]
    lines += scaler.comment_lines("Scaler") if scaler is not None else []
    first = banner("vigil.export.svm_export", f"the trained SVM {name}", "vigil export models")
    lines = c_header_open(first, lines, guard, "ml/svm_rbf_q15.h") + [
        f"#define {name.upper()}_SVM_N_SV {model.n_sv}u",
        f"#define {name.upper()}_SVM_N_FEATURES {model.n_features}u",
        "",
        c_static_array("int32_t", f"{p}_scale_mul", model.scale_mul, 8),
        c_static_array("int64_t", f"{p}_scale_add", model.scale_add, 4, suffix="LL"),
        c_static_array("uint8_t", f"{p}_scale_shift", model.scale_shift, 16),
        c_static_array("int32_t", f"{p}_sv_q20", model.sv, model.n_features),
        c_static_array("int32_t", f"{p}_alpha", model.alpha, 8),
        f"static const svm_rbf_q15_model_t {p} = {{",
        f"    {model.n_sv}u, {model.n_features}u,",
        f"    {p}_scale_mul, {p}_scale_add, {p}_scale_shift, {p}_sv_q20, {p}_alpha,",
        f"    {model.intercept}LL, /* intercept */",
        f"    {model.d2_cutoff}LL, {model.d2_shift}u, /* d2_cutoff, d2_shift */",
        f"    {model.gamma_mul}, {model.gamma_shift}u, /* gamma_mul, gamma_shift */",
        f"    {model.decision_shift}u, {model.decision_frac}u, /* decision_shift, decision_frac */",
        f"    {model.platt_mul}, {model.platt_shift}u, {model.platt_add}, /* platt_mul, platt_shift, platt_add */",
        "};",
        "",
        f"#endif /* {guard} */",
        "",
    ]
    return "\n".join(lines)


def svm_header(model: Any, scaler: Any, name: str) -> str:
    """``NAME_svm.h`` for a fitted binary SVC ``model`` trained on ``scaler``-scaled features."""
    affine = FeatureAffine.of(scaler, int(model.n_features_in_))
    return render_svm_header(export_svm(model, affine), name, affine)
