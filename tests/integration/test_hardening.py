"""The findings of the attack on a fresh install (issue 10), one test each: no input reaches a
500, credentials come before the body, a delivery that can never be processed is recorded and
refused with a 2xx, logs are bounded and masked, ambiguous credentials are refused."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from ghl_ai import config
from local import devkeys
from local.apigw import LambdaContext, http_event, response_json
from tests.conftest import LOCATION_ID, Response, Stack, fixture_json
from tests.support import with_changes

SMS = "inbound_sms.json"
WORKFLOW = fixture_json("workflow_webhook_tag_trigger.json")


def deep(depth: int) -> bytes:
    return b'{"a": ' + b"[" * depth + b"]" * depth + b"}"


def post_form(stack: Stack, raw: bytes, *, site_key: str | None = devkeys.SITE_KEY) -> Response:
    headers = {"content-type": "application/json"}
    if site_key is not None:
        headers["x-site-key"] = site_key
    return stack.invoke_intake(http_event("POST", "/forms/lyrio", raw, headers))


ROUTES: dict[str, Callable[[Stack, bytes], Response]] = {
    "webhook": lambda s, raw: s.post_webhook(raw),
    "workflow": lambda s, raw: s.post_workflow(raw),
    "form": lambda s, raw: post_form(s, raw),
    "events": lambda s, raw: s.post_events(raw),
}


def answered_without_a_crash(response: Response) -> None:
    assert response.status < 500, response.json
    assert "Traceback" not in json.dumps(response.json)


@pytest.mark.parametrize("depth", [40, 2_000, 10_000])
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_deep_nesting_is_refused_on_every_post_route(stack: Stack, route: str, depth: int) -> None:
    response = ROUTES[route](stack, deep(depth))
    answered_without_a_crash(response)
    text = json.dumps(response.json)
    assert "32 levels" in text
    assert stack.queue_depth() == 0


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_megabyte_body_is_refused_on_every_post_route(stack: Stack, route: str) -> None:
    raw = json.dumps({"a": "x" * 1_000_000}).encode()
    response = ROUTES[route](stack, raw)
    answered_without_a_crash(response)
    assert "larger than" in json.dumps(response.json)
    if route in ("form", "events"):
        assert response.status == 413
    else:  # authentic GHL deliveries: recorded as refused, 2xx so GHL does not retry
        assert (response.status, response.json["status"]) == (200, "refused")
    assert stack.queue_depth() == 0


VALID: dict[str, Callable[[], dict[str, Any]]] = {
    "webhook": lambda: json.loads(with_changes(SMS)),
    "workflow": lambda: dict(WORKFLOW),
    "form": lambda: {"email": "maria@example.com", "consent": True},
    "events": lambda: {"events": []},
}


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_valid_body_with_fifty_thousand_keys_is_refused(stack: Stack, route: str) -> None:
    """Stored as is, it would exceed DynamoDB's 400 KB item (a 500 after acceptance)."""
    body = VALID[route]() | {f"k{i}": 1 for i in range(50_000)}
    response = ROUTES[route](stack, json.dumps(body, separators=(",", ":")).encode())
    answered_without_a_crash(response)
    assert response.status in (200, 413)
    assert "larger than" in json.dumps(response.json)
    assert stack.queue_depth() == 0


@pytest.mark.parametrize("digits", [39, 4_300, 10_000])
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_huge_numbers_are_refused(stack: Stack, route: str, digits: int) -> None:
    raw = b'{"type": "InboundMessage", "n": ' + b"7" * digits + b"}"
    response = ROUTES[route](stack, raw)
    answered_without_a_crash(response)
    assert "38 significant digits" in json.dumps(response.json)


