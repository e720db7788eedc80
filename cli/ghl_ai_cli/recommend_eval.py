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

* features are encoded generically (:func:`encode_features`): a categorical column as a
  one-hot, a multi-valued one (``a|b|c``) as a multi-hot, a numeric one by quantile bins — for
  the model a thermometer over deciles (a listing has "≥ bin b" for every decile b up to its
  own, so close values share most dimensions), for the baseline the one-hot of its quintile;
  values one listing alone has are dropped (they cannot relate two listings), and the model
  keeps the :data:`MAX_DIMENSIONS` most frequent;
* **hybrid** — the lead's collaborative taste projected onto the features (collaborative
  signal mapped to content, as in CB2CF / LinMap). The warm model is
  ``collaborative.train_collaborative`` on the training listings. A lead's target over the
  warm listings, ``y = (1 − h) · s / max|s| + h · x / max x`` (``s`` its collaborative scores,
  ``x`` its own interactions), is regressed on their feature vectors ``F`` (plus an
  unpenalised intercept) by ridge, for all leads at once in closed form: ``T = Y F (FᵀF +
  λI)⁻¹``, a d × d system. A cold listing scores ``t · f``; min-max scaled over the ranked
  listings, that content score is blended with the prior (the feature popularity below):
  ``(1 − w) · content + w · prior / max prior``;
* λ (a multiple of the mean of diag FᵀF), ``h`` and then ``w`` are chosen by nDCG@k on a
  validation split — a seeded fraction F of the remaining listings made pseudo-cold inside the
  training data, the collaborative model trained without them (its chosen candidate is then
  refitted on all the training data for the test); every candidate's validation metrics are
  recorded;
* baselines: **feature_popular** (a listing scored by how popular its feature values were in
  training: per value, the mean number of leads of the training listings that have it; per
  listing, the mean over its values) and **random** (a seeded random order). Most-popular is
  left out: a cold listing has no interactions to count.

Memory stays bounded: features are sparse, the dense matrices are d × d and leads × d, and
leads are scored in chunks (their collaborative scores within ``SCORE_CHUNK_ENTRIES``).

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
from ghl_ai_cli.collaborative import (
    SCORE_CHUNK_ENTRIES,
    Interactions,
    Scorer,
    popularity,
    ranking_quality,
)
from ghl_ai_cli.datasets import parse_time
from ghl_models.recommend import CollaborativeModel

TEST_SHARE = 0.25
#: Numeric bins: the feature-popularity baseline's (one-hot) and the model's (thermometer).
QUANTILE_BINS = 5
THERMOMETER_BINS = 10
#: The model's feature values at most: its Gram matrix is d × d (1,000² × 8 B = 8 MB).
MAX_DIMENSIONS = 1000
#: The hybrid's validation grids: the ridge λ as a multiple of the mean of diag(FᵀF), the
#: share of the lead's own interactions in its target, the weight of the prior.
RIDGE_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
HISTORY_GRID = (0.0, 0.5, 1.0)
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
    """Listings (in the matrix's item order) × feature values, 1 where a listing has one."""

    indicator: sp.csr_matrix  # the baseline's values (numbers: the quintile's one-hot)
    design: sp.csr_matrix  # the model's values (numbers: the deciles' thermometer)
    kinds: dict[str, str]  # column → "numeric" | "categorical" | "multi"


def _is_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False


