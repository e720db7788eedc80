"""A lead's interactions with listings, from its behaviour events, as one weight per listing.

Implicit feedback: what a lead does with a listing says how much it likes it. The weights are
the same for training (``ghl-ai train recommend``) and serving, so the collaborative model sees
at serving time what it learnt from:

=================== ======  =====================================================
``property_view``    1      a look (plus 1 for a view of two minutes or more)
``property_share``   2      sent to someone (a partner, a parent)
``property_save``    3      a favourite
``property_unsave`` -3      a favourite withdrawn (cancels the save)
``tour_request``     5      the strongest signal short of an offer
=================== ======  =====================================================

Only listings with a positive total count as liked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

INTERACTION_WEIGHTS: dict[str, float] = {
    "property_view": 1.0,
    "property_share": 2.0,
    "property_save": 3.0,
    "property_unsave": -3.0,
    "tour_request": 5.0,
}
#: A view this long (seconds visible) counts twice: the lead read the listing.
LONG_VIEW_SECONDS = 120.0


def event_weight(event_type: str, dwell_seconds: float | None = None) -> float:
    weight = INTERACTION_WEIGHTS.get(event_type, 0.0)
    if event_type == "property_view" and dwell_seconds and dwell_seconds >= LONG_VIEW_SECONDS:
        weight += 1.0
    return weight


def history_from_items(items: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Listing key → summed weight, for the stored events of one lead (positive totals only)."""
    totals: dict[str, float] = {}
    for item in items:
        listing = item.get("propertyId")
        if not listing:
            continue
        data = item.get("data") or {}
        dwell = data.get("dwellSeconds") if isinstance(data, Mapping) else None
        weight = event_weight(
            str(item.get("type", "")), dwell if isinstance(dwell, int | float) else None
        )
        if weight:
            totals[str(listing)] = totals.get(str(listing), 0.0) + weight
    return {key: weight for key, weight in totals.items() if weight > 0}
