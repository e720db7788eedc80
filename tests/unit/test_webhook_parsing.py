"""GHL payloads → GhlWebhook: every documented shape, and the errors a sender gets back."""

from __future__ import annotations

import json

import pytest

from ghl_ai.errors import MalformedBody, SchemaError
from ghl_ai.webhooks.events import (
    GhlWebhook,
    parse_json,
    parse_marketplace_webhook,
    parse_workflow_webhook,
    workflow_location_id,
)
from tests.conftest import fixture_bytes, fixture_json
from tests.support import EXPECTED, WORKFLOW_FIXTURE, all_fixtures


def parse(name: str) -> GhlWebhook:
    raw = fixture_bytes(name)
    if name == WORKFLOW_FIXTURE:
        return parse_workflow_webhook(json.loads(raw), raw)
    return parse_marketplace_webhook(json.loads(raw), raw)


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(EXPECTED) == all_fixtures()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_parses_to_the_fields_ghl_sent(name: str) -> None:
    expected = EXPECTED[name]
    event = parse(name)
    assert (
        event.type,
        event.location_id,
        event.contact_id,
        event.direction,
        event.channel,
        event.message_id,
    ) == (
        expected.type,
        expected.location_id,
        expected.contact_id,
        expected.direction,
        expected.channel,
        expected.message_id,
    )
    if expected.dedupe_key:
        assert event.dedupe_key == expected.dedupe_key
    elif expected.route == "workflow":
        assert event.dedupe_key.startswith(f"wf:{expected.location_id}:")
    else:
        assert event.dedupe_key.startswith("body:")


def test_the_data_wrapped_variant_reads_like_the_flat_one() -> None:
    wrapped = parse("inbound_sms_data_wrapped.json")
    assert wrapped.payload["body"] == "Hi, is the house on Maple still available?"
    assert wrapped.payload["webhookId"] == "6f1c1a52-9a43-4c8e-9f27-3b2d2f0d7a11"
    assert "data" not in wrapped.payload
    assert wrapped.occurred_at is not None and wrapped.occurred_at.year == 2026  # envelope time


def test_a_webhook_id_keys_the_delivery_even_when_the_body_differs() -> None:
    """GHL retries carry the same webhookId: that, not the bytes, identifies the delivery."""
    payload = fixture_json("inbound_sms_data_wrapped.json")
    first = parse_marketplace_webhook(payload, json.dumps(payload).encode())
    spaced = json.dumps(payload, indent=4).encode()
    assert parse_marketplace_webhook(payload, spaced).dedupe_key == first.dedupe_key


def test_identical_bodies_without_ids_share_a_key_and_different_bodies_do_not() -> None:
    raw = fixture_bytes("contact_update.json")
    payload = json.loads(raw)
    other = {**payload, "timezone": "America/New_York"}
    other_raw = json.dumps(other).encode()
    same = parse_marketplace_webhook(payload, raw).dedupe_key
    assert parse_marketplace_webhook(payload, raw).dedupe_key == same
    assert parse_marketplace_webhook(other, other_raw).dedupe_key != same


def test_contact_events_take_the_contact_id_from_id() -> None:
    event = parse("contact_create.json")
    assert event.contact_id == fixture_json("contact_create.json")["id"]


def test_appointment_events_take_the_contact_from_the_nested_appointment() -> None:
    event = parse("appointment_create.json")
    assert event.contact_id == "9NkT25Vor1v4aQatFsv2"
    assert event.payload["appointment"]["calendarId"] == "BqTwX8QFwXzpegMve9EQ"


@pytest.mark.parametrize(
    ("name", "to"),
    [
        ("inbound_email.json", "someone@example.com"),
        ("inbound_email_to_list.json", ["agent@example.com", "team@example.com"]),
    ],
)
def test_email_to_is_accepted_as_a_string_or_a_list(name: str, to: object) -> None:
    event = parse(name)
    assert event.channel == "Email"
    assert event.payload["to"] == to


def test_the_channel_falls_back_to_message_type_string() -> None:
    payload = {**fixture_json("inbound_sms.json"), "messageType": None}
    raw = json.dumps(payload).encode()
    assert parse_marketplace_webhook(payload, raw).channel == "SMS"


def test_direction_is_case_insensitive() -> None:
    payload = {**fixture_json("inbound_sms.json"), "direction": "Inbound"}
    assert parse_marketplace_webhook(payload, json.dumps(payload).encode()).direction == "inbound"


# --- workflow "Webhook" action -------------------------------------------------------------


def test_workflow_tags_arrive_as_a_comma_separated_string_and_become_a_list() -> None:
    payload = {**fixture_json(WORKFLOW_FIXTURE), "tags": " needs qualifying, Buyer ,,hot-lead "}
    event = parse_workflow_webhook(payload, json.dumps(payload).encode())
    assert event.payload["tags"] == ["needs qualifying", "Buyer", "hot-lead"]


