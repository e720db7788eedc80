"""Synthetic listing browsing: which lead viewed, saved, shared or toured which listing.

The generative story (seeded; every draw from one ``numpy.random.Generator``):

1. **Segments.** The market is split into ``segments`` taste clusters — a city, a price band
   and a home size (a starter condo downtown, a family home in the suburbs, ...). Each segment
   has a popularity (Zipf, exponent ``segment_skew``) and its own mix of tags.
2. **Listings.** Each listing belongs to one segment (drawn by segment popularity). Its
   features follow its segment: the city (10 % elsewhere), a price around the band's centre,
   beds around the segment's, 1–3 tags from the segment's mix. Its appeal is log-normal
   (``listing_skew``: a few listings draw most of the traffic) times what its tags are worth
   to buyers (:data:`TAG_APPEAL`: a pool or a view draws clicks, a fixer-upper fewer).
3. **Leads.** Each lead has a home segment and a second one (drawn by popularity) and between
   ``min_interactions`` and ``max_interactions`` interactions. Each interaction falls in the
   home segment (``home_share``), the second one (``second_share``) or anywhere in the market
   (by listing appeal: browsing the popular homes); within a segment the listing is drawn by
   appeal. The same listing may come up more than once (a lead returns to a home).
4. **Events.** Each interaction is a ``property_view`` or, less often, a save, a share or a tour
   request, weighted as ``ghl_ai.recommend.history`` weighs them; its time is uniform over the
   ``days`` before ``end``.

So there is collaborative signal (leads of one segment browse the same listings), popularity
(the appeal skew), and content signal (a segment's listings share features) for cold listings.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ghl_ai.recommend.history import INTERACTION_WEIGHTS

CITIES = (
    "Rancho Cucamonga",
    "Ontario",
    "Upland",
    "Fontana",
    "Chino Hills",
    "Claremont",
    "Riverside",
    "Corona",
    "Redlands",
    "San Bernardino",
)
TAGS = ("pool", "garage", "yard", "view", "solar", "adu", "gated", "new_build", "fixer", "hoa")
#: What a tag does to a listing's appeal (log scale): leads click on views and pools.
TAG_APPEAL = {"pool": 0.6, "view": 0.6, "new_build": 0.4, "fixer": -0.6, "hoa": -0.3}
#: Event types and how often an interaction is each (the rest of the weights come from
#: ``INTERACTION_WEIGHTS``, the serving side's).
EVENT_MIX = (
    ("property_view", 0.82),
    ("property_save", 0.10),
    ("property_share", 0.03),
    ("tour_request", 0.05),
)
FIXED_END = datetime(2026, 11, 30, tzinfo=UTC).timestamp()
DAY = 86400.0


@dataclass(frozen=True)
class BrowsingConfig:
    leads: int = 2000
    listings: int = 1500
    segments: int = 40
    min_interactions: int = 4
    max_interactions: int = 30
    home_share: float = 0.6
    second_share: float = 0.2
    segment_skew: float = 0.8
    listing_skew: float = 1.0
    days: int = 90
    end: float = FIXED_END
    seed: int = 42


@dataclass(frozen=True)
class Browsing:
    """Interactions (one row per event) and the listings' features, as arrays."""

    lead: np.ndarray  # int64 lead index
    item: np.ndarray  # int64 listing index
    event_type: np.ndarray  # str
    weight: np.ndarray  # float64, the event type's weight
    t: np.ndarray  # float64 epoch seconds
    segment: np.ndarray  # int64 segment of each listing
    price: np.ndarray  # float64 per listing
    beds: np.ndarray  # int64 per listing
    city: np.ndarray  # str per listing
    tags: list[tuple[str, ...]]  # per listing

    @property
    def lead_ids(self) -> np.ndarray:
        return np.char.add("u", np.arange(int(self.lead.max()) + 1).astype(str))

    @property
    def item_ids(self) -> np.ndarray:
        return np.char.add("L", np.char.zfill(np.arange(self.price.size).astype(str), 5))


