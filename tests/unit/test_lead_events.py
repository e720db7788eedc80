"""How each GHL event changes a lead (pure functions: no AWS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ghl_ai.leads.events import behaviour_event_of, lead_changes, message_of
from ghl_ai.leads.models import sms_blocked
from ghl_ai.webhooks.events import GhlWebhook, parse_marketplace_webhook, parse_workflow_webhook
from tests.conftest import fixture_json
from tests.support import WORKFLOW_FIXTURE

NOW = datetime(2026, 11, 20, 15, 4, 5, tzinfo=UTC)


def event(name: str, **changes: Any) -> GhlWebhook:
    payload = {**fixture_json(name), **changes}
    raw = json.dumps(payload).encode()
    if name == WORKFLOW_FIXTURE:
        return parse_workflow_webhook(payload, raw)
    return parse_marketplace_webhook(payload, raw)


# --- lead record changes -------------------------------------------------------------------


def test_contact_create_copies_the_contact_and_lower_cases_tags() -> None:
    changes = lead_changes(event("contact_create.json"), NOW)
    assert changes.set["name"] == "John Deo"
    assert changes.set["email"] == "JohnDeo@gmail.comm"
    assert changes.set["phone"] == "+919509597501"
    assert changes.set["tags"] == ["id magna sed lorem", "duis dolor commodo aliqua"]
    assert changes.set["dnd"] is True
    assert changes.set["ghlDateAdded"] == "2021-11-26T12:41:02.193Z"
    assert changes.set["ghlCustomFields"] == {"BcdmQEsNgz6AVpgLVUJ0": "XYZ Corp"}
    assert changes.set_if_absent == {"createdAt": "2026-11-20T15:04:05Z"}
    assert changes.increments == {}


def test_empty_contact_fields_do_not_overwrite_what_we_know() -> None:
    changes = lead_changes(event("contact_update.json", email="", phone=None), NOW)
    assert "email" not in changes.set and "phone" not in changes.set
    assert changes.set["timezone"] == "America/Chicago"


def test_dnd_update_records_each_channel_status() -> None:
    changes = lead_changes(event("contact_dnd_update.json"), NOW)
    assert changes.set["dnd"] is True
    assert changes.set["dndChannels"] == {
        "SMS": "inactive",
        "Call": "inactive",
        "Email": "active",
        "GMB": "active",
        "FB": "active",
        "WhatsApp": "active",
    }


def test_inbound_message_counts_in_and_stamps_the_time_ghl_gave() -> None:
    changes = lead_changes(event("inbound_sms.json"), NOW)
    assert changes.increments == {"messagesIn": 1}
    assert changes.set["lastInboundAt"] == "2021-04-21T11:31:45.750000Z"
    assert changes.set["lastInboundChannel"] == "SMS"
    assert not any(key.startswith("lastOutbound") for key in changes.set)


def test_outbound_message_counts_out_and_leaves_inbound_alone() -> None:
    changes = lead_changes(event("outbound_sms.json"), NOW)
    assert changes.increments == {"messagesOut": 1}
    assert changes.set["lastOutboundAt"] == "2021-04-21T11:31:45.750000Z"
    assert not any(key.startswith("lastInbound") for key in changes.set)
    assert "lastHumanOutboundAt" not in changes.set  # no userId: an automation, not a person


@pytest.mark.parametrize(
    ("user_id", "source", "human"),
    [("u-1", "app", True), ("u-1", "api", False), (None, "app", False)],
)
def test_an_outbound_message_written_by_a_person_is_marked(
    user_id: str | None, source: str, human: bool
) -> None:
    changes = lead_changes(event("outbound_sms.json", userId=user_id, source=source), NOW)
    assert ("lastHumanOutboundAt" in changes.set) is human


def test_workflow_webhook_sets_tags_and_custom_data() -> None:
    changes = lead_changes(event(WORKFLOW_FIXTURE, tags="Buyer, Needs Qualifying"), NOW)
    assert changes.set["tags"] == ["buyer", "needs qualifying"]
    assert changes.set["workflowData"] == {"origem_knobler": "captura-012"}
    assert changes.set["lastWorkflowId"] == "d325be72-ae1d-490a-b6e7-62b404ecd35b"
    assert changes.set["name"] == "Knobler Captura012"
    assert changes.set["email"] == "knobler.captura012@example.com"


def test_opportunity_stage_update_records_the_stage() -> None:
    changes = lead_changes(event("opportunity_stage_update.json"), NOW)
    assert changes.set["opportunity"] == {
        "id": "wWhVuzqpRuOA1ZVWi4FC",
        "pipelineId": "VDm7RPYC2GLUvdpKmBfC",
        "stageId": "e93ba61a-53b3-45e7-985a-c7732dbcdb69",
        "status": "open",
        "monetaryValue": 40,
    }


def test_appointment_create_records_the_appointment() -> None:
    changes = lead_changes(event("appointment_create.json"), NOW)
    assert changes.set["appointment"]["calendarId"] == "BqTwX8QFwXzpegMve9EQ"
    assert changes.set["appointment"]["appointmentStatus"] == "confirmed"


@pytest.mark.parametrize("name", ["note_create.json", "unknown_event.json"])
def test_events_that_change_no_lead_produce_no_changes(name: str) -> None:
    assert not lead_changes(event(name), NOW)


# --- messages ------------------------------------------------------------------------------


def test_an_inbound_sms_becomes_a_message_with_its_text() -> None:
    message = message_of(event("inbound_sms.json"), NOW)
    assert message is not None
    assert (message.direction, message.channel, message.body) == (
        "inbound",
        "SMS",
        "This is a test message",
    )
    assert message.sent_at == datetime(2021, 4, 21, 11, 31, 45, 750000, tzinfo=UTC)
    assert message.conversation_id == "fcanlLgpbQgQhderivVs"


def test_a_call_without_text_is_described_by_its_status_and_duration() -> None:
    message = message_of(event("inbound_call.json"), NOW)
    assert message is not None
    assert message.body == "[call completed, 120s]"
    assert message.message_id == "tyW42xCD0HQpb3hhfLcx"


def test_an_email_keeps_its_email_message_id() -> None:
    message = message_of(event("inbound_email.json"), NOW)
    assert message is not None and message.message_id == "sddfDSF3G56GHG"


@pytest.mark.parametrize("name", ["contact_create.json", WORKFLOW_FIXTURE, "note_create.json"])
def test_non_message_events_carry_no_message(name: str) -> None:
    assert message_of(event(name), NOW) is None


# --- behaviour events ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "data"),
    [
        ("inbound_sms.json", "message_in", {"channel": "SMS"}),
        ("outbound_sms.json", "message_out", {"channel": "SMS"}),
        ("contact_create.json", "lead_created", {}),
        ("appointment_create.json", "appointment_booked", {}),
        (
            "opportunity_stage_update.json",
            "opportunity_stage",
            {"stageId": "e93ba61a-53b3-45e7-985a-c7732dbcdb69", "status": "open"},
        ),
        (
            WORKFLOW_FIXTURE,
            "workflow_trigger",
            {"workflowId": "d325be72-ae1d-490a-b6e7-62b404ecd35b"},
        ),
    ],
)
def test_behaviour_events_by_type(name: str, kind: str, data: dict[str, Any]) -> None:
    webhook = event(name)
    behaviour = behaviour_event_of(webhook, NOW)
    assert behaviour is not None
    assert (behaviour.type, behaviour.data) == (kind, data)
    assert behaviour.event_id == webhook.dedupe_key
    assert behaviour.lead.contact_id == webhook.contact_id


def test_a_behaviour_event_is_dated_when_it_happened_not_when_received() -> None:
    behaviour = behaviour_event_of(event("inbound_sms.json"), NOW)
    assert behaviour is not None and behaviour.timestamp.year == 2021


@pytest.mark.parametrize(
    "name", ["contact_update.json", "contact_delete.json", "note_create.json", "unknown_event.json"]
)
def test_events_without_behaviour_meaning_produce_none(name: str) -> None:
    assert behaviour_event_of(event(name), NOW) is None


# --- DND -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lead", "channel", "blocked"),
    [
        ({"dnd": True, "dndChannels": {"SMS": "inactive"}}, "SMS", True),
        ({"dnd": False, "dndChannels": {"SMS": "active"}}, "SMS", True),
        ({"dnd": False, "dndChannels": {"SMS": "permanent"}}, "SMS", True),
        ({"dnd": False, "dndChannels": {"SMS": "Active"}}, "SMS", True),
        ({"dnd": False, "dndChannels": {"SMS": "inactive"}}, "SMS", False),
        ({"dnd": False, "dndChannels": {"Email": "active"}}, "SMS", False),
        ({"dnd": False, "dndChannels": {"Email": "active"}}, "Email", True),
        ({}, "SMS", False),
    ],
)
def test_sms_blocked(lead: dict[str, Any], channel: str, blocked: bool) -> None:
    assert sms_blocked(lead, channel) is blocked


def test_dnd_fixture_blocks_every_channel_because_dnd_is_on() -> None:
    changes = lead_changes(event("contact_dnd_update.json"), NOW)
    lead = changes.set
    assert all(sms_blocked(lead, channel) for channel in ("SMS", "Call", "Email", "WhatsApp"))


def test_dnd_off_blocks_only_the_channels_marked_active() -> None:
    changes = lead_changes(event("contact_dnd_update.json", dnd=False), NOW)
    lead = changes.set
    assert not sms_blocked(lead, "SMS")
    assert not sms_blocked(lead, "Call")
    assert sms_blocked(lead, "Email")
    assert sms_blocked(lead, "WhatsApp")
