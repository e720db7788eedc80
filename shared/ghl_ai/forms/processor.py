"""The worker's side of a Lyrio form: upsert the GHL contact, record the submission on the lead
(state and behaviour event), pre-fill what the form already answered, and start qualification
— only when the lead consented to be texted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.conversation.extract import extract
from ghl_ai.conversation.model import Answer, FieldName
from ghl_ai.jobs import LyrioFormJob
from ghl_ai.leads.models import BehaviourEvent, LeadChanges, LeadKey
from ghl_ai.webhooks.events import utcnow

FORM_SOURCE = "Lyrio website"
FORM_TAGS = ("lyrio", "website-lead")


class FormProcessor:
    def __init__(
        self,
        ghl: GhlClient,
        leads: LeadStore,
        events: BehaviourEventStore,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._ghl = ghl
        self._leads = leads
        self._events = events
        self._clock = clock

    def handle(self, job: LyrioFormJob) -> tuple[LeadKey, dict[str, Any]]:
        """Returns the lead and the context for a first message."""
        form, now = job.form, self._clock()
        tags = list(FORM_TAGS) + ([f"intent-{form.intent}"] if form.intent else [])
        fields: dict[str, Any] = {
            "firstName": form.first,
            "lastName": form.last,
            "email": form.email,
            "phone": form.phone,
            "source": FORM_SOURCE,
            "tags": tags,
        }
        result = self._ghl.upsert_contact(
            job.location_id, {k: v for k, v in fields.items() if v is not None}
        )
        contact = result.get("contact") or {}
        key = LeadKey(job.location_id, str(contact["id"]))

        answers: dict[str, dict[str, Any]] = {}
        prefilled: tuple[tuple[FieldName, str | None], ...] = (
            ("budget", form.budget),
            ("timeline", form.timeline),
        )
        for name, text in prefilled:
            if text:
                found = extract(text, today=now.date(), expecting=name).answers.get(name)
                if found is not None:
                    answers[name] = Answer(
                        value=found.value, confidence=0.9, source="form"
                    ).model_dump()
        lead_fields = {k: v for k, v in fields.items() if v is not None and k != "tags"}
        changes = LeadChanges(
            set={**lead_fields, "formConsent": form.consent, "lastFormAt": now},
            set_if_absent={"createdAt": now, "tags": [t.lower() for t in tags]},
        )
        if form.intent:
            changes.set_if_absent["intent"] = form.intent
            changes.set_if_absent["intentConfidence"] = 0.9
        if answers:
            changes.set_if_absent["answers"] = answers
        if form.listing_id:
            changes.set["listingOfInterest"] = form.listing_id
        self._leads.apply(key, changes)
        self._events.put(
            BehaviourEvent(
                lead=key,
                type="form_submission",
                timestamp=job.received_at,
                event_id=job.id,
                source="lyrio",
                property_id=form.listing_id,
                data={
                    k: v
                    for k, v in {
                        "intent": form.intent,
                        "sourcePage": form.source_page,
                        "utmSource": form.utm_source,
                        "utmMedium": form.utm_medium,
                        "utmCampaign": form.utm_campaign,
                        "utmTerm": form.utm_term,
                        "utmContent": form.utm_content,
                        "consent": form.consent,
                    }.items()
                    if v is not None
                },
            )
        )
        context = {"first_name": form.first, "listing": form.listing_address or None}
        if form.message:
            context["form_message"] = form.message
        return key, context
