"""Visitor stitching: a website visitor's anonymous events become the lead's once the visitor
is identified — by a Lyrio form carrying the ``visitorId``, by an event carrying both
``visitorId`` and ``contactId``, or by a tracked link ``?cid=`` (the tracking script then sends
the contact id on every event).

Until then the events wait in the visitor's own stream (``loc#visitor:<id>``); identifying the
visitor records it in the visitors table and moves that stream into the contact's, so the
earlier anonymous events count for the lead from then on. Later anonymous events of an
identified visitor are moved the same way when their scoring job runs. Moves keep each event's
sort key, so a repeated move (a redelivered job) never duplicates an event.
"""

from __future__ import annotations

from datetime import datetime

from ghl_ai.adapters.dynamo import BehaviourEventStore, VisitorStore
from ghl_ai.behaviour.events import visitor_partition_id
from ghl_ai.leads.models import LeadKey


class Stitcher:
    def __init__(self, visitors: VisitorStore, events: BehaviourEventStore) -> None:
        self._visitors = visitors
        self._events = events

    def identify(
        self, location_id: str, visitor_id: str, contact_id: str, source: str, at: datetime
    ) -> int:
        """The visitor is this contact: remember it and move its events. Returns how many."""
        self._visitors.identify(location_id, visitor_id, contact_id, source, at)
        return self._move(location_id, visitor_id, contact_id)

    def attach(self, location_id: str, visitor_id: str) -> str | None:
        """The contact of an identified visitor, after moving its newer anonymous events;
        None while the visitor is anonymous (its events stay in its own stream)."""
        contact_id = self._visitors.contact_for(location_id, visitor_id)
        if contact_id is not None:
            self._move(location_id, visitor_id, contact_id)
        return contact_id

    def _move(self, location_id: str, visitor_id: str, contact_id: str) -> int:
        source = LeadKey(location_id, visitor_partition_id(visitor_id))
        return self._events.move(source, LeadKey(location_id, contact_id))
