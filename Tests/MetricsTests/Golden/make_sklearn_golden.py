#!/usr/bin/env python3
"""Writes sklearn_golden.json: fixed inputs and scikit-learn's metric values for MetricsTests.

Run by hand (the tests only read the JSON):

    pip install scikit-learn
    python3 Tests/MetricsTests/Golden/make_sklearn_golden.py

Inputs come from numpy's default_rng with a fixed seed. Every score is rounded through
float32 so the Swift `Float` entry points see exactly the same numbers; sklearn is given the
float64 copies of those values so its arithmetic is done in double precision, like Metrics.
+infinity (the first ROC threshold) is written as the string "inf".
"""
import json
import math
import pathlib
import platform

import numpy as np
import sklearn
from sklearn import metrics

SEED = 20240601
rng = np.random.default_rng(SEED)


def f32(x):
    """Round to float32, return float64 copies (exactly representable in float32)."""
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def floats(a):
    return ["inf" if math.isinf(v) and v > 0 else ("-inf" if math.isinf(v) else float(v))
            for v in np.asarray(a, dtype=np.float64).ravel()]


def ints(a):
    return [int(v) for v in np.asarray(a).ravel()]


def matrix(a, conv):
    return [conv(row) for row in np.asarray(a)]


# ---------------------------------------------------------------- multiclass
N, C = 200, 5
labels = rng.integers(0, C, size=N)
logits = rng.normal(size=(N, C)) + 1.2 * np.eye(C)[labels]
exp = np.exp(logits - logits.max(axis=1, keepdims=True))
probs = f32(exp / exp.sum(axis=1, keepdims=True))
assert all(len(set(row)) == C for row in probs), "top-k golden needs tie-free rows"
predictions = probs.argmax(axis=1)  # no ties, so lowest-index tie-breaking is moot
class_list = list(range(C))

p, r, f, s = metrics.precision_recall_fscore_support(labels, predictions, labels=class_list, zero_division=0)
averages = {}
for avg in ("macro", "weighted"):
    ap, ar, af, _ = metrics.precision_recall_fscore_support(labels, predictions, labels=class_list,
                                                            average=avg, zero_division=0)
    averages[avg] = {"precision": float(ap), "recall": float(ar), "f1": float(af)}

multiclass = {
    "class_count": C,
    "labels": ints(labels),
    "scores": floats(probs),
    "predictions": ints(predictions),
    "confusion": matrix(metrics.confusion_matrix(labels, predictions, labels=class_list), ints),
    "confusion_true": matrix(metrics.confusion_matrix(labels, predictions, labels=class_list, normalize="true"), floats),
    "confusion_pred": matrix(metrics.confusion_matrix(labels, predictions, labels=class_list, normalize="pred"), floats),
    "confusion_all": matrix(metrics.confusion_matrix(labels, predictions, labels=class_list, normalize="all"), floats),
    "precision": floats(p), "recall": floats(r), "f1": floats(f), "support": ints(s),
    "macro": averages["macro"], "weighted": averages["weighted"],
    "accuracy": float(metrics.accuracy_score(labels, predictions)),
    "top_k": {str(k): float(metrics.top_k_accuracy_score(labels, probs, k=k, labels=class_list)) for k in (1, 2, 3)},
    "ovr_auc_per_class": [float(metrics.roc_auc_score(labels == c, probs[:, c])) for c in range(C)],
    "ovr_auc_macro": float(metrics.roc_auc_score(labels, probs, multi_class="ovr", average="macro", labels=class_list)),
    "ovr_auc_weighted": float(metrics.roc_auc_score(labels, probs, multi_class="ovr", average="weighted", labels=class_list)),
}


# ---------------------------------------------------------------- binary
def binary_case(name, positives, scores):
    curves = {}
    for drop in (True, False):
        fpr, tpr, thr = metrics.roc_curve(positives, scores, drop_intermediate=drop)
        curves["drop" if drop else "full"] = {"fpr": floats(fpr), "tpr": floats(tpr), "thresholds": floats(thr)}
    precision, recall, thr = metrics.precision_recall_curve(positives, scores)
    return {
        "name": name,
        "positives": [bool(b) for b in positives],
        "scores": floats(scores),
        "roc": curves,
        "roc_auc": float(metrics.roc_auc_score(positives, scores)),
        "pr": {"precision": floats(precision), "recall": floats(recall), "thresholds": floats(thr)},
        "average_precision": float(metrics.average_precision_score(positives, scores)),
    }


# Scores on a coarse grid, so many are tied.
n = 80
pos = rng.random(n) < 0.4
tied = f32(np.round(np.clip(0.35 * pos + 0.65 * rng.random(n), 0, 1), 1))
assert len(set(tied)) < n // 4
# Continuous scores, tie-free, larger.
m = 500
pos2 = rng.random(m) < 0.3
smooth = f32(rng.normal(size=m) + 0.8 * pos2)
assert len(set(smooth)) == m
binary = [binary_case("tied", pos, tied), binary_case("smooth", pos2, smooth)]

# ---------------------------------------------------------------- regression
k = 60
targets = f32(rng.normal(loc=1.0, scale=3.0, size=k))
preds = f32(targets + rng.normal(scale=0.8, size=k) + 0.2)
const_t = f32(np.full(6, 2.5))
const_p = f32(np.array([2.5, 2.0, 3.0, 2.5, 2.5, 2.25]))
regression = {
    "targets": floats(targets), "predictions": floats(preds),
    "mse": float(metrics.mean_squared_error(targets, preds)),
    "mae": float(metrics.mean_absolute_error(targets, preds)),
    "r2": float(metrics.r2_score(targets, preds)),
    "constant_targets": floats(const_t), "constant_predictions": floats(const_p),
    "constant_r2": float(metrics.r2_score(const_t, const_p)),
    "constant_r2_perfect": float(metrics.r2_score(const_t, const_t)),
}

out = {
    "versions": {"sklearn": sklearn.__version__, "numpy": np.__version__, "python": platform.python_version()},
    "seed": SEED,
    "multiclass": multiclass,
    "binary": binary,
    "regression": regression,
}
path = pathlib.Path(__file__).with_name("sklearn_golden.json")
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path} (sklearn {sklearn.__version__}, numpy {np.__version__})")
