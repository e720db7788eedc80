"""The synthetic market the fresh-install recommender is trained on: leads with hidden tastes
browsing a real-shaped catalogue (the demo catalogue, or any RESO file).

How a synthetic lead behaves, all from the seed:

* it has a home point (a listing's city centre, jittered), a budget (the city's median price
  × lognormal(0, 0.25)), a minimum of beds, sometimes a home type and a must-have, and a hidden
  taste vector: ``TASTE_DIMS`` numbers no listing field shows (light, street, style), matched
  against each listing's own hidden vector. That hidden part is what only collaborative
  filtering can learn: leads with the same taste like the same listings;
* its utility for a listing = price fit (log ratio to the budget, a penalty above it) +
  distance from its home point + beds + type + must-have + taste · style + the listing's
  appeal (photos, condition; shared by everyone);
* it views ``5 + Poisson(10)`` listings drawn from a softmax of the utility, saves a viewed
  listing with a probability rising with its utility, shares some saves, requests tours for a
  few; the event weights of ``ghl_ai.recommend.history`` turn that into interactions;
* :data:`STATED_SHARE` of the leads told the conversation what they want (budget, area, beds,
  type, must-have: the answers the content match reads); the others only browsed.

The utility is the generator's own (not the content match's factors), so the content match
is evaluated against behaviour it did not define; the hidden taste keeps the collaborative
model honest too: it is only useful where it learns something the listing fields do not say.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ghl_ai.listings.models import Listing
from ghl_ai.recommend.history import INTERACTION_WEIGHTS
from ghl_ai.recommend.index import MUST_HAVES, CatalogueIndex, miles

TASTE_DIMS = 4
STATED_SHARE = 0.6
_MUST_CHOICES = ("pool", "single story", "rv parking", "adu", "view", "big yard")


@dataclass
class SyntheticLead:
    lead_id: str
    answers: dict[str, Any]  # stored-answer shape ({"field": {"value", "confidence", ...}})
    interactions: dict[str, float] = field(default_factory=dict)  # listing → summed weight
    events: list[tuple[str, str]] = field(default_factory=list)  # (listing, event type)


def _answer(value: Any) -> dict[str, Any]:
    return {"value": value, "confidence": 0.9, "source": "rules"}


def simulate(listings: list[Listing], leads: int = 3000, seed: int = 42) -> list[SyntheticLead]:
    """``leads`` synthetic leads browsing ``listings`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    index = CatalogueIndex.build(listings, include_coming_soon=True)
    n = len(index)
    if n < 20:
        raise ValueError(f"a synthetic market needs at least 20 listings, not {n}")
    style = rng.normal(size=(n, TASTE_DIMS))
    appeal = rng.normal(0.0, 0.5, size=n)
    cities = [c for c in range(len(index.cities)) if (index.city == c).any()]
    weights = np.asarray([(index.city == c).sum() for c in cities], dtype=float)
    features = {m.name: index.feature(m.name) for m in MUST_HAVES}
    out: list[SyntheticLead] = []
    for u in range(leads):
        city = cities[int(rng.choice(len(cities), p=weights / weights.sum()))]
        in_city = index.city == city
        centre = index.centre_of(in_city)
        if centre is not None:
            centre = (centre[0] + rng.normal(0, 0.0006), centre[1] + rng.normal(0, 0.0006))
        budget = float(np.nanmedian(index.price[in_city])) * math.exp(rng.normal(0, 0.25))
        beds = int(rng.choice([2, 3, 4], p=[0.25, 0.45, 0.30]))
        home_type = rng.choice(
            ["single_family", "condo", "townhouse", ""], p=[0.55, 0.12, 0.08, 0.25]
        )
        must = str(rng.choice(_MUST_CHOICES)) if rng.random() < 0.35 else ""
        taste = rng.normal(size=TASTE_DIMS)

        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.log(index.price / budget)
        utility = -((ratio / 0.2) ** 2) - 3.0 * np.clip(ratio, 0, None)
        if centre is not None:
            utility -= np.nan_to_num(miles(index, centre), nan=15.0) / 4.0
        utility -= 1.5 * np.clip(beds - np.nan_to_num(index.beds, nan=beds), 0, None)
        if home_type:
            code = ["single_family", "condo", "townhouse", "multi_family", "land", "manufactured"]
            utility -= 1.5 * (index.home_type != code.index(str(home_type)))
        if must:
            utility += 1.5 * features[must]
        utility += 0.9 * (style @ taste) / math.sqrt(TASTE_DIMS) + appeal
        utility = np.nan_to_num(utility, nan=-20.0)

        lead = SyntheticLead(f"synthetic-{u:05d}", {})
        if rng.random() < STATED_SHARE:
            area = index.cities[city].title()
            lead.answers = {
                "budget": _answer({"min": None, "max": int(round(budget, -4))}),
                "area": _answer(area),
                "bedrooms": _answer(beds),
            }
            if home_type:
                lead.answers["property_type"] = _answer(str(home_type))
            if must:
                lead.answers["must_haves"] = _answer([must])
        p = np.exp(utility - utility.max())
        p /= p.sum()
        count = min(n, 5 + int(rng.poisson(10)))
        seen = rng.choice(n, size=count, replace=False, p=p)
        rank = utility[seen]
        for row, u_value in zip(seen, rank, strict=True):
            key = str(index.keys[row])
            lead.events.append((key, "property_view"))
            if rng.random() < 0.35:
                lead.events.append((key, "property_view"))
            liked = 1.0 / (1.0 + math.exp(-(u_value - np.quantile(utility, 0.97))))
            if rng.random() < liked:
                lead.events.append((key, "property_save"))
                if rng.random() < 0.3:
                    lead.events.append((key, "property_share"))
                if rng.random() < 0.15:
                    lead.events.append((key, "tour_request"))
        for key, kind in lead.events:
            lead.interactions[key] = lead.interactions.get(key, 0.0) + INTERACTION_WEIGHTS[kind]
        out.append(lead)
    return out
