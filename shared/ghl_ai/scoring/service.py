"""The ScoringFunction's work: for each scoring job, stitch identified visitors, rescore the
leads whose streams changed, write the score to GHL when it changed, and fire alerts.

Per lead, in order:

1. its whole event stream (one paginated query) → the catalogue's features at now;
2. the score, its temperature and reasons (``scoring/score.py``), from the model layer's
   ``lead_score`` and the lead's qualification answers;
3. GHL write-back only of what changed since the last score: *AI Score* and *Lead
   Temperature* in one custom-field update, the temperature tags (the current one added, the
   other two removed);
4. alerts (``scoring/alerts.py``): tag + task, at most once per rule within its cool-down;
5. the score saved on the lead record, with the lead's activity summary (what the churn sweep
   reads: ``churn/activity.py``) — last, so a failed GHL write is retried from the same
   previous state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ghl_ai import effects
from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore, OutboxStore
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.behaviour.features import compute, stream_from_items
from ghl_ai.behaviour.stitching import Stitcher
from ghl_ai.churn.activity import Activity
from ghl_ai.conversation.qualification import stored_answers
from ghl_ai.conversation.writeback import GhlWriteBack
from ghl_ai.errors import GhlApiError
from ghl_ai.jobs import ScoringJob
from ghl_ai.leads.models import LeadChanges, LeadKey, lead_name
from ghl_ai.observability import logger
from ghl_ai.scoring.alerts import Alert, AlertRule, InvalidAlertRules, evaluate, rules_for
from ghl_ai.scoring.score import LeadScore, Scorer
from ghl_ai.tenants import TenantDirectory
from ghl_ai.webhooks.events import utcnow
from ghl_ai.workflows.triggers import WorkflowStarter


@dataclass
class LeadOutcome:
    contact_id: str
    score: int | None = None
    temperature: str | None = None
    written: list[str] = field(default_factory=list)  # what went to GHL
    alerts: list[str] = field(default_factory=list)  # rules fired
    detail: str = ""


class ScoringService:
    def __init__(
        self,
        *,
        leads: LeadStore,
        events: BehaviourEventStore,
        stitcher: Stitcher,
        outbox: OutboxStore,
        tenants: TenantDirectory,
        scorers: Callable[[str], Scorer],
        ghl: GhlClient | None,
        workflows: WorkflowStarter | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._leads = leads
        self._events = events
        self._stitcher = stitcher
        self._outbox = outbox
        self._tenants = tenants
        #: The lead-score model of a location (its own once retrained, else the default).
        self._scorers = scorers
        self._ghl = ghl
        self._writeback = GhlWriteBack(ghl) if ghl is not None else None
        self._clock = clock
        #: Starts the workflows a hot score or an alert triggers.
        self._workflows = workflows

    def handle(self, job: ScoringJob) -> list[LeadOutcome]:
        location = job.location_id
        contacts = set(job.contacts)
        now = self._clock()
        for identity in job.identities:
            self._stitcher.identify(
                location, identity.visitor_id, identity.contact_id, identity.source, now
            )
            contacts.add(identity.contact_id)
        for visitor in job.visitors:
            contact = self._stitcher.attach(location, visitor)
            if contact is not None:
                contacts.add(contact)
        return [self.rescore(LeadKey(location, contact)) for contact in sorted(contacts)]

    def rescore(self, key: LeadKey) -> LeadOutcome:
        outcome = LeadOutcome(key.contact_id)
        lead = self._leads.get(key) or {}
        items = self._events.for_lead(key)
        if not items and not lead:
            outcome.detail = "no events"
            return outcome
        now = self._clock()
        stream = stream_from_items(items)
        features, context = compute(stream, now.timestamp())
        answers = stored_answers(lead.get("answers"))
        scorer = self._scorers(key.location_id)
        score = scorer.score(features, context, lead.get("intent"), answers, now)
        outcome.score, outcome.temperature = score.value, score.temperature
        changes = LeadChanges(set={"score": score.as_state()}, set_if_absent={"createdAt": now})
        activity = Activity.of(stream, now.timestamp())
        if activity is not None:
            # What the daily churn sweep reads instead of the history (churn/activity.py).
            changes.set["activity"] = activity.as_state()
        if self._writeback is not None:
            try:
                previous = lead.get("score") or {}
                outcome.written = self._write_back(key, previous, score)
                rules = self._rules(key.location_id)
                for alert in evaluate(rules, stream, features, context, now.timestamp()):
                    if self._fire(key, lead, alert, score, now, changes):
                        outcome.alerts.append(alert.rule.name)
                        self._start_workflows(key, "behaviour_alert", alert, score, now)
                if score.temperature == "hot" and previous.get("temperature") != "hot":
                    self._start_workflows(key, "score_hot", None, score, now)
            except GhlApiError as exc:
                if exc.status not in (400, 404):
                    raise
                # The website named a contact GHL does not have (yet): keep the score, write
                # nothing; the next rescore tries again.
                logger.warning(
                    "contact not found in GHL; score kept, nothing written",
                    extra={"location_id": key.location_id, "contact_id": key.contact_id},
                )
        self._leads.apply(key, changes)
        return outcome

    def _start_workflows(
        self, key: LeadKey, event: str, alert: Alert | None, score: LeadScore, now: datetime
    ) -> None:
        if self._workflows is None:
            return
        reasons = "; ".join(score.reasons)
        context = {"score": str(score.value), "alert": alert.detail if alert else reasons}
        cause = (
            alert.id(key.location_id, key.contact_id) if alert else f"{key.contact_id}:{now:%Y%m%d}"
        )
        rule = alert.rule.name if alert else None
        self._workflows.fire(key, event, cause, context, rule=rule)

    def _rules(self, location_id: str) -> dict[str, AlertRule]:
        try:
            return rules_for(self._tenants.profile(location_id).alert_rules)
        except InvalidAlertRules as exc:
            # A typo in the settings must not stop scoring: the default rules apply.
            logger.error(
                "alert rules invalid; the defaults apply",
                extra={"location_id": location_id, "reason": str(exc)},
            )
            return rules_for("")

    def _write_back(self, key: LeadKey, previous: dict[str, Any], score: LeadScore) -> list[str]:
        assert self._writeback is not None
        values: dict[str, Any] = {}
        if previous.get("value") != score.value:
            values["score"] = score.value
        if previous.get("temperature") != score.temperature:
            values["temperature"] = score.temperature
        if not values:
            return []
        written = list(self._writeback.write_fields(key.location_id, key.contact_id, {}, values))
        if "temperature" in values:
            self._writeback.set_temperature_tag(key.contact_id, score.temperature)
            written.append("tags")
        return written

    def _name(self, key: LeadKey, lead: dict[str, Any], changes: LeadChanges) -> str:
        """The lead's name for a task title: ours, else GHL's (kept on the lead from then on)."""
        name = lead_name(lead) or lead_name(changes.set)
        if name:
            return name
        assert self._ghl is not None
        contact = self._ghl.get_contact(key.contact_id)
        for attribute in ("firstName", "lastName"):
            if contact.get(attribute):
                changes.set[attribute] = contact[attribute]
        return lead_name(changes.set) or str(contact.get("contactName") or "A lead")

    def _fire(
        self,
        key: LeadKey,
        lead: dict[str, Any],
        alert: Alert,
        score: LeadScore,
        now: datetime,
        changes: LeadChanges,
    ) -> bool:
        rule: AlertRule = alert.rule
        alert_id = alert.id(key.location_id, key.contact_id)
        last = lead.get(f"alert_{rule.name}")
        if isinstance(last, dict) and last.get("done"):
            recent = now.timestamp() - float(last.get("at") or 0) < rule.cooldown_hours * 3600
            if recent or last.get("id") == alert_id:
                return False  # known from the record we read: no write needed to learn it
        claimed = self._leads.claim_alert(
            key, rule.name, alert_id, now.timestamp(), rule.cooldown_hours * 3600
        )
        if not claimed:
            return False
        assert self._ghl is not None and self._writeback is not None
        ghl = self._ghl
        if rule.tag:
            self._writeback.add_tags(key.contact_id, rule.tag)
        name = self._name(key, lead, changes)
        title = rule.title.format(name=name, detail=alert.detail)
        body = f"Lead score {score.value} ({score.temperature}): " + "; ".join(score.reasons)
        contact = key.contact_id
        if rule.task == "task":
            effects.create_task(
                self._outbox,
                ghl,
                f"task:{alert_id}",
                key,
                title,
                now + timedelta(hours=1),
                body,
                now,
            )
        elif rule.task == "notify":
            effects.add_note(self._outbox, ghl, f"note:{alert_id}", key, f"{title}. {body}", now)
        self._leads.finish_alert(key, rule.name)
        logger.info(
            "alert fired",
            extra={"location_id": key.location_id, "contact_id": contact, "rule": rule.name},
        )
        return True