@pytest.mark.parametrize("field", ["contactId", "locationId", "messageId"])
def test_an_id_of_kilobytes_is_refused_not_stored(stack: Stack, field: str) -> None:
    response = stack.post_webhook(with_changes(SMS, **{field: "c" * 5_000}))
    assert (response.status, response.json["status"]) == (200, "refused")
    assert response.json["problems"] == [f"{field}: must be at most 128 characters"]
    assert stack.queue_depth() == 0


def test_an_email_in_an_id_field_is_refused(stack: Stack) -> None:
    response = stack.post_webhook(with_changes(SMS, contactId="maria@example.com"))
    assert response.json["status"] == "refused"
    assert "maria@example.com" not in json.dumps(response.json)


def test_a_broken_emoji_in_a_real_sms_is_answered(stack: Stack) -> None:
    """A lone surrogate cannot be stored; the message is kept with U+FFFD in its place."""
    raw = with_changes(SMS).replace(b'"body": "', b'"body": "\\ud83d ', 1)
    response = stack.post_webhook(raw)
    assert (response.status, response.json["status"]) == (200, "queued")
    [batch] = stack.run_worker()
    assert (batch.received, batch.failed) == (1, 0)
    assert stack.queue_depth("JobsDLQ") == 0


@pytest.mark.parametrize("workflow", ["a string", ["a", "list"], 7])
def test_a_workflow_field_of_the_wrong_type_is_refused(stack: Stack, workflow: Any) -> None:
    response = stack.post_workflow({**WORKFLOW, "workflow": workflow})
    assert (response.status, response.json["status"]) == (200, "refused")
    assert [p.split(":")[0] for p in response.json["problems"]] == ["workflow"]
    assert stack.queue_depth() == 0


# -- credentials before the body --------------------------------------------------------------


@pytest.mark.parametrize("body", [b"{not json", deep(10_000), b'{"n": ' + b"9" * 5_000 + b"}"])
def test_a_wrong_workflow_secret_is_401_whatever_the_body(stack: Stack, body: bytes) -> None:
    response = stack.post_workflow(body, secret="wrong")
    assert response.status == 401
    assert response.json == {"error": "invalid workflow secret"}


def test_a_form_without_a_site_key_and_a_deep_body_is_not_a_500(stack: Stack) -> None:
    response = post_form(stack, deep(10_000), site_key=None)
    assert response.status == 400


def test_an_unsigned_delivery_is_401_before_its_body_is_read(stack: Stack) -> None:
    response = stack.post_webhook(deep(10_000), signature=None)
    assert response.status == 401
    assert stack.scan("WebhooksTable") == []


# -- one credential, in one place ----------------------------------------------------------


def workflow_request(stack: Stack, headers: dict[str, str], query: str) -> Response:
    event = http_event("POST", "/webhooks/ghl/workflow", json.dumps(WORKFLOW), headers, None)
    event["rawQueryString"] = query
    return stack.invoke_intake(event)


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, f"token=wrong&token={devkeys.WORKFLOW_SECRET}"),
        ({}, f"token={devkeys.WORKFLOW_SECRET}&token={devkeys.WORKFLOW_SECRET}"),
        ({"x-webhook-secret": "wrong"}, f"token={devkeys.WORKFLOW_SECRET}"),
        ({"x-webhook-secret": devkeys.WORKFLOW_SECRET}, f"token={devkeys.WORKFLOW_SECRET}"),
        ({"x-webhook-secret": f"wrong,{devkeys.WORKFLOW_SECRET}"}, ""),
    ],
    ids=["token-twice", "token-twice-equal", "header-and-query", "both-agreeing", "header-twice"],
)
def test_an_ambiguous_workflow_secret_is_refused(
    stack: Stack, headers: dict[str, str], query: str
) -> None:
    response = workflow_request(stack, headers, query)
    assert response.status == 401
    assert "ambiguous" in response.json["error"]
    assert stack.queue_depth() == 0


