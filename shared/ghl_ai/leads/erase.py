"""Erasing a lead: every trace of one contact of one location, from every table that holds one.

GHL's ``ContactDelete`` (the worker) and ``ghl-ai lead delete CONTACT --location ID`` (an
operator: a deletion request made to the agent) both end here. Per table (template.yaml):

- **LeadsTable** the lead item (contact details, answers, score, churn, recommendations sent);
- **MessagesTable** the conversation, **EventsTable** the behaviour stream, and the streams of
  the website visitors the contact was identified as (events not yet moved into the lead's);
- **VisitorsTable** those visitors (found by the ``byLead`` index);
- **WebhooksTable** the raw deliveries about the contact (``byLead``): their payloads carry the
  phone, email and message text;
- **WorkflowRunsTable** its runs and locks. Live runs are cancelled first, so a step already
  queued finds the run ended (and, once it is deleted, no run): a pending wait never texts;
- **OutboxTable** the side effects claimed for it (the texts we sent, their decisions): those
  claimed with the lead's ids by the ``byLead`` index, the others by the ids their code gives
  them (see :func:`effect_ids`), which the lead's messages, runs, deliveries and alerts name.

Nothing of another location is read or written: every key, index entry and effect id the
erasure uses starts from this location's ``locationId#contactId`` (a workflow's effect ids
come from this location's runs). It is idempotent: a second erasure finds nothing and removes
nothing. Every table is read and deleted page by page, 25 deletes per batch, so a lead with
thousands of events erases like any other.

Not erased: the idempotency records (keyed by a hash of the delivery id, holding its status
only, gone after 72 hours: they are what makes GHL's retry of a delivery from before the
erasure a duplicate instead of a new lead), the listings and tenants tables (no lead data),
the rate-limit counters (keyed by client address, gone within the hour), and what GHL holds.
A *new* delivery about the contact after the erasure (GHL still has the contact and it writes
again) is a new lead, as for any contact we have not seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ghl_ai.adapters.dynamo import (
    BehaviourEventStore,
    LeadStore,
    MessageStore,
    OutboxStore,
    VisitorStore,
    WebhookInbox,
    WorkflowRunStore,
)
from ghl_ai.behaviour.events import visitor_partition_id
from ghl_ai.leads.models import LeadKey

#: The tables a lead is erased from, in the order they are reported.
TABLES = (
    "LeadsTable",
    "MessagesTable",
    "EventsTable",
    "VisitorsTable",
    "WebhooksTable",
    "WorkflowRunsTable",
    "OutboxTable",
)
_LIVE = ("active", "paused")


@dataclass(frozen=True)
class Erasure:
    """What erasing a lead removed (or, for a dry run, would remove), per table."""

    location_id: str
    contact_id: str
    removed: dict[str, int]
    runs_stopped: int = 0
    dry_run: bool = False
    #: Tables this erasure could not reach (not configured): their items are still there.
    skipped: tuple[str, ...] = field(default=())

    @property
    def total(self) -> int:
        return sum(self.removed.values())

    def summary(self) -> str:
        """``LeadsTable 1, MessagesTable 4, ...``: the tables something was removed from
        (counts only: safe to log)."""
        parts = [f"{t} {self.removed[t]}" for t in TABLES if self.removed.get(t)]
        if self.skipped:
            parts.append("not configured: " + " ".join(self.skipped))
        return ", ".join(parts) or "nothing held"


def effect_ids(
    key: LeadKey,
    lead: dict[str, Any] | None,
    message_ids: list[str],
    runs: list[dict[str, Any]],
    delivery_ids: list[str],
) -> set[str]:
    """The outbox ids the lead's effects may have been claimed under, as the code that claims
    them builds them (the ones claimed with locationId and contactId are found by the index
    anyway): a reply per message (conversation/engine.py), the first text, the qualified note,
    the hot and hand-off tasks, a matches text per trigger (recommend/send.py: the matches tag,
    a buyer just qualified, a workflow step), every workflow step of its runs
    (workflows/engine.py) and every behaviour alert's task or note (scoring/service.py)."""
    loc, contact = key.location_id, key.contact_id
    ids = {
        f"first:{loc}:{contact}",
        f"note:qualified:{loc}:{contact}",
        f"task:hot:{loc}:{contact}",
        f"task:handoff:{loc}:{contact}",
        f"matches:{loc}:qualified:{contact}",
    }
    ids |= {f"reply:{loc}:{m}" for m in message_ids}
    ids |= {f"matches:{loc}:tag:{d}" for d in delivery_ids}
    # The workflow engine's own function, imported here: only an erasure needs it (the worker's
    # cold start does not load the engine).
    from ghl_ai.workflows.engine import effect_id

    for run in runs:
        run_id = str(run["runId"])
        if run_id.startswith("lock#"):
            continue
        named = {"locationId": loc, "contactId": contact, "runId": run_id}
        for seq in range(int(run.get("seq") or 0) + 1):
            step = effect_id(named, seq)
            ids |= {step, f"{step}:matches", f"matches:{loc}:{step}"}
    alerts = set((lead or {}).get("alertIds") or ())
    alerts |= {
        str(value["id"])
        for name, value in (lead or {}).items()
        if name.startswith("alert_") and isinstance(value, dict) and value.get("id")
    }
    for alert in alerts:
        ids |= {f"task:{alert}", f"note:{alert}"}
    return ids


