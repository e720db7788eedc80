"""Evaluation metrics: small pure functions over numpy arrays, shared by every evaluation (the
model and its baselines are scored by the same code on the same split)."""

from __future__ import annotations

import numpy as np

_EPS = 1e-15


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (the probability a random positive outranks a random
    negative; ties count half). 0.5 when only one class is present."""
    y = np.asarray(y, dtype=bool)
    score = np.asarray(score, dtype=np.float64)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return 0.5
    order = np.argsort(score, kind="mergesort")
    _, first, counts = np.unique(score[order], return_index=True, return_counts=True)
    ranks = np.empty(score.size, dtype=np.float64)
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)  # average rank of each tie
    return float((ranks[y].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared error of the probabilities."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean((np.asarray(p, dtype=np.float64) - y) ** 2))


def log_losses(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Negative log-likelihood of each case (probabilities clipped to [1e-15, 1 - 1e-15])."""
    y = np.asarray(y, dtype=np.float64)
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    result: np.ndarray = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    return result


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Mean negative log-likelihood (probabilities clipped to [1e-15, 1 - 1e-15])."""
    return float(np.mean(log_losses(y, p)))


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[list[float]]:
    """Reliability diagram data: ``[mean predicted, observed rate, n]`` per non-empty bin of
    equal width over [0, 1]."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    index = np.minimum((p * bins).astype(np.int64), bins - 1)
    table = []
    for b in range(bins):
        mask = index == b
        n = int(mask.sum())
        if n:
            table.append([float(p[mask].mean()), float(y[mask].mean()), float(n)])
    return table


def roc_curve(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every threshold (for plots)."""
    y = np.asarray(y, dtype=bool)
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="mergesort")
    tp = np.cumsum(y[order])
    fp = np.cumsum(~y[order])
    tpr = np.r_[0.0, tp / max(int(y.sum()), 1)]
    fpr = np.r_[0.0, fp / max(int((~y).sum()), 1)]
    return fpr, tpr
