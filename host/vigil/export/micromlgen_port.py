"""micromlgen ports of the stress tree and SVM: C++ ``Eloquent::ML::Port`` classes for Arduino sketches.

These are float models and take the features ALREADY SCALED (float, scaled_f = a_f * raw_f + b_f with
the scaler the models were trained on; the header comment lists a_f and b_f), unlike vigil's own
fixed-point kernels (``tree_classifier_q15``, ``svm_rbf_q15``) that take the raw int32 features. They
return the class index only (``int predict(float *x)``), no probabilities.

Two adjustments to what ``micromlgen.port`` does with the fitted SVC, made on a shallow copy:
- micromlgen requires a float ``gamma``; the fitted value (``_gamma``, e.g. from gamma="scale") is set.
- for two classes micromlgen evaluates ``intercept_ - sum(dual_coef_ K)`` and returns class 0 when
  positive, i.e. -(decision_function) with the intercept's sign flipped (it reads sklearn's public,
  already negated intercept_ as libsvm's); the copy carries ``-intercept_`` so that the port returns
  sklearn's ``predict``. ``raw_svm_port=True`` keeps micromlgen's output as is.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from vigil.codegen import banner
from vigil.errors import VigilError
from vigil.export.feature_affine import FeatureAffine


def _scaler_comment(scaler: Any, n_features: int) -> list[str]:
    if scaler is None:
        return [" * Features: float, scaled as in training (scaled_f = a_f * raw_f + b_f)."]
    affine = FeatureAffine.of(scaler, n_features)
    lines = [" * Features: float x[f] = a_f * raw_f + b_f (raw in the device's int units):"]
    lines += [f" *   f{f}: a = {float(affine.scale[f])!r}, b = {float(affine.offset[f])!r}" for f in range(n_features)]
    return lines


def _banner(what: str, classname: str, classes: Any, scaler: Any, n_features: int) -> str:
    lines = [
        banner("micromlgen through vigil.export.micromlgen_port", what, "vigil export models"),
        f"/* {what}, ported by micromlgen.",
        f" * Use: Eloquent::ML::Port::{classname} model; int c = model.predict(x);",
        f" * Returns the class index; classes in index order: {', '.join(map(str, classes))}.",
        *_scaler_comment(scaler, n_features),
        " */",
        "#include <stdint.h>",
        "#include <math.h>",
        "",
    ]
    return "\n".join(lines)


def svm_for_micromlgen(svm: Any, raw_svm_port: bool = False) -> Any:
    """The shallow copy of ``svm`` handed to micromlgen (see the module docstring)."""
    if getattr(svm, "kernel", None) != "rbf" or len(getattr(svm, "classes_", ())) != 2:
        raise VigilError("micromlgen port: expected a fitted binary SVC(kernel='rbf')")
    port_model = copy.copy(svm)
    port_model.gamma = float(svm._gamma)
    if not raw_svm_port:
        port_model.intercept_ = -np.asarray(svm.intercept_)
    return port_model


def micromlgen_ports(tree: Any, svm: Any, name: str, scaler: Any = None, raw_svm_port: bool = False) -> dict[str, str]:
    """``{NAME_tree_micromlgen.h: text, NAME_svm_micromlgen.h: text}``; class names ``<Name>Tree`` and
    ``<Name>Svm`` (so both headers can be included in one sketch)."""
    from micromlgen import port

    from vigil.export.headers import check_name

    check_name(name)
    base = "".join(part[:1].upper() + part[1:] for part in name.split("_"))
    files = {}
    tree_cls, svm_cls = f"{base}Tree", f"{base}Svm"
    files[f"{name}_tree_micromlgen.h"] = _banner(
        "Decision tree", tree_cls, tree.classes_, scaler, int(tree.n_features_in_)
    ) + port(tree, classname=tree_cls)
    files[f"{name}_svm_micromlgen.h"] = _banner(
        "RBF SVM (decision-function sign, no Platt)", svm_cls, svm.classes_, scaler, int(svm.n_features_in_)
    ) + port(svm_for_micromlgen(svm, raw_svm_port), classname=svm_cls)
    return files