class LeadEraser:
    def __init__(
        self,
        *,
        leads: LeadStore,
        messages: MessageStore,
        events: BehaviourEventStore,
        outbox: OutboxStore,
        runs: WorkflowRunStore | None,
        webhooks: WebhookInbox | None,
        visitors: VisitorStore | None,
    ) -> None:
        self._leads = leads
        self._messages = messages
        self._events = events
        self._outbox = outbox
        self._runs = runs
        self._webhooks = webhooks
        self._visitors = visitors

    def erase(self, key: LeadKey, *, dry_run: bool = False) -> Erasure:
        """Remove every trace of the lead (``dry_run``: only count what would go)."""
        skipped = tuple(
            table
            for table, store in (
                ("VisitorsTable", self._visitors),
                ("WebhooksTable", self._webhooks),
                ("WorkflowRunsTable", self._runs),
            )
            if store is None
        )
        # Read first: the outbox ids come from the messages, runs, deliveries and alerts.
        lead = self._leads.get(key)
        messages = self._messages.keys_for_lead(key)
        events = self._events.keys_for_lead(key)
        visitors = self._visitors.visitors_of(key) if self._visitors else []
        for visitor in visitors:
            stream = LeadKey(key.location_id, visitor_partition_id(str(visitor["visitorId"])))
            events += self._events.keys_for_lead(stream)
        deliveries = self._webhooks.keys_for_lead(key) if self._webhooks else []
        runs = (
            self._runs.keys_for_lead(key.location_id, key.contact_id, ("status",))
            if self._runs
            else []
        )
        ids = effect_ids(
            key,
            lead,
            [str(m["messageId"]) for m in messages if m.get("messageId")],
            runs,
            [str(d["dedupeKey"]) for d in deliveries],
        )
        claimed = {str(i["id"]) for i in self._outbox.keys_for_lead(key)}
        claimed |= {str(i["id"]) for i in self._outbox.existing(ids)}
        outbox = [{"id": i} for i in sorted(claimed)]
        removed = {
            "LeadsTable": 1 if lead is not None else 0,
            "MessagesTable": len(messages),
            "EventsTable": len(events),
            "VisitorsTable": len(visitors),
            "WebhooksTable": len(deliveries),
            "WorkflowRunsTable": len(runs),
            "OutboxTable": len(outbox),
        }
        live = [r for r in runs if r.get("status") in _LIVE]
        if dry_run:
            return Erasure(
                key.location_id, key.contact_id, removed, len(live), dry_run=True, skipped=skipped
            )
        stopped = self._stop(key, live)
        # The outbox before the runs and messages its ids come from: a retry after a crash
        # part-way still finds them.
        self._outbox.delete_items(outbox)
        if self._runs is not None:
            self._runs.delete_items(runs)
        if self._webhooks is not None:
            self._webhooks.delete_items(deliveries)
        self._events.delete_items(events)
        if self._visitors is not None:
            self._visitors.delete_items(visitors)
        self._messages.delete_items(messages)
        if lead is not None:
            self._leads.delete(key)
        return Erasure(key.location_id, key.contact_id, removed, stopped, skipped=skipped)

    def _stop(self, key: LeadKey, live: list[dict[str, Any]]) -> int:
        """End the live runs (a step already queued then finds the run ended): conditional on
        each run's ``seq``, so a step taken at the same moment wins and the delete follows."""
        assert self._runs is not None or not live
        stopped = 0
        for run in live:
            target = {
                "locationId": key.location_id,
                "contactId": key.contact_id,
                "runId": run["runId"],
            }
            seq = int(run.get("seq") or 0)
            changes = {
                "status": "cancelled",
                "seq": seq + 1,
                "endReason": "lead erased",
                "dueAt": None,
                "dueBucket": None,
            }
            if self._runs is not None and self._runs.advance(target, seq, changes):
                stopped += 1
        return stopped
