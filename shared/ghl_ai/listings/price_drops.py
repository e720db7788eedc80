"""Price drops on listings leads follow: the listings import's news, told to the alert rules.

A lead *follows* a listing when it saved it (and did not withdraw the save), requested a tour
of it, or viewed it at least :data:`MIN_VIEWS` times. For each price drop the import found, each
following lead gets a ``listing_price_drop`` event in its stream (``propertyId``, ``value`` =
the cut, ``data.price`` = the new price) and a scoring job; the ScoringFunction's
``price_drop`` rule (scoring/alerts.py) then tags the lead and gives the agent a task, once.

Importing the same file twice finds no drop the second time (the listing is unchanged), so a
drop is told once; the alert rule's claim makes the task exactly-once besides. The event is not
engagement (the lead did nothing): it never changes the lead's recency or activity features.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ghl_ai.adapters.dynamo import BehaviourEventStore
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.jobs import ScoringJob
from ghl_ai.leads.models import BehaviourEvent, LeadKey
from ghl_ai.listings.catalogue import PriceDrop

#: Views of one listing that make a lead follow it (one save or tour request is enough).
MIN_VIEWS = 2
#: Contacts per scoring job.
CHUNK = 100


def follows(counts: dict[str, int]) -> bool:
    saves = counts.get("property_save", 0) - counts.get("property_unsave", 0)
    return (
        saves > 0
        or counts.get("tour_request", 0) > 0
        or counts.get("property_view", 0) >= MIN_VIEWS
    )


def notify(
    events: BehaviourEventStore,
    location_id: str,
    drops: Iterable[PriceDrop],
    now: datetime,
    scoring: JobQueue | None = None,
) -> dict[str, list[str]]:
    """Record each drop in its followers' streams and ask for them to be rescored. Returns
    listing → the contacts told (new events only: a drop already recorded is not told twice)."""
    told: dict[str, list[str]] = {}
    for drop in drops:
        for contact, counts in sorted(events.interest_in(location_id, drop.listing_key).items()):
            if not follows(counts):
                continue
            event = BehaviourEvent(
                lead=LeadKey(location_id, contact),
                type="listing_price_drop",
                timestamp=now,
                event_id=f"price-drop:{drop.listing_key}:{int(drop.new_price)}",
                source="catalogue",
                property_id=drop.listing_key,
                value=float(drop.old_price - drop.new_price),
                data={"price": drop.new_price, "oldPrice": drop.old_price},
            )
            if events.put_new(event):
                told.setdefault(drop.listing_key, []).append(contact)
    contacts = sorted({c for cs in told.values() for c in cs})
    if scoring is not None:
        for start in range(0, len(contacts), CHUNK):
            chunk = contacts[start : start + CHUNK]
            job = ScoringJob(
                id=f"price-drops:{location_id}:{int(now.timestamp())}:{start}",
                received_at=now,
                location_id=location_id,
                contacts=chunk,
                reason="price_drop",
            )
            scoring.send(job.model_dump_json())
    return told
