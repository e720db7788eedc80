"""Numpy-only inference for the exported models: what the serving functions run.

An artifact is one JSON file (``artifacts/<name>.json``), exported by the training pipeline
(``ghl-ai train``) from a fitted scikit-learn model, holding everything the prediction needs:

* ``kind: "logistic"`` — standardisation (``mean``, ``scale``) and the coefficients of a
  regularised logistic regression: ``f(x) = ((x - mean) / scale) · coef + intercept``;
* ``kind: "gbm"`` — the trees of a histogram gradient-boosting classifier (per node: feature,
  threshold, children, where missing values go, value) and its baseline:
  ``f(x) = baseline + Σ_trees leaf_value(x)``;
* ``calibration`` — how the raw score ``f`` becomes a probability: ``sigmoid``
  (``p = 1 / (1 + exp(a·f + b))``, Platt) or ``isotonic`` (piecewise-linear through the fitted
  thresholds, clipped at both ends), as scikit-learn's ``CalibratedClassifierCV`` fits them.

JSON floats round-trip exactly, so the numbers are the scikit-learn model's own; a test proves
the probabilities agree with scikit-learn's to 1e-9. No scikit-learn, scipy or pandas here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


@dataclass(frozen=True)
class Trees:
    """All trees of a boosted ensemble packed into flat arrays (node ids are global)."""

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    missing_left: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int

    @classmethod
    def from_json(cls, trees: list[dict[str, Any]]) -> Trees:
        offset, roots = 0, []
        columns: dict[str, list[Any]] = {k: [] for k in ("feature", "threshold", "left", "right")}
        columns |= {"missing_left": [], "leaf": [], "value": []}
        depth = 0
        for tree in trees:
            roots.append(offset)
            size = len(tree["value"])
            for name in ("feature", "threshold", "missing_left", "leaf", "value"):
                columns[name].extend(tree[name])
            for name in ("left", "right"):
                columns[name].extend(c + offset if c >= 0 else -1 for c in tree[name])
            depth = max(depth, int(tree.get("depth") or size))
            offset += size
        return cls(
            feature=np.asarray(columns["feature"], dtype=np.int64),
            threshold=np.asarray(columns["threshold"], dtype=np.float64),
            left=np.asarray(columns["left"], dtype=np.int64),
            right=np.asarray(columns["right"], dtype=np.int64),
            missing_left=np.asarray(columns["missing_left"], dtype=bool),
            leaf=np.asarray(columns["leaf"], dtype=bool),
            value=np.asarray(columns["value"], dtype=np.float64),
            roots=np.asarray(roots, dtype=np.int64),
            depth=depth,
        )

    def raw(self, x: np.ndarray) -> np.ndarray:
        """Sum of leaf values per row of ``x`` (rows × features), all trees at once."""
        rows = np.arange(x.shape[0])[:, None]
        node = np.broadcast_to(self.roots, (x.shape[0], self.roots.size)).copy()
        for _ in range(self.depth + 1):
            inner = ~self.leaf[node]
            if not inner.any():
                break
            feature = self.feature[node]
            values = x[rows, np.where(inner, feature, 0)]
            missing = np.isnan(values)
            go_left = np.where(missing, self.missing_left[node], values <= self.threshold[node])
            child = np.where(go_left, self.left[node], self.right[node])
            node = np.where(inner, child, node)
        result: np.ndarray = self.value[node].sum(axis=1)
        return result


class Model:
    """A served model: ``probability(x)`` for rows of model input (the training features,
    transformed as ``ghl_ai.behaviour.features.model_input`` does)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.name: str = spec["name"]
        self.version: str = spec["version"]
        self.kind: str = spec["kind"]
        self.features: list[str] = list(spec["features"])
        self.catalogue_hash: str = spec.get("catalogue_hash", "")
        #: Model-input values of a typical lead (training medians): where reasons start from.
        self.reference = np.asarray(spec["reference"], dtype=np.float64)
        if self.kind == "logistic":
            self._mean = np.asarray(spec["logistic"]["mean"], dtype=np.float64)
            self._scale = np.asarray(spec["logistic"]["scale"], dtype=np.float64)
            self._coef = np.asarray(spec["logistic"]["coef"], dtype=np.float64)
            self._intercept = float(spec["logistic"]["intercept"])
        elif self.kind == "gbm":
            self._baseline = float(spec["gbm"]["baseline"])
            self._trees = Trees.from_json(spec["gbm"]["trees"])
        else:
            raise ValueError(f"unknown model kind {self.kind!r}")
        calibration = spec.get("calibration") or {"kind": "none"}
        self._calibration = calibration["kind"]
        if self._calibration == "sigmoid":
            self._a, self._b = float(calibration["a"]), float(calibration["b"])
        elif self._calibration == "isotonic":
            self._x = np.asarray(calibration["x"], dtype=np.float64)
            self._y = np.asarray(calibration["y"], dtype=np.float64)

    def decision(self, x: np.ndarray) -> np.ndarray:
        """The raw score (log-odds before calibration) of each row."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if self.kind == "logistic":
            result: np.ndarray = ((x - self._mean) / self._scale) @ self._coef + self._intercept
            return result
        return self._baseline + self._trees.raw(x)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        if self._calibration == "sigmoid":
            return 1.0 / (1.0 + np.exp(self._a * raw + self._b))
        if self._calibration == "isotonic":
            return np.interp(np.clip(raw, self._x[0], self._x[-1]), self._x, self._y)
        return 1.0 / (1.0 + np.exp(-raw))

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probability of the positive class for each row."""
        p = self.calibrate(self.decision(x))
        return np.clip(p, 0.0, 1.0)


def load(name: str, directory: Path = ARTIFACTS) -> Model:
    """The model ``name`` from ``directory`` (the layer's own artifacts by default)."""
    with (directory / f"{name}.json").open() as fh:
        return Model(json.load(fh))
