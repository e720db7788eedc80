"""The content match: how well each listing fits what a lead said it wants (the conversation's
answers) and what it showed it wants (the listings it viewed, saved, shared and toured).

Ten factors, each a score in [0, 1] per listing:

=========== =============================================================================
price       stated budget: 1 within it, falling to 0 at 10% over, gently lower far under
            (a $300k home for a $900k budget is probably not it); else closeness (log
            ratio) to the typical price of the listings it interacted with
location    stated area: 1 in that city / zip, else by distance to the area's centre; else
            distance from the centre of the listings it interacted with (half at 4 miles, or
            1.5 × the mean distance of those listings from their centre if that is wider)
beds        stated minimum: 1 at or above, 0.35 one short, 0 more; else closeness to the
            typical beds of its listings (fewer counts three times more than more)
baths       the same, halves allowed
type        the home type asked for (or mostly viewed): 1 same, 0 another
size        living area close to its listings' (log ratio)  — revealed only
lot         lot size close to its listings' (log ratio)     — revealed only
age         not older than its listings (newer is never held against a listing) — revealed
hoa         1 with no HOA, lower as the monthly fee grows
must-haves  the share of its must-haves the listing has (structured fields, else remarks)
=========== =============================================================================

A factor with nothing to compare with (no budget stated and nothing viewed) is left out, not
scored: a listing is never penalised for what the lead never told us. A listing missing a value
scores 0.5 on that factor. The total is the weighted mean of the factors that apply, with
weights per buyer segment (:data:`WEIGHTS`: a first-home buyer weighs price and HOA, a family
beds and schools, a luxury buyer must-haves and size, an investor price and type).

Each result carries its top reasons (the factors that scored high, by weight × score, what the
lead asked for before what its browsing suggests) and concerns (the factors that scored low, by
weight × shortfall), in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ghl_ai.conversation.qualification import stored_answers
from ghl_ai.recommend.index import (
    HOME_TYPE_WORDS,
    HOME_TYPES,
    CatalogueIndex,
    miles,
    must_have_name,
    must_have_words,
)

FACTORS = ("price", "location", "beds", "baths", "type", "size", "lot", "age", "hoa", "must_haves")

#: Factor weights per buyer segment (same order as FACTORS).
WEIGHTS: dict[str, tuple[float, ...]] = {
    #             price  loc  beds baths type size  lot  age  hoa  must
    "buyer": (3.0, 2.5, 2.0, 1.0, 1.5, 0.8, 0.5, 0.4, 0.6, 2.0),
    "first_home": (4.0, 2.0, 1.5, 0.8, 1.0, 0.5, 0.3, 0.3, 1.2, 1.5),
    "family": (2.5, 2.5, 2.5, 1.5, 1.5, 1.0, 0.8, 0.4, 0.6, 2.0),
    "luxury": (2.0, 2.5, 1.5, 1.0, 1.5, 1.2, 1.0, 0.6, 0.3, 2.5),
    "investor": (4.0, 1.5, 1.0, 0.5, 2.0, 0.5, 0.5, 0.8, 1.5, 0.5),
}
SEGMENTS = tuple(WEIGHTS)
#: The factor each qualification answer is scored by.
STATED_FACTOR = {
    "budget": "price",
    "area": "location",
    "bedrooms": "beds",
    "bathrooms": "baths",
    "property_type": "type",
    "must_haves": "must_haves",
}

#: A listing priced more than this share above the stated budget is not recommended at all,
#: unless the lead itself looks at homes that expensive (then up to 5% above what it views).
OVER_BUDGET_LIMIT = 0.10

#: A reason needs a factor score this high; a concern one this low.
REASON_AT = 0.75
CONCERN_BELOW = 0.5
#: An HOA at least this high is named as a concern whatever its score.
HOA_CONCERN = 250.0
MAX_REASONS = 3
MAX_CONCERNS = 2


def money(amount: float) -> str:
    """$15k, $615k, $1.25M."""
    amount = abs(amount)
    if amount >= 1_000_000:
        return f"${amount / 1_000_000:.2f}".rstrip("0").rstrip(".") + "M"
    if amount >= 1_000:
        return f"${round(amount / 1_000):,}k"
    return f"${round(amount):,}"


def _plural(n: float, word: str) -> str:
    text = f"{n:g}"
    return f"{text} {word}" if n == 1 else f"{text} {word}s"


@dataclass(frozen=True)
class Preferences:
    """What the lead said (answers) and what it did (listing key → interaction weight)."""

    budget_min: float | None = None
    budget_max: float | None = None
    areas: tuple[str, ...] = ()
    beds_min: float | None = None
    baths_min: float | None = None
    home_type: str | None = None
    must_haves: tuple[str, ...] = ()
    intent: str | None = None
    history: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_lead(cls, lead: Mapping[str, Any], history: Mapping[str, float]) -> Preferences:
        """From a stored lead record (its ``answers`` and ``intent``) and its history."""
        answers = {name: a.value for name, a in stored_answers(lead.get("answers")).items()}
        stated_budget = answers.get("budget")
        budget: Mapping[str, Any] = stated_budget if isinstance(stated_budget, Mapping) else {}
        area = answers.get("area")
        must = answers.get("must_haves") or []
        return cls(
            budget_min=_positive(budget.get("min")),
            budget_max=_positive(budget.get("max")),
            areas=(str(area),) if area else (),
            beds_min=_positive(answers.get("bedrooms")),
            baths_min=_positive(answers.get("bathrooms")),
            home_type=answers.get("property_type")
            if answers.get("property_type") in HOME_TYPES
            else None,
            must_haves=tuple(must_have_name(str(m)) for m in must if str(m).strip()),
            intent=lead.get("intent") if isinstance(lead.get("intent"), str) else None,
            history=dict(history),
        )

    def stated_fields(self) -> list[str]:
        """The qualification fields the lead answered that the match uses."""
        given = {
            "budget": self.budget_max or self.budget_min,
            "area": self.areas,
            "bedrooms": self.beds_min,
            "bathrooms": self.baths_min,
            "property_type": self.home_type,
            "must_haves": self.must_haves,
        }
        return [name for name, value in given.items() if value]


def _positive(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


@dataclass(frozen=True)
class Revealed:
    """The typical listing of a lead's history (weighted medians), where it has one."""

    rows: np.ndarray
    weights: np.ndarray
    price: float | None
    beds: float | None
    baths: float | None
    living_area: float | None
    lot_sqft: float | None
    year_built: float | None
    home_type: int  # code in HOME_TYPES, -1 when no type has 60% of the weight
    centre: tuple[float, float] | None

    @classmethod
    def of(cls, index: CatalogueIndex, history: Mapping[str, float]) -> Revealed:
        pairs = [(index.row[k], w) for k, w in history.items() if k in index.row and w > 0]
        rows = np.asarray([r for r, _ in pairs], dtype=np.int64)
        weights = np.asarray([w for _, w in pairs], dtype=np.float64)

        def median(values: np.ndarray) -> float | None:
            if rows.size == 0:
                return None
            v, w = values[rows], weights
            known = ~np.isnan(v)
            if not known.any():
                return None
            v, w = v[known], w[known]
            order = np.argsort(v)
            cumulative = np.cumsum(w[order])
            return float(v[order][np.searchsorted(cumulative, cumulative[-1] / 2)])

        home_type = -1
        if rows.size:
            types = index.home_type[rows]
            totals = np.bincount(types[types >= 0], weights[types >= 0], minlength=len(HOME_TYPES))
            if totals.sum() and totals.max() >= 0.6 * weights.sum():
                home_type = int(totals.argmax())
        mask = np.zeros(len(index), dtype=bool)
        mask[rows] = True
        return cls(
            rows=rows,
            weights=weights,
            price=median(index.price),
            beds=median(index.beds),
            baths=median(index.baths),
            living_area=median(index.living_area),
            lot_sqft=median(index.lot_sqft),
            year_built=median(index.year_built),
            home_type=home_type,
            centre=index.centre_of(mask) if rows.size else None,
        )