def _quantile_bins(values: list[str], bins: int) -> np.ndarray:
    """Each number's quantile bin, 0 … bins − 1 (fewer when values repeat)."""
    x = np.array([float(v) if v else np.nan for v in values])
    edges = np.unique(np.nanquantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
    result: np.ndarray = np.searchsorted(edges, x, side="right")
    return result


def _column_tokens(values: list[str]) -> tuple[str, list[list[str]], list[list[str]]]:
    """A column's kind and each listing's values in it: for the baseline, for the model."""
    present = [v for v in values if v]
    if present and all(_is_number(v) for v in present):
        quintile = _quantile_bins(values, QUANTILE_BINS)
        decile = _quantile_bins(values, THERMOMETER_BINS)
        return (
            "numeric",
            [[f"q{b}"] if v else [] for v, b in zip(values, quintile, strict=True)],
            [
                [f">={i}" for i in range(b + 1)] if v else []
                for v, b in zip(values, decile, strict=True)
            ],
        )
    if any("|" in v for v in present):
        multi = [sorted({t.strip() for t in v.split("|") if t.strip()}) for v in values]
        return "multi", multi, multi
    single = [[v] if v else [] for v in values]
    return "categorical", single, single


def _indicator(
    rows: list[int], tokens: list[str], n: int, limit: int | None = None
) -> sp.csr_matrix:
    """Listings × the values at least two listings have (the ``limit`` most frequent)."""
    vocabulary, cols = np.unique(np.asarray(tokens, dtype=str), return_inverse=True)
    df = np.bincount(cols, minlength=vocabulary.size)
    kept = np.flatnonzero(df >= 2)
    if limit is not None and kept.size > limit:
        kept = np.sort(kept[np.argsort(-df[kept], kind="stable")[:limit]])
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), (n, vocabulary.size))
    return sp.csr_matrix(matrix[:, kept])


def encode_features(features: ItemFeatures, item_ids: np.ndarray) -> EncodedFeatures:
    """The generic encoding of the module docstring, for the listings ``item_ids``."""
    position = {str(item): i for i, item in enumerate(item_ids)}
    rows: dict[str, list[int]] = {"indicator": [], "design": []}
    tokens: dict[str, list[str]] = {"indicator": [], "design": []}
    kinds: dict[str, str] = {}
    for name, values in features.columns.items():
        kinds[name], baseline, model = _column_tokens(values)
        for listing, *of in zip(features.ids, baseline, model, strict=True):
            row = position.get(listing)
            if row is None:
                continue
            for which, values_of in zip(("indicator", "design"), of, strict=True):
                rows[which].extend([row] * len(values_of))
                tokens[which].extend(f"{name}={t}" for t in values_of)
    n = len(item_ids)
    return EncodedFeatures(
        _indicator(rows["indicator"], tokens["indicator"], n),
        _indicator(rows["design"], tokens["design"], n, MAX_DIMENSIONS),
        kinds,
    )


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


# -- the hybrid: collaborative taste projected onto the features -----------------------------


def _with_intercept(design: sp.csr_matrix) -> sp.csr_matrix:
    return sp.csr_matrix(sp.hstack([design, np.ones((design.shape[0], 1))]))


def _scaled_rows(m: np.ndarray) -> np.ndarray:
    """Each row divided by its largest absolute value (rows of zeros stay zero)."""
    top = np.abs(m).max(axis=1, initial=0.0, keepdims=True)
    result: np.ndarray = m / np.where(top > 0, top, 1.0)
    return result


