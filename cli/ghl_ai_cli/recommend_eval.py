"""``ghl-ai eval recommend``: the collaborative recommender and the cold-start hybrid measured
on an interaction log, beside baselines scored by the same code on the same split.

Input: ``lead_id,property_id,timestamp[,weight]`` (weight 1 when absent or empty; timestamps
ISO 8601 or epoch seconds/milliseconds; other columns ignored; a lead's rows for one listing
summed, non-positive totals dropped). An *interaction* below is one (lead, listing) pair.

**Warm** (default): per lead, a seeded random 25 % of its interactions is held out (rounded,
at least one for a lead with two or more, never all; leads with one stay whole in training).
The model is ``collaborative.train_collaborative`` on the rest — its own candidate choice on a
validation split inside that training data, then refitted on all of it — and is scored in its
exported (served) form. Every lead with a held-out interaction ranks all the items it did not
interact with in training; the most-popular baseline (leads per item in training) ranks the
same items. Ties go to the more popular item.

**Cold items** (``--cold-start-items F``): a seeded fraction F of the listings that have
features is held out entirely (all their interactions removed from training). Each lead with a
held-out interaction ranks only the held-out listings, from their features and its training
history:

* features are encoded generically (:func:`encode_features`): a numeric column as the one-hot
  of its quantile bin (quintiles: a bin, not the raw value, so "close in price" is what
  counts and not "expensive"), a categorical one as a one-hot, a multi-valued one
  (``a|b|c``) as a multi-hot; values one listing alone has are dropped (they cannot relate
  two listings); each dimension IDF-weighted, each listing L2-normalised;
* **hybrid** = ``(1 − w) · content + w · prior``: content is the cosine between a listing and
  the lead's profile (the weighted sum of the feature vectors of its training listings);
  prior is the feature popularity below, divided by its maximum over the ranked listings;
  ``w`` is chosen on a validation split — a seeded fraction F of the remaining listings made
  pseudo-cold inside the training data — by nDCG@k, and recorded;
* baselines: **feature_popular** (a listing scored by how popular its feature values were in
  training: per value, the mean number of leads of the training listings that have it; per
  listing, the mean over its values) and **random** (a seeded random order). Most-popular is
  left out: a cold listing has no interactions to count.

Metrics (``ghl_models.metrics``, binary relevance): precision@k = hits / k; recall@k = hits /
the lead's held-out interactions (the standard definition: a lead with more than k cannot
reach 1); nDCG@k with the ideal list of min(k, held-out) hits. Means over the evaluated leads.
Everything random takes ``seed``: a run repeated gives the same numbers (times aside).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from ghl_ai_cli import collaborative
from ghl_ai_cli.collaborative import Interactions, Scorer, popularity, ranking_quality
from ghl_ai_cli.datasets import parse_time

TEST_SHARE = 0.25
QUANTILE_BINS = 5
BLEND_GRID = tuple(round(0.1 * i, 1) for i in range(11))
REQUIRED = ("lead_id", "property_id", "timestamp")


class RecommendEvalError(ValueError):
    """The input cannot be evaluated (the message says why, in one line)."""


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InteractionLog:
    leads: list[str]
    items: list[str]
    weights: list[float]


@contextmanager
def _csv_rows(path: Path, required: tuple[str, ...]) -> Iterator[csv.DictReader[str]]:
    """The rows of a CSV whose header has the ``required`` columns (names stripped)."""
    if not path.is_file():
        raise RecommendEvalError(f"{path}: no such file")
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        if not header:
            raise RecommendEvalError(f"{path}: empty file")
        missing = [c for c in required if c not in header]
        if missing:
            raise RecommendEvalError(
                f"{path}: missing column(s) {', '.join(missing)} in the header"
            )
        reader.fieldnames = header
        yield reader


def read_interactions(path: Path) -> InteractionLog:
    """Read the interactions CSV (see the module docstring); errors name the line."""
    leads: list[str] = []
    items: list[str] = []
    weights: list[float] = []
    with _csv_rows(path, REQUIRED) as reader:
        for line, row in enumerate(reader, start=2):
            lead, item = (row.get("lead_id") or "").strip(), (row.get("property_id") or "").strip()
            if not lead or not item:
                raise RecommendEvalError(f"{path}:{line}: lead_id and property_id must be set")
            try:
                parse_time(row.get("timestamp") or "")
            except ValueError:
                raise RecommendEvalError(
                    f"{path}:{line}: timestamp is not ISO 8601 or epoch seconds"
                ) from None
            text = (row.get("weight") or "").strip()
            try:
                weight = float(text) if text else 1.0
            except ValueError:
                raise RecommendEvalError(f"{path}:{line}: weight is not a number") from None
            if not np.isfinite(weight):
                raise RecommendEvalError(f"{path}:{line}: weight is not a finite number")
            leads.append(lead)
            items.append(item)
            weights.append(weight)
    if not leads:
        raise RecommendEvalError(f"{path}: no interactions")
    return InteractionLog(leads, items, weights)


@dataclass(frozen=True)
class ItemFeatures:
    """The item-features CSV: per column, each listing's raw value (``""`` when missing)."""

    ids: list[str]
    columns: dict[str, list[str]]


