"""``ghl-ai train recommend``: the collaborative model and the hybrid's blend, chosen by
measured quality on held-out interactions, exported to the model layer.

The data: leads (their stated answers, if any) and their interactions with a catalogue's
listings — the synthetic market (``synthetic_market.py``) for a fresh install, or a location's
own. Per lead with at least three listings, a seeded quarter of its listings is the **test**
set, and a quarter of the rest the **validation** set:

1. the collaborative model is chosen among EASE, item-kNN, RP3beta and ALS by
   ``collaborative.train_collaborative`` (its own validation split inside the training part);
2. the **blend** — the content match's weight in ``blend · content + (1 − blend) ·
   collaborative`` (``ghl_ai.recommend.ranker``) — is the grid value (0, 0.1, … 1) with the best
   nDCG@k on the validation set, each lead ranking every listing it did not interact with in
   training, from its stated answers and training interactions: exactly what serving does;
3. the held-out test set then measures the hybrid beside content alone (blend 1),
   collaborative alone (blend 0) and most-popular, in the same run; and new listings (a fifth
   of the catalogue with all its interactions removed, ranked among themselves, which the
   served ranker does on content) beside a random order and the popularity of their city and
   bedroom count;
4. the model is refitted on every interaction and exported (``recommend.npz``), its card in
   the manifest: the version, the blend and its validation curve, the test metrics, the data.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib.metadata import version
from typing import Any

import numpy as np

from ghl_ai.listings.models import Listing
from ghl_ai.recommend.content import Preferences, match
from ghl_ai.recommend.index import CatalogueIndex
from ghl_ai.recommend.ranker import Ranker, blended
from ghl_ai_cli.collaborative import interactions, train_collaborative
from ghl_models import metrics
from ghl_models.recommend import CollaborativeModel

BLEND_GRID = tuple(round(0.1 * i, 1) for i in range(11))
TEST_SHARE = 0.25
VALIDATION_SHARE = 0.25
#: Listings held out entirely to measure how new listings are ranked.
COLD_SHARE = 0.2


@dataclass(frozen=True)
class LeadData:
    lead_id: str
    answers: Mapping[str, Any]
    interactions: Mapping[str, float]  # listing → summed weight


@dataclass
class RecommenderResult:
    model: CollaborativeModel
    card: dict[str, Any]


def _split(
    leads: Sequence[LeadData], share: float, seed: int
) -> tuple[list[dict[str, float]], list[set[str]]]:
    """Per lead: the interactions kept and the listings held out (a seeded ``share`` of the
    listings of each lead with at least three)."""
    rng = np.random.default_rng(seed)
    kept: list[dict[str, float]] = []
    held: list[set[str]] = []
    for lead in leads:
        items = sorted(lead.interactions)
        out: set[str] = set()
        if len(items) >= 3:
            count = max(1, math.floor(share * len(items)))
            out = {items[i] for i in rng.choice(len(items), count, replace=False)}
        kept.append({k: w for k, w in lead.interactions.items() if k not in out})
        held.append(out)
    return kept, held


def _fit(histories: Sequence[Mapping[str, float]], seed: int) -> Any:
    triples = [(str(u), k, w) for u, h in enumerate(histories) for k, w in h.items()]
    data = interactions([t[0] for t in triples], [t[1] for t in triples], [t[2] for t in triples])
    return train_collaborative(data, seed=seed)


def _ranked_quality(
    index: CatalogueIndex,
    model: CollaborativeModel | None,
    leads: Sequence[LeadData],
    history: Sequence[Mapping[str, float]],
    truth: Sequence[set[str]],
    blends: Sequence[float],
    k: int,
    baselines: Mapping[str, np.ndarray] | None = None,
) -> dict[str, dict[str, float]]:
    """nDCG / precision / recall @k per blend (and for each baseline's fixed scores), over the
    leads with held-out listings, each ranking the index's candidates."""
    ranker = Ranker(index, model)
    hits: dict[str, list[np.ndarray]] = {str(b): [] for b in blends}
    for name in baselines or {}:
        hits[name] = []
    relevant: list[int] = []
    for lead, seen, wanted in zip(leads, history, truth, strict=True):
        if not wanted:
            continue
        prefs = Preferences.from_lead({"answers": lead.answers, "intent": "buy"}, seen)
        content = match(index, prefs).total
        collab = ranker.collaborative(seen)
        allowed = index.candidate.copy()
        for key in seen:
            if key in index.row:
                allowed[index.row[key]] = False
        target = np.zeros(len(index), dtype=bool)
        for key in wanted:
            if key in index.row:
                target[index.row[key]] = True
        relevant.append(len(wanted))
        runs: list[tuple[str, np.ndarray]] = [(str(b), blended(content, collab, b)) for b in blends]
        runs += [(name, scores.astype(np.float64)) for name, scores in (baselines or {}).items()]
        for name, score in runs:
            s = np.where(allowed, score, -np.inf)
            top = np.argpartition(-s, k - 1)[:k]
            top = top[np.lexsort((top, -s[top]))]
            hits[name].append(target[top] & np.isfinite(s[top]))
    n_relevant = np.asarray(relevant)
    return {
        name: metrics.ranking_metrics(np.asarray(found, dtype=bool).reshape(-1, k), n_relevant, k)
        for name, found in hits.items()
    }


def _cold_listings(
    index: CatalogueIndex, leads: Sequence[LeadData], blend: float, k: int, seed: int
) -> dict[str, Any]:
    """New listings: a seeded :data:`COLD_SHARE` of the catalogue with every interaction
    removed from training; each lead that interacted with one ranks only those (the served
    ranker: the model has never seen them, so on content), beside a random order and the
    popularity of the listing's city and bedroom count in training."""
    rng = np.random.default_rng(seed + 2)
    keys = sorted(index.row)
    cold = {keys[i] for i in rng.choice(len(keys), int(COLD_SHARE * len(keys)), replace=False)}
    history = [{x: w for x, w in lead.interactions.items() if x not in cold} for lead in leads]
    truth = [{x for x in lead.interactions if x in cold} for lead in leads]
    fitted = _fit(history, seed)
    mask = np.zeros(len(index), dtype=bool)
    mask[[index.row[x] for x in cold]] = True
    counts = _popularity(index, history)
    by_city = _group_mean(index.city, counts, ~mask)
    by_beds = _group_mean(np.nan_to_num(index.beds, nan=-1).astype(np.int64), counts, ~mask)
    quality = _ranked_quality(
        replace(index, candidate=mask),
        fitted.model,
        leads,
        history,
        truth,
        [blend],
        k,
        baselines={
            "random": rng.random(len(index)),
            "feature_popular": by_city + by_beds,
        },
    )
    return {
        "share": COLD_SHARE,
        "listings": len(cold),
        "leads": sum(1 for t in truth if t),
        "hybrid": quality[str(blend)],
        "random": quality["random"],
        "feature_popular": quality["feature_popular"],
    }


def _group_mean(groups: np.ndarray, values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Per row: the mean of ``values`` over the ``known`` rows of its group (0 when none)."""
    codes = groups - groups.min()
    total = np.bincount(codes[known], values[known], minlength=int(codes.max()) + 1)
    count = np.bincount(codes[known], minlength=int(codes.max()) + 1)
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    result: np.ndarray = mean[codes]
    return result


def _popularity(index: CatalogueIndex, history: Sequence[Mapping[str, float]]) -> np.ndarray:
    counts = np.zeros(len(index))
    for seen in history:
        for key in seen:
            if key in index.row:
                counts[index.row[key]] += 1
    return counts


def train_recommender(
    listings: list[Listing],
    leads: Sequence[LeadData],
    *,
    k: int = 10,
    seed: int = 42,
    source: str = "synthetic",
    progress: Callable[[str], None] = lambda _: None,
) -> RecommenderResult:
    index = CatalogueIndex.build(listings, include_coming_soon=True)
    # Evaluated over everything the leads browsed, whatever its status today.
    index.candidate[:] = True
    train, test = _split(leads, TEST_SHARE, seed)
    inner, validation = _split(
        [LeadData(lead.lead_id, lead.answers, t) for lead, t in zip(leads, train, strict=True)],
        VALIDATION_SHARE,
        seed + 1,
    )
    progress("choosing the collaborative model")
    chosen = _fit(inner, seed)
    progress("choosing the blend on the validation set")
    curve = _ranked_quality(index, chosen.model, leads, inner, validation, BLEND_GRID, k)
    key = f"ndcg@{k}"
    blend = max(BLEND_GRID, key=lambda b: (curve[str(b)][key], b))
    progress("measuring on the test set")
    on_train = _fit(train, seed)
    tested = _ranked_quality(
        index,
        on_train.model,
        leads,
        train,
        test,
        sorted({blend, 0.0, 1.0}),
        k,
        baselines={"popular": _popularity(index, train)},
    )
    progress("measuring new listings (cold start)")
    cold = _cold_listings(index, leads, blend, k, seed)
    progress("refitting on every interaction")
    final = _fit([lead.interactions for lead in leads], seed)
    n_interactions = sum(len(lead.interactions) for lead in leads)
    card = {
        "name": "recommend",
        "kind": final.model.kind,
        "chosen": final.chosen.name,
        "blend": blend,
        "k": k,
        "seed": seed,
        "metrics": {
            "test": {
                "hybrid": tested[str(blend)],
                "content_only": tested["1.0"],
                "collaborative_only": tested["0.0"],
                "popular": tested["popular"],
            },
            "cold_listings": cold,
            "blend_validation": {b: curve[b][key] for b in curve},
            "candidates": {
                c["name"]: c["validation"][key] if c["validation"] else c["skipped"]
                for c in chosen.candidates
            },
        },
        "training_data": {
            "source": source,
            "leads": len(leads),
            "listings": len(index),
            "interactions": n_interactions,
            "test_leads": sum(1 for t in test if t),
            "validation_leads": sum(1 for v in validation if v),
        },
        "libraries": {
            "python": platform.python_version(),
            "numpy": version("numpy"),
            "scipy": version("scipy"),
        },
    }
    return RecommenderResult(final.model, card)
