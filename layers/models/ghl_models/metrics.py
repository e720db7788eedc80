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


# -- ranking (recommendations): binary relevance over a top-k list per lead ------------------


def precision_at_k(hits: np.ndarray, k: int) -> np.ndarray:
    """Per lead: relevant items among its top ``k`` / ``k`` (``hits``: leads × k, bool)."""
    return np.asarray(hits, dtype=bool)[:, :k].sum(axis=1) / float(k)


def recall_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per lead: relevant items among its top ``k`` / all its relevant items (the standard
    definition; a lead with more than ``k`` relevant items cannot reach 1)."""
    found = np.asarray(hits, dtype=bool)[:, :k].sum(axis=1)
    return found / np.maximum(np.asarray(n_relevant, dtype=np.float64), 1.0)


def ndcg_at_k(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """Per lead: DCG of its top ``k`` (a hit at rank r counts 1 / log2(r + 1)) over the DCG of
    a perfect list (its min(k, relevant) items first)."""
    hits = np.asarray(hits, dtype=bool)[:, :k]
    discount = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
    ideal = np.concatenate([[0.0], np.cumsum(discount)])
    best = ideal[np.minimum(np.asarray(n_relevant, dtype=np.int64), hits.shape[1])]
    return (hits @ discount) / np.where(best > 0, best, 1.0)


def ranking_metrics(hits: np.ndarray, n_relevant: np.ndarray, k: int) -> dict[str, float]:
    """Means over leads: ``precision@k``, ``recall@k``, ``ndcg@k`` (named with the given k)."""
    if len(hits) == 0:
        return {f"precision@{k}": 0.0, f"recall@{k}": 0.0, f"ndcg@{k}": 0.0}
    return {
        f"precision@{k}": float(precision_at_k(hits, k).mean()),
        f"recall@{k}": float(recall_at_k(hits, n_relevant, k).mean()),
        f"ndcg@{k}": float(ndcg_at_k(hits, n_relevant, k).mean()),
    }