def read_item_features(path: Path) -> ItemFeatures:
    """Read ``property_id`` and any other columns (a listing given twice: the last row)."""
    rows: dict[str, dict[str, str]] = {}
    with _csv_rows(path, ("property_id",)) as reader:
        names = [h for h in reader.fieldnames or [] if h != "property_id"]
        for line, row in enumerate(reader, start=2):
            listing = (row.get("property_id") or "").strip()
            if not listing:
                raise RecommendEvalError(f"{path}:{line}: property_id must be set")
            rows[listing] = {n: (row.get(n) or "").strip() for n in names}
    if not rows:
        raise RecommendEvalError(f"{path}: no listings")
    if not names:
        raise RecommendEvalError(f"{path}: no feature column besides property_id")
    ids = list(rows)
    return ItemFeatures(ids, {n: [rows[i][n] for i in ids] for n in names})


# -- item features ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EncodedFeatures:
    """Listings (in the matrix's item order) × feature values."""

    indicator: sp.csr_matrix  # 1 where a listing has the value
    vectors: sp.csr_matrix  # IDF-weighted, L2-normalised rows (zero: no features)
    kinds: dict[str, str]  # column → "numeric" | "categorical" | "multi"


def _is_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False


def _column_tokens(values: list[str]) -> tuple[str, list[list[str]]]:
    """A column's kind and each listing's values in it (a quantile bin for numbers)."""
    present = [v for v in values if v]
    if present and all(_is_number(v) for v in present):
        x = np.array([float(v) if v else np.nan for v in values])
        inner = np.linspace(0, 1, QUANTILE_BINS + 1)[1:-1]
        edges = np.unique(np.nanquantile(x, inner))
        bins = np.searchsorted(edges, x, side="right")
        return "numeric", [[f"q{b}"] if v else [] for v, b in zip(values, bins, strict=True)]
    if any("|" in v for v in present):
        return "multi", [sorted({t.strip() for t in v.split("|") if t.strip()}) for v in values]
    return "categorical", [[v] if v else [] for v in values]


def encode_features(features: ItemFeatures, item_ids: np.ndarray) -> EncodedFeatures:
    """The generic encoding of the module docstring, for the listings ``item_ids``."""
    position = {str(item): i for i, item in enumerate(item_ids)}
    rows: list[int] = []
    tokens: list[str] = []
    kinds: dict[str, str] = {}
    for name, values in features.columns.items():
        kinds[name], per_listing = _column_tokens(values)
        for listing, values_of in zip(features.ids, per_listing, strict=True):
            row = position.get(listing)
            if row is not None:
                rows.extend([row] * len(values_of))
                tokens.extend(f"{name}={t}" for t in values_of)
    vocabulary, cols = np.unique(np.asarray(tokens, dtype=str), return_inverse=True)
    shape = (len(item_ids), vocabulary.size)
    indicator = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape)
    df = np.bincount(cols, minlength=vocabulary.size)
    indicator = sp.csr_matrix(indicator[:, np.flatnonzero(df >= 2)])
    df = df[df >= 2]
    described = max(int((np.diff(indicator.indptr) > 0).sum()), 1)
    vectors = sp.csr_matrix(indicator @ sp.diags(np.log(described / df)))
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    inverse = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    vectors = sp.csr_matrix(sp.diags(inverse) @ vectors)
    return EncodedFeatures(indicator, vectors, kinds)