def segment(prefs: Preferences, revealed: Revealed) -> str:
    """The buyer segment whose weights apply (documented in WEIGHTS)."""
    if prefs.intent == "invest":
        return "investor"
    price = prefs.budget_max or revealed.price
    if price and price >= 1_200_000:
        return "luxury"
    beds = prefs.beds_min or revealed.beds
    if (beds and beds >= 4) or "schools" in prefs.must_haves:
        return "family"
    if price and price < 550_000:
        return "first_home"
    return "buyer"


def _closeness_log(values: np.ndarray, target: float, sigma: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(np.where(values > 0, values, np.nan) / target)
    return np.exp(-(ratio**2) / (2 * sigma**2))


def _fill(scores: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(scores), 0.5, scores)


@dataclass
class ContentMatch:
    """Factor scores of every listing in the index for one lead, and their weighted total."""

    index: CatalogueIndex
    prefs: Preferences
    revealed: Revealed
    segment: str
    factors: dict[str, np.ndarray]  # only the factors that apply
    weights: dict[str, float]
    total: np.ndarray
    distance: np.ndarray | None = None
    distance_from: str | None = None  # the area name, or None: from where it searches most
    area_match: np.ndarray | None = None
    stated: frozenset[str] = frozenset()  # factors scored against what the lead said
    #: Listings that may be recommended to this lead at all (not far over its budget).
    within_reach: np.ndarray | None = None

    def explain(self, row: int) -> tuple[list[str], list[str], dict[str, float]]:
        """Reasons, concerns (plain words, best first) and the factor scores of one listing."""
        scores = {name: float(values[row]) for name, values in self.factors.items()}
        # What the lead asked for comes before what we inferred from its browsing.
        strong = sorted(
            (n for n, s in scores.items() if s >= REASON_AT),
            key=lambda n: -self.weights[n] * scores[n] * (1.0 if n in self.stated else 0.5),
        )
        weak = sorted(
            (n for n, s in scores.items() if s < CONCERN_BELOW or self._hoa_concern(n, row)),
            key=lambda n: -self.weights[n] * (1 - scores[n]),
        )
        reasons = [t for n in strong if (t := self._reason(n, row))][:MAX_REASONS]
        concerns = [t for n in weak if (t := self._concern(n, row))][:MAX_CONCERNS]
        return reasons, concerns, {n: round(s, 3) for n, s in scores.items()}

    def _hoa_concern(self, name: str, row: int) -> bool:
        return name == "hoa" and bool(self.index.hoa[row] >= HOA_CONCERN)

    # -- words -------------------------------------------------------------------------------

    def _reason(self, name: str, row: int) -> str | None:
        ix, p, r = self.index, self.prefs, self.revealed
        if name == "price":
            price = ix.price[row]
            if p.budget_max:
                under = p.budget_max - price
                return f"{money(under)} under budget" if under >= 5_000 else "right at your budget"
            if r.price:
                return f"priced like the homes you look at (about {money(r.price)})"
        if name == "location":
            return self._where(row, concern=False)
        if name == "beds" and not np.isnan(ix.beds[row]):
            beds = ix.beds[row]
            if p.beds_min:
                asked = "as asked" if beds <= p.beds_min else f"(you asked for {p.beds_min:g}+)"
                return f"{_plural(beds, 'bed')} {asked}"
            return f"{_plural(beds, 'bed')}, like the homes you save"
        if name == "baths" and not np.isnan(ix.baths[row]):
            baths = ix.baths[row]
            if p.baths_min:
                return f"{_plural(baths, 'bath')} as asked"
            return f"{_plural(baths, 'bath')}, like the homes you look at"
        if name == "type" and ix.home_type[row] >= 0:
            words = HOME_TYPE_WORDS[HOME_TYPES[ix.home_type[row]]]
            return f"{words}, as asked" if p.home_type else f"{words}, like the ones you view"
        if name == "size" and not np.isnan(ix.living_area[row]):
            return f"{ix.living_area[row]:,.0f} sq ft, like the homes you view"
        if name == "lot" and not np.isnan(ix.lot_sqft[row]):
            return f"a {ix.lot_sqft[row]:,.0f} sq ft lot"
        if name == "age" and not np.isnan(ix.year_built[row]):
            return f"built in {ix.year_built[row]:.0f}"
        if name == "hoa" and ix.hoa[row] == 0:
            return "no HOA"
        if name == "must_haves":
            found = [m for m in self.prefs.must_haves if self.index.feature(m)[row]]
            if found:
                return "has " + _and([must_have_words(m) for m in found])
        return None

    def _concern(self, name: str, row: int) -> str | None:
        ix, p, r = self.index, self.prefs, self.revealed
        if name == "price":
            price = ix.price[row]
            if p.budget_max and price > p.budget_max:
                return f"{money(price - p.budget_max)} over budget"
            if p.budget_max:
                return f"{money(price)}, well under your {money(p.budget_max)} budget"
            if r.price:
                side = "above" if price > r.price else "below"
                return f"{money(price)}, {side} the homes you look at (about {money(r.price)})"
        if name == "location":
            return self._where(row, concern=True)
        if name == "beds" and not np.isnan(ix.beds[row]):
            beds = ix.beds[row]
            if p.beds_min:
                return f"{_plural(beds, 'bed')} (you asked for {p.beds_min:g})"
            if r.beds and beds < r.beds:
                return f"{_plural(beds, 'bed')}, fewer than the homes you save"
        if name == "baths" and not np.isnan(ix.baths[row]):
            baths = ix.baths[row]
            if p.baths_min:
                return f"{_plural(baths, 'bath')} (you asked for {p.baths_min:g})"
            if r.baths and baths < r.baths:
                return f"{_plural(baths, 'bath')}, fewer than the homes you look at"
        if name == "type" and ix.home_type[row] >= 0:
            words = HOME_TYPE_WORDS[HOME_TYPES[ix.home_type[row]]]
            wanted = HOME_TYPES[r.home_type] if not p.home_type else p.home_type
            return f"{words}, not {HOME_TYPE_WORDS[wanted]}"
        if name == "size" and not np.isnan(ix.living_area[row]) and r.living_area:
            side = "smaller" if ix.living_area[row] < r.living_area else "larger"
            return f"{ix.living_area[row]:,.0f} sq ft, {side} than the homes you view"
        if name == "lot" and not np.isnan(ix.lot_sqft[row]) and r.lot_sqft:
            side = "smaller" if ix.lot_sqft[row] < r.lot_sqft else "larger"
            return f"a {side} lot ({ix.lot_sqft[row]:,.0f} sq ft)"
        if name == "age" and not np.isnan(ix.year_built[row]):
            return f"built in {ix.year_built[row]:.0f}, older than the homes you view"
        if name == "hoa" and ix.hoa[row] > 0:
            return f"HOA {money(ix.hoa[row])}/mo"
        if name == "must_haves":
            missing = [m for m in self.prefs.must_haves if not self.index.feature(m)[row]]
            if missing:
                named = [_bare(must_have_words(m)) for m in missing]
                return "no " + _and(named) + " mentioned"
        return None

    def _where(self, row: int, *, concern: bool) -> str | None:
        ix = self.index
        city = ix.cities[ix.city[row]].title() if ix.city[row] >= 0 else None
        if self.area_match is not None and self.area_match[row] and not concern:
            return f"in {city or self.distance_from}, as asked"
        if self.distance is None or np.isnan(self.distance[row]):
            if concern and self.distance_from:
                return f"in {city}, not {self.distance_from}" if city else None
            return None
        d = float(self.distance[row])
        where = self.distance_from or "where you search most"
        if concern:
            return f"{d:.0f} miles from {where}" + (f" (in {city})" if city else "")
        return f"{d:.1f} miles from {where}"


def _bare(words: str) -> str:
    """ "a pool" → "pool" (for "no pool mentioned")."""
    for article in ("a ", "an "):
        if words.startswith(article):
            return words[len(article) :]
    return words


def _and(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def match(index: CatalogueIndex, prefs: Preferences) -> ContentMatch:
    """Score every listing of ``index`` against ``prefs``."""
    revealed = Revealed.of(index, prefs.history)
    seg = segment(prefs, revealed)
    w = dict(zip(FACTORS, WEIGHTS[seg], strict=True))
    factors: dict[str, np.ndarray] = {}
    ix = index

    # price
    if prefs.budget_max or prefs.budget_min:
        price = ix.price
        s = np.ones(len(ix))
        if prefs.budget_max:
            over = (price - prefs.budget_max) / prefs.budget_max
            s = np.where(over > 0, np.clip(1 - over / 0.10, 0, 1), s)
            under = -over
            s = np.where(under > 0.35, np.clip(1 - (under - 0.35) / 0.4, 0.3, 1), s)
        if prefs.budget_min:
            short = (prefs.budget_min - price) / prefs.budget_min
            s = np.where(short > 0, np.minimum(s, np.clip(1 - short / 0.25, 0.2, 1)), s)
        factors["price"] = s
    elif revealed.price:
        factors["price"] = _fill(_closeness_log(ix.price, revealed.price, 0.18))

    # location
    result = ContentMatch(ix, prefs, revealed, seg, factors, w, np.zeros(len(ix)))
    if prefs.budget_max:
        ceiling = prefs.budget_max * (1 + OVER_BUDGET_LIMIT)
        if revealed.price and revealed.price * 1.05 > ceiling:
            ceiling = revealed.price * 1.05
        result.within_reach = ~(ix.price > ceiling)
    if prefs.areas:
        area = prefs.areas[0]
        city, postal = ix.city_code(area), ix.postal_code(area)
        in_area = ((ix.city == city) & (city >= 0)) | ((ix.postal == postal) & (postal >= 0))
        result.area_match = in_area
        result.distance_from = area.strip().title() if city >= 0 else area.strip()
        centre = ix.centre_of(in_area) if in_area.any() else None
        if centre is not None:
            result.distance = miles(ix, centre)
            near = np.exp(-np.nan_to_num(result.distance, nan=30.0) / 6.0)
            factors["location"] = np.where(in_area, 1.0, np.minimum(near, 0.8))
        else:
            factors["location"] = np.where(in_area, 1.0, 0.0)
    elif revealed.centre is not None:
        result.distance = miles(ix, revealed.centre)
        # Half the score at 4 miles, or further for a lead that browses a wider area.
        spread = float(np.average(result.distance[revealed.rows], weights=revealed.weights))
        half = max(4.0, 1.5 * spread) if np.isfinite(spread) else 4.0
        factors["location"] = _fill(np.exp(-result.distance * np.log(2) / half))

    # beds and baths
    for name, asked, have, typical in (
        ("beds", prefs.beds_min, ix.beds, revealed.beds),
        ("baths", prefs.baths_min, ix.baths, revealed.baths),
    ):
        if asked:
            s = np.where(have >= asked, 1.0, np.where(have >= asked - 1, 0.35, 0.0))
            factors[name] = np.where(np.isnan(have), 0.5, s)
        elif typical:
            # Fewer than it usually looks at weighs more than more.
            gap = have - typical
            factors[name] = _fill(np.exp(np.where(gap < 0, gap, -gap / 3.0)))

    # home type
    wanted = HOME_TYPES.index(prefs.home_type) if prefs.home_type else revealed.home_type
    if wanted >= 0:
        factors["type"] = np.where(ix.home_type < 0, 0.5, (ix.home_type == wanted) * 1.0)

    # revealed only: size, lot, age
    if revealed.rows.size >= 2:
        if revealed.living_area:
            factors["size"] = _fill(_closeness_log(ix.living_area, revealed.living_area, 0.25))
        if revealed.lot_sqft:
            factors["lot"] = _fill(_closeness_log(ix.lot_sqft, revealed.lot_sqft, 0.6))
        if revealed.year_built:
            # Older than what it views counts against a listing; newer does not.
            older = np.clip(revealed.year_built - ix.year_built, 0, None)
            factors["age"] = _fill(np.exp(-older / 20.0))

    factors["hoa"] = np.where(np.isnan(ix.hoa), 0.7, np.exp(-np.nan_to_num(ix.hoa) / 500.0))
    if prefs.must_haves:
        found = np.zeros(len(ix))
        for name in prefs.must_haves:
            found += ix.feature(name)
        factors["must_haves"] = found / len(prefs.must_haves)

    result.stated = frozenset(STATED_FACTOR[name] for name in prefs.stated_fields())
    total = np.zeros(len(ix))
    weight = 0.0
    for name, values in factors.items():
        total += w[name] * values
        weight += w[name]
    result.total = total / weight
    return result
