"""Scoring the churn sweep's chunks: every lead of every location scored for churn risk once a
day, re-engagement plays started for those slipping away.

**Fan-out.** ``ChurnSweep`` (``churn/sweep.py``; ChurnSweepFunction, on an EventBridge
schedule) pages through each location's leads — a keys-and-one-attribute projection, ``PAGE``
leads per Query — and queues them as :class:`~ghl_ai.jobs.ChurnChunkJob` chunks of ``CHUNK`` on
the churn queue, ten chunks per SQS call. :class:`ChurnScorer` (ChurnScoreFunction, many at
once) scores a chunk: one BatchGetItem, the three horizons' models over the whole chunk in
numpy, then per lead the GHL write-back (only what changed), the play, and one conditional write
of the result. So a sweep of hundreds of thousands of leads is spread over Lambda concurrency,
not one long invocation.

**Idempotent per (location, day).** The result is stored with its day and only if that day's is
not stored yet; a lead already scored today is skipped by the sweep (it reads ``churn.day``) and
by the scorer (it reads it again). A re-run sweep, a redelivered chunk or two workers racing on
one chunk score each lead once. The GHL write-back and the play are made before the result is
stored, so a crash in between repeats them: the write-back sets the same values, and the play's
start is named by the lead and the day (the workflow engine starts one run per name).

**What a lead reads.** Its ``activity`` summary (``churn/activity.py``), kept up to date by the
ScoringFunction as its events arrive — never its event history. A lead without one (it predates
the summary) has its events read once, and the summary made then is stored with the result; a
lead with no event at all is marked scored for the day (no risk: ``churn`` holds only the day).

**Plays.** A lead whose tier rose into an actionable one (``risk.ACTIONABLE``: high, critical)
since its last sweep — or is scored for the first time in one — fires the ``churn_risk`` trigger
(``workflows/triggers.py``); the built-in ``re_engage`` workflow then assigns the random holdout
or a play (see its definition). The workflow engine applies the frequency caps, quiet hours, the
opt-out / DND / hand-off guardrails and stop-on-reply, and never runs two of it for one lead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore
from ghl_ai.behaviour.features import stream_from_items
from ghl_ai.churn.activity import Activity
from ghl_ai.churn.risk import ACTIONABLE, TIERS, ChurnPredictor, ChurnRisk
from ghl_ai.conversation.writeback import GhlWriteBack
from ghl_ai.errors import GhlApiError
from ghl_ai.jobs import ChurnChunkJob
from ghl_ai.leads.models import LeadKey
from ghl_ai.observability import logger
from ghl_ai.webhooks.events import utcnow
from ghl_ai.workflows.triggers import WorkflowStarter

TIER_TAGS: dict[str, str] = {tier: f"churn-risk-{tier}" for tier, _ in TIERS}
#: Lead flags that keep a lead out of the plays (the conversation's guardrails).
NO_PLAY = ("optedOut", "dnd", "handedOff")


@dataclass
class ChurnOutcome:
    contact_id: str
    tier: str | None = None
    d30: float | None = None
    written: list[str] = field(default_factory=list)  # what went to GHL
    plays: list[str] = field(default_factory=list)  # workflows triggered
    detail: str = ""


class ChurnScorer:
    def __init__(
        self,
        *,
        leads: LeadStore,
        events: BehaviourEventStore,
        predictors: Callable[[str], ChurnPredictor],
        writeback: GhlWriteBack | None,
        workflows: WorkflowStarter | None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._leads = leads
        self._events = events
        self._predictors = predictors
        self._writeback = writeback
        self._workflows = workflows
        self._clock = clock

    def handle(self, job: ChurnChunkJob) -> list[ChurnOutcome]:
        location = job.location_id
        now = self._clock()
        at = now.timestamp()
        stored = self._leads.get_many(location, job.contacts)
        outcomes: list[ChurnOutcome] = []
        todo: list[tuple[dict[str, Any], Activity, bool]] = []
        for contact in job.contacts:
            lead = stored.get(contact)
            if lead is None:
                outcomes.append(ChurnOutcome(contact, detail="no such lead"))
                continue
            if (lead.get("churn") or {}).get("day") == job.day:
                outcomes.append(ChurnOutcome(contact, detail="already scored today"))
                continue
            activity, made = self._activity(LeadKey(location, contact), lead, at)
            if activity is None:
                # Nothing to score; marked for the day so a re-run does not queue it again.
                self._leads.save_churn(LeadKey(location, contact), {"day": job.day, "scoredAt": at})
                outcomes.append(ChurnOutcome(contact, detail="no events"))
                continue
            todo.append((lead, activity, made))
        risks = self._predictors(location).predict([a for _, a, _ in todo], at)
        for (lead, activity, made), risk in zip(todo, risks, strict=True):
            key = LeadKey(location, str(lead["contactId"]))
            outcome = self._apply(key, lead, risk, job.day, at)
            state = risk.as_state(at, job.day)
            if not self._leads.save_churn(key, state, activity.as_state() if made else None):
                outcome.detail = "scored by another worker first"
            outcomes.append(outcome)
        return outcomes

    def _activity(
        self, key: LeadKey, lead: dict[str, Any], at: float
    ) -> tuple[Activity | None, bool]:
        """The lead's summary, and whether it was made now (from its events: a lead that
        predates summaries)."""
        state = lead.get("activity")
        if isinstance(state, dict) and state.get("at") is not None:
            return Activity.from_state(state), False
        items = self._events.for_lead(key)
        if not items:
            return None, False
        return Activity.of(stream_from_items(items), at), True

    def _apply(
        self, key: LeadKey, lead: dict[str, Any], risk: ChurnRisk, day: str, at: float
    ) -> ChurnOutcome:
        outcome = ChurnOutcome(key.contact_id, risk.tier, risk.d30)
        previous = (lead.get("churn") or {}).get("tier")
        # Written when the tier changes; a lead first scored low is left as it is (an empty
        # Churn Risk field reads as no risk), so a first sweep writes only the leads at risk.
        changed = previous != risk.tier and not (previous is None and risk.tier == "low")
        if self._writeback is not None and changed:
            try:
                self._writeback.write_fields(
                    key.location_id, key.contact_id, {}, {"churn_risk": risk.tier}
                )
                self._writeback.add_tags(key.contact_id, TIER_TAGS[risk.tier])
                if previous in TIER_TAGS:
                    self._writeback.remove_tags(key.contact_id, TIER_TAGS[previous])
                outcome.written = ["Churn Risk", "tags"]
            except GhlApiError as exc:
                if exc.status not in (400, 404):
                    raise
                logger.warning(
                    "contact not found in GHL; churn risk kept, nothing written",
                    extra={"location_id": key.location_id, "contact_id": key.contact_id},
                )
        if risk.tier not in ACTIONABLE or previous in ACTIONABLE or self._workflows is None:
            return outcome
        if any(lead.get(flag) for flag in NO_PLAY):
            # Never worked: and kept out of the plays' A/B counts, where it could not respond.
            outcome.detail = "no play: " + ", ".join(f for f in NO_PLAY if lead.get(f))
        else:
            score = (lead.get("score") or {}).get("value")
            context = {
                "alert": "; ".join(risk.reasons),
                "score": "" if score is None else str(score),
            }
            outcome.plays = self._workflows.fire(
                key, "churn_risk", f"{key.contact_id}:{day}", context
            )
        return outcome


def summarise(outcomes: Iterable[ChurnOutcome]) -> dict[str, int]:
    """Counts per tier and of plays, for logs and the CLI."""
    counts: dict[str, int] = {tier: 0 for tier, _ in TIERS}
    counts["plays"] = counts["skipped"] = 0
    for o in outcomes:
        if o.tier is None:
            counts["skipped"] += 1
            continue
        counts[o.tier] += 1
        counts["plays"] += bool(o.plays)
    return counts
