"""The intake API: every GHL shape accepted on its route, bad bodies refused with a useful
message, repeated deliveries stored and enqueued once."""

from __future__ import annotations

import json
import time

import pytest

from functions.intake import app as intake_app
from ghl_ai import config
from local.apigw import LambdaContext, http_event
from tests.conftest import Response, Stack, fixture_bytes, fixture_json
from tests.support import (
    EXPECTED,
    WORKFLOW_FIXTURE,
    inbox_item,
    post_fixture,
    queued_jobs,
    with_changes,
)

PHONES = ("+15551234567", "+15559876543")  # the numbers in inbound_sms.json


def test_health(stack: Stack) -> None:
    response = stack.invoke_intake(http_event("GET", "/health"))
    assert (response.status, response.json) == (200, {"status": "ok"})


def test_a_misconfigured_intake_answers_500_without_details(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("WEBHOOKS_TABLE", "EVENTS_TABLE", "IDEMPOTENCY_TABLE", "JOBS_QUEUE_URL"):
        monkeypatch.delenv(variable, raising=False)
    config.intake_settings.cache_clear()
    intake_app.deps.cache_clear()
    try:
        event = http_event("POST", "/webhooks/ghl", fixture_bytes("inbound_sms.json"))
        result = intake_app.handler(event, LambdaContext("IntakeFunction"))
    finally:
        config.intake_settings.cache_clear()
        intake_app.deps.cache_clear()
    assert result["statusCode"] == 500
    assert json.loads(result["body"]) == {"error": "service misconfigured"}


# --- every documented shape ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_is_accepted_on_its_route_and_recorded(stack: Stack, name: str) -> None:
    expected = EXPECTED[name]
    response = post_fixture(stack, name)

    assert response.status == 200, response.json
    assert response.json["status"] == expected.status
    assert response.json["type"] == expected.type
    if expected.dedupe_key:
        assert response.json["id"] == expected.dedupe_key
    item = inbox_item(stack, expected.location_id, response.json["id"])
    assert item is not None
    assert (item["type"], item["status"]) == (expected.type, expected.status)


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e.status == "queued"))
def test_each_queued_fixture_puts_one_job_with_its_parsed_fields(stack: Stack, name: str) -> None:
    expected = EXPECTED[name]
    post_fixture(stack, name)

    [job] = queued_jobs(stack)
    event = job.event
    assert (event.type, event.location_id, event.contact_id, event.direction, event.channel) == (
        expected.type,
        expected.location_id,
        expected.contact_id,
        expected.direction,
        expected.channel,
    )
    assert job.id == event.dedupe_key


def test_the_workflow_job_carries_tags_as_a_list_and_custom_data(stack: Stack) -> None:
    post_fixture(stack, WORKFLOW_FIXTURE)
    [job] = queued_jobs(stack)
    assert job.event.payload["tags"] == ["knobler-captura"]
    assert job.event.payload["customData"] == {"origem_knobler": "captura-012"}


def test_the_inbox_keeps_the_raw_payload_and_an_expiry(stack: Stack) -> None:
    before = time.time()
    response = post_fixture(stack, "inbound_sms_data_wrapped.json")
    item = inbox_item(stack, "l1C08ntBrFjLS0elLIYU", response.json["id"])
    assert item is not None
    assert json.loads(item["payload"])["messageId"] == "m-8Jx2Lq0"
    # expiresAt is the WebhooksTable TTL attribute (template.yaml): about 30 days out.
    days = (item["expiresAt"] - before) / 86400
    assert 29 < days <= 31


# --- unknown and unhandled types -----------------------------------------------------------


def test_an_unknown_event_type_is_acknowledged_and_recorded_but_not_enqueued(stack: Stack) -> None:
    response = post_fixture(stack, "unknown_event.json")
    assert response.status == 200
    assert response.json["status"] == "unknown"
    item = inbox_item(stack, "ve9EPM428h8vShlRW1KT", "wh:0f0e8d5b-unknown-0001")
    assert item is not None and item["type"] == "InvoicePaid"
    assert stack.queue_depth() == 0


def test_a_known_type_without_work_is_recorded_but_not_enqueued(stack: Stack) -> None:
    response = post_fixture(stack, "note_create.json")
    assert response.status == 200
    assert response.json["status"] == "recorded"
    assert [i["type"] for i in stack.scan("WebhooksTable")] == ["NoteCreate"]
    assert stack.queue_depth() == 0


def test_an_outbound_message_is_accepted(stack: Stack) -> None:
    response = post_fixture(stack, "outbound_sms.json")
    assert response.status == 200 and response.json["status"] == "queued"
    [job] = queued_jobs(stack)
    assert job.event.direction == "outbound"


# --- bodies that are not GHL events --------------------------------------------------------


def assert_nothing_leaks(response: Response) -> None:
    text = json.dumps(response.json)
    assert "Traceback" not in text
    assert not any(phone in text for phone in PHONES)


def assert_nothing_stored(stack: Stack) -> None:
    assert stack.scan("WebhooksTable") == []
    assert stack.scan("EventsTable") == []
    assert stack.queue_depth() == 0


