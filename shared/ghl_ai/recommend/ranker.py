"""The hybrid ranker: the content match blended with the collaborative model.

    score = blend · content + (1 - blend) · collaborative / max(collaborative)

``blend`` is chosen on held-out interactions by ``ghl-ai train recommend`` and recorded in the
model layer's manifest; it is never set by hand. Two cold starts:

* a lead with no interactions the model knows (a new lead, stated preferences only) has no
  collaborative signal: its listings are ranked on content alone;
* a listing the model has never seen (new on the market) has no collaborative score: it is
  judged on its content alone, so a new listing that fits well is not buried under older ones.

Listings the lead already interacted with, any in ``exclude`` (sent before) and any priced far
over its stated budget (``content.OVER_BUDGET_LIMIT``) are left out; only candidates
(``Active``, optionally ``Coming Soon``) are ranked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ghl_ai.listings.models import Listing
from ghl_ai.recommend.content import ContentMatch, Preferences, match
from ghl_ai.recommend.index import CatalogueIndex

#: The collaborative part is named as a reason when it gives at least this share of a score.
COLLABORATIVE_REASON_SHARE = 0.35
COLLABORATIVE_REASON = "liked by buyers who liked the same homes as you"


def blended(content: np.ndarray, collaborative: np.ndarray, blend: float) -> np.ndarray:
    """The hybrid score: content alone where the collaborative score is unknown (nan)."""
    return np.where(np.isnan(collaborative), content, blend * content + (1 - blend) * collaborative)


class Collaborative(Protocol):
    """The model layer's collaborative model (``ghl_models.recommend.CollaborativeModel``)."""

    @property
    def item_ids(self) -> np.ndarray: ...

    def scores(self, history: Mapping[str, float]) -> np.ndarray: ...


@dataclass(frozen=True)
class Recommendation:
    listing: Listing
    score: float
    content: float
    collaborative: float | None  # None: the model has never seen the listing
    reasons: list[str]
    concerns: list[str]
    factors: dict[str, float]

    def as_json(self, url: str | None) -> dict[str, Any]:
        listing = self.listing
        return {
            "listingKey": listing.listing_key,
            "address": listing.address,
            "city": listing.city,
            "postalCode": listing.postal_code,
            "price": listing.price,
            "beds": listing.beds,
            "baths": listing.baths,
            "livingArea": listing.living_area,
            "homeType": listing.home_type(),
            "status": listing.status,
            "url": url,
            "photo": listing.photos[0] if listing.photos else None,
            "score": round(self.score, 4),
            "reasons": self.reasons,
            "concerns": self.concerns,
            "factors": {
                **self.factors,
                "content": round(self.content, 3),
                "collaborative": None
                if self.collaborative is None
                else round(self.collaborative, 3),
            },
        }


class Ranker:
    """Ranks one location's catalogue for its leads (built once per catalogue and model)."""

    def __init__(
        self, index: CatalogueIndex, model: Collaborative | None, blend: float = 1.0
    ) -> None:
        if not 0.0 <= blend <= 1.0:
            raise ValueError("blend must be within [0, 1]")
        self.index = index
        self.model = model
        self.blend = blend
        #: The model's item number of each catalogue row (-1: unknown to the model).
        self._model_row = np.full(len(index), -1, dtype=np.int64)
        if model is not None:
            position = {str(k): i for i, k in enumerate(model.item_ids)}
            for row, key in enumerate(index.keys):
                self._model_row[row] = position.get(str(key), -1)

    def collaborative(self, history: Mapping[str, float]) -> np.ndarray:
        """Per catalogue row: the normalised collaborative score in [0, 1], nan where the model
        does not know the listing; all nan when the lead has no signal the model knows."""
        out = np.full(len(self.index), np.nan)
        if self.model is None or not history:
            return out
        raw = np.asarray(self.model.scores(history), dtype=np.float64)
        known = self._model_row >= 0
        values = np.zeros(len(self.index))
        values[known] = raw[self._model_row[known]]
        top = values[known & self.index.candidate].max(initial=0.0)
        if top <= 0:
            return out
        out[known] = np.clip(values[known] / top, 0.0, 1.0)
        return out

    def rank(
        self, prefs: Preferences, k: int, exclude: Collection[str] = ()
    ) -> tuple[list[Recommendation], ContentMatch]:
        content = match(self.index, prefs)
        collab = self.collaborative(prefs.history)
        score = blended(content.total, collab, self.blend)
        # Ties (the same fit) go to the most recently updated listing.
        modified = np.nan_to_num(self.index.modified, nan=0.0)
        score = score + 1e-9 * (modified / max(float(modified.max(initial=0.0)), 1.0))
        allowed = self.index.candidate.copy()
        if content.within_reach is not None:
            allowed &= content.within_reach
        for key in (*prefs.history, *exclude):
            row = self.index.row.get(key)
            if row is not None:
                allowed[row] = False
        score = np.where(allowed, score, -np.inf)
        n = int(np.count_nonzero(allowed))
        k = min(k, n)
        if k <= 0:
            return [], content
        top = np.argpartition(-score, k - 1)[:k]
        top = top[np.lexsort((top, -score[top]))]  # best first; equal scores in catalogue order
        return [self._explain(content, collab, int(row), float(score[row])) for row in top], content

    def _explain(
        self, content: ContentMatch, collab: np.ndarray, row: int, score: float
    ) -> Recommendation:
        reasons, concerns, factors = content.explain(row)
        c = None if np.isnan(collab[row]) else float(collab[row])
        if c is not None and score > 0:
            share = (1 - self.blend) * c / score
            if share >= COLLABORATIVE_REASON_SHARE:
                reasons = [COLLABORATIVE_REASON, *reasons][:3]
        return Recommendation(
            listing=self.index.listings[row],
            score=min(1.0, max(0.0, score)),
            content=float(content.total[row]),
            collaborative=c,
            reasons=reasons,
            concerns=concerns,
            factors=factors,
        )