def generate(config: BrowsingConfig) -> Browsing:
    """The story in the module docstring, vectorised (200,000 leads take a few seconds)."""
    rng = np.random.default_rng(config.seed)
    n_seg, n_items = config.segments, config.listings
    seg_pop = 1.0 / np.arange(1, n_seg + 1) ** config.segment_skew
    seg_pop = rng.permutation(seg_pop / seg_pop.sum())
    seg_city = rng.integers(len(CITIES), size=n_seg)
    seg_price = np.exp(rng.uniform(np.log(350_000), np.log(1_600_000), n_seg))
    seg_beds = rng.integers(1, 6, size=n_seg)
    seg_tags = rng.dirichlet(np.full(len(TAGS), 0.3), size=n_seg)

    segment = rng.choice(n_seg, size=n_items, p=seg_pop)
    segment[:n_seg] = np.arange(min(n_seg, n_items))  # every segment has a listing
    elsewhere = rng.random(n_items) < 0.1
    city = np.where(elsewhere, rng.integers(len(CITIES), size=n_items), seg_city[segment])
    price = np.round(seg_price[segment] * rng.lognormal(0.0, 0.15, n_items), -3)
    beds = np.clip(seg_beds[segment] + rng.integers(-1, 2, n_items), 1, 6)
    n_tags = rng.integers(1, 4, n_items)
    tags = [
        tuple(sorted(TAGS[j] for j in rng.choice(len(TAGS), n, replace=False, p=seg_tags[s])))
        for n, s in zip(n_tags, segment, strict=True)
    ]
    liked = np.array([sum(TAG_APPEAL.get(t, 0.0) for t in listing) for listing in tags])
    appeal = rng.lognormal(0.0, config.listing_skew, n_items) * np.exp(liked)
    order = np.argsort(segment, kind="stable")  # listings grouped by segment
    cum = np.cumsum(appeal[order])
    seg_end = np.searchsorted(segment[order], np.arange(n_seg), side="right")
    seg_lo = np.concatenate([[0.0], cum[seg_end[:-1] - 1]])
    seg_hi = cum[seg_end - 1]

    counts = rng.integers(config.min_interactions, config.max_interactions + 1, config.leads)
    lead = np.repeat(np.arange(config.leads), counts)
    home = rng.choice(n_seg, size=config.leads, p=seg_pop)[lead]
    second = rng.choice(n_seg, size=config.leads, p=seg_pop)[lead]
    draw = rng.random(lead.size)
    chosen = np.where(draw < config.home_share, home, second)
    anywhere = draw >= config.home_share + config.second_share
    u = rng.random(lead.size)
    target = np.where(anywhere, u * cum[-1], seg_lo[chosen] + u * (seg_hi[chosen] - seg_lo[chosen]))
    item = order[np.minimum(np.searchsorted(cum, target, side="right"), n_items - 1)]

    kind = rng.choice(len(EVENT_MIX), size=lead.size, p=[p for _, p in EVENT_MIX])
    event_type = np.array([t for t, _ in EVENT_MIX])[kind]
    weight = np.array([INTERACTION_WEIGHTS[t] for t, _ in EVENT_MIX])[kind]
    t = config.end - rng.uniform(0, config.days * DAY, lead.size)
    return Browsing(
        lead=lead,
        item=item,
        event_type=event_type,
        weight=weight,
        t=t,
        segment=segment,
        price=price,
        beds=beds,
        city=np.array(CITIES)[city],
        tags=tags,
    )


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_interactions(browsing: Browsing, path: Path) -> Path:
    """The ``ghl-ai eval recommend --interactions`` CSV: lead_id,property_id,timestamp,weight
    (plus event_type, which the command ignores)."""
    leads, items = browsing.lead_ids, browsing.item_ids
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lead_id", "property_id", "timestamp", "weight", "event_type"])
        for i in np.argsort(browsing.t, kind="stable"):
            writer.writerow(
                [
                    leads[browsing.lead[i]],
                    items[browsing.item[i]],
                    _iso(float(browsing.t[i])),
                    f"{browsing.weight[i]:g}",
                    browsing.event_type[i],
                ]
            )
    return path


def write_item_features(browsing: Browsing, path: Path) -> Path:
    """The ``--item-features`` CSV: property_id,price,beds,city,tags (tags ``a|b``)."""
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["property_id", "price", "beds", "city", "tags"])
        for i, item in enumerate(browsing.item_ids):
            writer.writerow(
                [
                    item,
                    f"{browsing.price[i]:.0f}",
                    int(browsing.beds[i]),
                    browsing.city[i],
                    "|".join(browsing.tags[i]),
                ]
            )
    return path