def feature_prior(indicator: sp.csr_matrix, counts: np.ndarray) -> np.ndarray:
    """Per listing, how popular its feature values were: per value the mean leads of the
    training listings (``counts > 0``) that have it, averaged over the listing's values."""
    warm = indicator[np.flatnonzero(counts > 0)]
    having = np.asarray(warm.sum(axis=0)).ravel()
    total = warm.T @ counts[counts > 0]
    per_value = np.divide(total, having, out=np.zeros_like(total), where=having > 0)
    seen = indicator @ (having > 0).astype(np.float64)
    result: np.ndarray = np.divide(
        indicator @ per_value, seen, out=np.zeros(indicator.shape[0]), where=seen > 0
    )
    return result


# -- scorers over a set of candidate listings ------------------------------------------------


def hybrid_scorer(
    vectors: sp.csr_matrix, candidates: np.ndarray, prior: np.ndarray, weight: float
) -> Scorer:
    """``(1 − weight) · cosine(profile, listing) + weight · prior / max prior`` over the
    ``candidates``; a lead's profile is its history rows times the listings' vectors."""
    listing = sp.csr_matrix(vectors[candidates].T)
    top = float(prior[candidates].max(initial=0.0))
    scaled = prior[candidates] / top if top > 0 else prior[candidates]

    def score(history: sp.csr_matrix) -> np.ndarray:
        profile = sp.csr_matrix(history @ vectors)
        norms = np.sqrt(np.asarray(profile.multiply(profile).sum(axis=1)).ravel())
        content = (profile @ listing).toarray() / np.where(norms > 0, norms, 1.0)[:, None]
        result: np.ndarray = (1.0 - weight) * content + weight * scaled[None, :]
        return result

    return score


def constant_scorer(values: np.ndarray) -> Scorer:
    return lambda history: np.broadcast_to(values, (history.shape[0], values.size))


def random_scorer(seed: int, n: int) -> Scorer:
    rng = np.random.default_rng(seed)
    return lambda history: rng.random((history.shape[0], n))


# -- the protocols ---------------------------------------------------------------------------