def assert_refused(stack: Stack, response: Response, reason: str) -> list[str]:
    """A signed delivery that can never be processed: answered 2xx (GHL retries anything else,
    twelve times), recorded as refused without its content, nothing queued. Its problems."""
    assert response.status == 200, response.json
    assert (response.json["status"], response.json["reason"]) == ("refused", reason)
    assert_nothing_leaks(response)
    [record] = stack.scan("WebhooksTable")
    assert record["status"] == "refused" and record["dedupeKey"] == response.json["id"]
    assert json.loads(record["payload"]) == {
        "reason": reason,
        "problems": response.json.get("problems", []),
    }
    assert stack.scan("EventsTable") == []
    assert stack.queue_depth() == 0
    return list(response.json.get("problems", []))


def test_malformed_json_is_refused_naming_the_position(stack: Stack) -> None:
    raw = b'{"type": "InboundMessage", "from": "+15551234567",, }'
    response = stack.post_webhook(raw)
    [message] = assert_refused(stack, response, "unreadable body")
    assert "not valid JSON" in message
    assert f"line 1 column {raw.index(b',,') + 2}" in message
    assert "InboundMessage" not in json.dumps(response.json)  # the body is not echoed


def test_an_empty_body_is_refused(stack: Stack) -> None:
    [message] = assert_refused(stack, stack.post_webhook(b""), "unreadable body")
    assert "empty" in message


def test_an_unsigned_malformed_body_is_401_and_not_recorded(stack: Stack) -> None:
    response = stack.post_webhook(b"{not json", signature=None)
    assert response.status == 401
    assert_nothing_stored(stack)


def test_a_json_array_is_refused(stack: Stack) -> None:
    response = stack.post_webhook(json.dumps([fixture_json("inbound_sms.json")]).encode())
    assert assert_refused(stack, response, "invalid payload") == ["body: expected a JSON object"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contactId": None}, "contactId"),
        ({"type": None}, "type"),
        ({"direction": "sideways"}, "direction"),
        ({"locationId": None}, "locationId"),
    ],
    ids=["no-contactId", "no-type", "bad-direction", "no-locationId"],
)
def test_an_invalid_inbound_message_is_refused_naming_the_field(
    stack: Stack, changes: dict[str, str | None], field: str
) -> None:
    response = stack.post_webhook(with_changes("inbound_sms.json", **changes))
    problems = assert_refused(stack, response, "invalid payload")
    assert [problem.split(":")[0] for problem in problems] == [field]


def test_a_workflow_body_that_is_not_json_is_refused(stack: Stack) -> None:
    response = stack.post_workflow(b"contact_id=abc&phone=%2B15551234567")
    [message] = assert_refused(stack, response, "unreadable body")
    assert "not valid JSON" in message


# --- deduplication -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "contact"),
    [
        ("inbound_sms.json", ("l1C08ntBrFjLS0elLIYU", "cI08i1Bls3iTB9bKgFJh")),
        ("inbound_sms_data_wrapped.json", ("l1C08ntBrFjLS0elLIYU", "cI08i1Bls3iTB9bKgFJh")),
        (WORKFLOW_FIXTURE, ("t9Ww7bY1xJJ6ThFHZVPC", "gxGfB9wxEy3anxbHB4nT")),
    ],
    ids=["body-keyed", "webhookId-keyed", "workflow"],
)
def test_twenty_identical_deliveries_are_stored_and_enqueued_once(
    stack: Stack, name: str, contact: tuple[str, str]
) -> None:
    responses = [post_fixture(stack, name) for _ in range(20)]

    assert all(200 <= r.status < 300 for r in responses), [r.status for r in responses]
    assert responses[0].json["status"] == "queued"
    assert [r.json["status"] for r in responses[1:]] == ["duplicate"] * 19
    assert len({r.json["id"] for r in responses}) == 1
    assert len(stack.scan("WebhooksTable")) == 1
    location_id, contact_id = contact
    assert [(e["locationId"], e["contactId"]) for e in stack.scan("EventsTable")] == [
        (location_id, contact_id)
    ]
    assert stack.queue_depth() == 1


def test_a_retry_with_the_same_webhook_id_is_a_duplicate_even_if_reformatted(
    stack: Stack,
) -> None:
    payload = fixture_json("inbound_sms_data_wrapped.json")
    first = stack.post_webhook(json.dumps(payload).encode())
    retry = stack.post_webhook(json.dumps(payload, indent=2).encode())
    assert (first.json["status"], retry.json["status"]) == ("queued", "duplicate")
    assert stack.queue_depth() == 1


def test_different_deliveries_are_not_collapsed(stack: Stack) -> None:
    first = stack.post_webhook(fixture_bytes("inbound_sms.json"))
    second = stack.post_webhook(with_changes("inbound_sms.json", body="Second message"))
    assert (first.json["status"], second.json["status"]) == ("queued", "queued")
    assert len(stack.scan("WebhooksTable")) == 2
    assert stack.queue_depth() == 2


def test_a_message_delivered_again_under_a_new_webhook_id_is_one_event(stack: Stack) -> None:
    """GHL may resend a message under a new webhookId: a new delivery, still one message in
    the lead's behaviour stream (found by the soak)."""
    payload = fixture_json("inbound_sms_data_wrapped.json")
    first = stack.post_webhook(json.dumps(payload).encode())
    payload["webhookId"] = "another-delivery-of-the-same-message"
    again = stack.post_webhook(json.dumps(payload).encode())
    assert first.json["id"] != again.json["id"]
    assert [e["type"] for e in stack.scan("EventsTable")] == ["message_in"]
