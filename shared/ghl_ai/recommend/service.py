"""The RecommendationsFunction's work: a lead's top matches for the read route, and the ranking
"send top matches" uses.

A container keeps each location's catalogue as a :class:`~ghl_ai.recommend.ranker.Ranker`
(the index of its live listings with the location's collaborative model) for
``catalogue_ttl_seconds``, so a request costs the lead's two reads (record, events) and the
vectorised ranking, not a read of the catalogue. The route then reads its top listings again
(one BatchGetItem), so a listing that left the market since the catalogue was cached is never
shown.

The route's JSON (``GET /leads/{contactId}/recommendations?k=5``)::

    {
      "contactId": "abc123", "locationId": "loc1", "k": 5,
      "modelVersion": "recommend-synthetic-...",   # the collaborative model (or "content-only")
      "blend": 0.55,                               # content weight (manifest; by validation)
      "segment": "family",                         # whose factor weights applied
      "basis": {"stated": ["budget", "area"], "interactions": 7},
      "recommendations": [
        {"listingKey": "CR24123456", "address": "...", "city": "Fontana", "postalCode": "92336",
         "price": 615000, "beds": 4, "baths": 3.0, "livingArea": 2150, "homeType":
         "single_family", "status": "Active", "url": "https://...", "photo": "https://...",
         "score": 0.87, "reasons": ["$15k under budget", "4 beds as asked", "..."],
         "concerns": ["HOA $450/mo"], "factors": {"price": 1.0, ..., "content": 0.84,
         "collaborative": 0.91}}
      ]
    }
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore, ListingStore
from ghl_ai.errors import DomainError
from ghl_ai.leads.models import LeadKey
from ghl_ai.listings.models import recommendable
from ghl_ai.recommend.content import Preferences
from ghl_ai.recommend.history import history_from_items
from ghl_ai.recommend.index import CatalogueIndex
from ghl_ai.recommend.ranker import Collaborative, Ranker, Recommendation
from ghl_ai.recommend.send import listing_url
from ghl_ai.tenants import TenantDirectory

#: Statuses the cached catalogue holds: what may be recommended, and what a lead's history
#: most often names besides (under contract, pending). Closed listings stay out of memory.
LIVE_STATUSES = ("Active", "Coming Soon", "Active Under Contract", "Pending")
MAX_K = 50


class LeadHasNoData(DomainError):
    """Neither a lead record nor any behaviour for this contact in the caller's location."""


@dataclass(frozen=True)
class ServedModel:
    """The collaborative model a location is served, its version and the blend."""

    model: Collaborative | None
    version: str
    blend: float

    @classmethod
    def of(cls, found: tuple[Collaborative, Mapping[str, Any]] | None) -> ServedModel:
        """From the model layer's ``recommender_for``: the model and its card (version,
        blend); content only when the layer has none."""
        if found is None:
            return cls(None, "content-only", 1.0)
        model, card = found
        return cls(model, str(card["version"]), float(card["blend"]))


class CatalogueCache:
    """A :class:`Ranker` per location, rebuilt after ``ttl_seconds``."""

    def __init__(
        self,
        listings: ListingStore,
        models: Callable[[str], ServedModel],
        ttl_seconds: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._listings = listings
        self._models = models
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[tuple[str, bool], tuple[float, Ranker, ServedModel]] = {}

    def ranker(self, location_id: str, coming_soon: bool) -> tuple[Ranker, ServedModel]:
        cached = self._cache.get((location_id, coming_soon))
        if cached and cached[0] > self._clock():
            return cached[1], cached[2]
        served = self._models(location_id)
        index = CatalogueIndex.build(
            self._listings.for_location(location_id, LIVE_STATUSES),
            include_coming_soon=coming_soon,
        )
        ranker = Ranker(index, served.model, served.blend)
        self._cache[(location_id, coming_soon)] = (self._clock() + self._ttl, ranker, served)
        return ranker, served


class RecommendationService:
    def __init__(
        self,
        *,
        leads: LeadStore,
        events: BehaviourEventStore,
        listings: ListingStore,
        tenants: TenantDirectory,
        catalogue: CatalogueCache,
    ) -> None:
        self._leads = leads
        self._events = events
        self._listings = listings
        self._tenants = tenants
        self._catalogue = catalogue

    def rank(
        self, location_id: str, prefs: Preferences, k: int, exclude: Collection[str] = ()
    ) -> list[Recommendation]:
        """The top ``k`` listings of the location for ``prefs`` (the cached catalogue)."""
        profile = self._tenants.profile(location_id)
        ranker, _ = self._catalogue.ranker(location_id, profile.recommend_coming_soon)
        return ranker.rank(prefs, k, exclude)[0]

    def for_lead(self, location_id: str, contact_id: str, k: int) -> dict[str, Any]:
        """The route's JSON (module docstring). Raises LeadHasNoData."""
        key = LeadKey(location_id, contact_id)
        lead = self._leads.get(key)
        items = self._events.for_lead(key)
        if lead is None and not items:
            raise LeadHasNoData("no lead with this contact id")
        prefs = Preferences.from_lead(lead or {}, history_from_items(items))
        profile = self._tenants.profile(location_id)
        ranker, served = self._catalogue.ranker(location_id, profile.recommend_coming_soon)
        # A few more than asked: the ones that left the market since the cache was built drop.
        ranked, content = ranker.rank(prefs, k + max(5, k // 2))
        current = self._listings.get_many(location_id, [r.listing.listing_key for r in ranked])
        shown: list[dict[str, Any]] = []
        for rec in ranked:
            now = current.get(rec.listing.listing_key)
            if now is None or not recommendable(now.status, profile.recommend_coming_soon):
                continue
            shown.append(rec.as_json(listing_url(profile.listing_url_template, now)))
            if len(shown) == k:
                break
        return {
            "contactId": contact_id,
            "locationId": location_id,
            "k": k,
            "modelVersion": served.version,
            "blend": served.blend,
            "segment": content.segment,
            "basis": {"stated": prefs.stated_fields(), "interactions": len(prefs.history)},
            "recommendations": shown,
        }