def test_the_workflow_fixture_keeps_its_tag_custom_data_and_location() -> None:
    event = parse(WORKFLOW_FIXTURE)
    assert event.payload["tags"] == ["knobler-captura"]
    assert event.payload["customData"] == {"origem_knobler": "captura-012"}
    assert event.location_id == "t9Ww7bY1xJJ6ThFHZVPC"
    assert event.type == "WorkflowWebhook"


@pytest.mark.parametrize("tags", ["", None])
def test_workflow_without_tags_has_an_empty_tag_list(tags: str | None) -> None:
    payload = {**fixture_json(WORKFLOW_FIXTURE), "tags": tags}
    assert parse_workflow_webhook(payload, json.dumps(payload).encode()).payload["tags"] == []


def test_the_same_workflow_body_from_two_locations_is_two_deliveries() -> None:
    payload = fixture_json(WORKFLOW_FIXTURE)
    other = {**payload, "location": {**payload["location"], "id": "another-location"}}
    first = parse_workflow_webhook(payload, json.dumps(payload).encode())
    second = parse_workflow_webhook(other, json.dumps(other).encode())
    assert first.dedupe_key != second.dedupe_key


@pytest.mark.parametrize(
    ("payload", "location"),
    [
        ({"location": {"id": "abc"}}, "abc"),
        ({"location": {"id": ""}}, None),
        ({"location": "abc"}, None),
        ({}, None),
        ([], None),
    ],
)
def test_workflow_location_id_is_only_a_non_empty_location_id(
    payload: object, location: str | None
) -> None:
    assert workflow_location_id(payload) == location


def test_a_workflow_body_without_contact_id_names_the_field() -> None:
    payload = {k: v for k, v in fixture_json(WORKFLOW_FIXTURE).items() if k != "contact_id"}
    with pytest.raises(SchemaError) as caught:
        parse_workflow_webhook(payload, b"{}")
    assert any(problem.startswith("contact_id") for problem in caught.value.problems)


# --- errors --------------------------------------------------------------------------------


def test_malformed_json_names_the_position_and_not_the_content() -> None:
    raw = b'{"phone": "+15551234567",, }'
    with pytest.raises(MalformedBody) as caught:
        parse_json(raw)
    message = str(caught.value)
    second_comma_column = raw.index(b",,") + 2  # 1-based
    assert "not valid JSON" in message
    assert f"line 1 column {second_comma_column}" in message
    assert "+15551234567" not in message


@pytest.mark.parametrize("raw", [b"", b"  \n\t"], ids=["empty", "whitespace"])
def test_an_empty_body_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedBody, match="empty"):
        parse_json(raw)


def test_a_body_that_is_not_utf8_is_malformed() -> None:
    with pytest.raises(MalformedBody, match="UTF-8"):
        parse_json(b'{"body": "\xff\xfe"}')


@pytest.mark.parametrize("payload", [[], [1, 2], "text", 42, None])
def test_a_body_that_is_not_an_object_is_a_schema_error(payload: object) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_marketplace_webhook(payload, b"")
    assert caught.value.problems == ["body: expected a JSON object"]


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("contactId", None, "contactId"),
        ("locationId", None, "locationId"),
        ("type", None, "type"),
        ("type", "  ", "type"),
        ("direction", "sideways", "direction"),
        ("direction", None, "direction"),
    ],
)
def test_an_inbound_message_with_a_bad_field_names_that_field(
    field: str, value: object, named: str
) -> None:
    payload = fixture_json("inbound_sms.json")
    if value is None:
        del payload[field]
    else:
        payload[field] = value
    with pytest.raises(SchemaError) as caught:
        parse_marketplace_webhook(payload, json.dumps(payload).encode())
    assert [p.split(":")[0] for p in caught.value.problems] == [named]


def test_a_contact_event_without_id_is_a_schema_error() -> None:
    payload = {k: v for k, v in fixture_json("contact_create.json").items() if k != "id"}
    with pytest.raises(SchemaError) as caught:
        parse_marketplace_webhook(payload, b"")
    assert [p.split(":")[0] for p in caught.value.problems] == ["id"]


def test_an_appointment_without_its_contact_names_the_nested_field() -> None:
    payload = fixture_json("appointment_create.json")
    del payload["appointment"]["contactId"]
    with pytest.raises(SchemaError) as caught:
        parse_marketplace_webhook(payload, b"")
    assert [p.split(":")[0] for p in caught.value.problems] == ["appointment.contactId"]


def test_an_unknown_type_is_parsed_without_requiring_a_contact() -> None:
    event = parse("unknown_event.json")
    assert not event.is_known and not event.needs_work
    assert event.payload["invoiceId"] == "inv_123"


def test_a_documented_type_without_work_is_known_but_needs_none() -> None:
    event = parse("note_create.json")
    assert event.is_known and not event.needs_work
