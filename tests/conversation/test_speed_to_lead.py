"""Speed to lead: a website form, a new GHL contact or the activation tag starts qualification
with a first message at once (inside the quiet-hours-safe window)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.ghl_standin import GhlStandIn
from tests.conftest import LOCATION_ID, Stack
from tests.conversation.driver import Conversation, configure, new_lead
from tests.integration.test_forms import post_form


@pytest.fixture
def ghl(monkeypatch: pytest.MonkeyPatch) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        configure(monkeypatch, standin)
        yield standin


FORM: dict[str, Any] = {
    "name": "Priya Shah",
    "email": "Priya@Example.com",
    "phone": "(512) 555-0142",
    "message": "Is the Mueller townhouse still available?",
    "intent": "buy",
    "budget": "$500k",
    "timeline": "3 months",
    "listing_id": "ATX-1029",
    "listing_address": "1902 Aldrich St",
    "consent": "on",
    "source_page": "https://jorge.example/listings/atx-1029",
    "utm_source": "google",
    "utm_campaign": "spring-buyers",
}


def test_a_form_with_consent_upserts_the_contact_and_texts_within_the_same_run(
    stack: Stack, ghl: GhlStandIn
) -> None:
    assert post_form(FORM).status == 202
    stack.run_worker()
    (upsert,) = ghl.calls_to("POST", "/contacts/upsert")
    assert upsert.json["phone"] == "+15125550142"
    assert upsert.json["email"] == "priya@example.com"
    assert upsert.json["source"] == "Lyrio website"
    assert {"lyrio", "website-lead", "intent-buy"} <= set(upsert.json["tags"])
    contact_id = next(iter(ghl.contacts))
    c = Conversation(stack, ghl, contact_id)
    (first,) = c.new_sms()
    # Budget and timeline came with the form: the first question is the next unanswered one.
    assert first == (
        "Hi Priya, this is Jorge with Sunbelt Realty. Thanks for reaching out about 1902 "
        "Aldrich St! Which areas or neighborhoods are you looking in? Reply STOP to opt out."
    )
    lead = c.lead()
    assert lead["answers"]["budget"]["source"] == "form"
    events = [e for e in stack.scan("EventsTable") if e["type"] == "form_submission"]
    assert len(events) == 1 and events[0]["propertyId"] == "ATX-1029"
    assert events[0]["data"]["utmCampaign"] == "spring-buyers"


def test_a_form_without_consent_creates_the_contact_but_sends_nothing(
    stack: Stack, ghl: GhlStandIn
) -> None:
    assert post_form({**FORM, "consent": "false"}).status == 202
    stack.run_worker()
    assert len(ghl.calls_to("POST", "/contacts/upsert")) == 1
    assert ghl.calls_to("POST", "/conversations/messages") == []


def test_a_new_contact_in_ghl_gets_a_first_message(stack: Stack, ghl: GhlStandIn) -> None:
    c = new_lead(stack, ghl)
    (first,) = c.contact_created()
    assert "Jorge with Sunbelt Realty" in first and first.endswith("Reply STOP to opt out.")
    (opportunity,) = ghl.opportunities.values()
    assert opportunity["pipelineStageId"] == "stage-contacted"


def test_the_activation_tag_in_a_workflow_webhook_starts_qualification(
    stack: Stack, ghl: GhlStandIn
) -> None:
    c = new_lead(stack, ghl)
    body = {
        "contact_id": c.contact_id,
        "first_name": "Maria",
        "phone": "+15125550100",
        "tags": "vip, Needs Qualifying",
        "location": {"id": LOCATION_ID},
        "workflow": {"id": "wf-1", "name": "Qualify new leads"},
    }
    assert stack.post_workflow(body).status == 200
    (first,) = c.run()
    assert first.startswith("Hi Maria, this is Jorge")
    # Firing the workflow again does not text the lead twice.
    assert stack.post_workflow({**body, "workflow": {"id": "wf-2"}}).status == 200
    assert c.run() == []