@dataclass(frozen=True)
class Projection:
    """What projecting leads onto the features needs: the warm collaborative model, the warm
    listings and their feature rows (with the intercept column last)."""

    model: CollaborativeModel
    warm: np.ndarray
    features: sp.csr_matrix

    def profiles(self, history: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        """Per lead (``history`` rows): ``(s / max|s|) F`` and ``(x / max x) F`` over the warm
        listings (``s`` its collaborative scores, ``x`` its interactions), in chunks of leads
        whose scores stay within ``SCORE_CHUNK_ENTRIES``."""
        shape = (history.shape[0], self.features.shape[1])
        scored, own = np.zeros(shape), np.zeros(shape)
        step = max(1, SCORE_CHUNK_ENTRIES // max(self.model.n_items, 1))
        for start in range(0, history.shape[0], step):
            rows = history[start : start + step]
            scores = collaborative.lead_scores(self.model, rows)[:, self.warm]
            scored[start : start + step] = _scaled_rows(scores.astype(np.float64)) @ self.features
            interactions = rows[:, self.warm].toarray().astype(np.float64)
            own[start : start + step] = _scaled_rows(interactions) @ self.features
        return scored, own

    def ridge_inverse(self, ridge: float) -> np.ndarray:
        """``(FᵀF + λI)⁻¹`` with ``λ = ridge · mean diag(FᵀF)`` (the intercept unpenalised)."""
        gram = (self.features.T @ self.features).toarray()
        diagonal = np.diag(gram)[:-1]
        if diagonal.size:
            gram[np.diag_indices(diagonal.size)] += ridge * float(diagonal.mean())
        result: np.ndarray = np.linalg.pinv(gram, hermitian=True)
        return result


def projection(
    train: sp.csr_matrix, features: sp.csr_matrix, model: CollaborativeModel
) -> Projection:
    """The projection onto ``features`` (listings × values + intercept) of leads scored by
    ``model``, over the listings ``train`` has interactions with."""
    warm = np.flatnonzero(popularity(train) > 0)
    return Projection(model, warm, sp.csr_matrix(features[warm]))


def hybrid_scorer(
    taste: Callable[[sp.csr_matrix], np.ndarray],
    features: sp.csr_matrix,
    candidates: np.ndarray,
    prior: np.ndarray,
    weight: float,
) -> Scorer:
    """``(1 − weight) · content + weight · prior / max prior`` over the ``candidates``:
    content is a lead's feature weights (``taste`` of its rows) times each listing's features,
    min-max scaled over the candidates."""
    listing = sp.csr_matrix(features[candidates].T)
    top = float(prior[candidates].max(initial=0.0))
    scaled = prior[candidates] / top if top > 0 else prior[candidates]

    def score(rows: sp.csr_matrix) -> np.ndarray:
        content = np.asarray(taste(rows) @ listing)
        low = content.min(axis=1, initial=np.inf, keepdims=True)
        span = content.max(axis=1, initial=-np.inf, keepdims=True) - low
        content = (content - low) / np.where(span > 0, span, 1.0)
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


def _hybrid_name(ridge: float, history: float, weight: float) -> str:
    return f"hybrid(ridge={ridge:g},history={history:g},weight={weight:g})"


@dataclass(frozen=True)
class HybridChoice:
    """The hybrid's parameters chosen on validation, and how every candidate did."""

    collaborative: collaborative.Candidate
    ridge: float
    history: float
    weight: float
    candidates: list[dict[str, Any]]
    validation: dict[str, Any]

    @property
    def name(self) -> str:
        return _hybrid_name(self.ridge, self.history, self.weight)


def _choose_on_validation(
    data: Interactions,
    train: sp.csr_matrix,
    encoded: EncodedFeatures,
    eligible: np.ndarray,
    fraction: float,
    k: int,
    seed: int,
    rng: np.random.Generator,
    progress: Callable[[str], None],
) -> HybridChoice:
    """The hybrid's λ and history share (blend weight 0), then its blend weight, with the best
    nDCG@k when a seeded ``fraction`` of the ``eligible`` listings is made cold inside the
    training data (ties: the first in grid order)."""
    pseudo = np.sort(rng.choice(eligible, max(1, round(fraction * eligible.size)), replace=False))
    kept, held = _without(train, pseudo), sp.csr_matrix(train[:, pseudo])
    leads = _leads_with(held)
    if leads.size == 0:
        raise RecommendEvalError("no lead interacted with the validation's pseudo-cold listings")
    if leads.size > collaborative.MAX_VALIDATION_LEADS:
        leads = np.sort(rng.choice(leads, collaborative.MAX_VALIDATION_LEADS, replace=False))
    try:
        trained = collaborative.train_collaborative(
            Interactions(kept, data.lead_ids, data.item_ids, data.scaling),
            k=k,
            seed=seed,
            progress=progress,
        )
    except ValueError as exc:
        raise RecommendEvalError(str(exc)) from None
    progress("choosing the hybrid's parameters on the pseudo-cold listings")
    features = _with_intercept(encoded.design)
    prior = feature_prior(encoded.indicator, popularity(kept))
    onto = projection(kept, features, trained.model)
    collaborative_part, own_part = onto.profiles(kept[leads])
    truth, tie = held[leads], prior[pseudo]
    select = sp.identity(leads.size, format="csr")  # row i stands for validation lead i
    key = f"ndcg@{k}"
    grid: list[dict[str, Any]] = []

    def measure(ridge: float, history: float, weight: float, inverse: np.ndarray) -> None:
        taste = ((1.0 - history) * collaborative_part + history * own_part) @ inverse
        scorer = hybrid_scorer(lambda rows: taste[rows.indices], features, pseudo, prior, weight)
        quality = ranking_quality(scorer, select, truth, k, tie, exclude_history=False)
        params = {"ridge": ridge, "history": history, "weight": weight}
        grid.append({"name": _hybrid_name(**params), "params": params, "validation": quality})

    def best() -> dict[str, Any]:
        return max(grid, key=lambda g: g["validation"][key])  # the first of equals

    for ridge in RIDGE_GRID:
        inverse = onto.ridge_inverse(ridge)
        for history in HISTORY_GRID:
            measure(ridge, history, 0.0, inverse)
    chosen = best()["params"]
    inverse = onto.ridge_inverse(chosen["ridge"])
    for weight in BLEND_GRID[1:]:  # weight 0 is measured already
        measure(chosen["ridge"], chosen["history"], weight, inverse)
    chosen = best()["params"]
    validation: dict[str, Any] = {
        "items": int(pseudo.size),
        "leads": int(leads.size),
        "collaborative": {"chosen": trained.chosen.name, "candidates": trained.candidates},
    }
    return HybridChoice(
        trained.chosen, chosen["ridge"], chosen["history"], chosen["weight"], grid, validation
    )


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
    choice = _choose_on_validation(
        data, train, encoded, np.setdiff1d(eligible, cold), fraction, k, seed, rng, progress
    )
    progress(f"refitting {choice.collaborative.name} on all the training listings")
    model = collaborative.fit(
        choice.collaborative,
        Interactions(train, data.lead_ids, data.item_ids, data.scaling),
        seed=seed,
    )
    design = _with_intercept(encoded.design)
    onto = projection(train, design, model)
    inverse = onto.ridge_inverse(choice.ridge)
    prior = feature_prior(encoded.indicator, popularity(train))
    train_seconds = time.perf_counter() - begin
    progress("scoring the cold listings")
    history, truth, tie = train[leads], test[leads], prior[cold]

    def taste(rows: sp.csr_matrix) -> np.ndarray:
        collaborative_part, own_part = onto.profiles(rows)
        result: np.ndarray = (
            (1.0 - choice.history) * collaborative_part + choice.history * own_part
        ) @ inverse
        return result

    def quality(scorer: Scorer) -> dict[str, float]:
        return ranking_quality(scorer, history, truth, k, tie, exclude_history=False)

    hybrid = quality(hybrid_scorer(taste, design, cold, prior, choice.weight))
    params = {"ridge": choice.ridge, "history": choice.history, "weight": choice.weight}
    return {
        "protocol": "cold_items",
        "k": k,
        "seed": seed,
        "model": {
            "name": "hybrid",
            "collaborative": choice.collaborative.name,
            "params": params,
            "blend_weight": choice.weight,
            **hybrid,
        },
        "baselines": {
            "random": {"name": "random", **quality(random_scorer(seed, cold.size))},
            "feature_popular": {"name": "feature_popular", **quality(constant_scorer(tie))},
        },
        "chosen": choice.name,
        "blend_weight": choice.weight,
        "candidates": choice.candidates,
        "validation": {**choice.validation, "fraction": fraction, "metric": f"ndcg@{k}"},
        "features": {
            "columns": encoded.kinds,
            "dimensions": int(encoded.design.shape[1]),
            "baseline_dimensions": int(encoded.indicator.shape[1]),
            "listings_with_features": int(eligible.size),
        },
        **_summary(data, len(log.leads)),
        "cold_fraction": fraction,
        "n_cold_items": int(cold.size),
        "n_test_leads": int(leads.size),
        "n_test_interactions": int(truth.nnz),
        "train_seconds": round(train_seconds, 3),
    }