def _without(matrix: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """``matrix`` with every entry of ``columns`` removed (same shape)."""
    drop = np.zeros(matrix.shape[1], dtype=bool)
    drop[columns] = True
    result = matrix.copy()
    result.data = np.where(drop[result.indices], 0, result.data).astype(result.dtype)
    result.eliminate_zeros()
    return result


def _leads_with(held_out: sp.csr_matrix) -> np.ndarray:
    """The rows (leads) that have held-out interactions."""
    return np.flatnonzero(np.diff(held_out.indptr) > 0)


def _summary(data: Interactions, rows: int) -> dict[str, Any]:
    return {
        "n_rows": rows,
        "n_leads": data.n_leads,
        "n_items": data.n_items,
        "n_interactions": data.n_interactions,
        "scaling": data.scaling,
    }


def evaluate_warm(
    log: InteractionLog, *, k: int, seed: int, progress: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """The warm protocol (module docstring): the JSON of ``ghl-ai eval recommend``."""
    data = collaborative.interactions(log.leads, log.items, log.weights)
    train, test = collaborative.split_per_lead(data.matrix, TEST_SHARE, seed)
    leads = _leads_with(test)
    if leads.size == 0:
        raise RecommendEvalError("no lead has two interactions: nothing to hold out")
    begin = time.perf_counter()
    try:
        trained = collaborative.train_collaborative(
            Interactions(train, data.lead_ids, data.item_ids, data.scaling),
            k=k,
            seed=seed,
            progress=progress,
        )
    except ValueError as exc:
        raise RecommendEvalError(str(exc)) from None
    train_seconds = time.perf_counter() - begin
    progress("scoring the held-out interactions")
    counts = popularity(train)
    history, truth = train[leads], test[leads]
    model = ranking_quality(collaborative.model_scorer(trained.model), history, truth, k, counts)
    popular = ranking_quality(collaborative.popular_scorer(counts), history, truth, k, counts)
    return {
        "protocol": "warm",
        "k": k,
        "seed": seed,
        "model": {"name": trained.chosen.family, "params": trained.chosen.params, **model},
        "baselines": {"popular": {"name": "popular", **popular}},
        "chosen": trained.chosen.name,
        "artifact_kind": trained.model.kind,
        "candidates": trained.candidates,
        "validation": trained.validation,
        **_summary(data, len(log.leads)),
        "n_test_leads": int(leads.size),
        "n_test_interactions": int(truth.nnz),
        "test_share": TEST_SHARE,
        "train_seconds": round(train_seconds, 3),
    }


def _blend_on_validation(
    train: sp.csr_matrix,
    encoded: EncodedFeatures,
    eligible: np.ndarray,
    fraction: float,
    k: int,
    rng: np.random.Generator,
) -> tuple[float, list[dict[str, Any]], dict[str, int]]:
    """The blend weight with the best nDCG@k when a seeded ``fraction`` of the ``eligible``
    listings is made cold inside the training data (ties: the smaller weight)."""
    pseudo = np.sort(rng.choice(eligible, max(1, round(fraction * eligible.size)), replace=False))
    kept, held = _without(train, pseudo), sp.csr_matrix(train[:, pseudo])
    leads = _leads_with(held)
    if leads.size == 0:
        raise RecommendEvalError("no lead interacted with the validation's pseudo-cold listings")
    prior = feature_prior(encoded.indicator, popularity(kept))
    history, truth = kept[leads], held[leads]
    grid: list[dict[str, Any]] = []
    for weight in BLEND_GRID:
        scorer = hybrid_scorer(encoded.vectors, pseudo, prior, weight)
        quality = ranking_quality(scorer, history, truth, k, prior[pseudo], exclude_history=False)
        grid.append({"name": f"hybrid(weight={weight:g})", "weight": weight, "validation": quality})
    best = max(grid, key=lambda g: g["validation"][f"ndcg@{k}"])  # the first of equals
    return best["weight"], grid, {"items": int(pseudo.size), "leads": int(leads.size)}


def evaluate_cold(
    log: InteractionLog,
    features: ItemFeatures,
    *,
    fraction: float,
    k: int,
    seed: int,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """The cold-items protocol (module docstring): the JSON of ``ghl-ai eval recommend``."""
    data = collaborative.interactions(log.leads, log.items, log.weights)
    progress("encoding the item features")
    encoded = encode_features(features, data.item_ids)
    eligible = np.flatnonzero(np.diff(encoded.indicator.indptr) > 0)
    if eligible.size < 4:
        raise RecommendEvalError(
            f"{eligible.size} interacted listings have features: need at least 4"
        )
    rng = np.random.default_rng(seed)
    cold = np.sort(rng.choice(eligible, max(1, round(fraction * eligible.size)), replace=False))
    train, test = _without(data.matrix, cold), sp.csr_matrix(data.matrix[:, cold])
    leads = _leads_with(test)
    begin = time.perf_counter()
    progress("choosing the blend weight on pseudo-cold listings")
    weight, grid, validation = _blend_on_validation(
        train, encoded, np.setdiff1d(eligible, cold), fraction, k, rng
    )
    prior = feature_prior(encoded.indicator, popularity(train))
    train_seconds = time.perf_counter() - begin
    progress("scoring the cold listings")
    history, truth, tie = train[leads], test[leads], prior[cold]

    def quality(scorer: Scorer) -> dict[str, float]:
        return ranking_quality(scorer, history, truth, k, tie, exclude_history=False)

    hybrid = quality(hybrid_scorer(encoded.vectors, cold, prior, weight))
    return {
        "protocol": "cold_items",
        "k": k,
        "seed": seed,
        "model": {"name": "hybrid", "blend_weight": weight, **hybrid},
        "baselines": {
            "random": {"name": "random", **quality(random_scorer(seed, cold.size))},
            "feature_popular": {"name": "feature_popular", **quality(constant_scorer(tie))},
        },
        "chosen": f"hybrid(weight={weight:g})",
        "blend_weight": weight,
        "candidates": grid,
        "validation": {**validation, "fraction": fraction, "metric": f"ndcg@{k}"},
        "features": {
            "columns": encoded.kinds,
            "dimensions": int(encoded.indicator.shape[1]),
            "listings_with_features": int(eligible.size),
        },
        **_summary(data, len(log.leads)),
        "cold_fraction": fraction,
        "n_cold_items": int(cold.size),
        "n_test_leads": int(leads.size),
        "n_test_interactions": int(truth.nnz),
        "train_seconds": round(train_seconds, 3),
    }