def test_a_duplicated_authorization_header_is_refused(stack: Stack) -> None:
    # API Gateway joins a repeated header's values with a comma.
    headers = {"authorization": f"Bearer wrong, Bearer {devkeys.API_KEY}"}
    result = stack.invoke_intake(http_event("GET", "/leads/c-1", None, headers))
    assert result.status == 401
    assert "ambiguous" in result.json["error"]


def test_the_415_does_not_echo_the_content_type(stack: Stack) -> None:
    evil = "text/html<script>alert(1)</script>"
    for path in ("/forms/lyrio", "/events"):
        event = http_event(
            "POST", path, "{}", {"content-type": evil, "x-site-key": devkeys.SITE_KEY}
        )
        response = stack.invoke_intake(event)
        assert response.status == 415
        assert "script" not in json.dumps(response.json)


# -- freshness and location -------------------------------------------------------------------


def test_a_signed_delivery_dated_2019_is_refused(stack: Stack) -> None:
    payload = fixture_json("inbound_sms_data_wrapped.json")
    payload["timestamp"] = "2019-03-01T10:00:00.000Z"
    response = stack.post_webhook(json.dumps(payload).encode())
    assert (response.status, response.json["status"]) == (200, "refused")
    assert response.json["reason"] == "delivery timestamp is outside the replay window"
    assert stack.queue_depth() == 0


def test_a_delivery_dated_next_week_is_refused(stack: Stack) -> None:
    payload = fixture_json("inbound_sms_data_wrapped.json")
    payload["timestamp"] = "2099-01-01T00:00:00.000Z"
    assert stack.post_webhook(json.dumps(payload).encode()).json["status"] == "refused"


def test_a_signed_delivery_for_a_location_not_served_is_refused(stack: Stack) -> None:
    response = stack.post_webhook(with_changes(SMS, locationId="SomeoneElsesLocation"))
    assert (response.status, response.json["status"]) == (200, "refused")
    assert response.json["reason"] == "this install does not serve the location"
    assert stack.queue_depth() == 0
    [record] = stack.scan("WebhooksTable")
    assert record["locationId"] == "unknown"  # nothing filed under a location we do not serve


# -- logs ---------------------------------------------------------------------------------------


def test_logs_are_bounded_and_mask_what_a_sender_put_in_an_id(
    stack: Stack, powertools_logs: io.StringIO
) -> None:
    stack.post_webhook(with_changes(SMS, contactId="x" * 400_000))
    stack.post_webhook(with_changes(SMS, contactId="maria@example.com", body="other"))
    stack.post_webhook(with_changes(SMS, contactId="+1 (512) 555-0147", body="third"))
    lines = powertools_logs.getvalue().splitlines()
    assert lines
    assert max(len(line) for line in lines) < 2_000
    text = "\n".join(lines)
    assert "maria@example.com" not in text
    assert "555-0147" not in text


def test_an_unexpected_failure_is_a_500_with_no_traceback_anywhere(
    stack: Stack, powertools_logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    stack.dynamodb.delete_table(TableName=stack.resources.tables["WebhooksTable"])
    from functions.intake import app as intake_app

    raw = with_changes(SMS)
    event = http_event("POST", "/webhooks/ghl", raw, {"x-ghl-signature": devkeys.sign(raw)})
    result = intake_app.handler(event, LambdaContext("IntakeFunction"))
    assert result["statusCode"] == 500
    assert response_json(result) == {
        "error": "internal error; the delivery was not accepted, please retry"
    }
    # Every logger, the libraries' included (Mangum logs what escapes the app with its traceback).
    assert "Traceback" not in caplog.text + powertools_logs.getvalue()
    assert all(record.exc_info is None for record in caplog.records)
    assert '"error_type":"ResourceNotFoundException"' in powertools_logs.getvalue()


def test_the_single_location_install_serves_its_location(stack: Stack) -> None:
    config.intake_settings.cache_clear()
    assert stack.post_workflow(WORKFLOW).json["status"] == "queued"
    assert WORKFLOW["location"]["id"] == LOCATION_ID
