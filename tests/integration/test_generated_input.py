"""Generated input on every POST route: real payloads with one field replaced by something
nasty (deep nesting, huge or precise numbers, lone surrogates, long text, the wrong type) or
with nasty extra fields. Whatever comes in, the answer is never a 5xx, and whatever is accepted
is processed by the worker without a failure (acceptance takes only what can be processed).

This is the test that would have found issue 10's 500s: depth, size, unicode, numbers, types.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local import devkeys
from local.apigw import http_event
from tests.conftest import Response, Stack, fixture_json

MESSAGE = fixture_json("inbound_sms.json")
WORKFLOW = fixture_json("workflow_webhook_tag_trigger.json")
FORM = {"firstName": "Ana", "email": "ana@example.com", "phone": "+19095550147", "consent": True}


NASTY = st.one_of(
    st.integers(min_value=-(10**50), max_value=10**50),
    # A number of n digits, spliced into the raw body (json.dumps cannot write 4,300+).
    st.integers(min_value=30, max_value=5_000).map(lambda n: f"<<digits:{n}>>"),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(["\ud800", "a\udfffb", "\x00", "\u202e", "😀" * 50]),
    st.integers(min_value=1_000, max_value=200_000).map(lambda n: "x" * n),
    # Nesting n deep, spliced in too (json.dumps itself recurses).
    st.integers(min_value=1, max_value=3_000).map(lambda n: f"<<deep:{n}>>"),
    st.lists(st.integers(), max_size=5),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=5),
    st.none(),
    st.booleans(),
)


def mutated(base: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    payload = json.loads(json.dumps(base))
    keys = sorted(payload)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        if data.draw(st.booleans()):
            payload[data.draw(st.sampled_from(keys))] = data.draw(NASTY)
        else:
            payload[data.draw(st.text(min_size=1, max_size=8))] = data.draw(NASTY)
    return payload


def post(stack: Stack, route: str, raw: bytes) -> Response:
    if route == "webhook":
        return stack.post_webhook(raw)
    if route == "workflow":
        return stack.post_workflow(raw)
    if route == "events":
        return stack.post_events(raw)
    headers = {"content-type": "application/json", "x-site-key": devkeys.SITE_KEY}
    return stack.invoke_intake(http_event("POST", "/forms/lyrio", raw, headers))


EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


_SPLICE = re.compile(rb'"<<(digits|deep):(\d+)>>"')


def _spliced(match: re.Match[bytes]) -> bytes:
    n = int(match.group(2))
    return b"7" * n if match.group(1) == b"digits" else b'{"k": [' * n + b"1" + b"]}" * n


def check(stack: Stack, route: str, payload: dict[str, Any]) -> None:
    raw = _SPLICE.sub(_spliced, json.dumps(payload).encode())
    response = post(stack, route, raw)
    assert response.status < 500, (response.status, response.json)
    assert "Traceback" not in json.dumps(response.json)
    failed = sum(batch.failed for batch in stack.run_worker())
    assert failed == 0, f"an accepted delivery failed in the worker: {response.json}"
    assert stack.queue_depth("JobsDLQ") == 0


@EXAMPLES
@given(data=st.data())
def test_generated_marketplace_deliveries(stack: Stack, data: st.DataObject) -> None:
    payload = mutated(MESSAGE, data)
    # Each example its own message, so none is a duplicate of an earlier one.
    payload.setdefault("messageId", None)
    if isinstance(payload.get("messageId"), str | None):
        payload["messageId"] = f"m{data.draw(st.integers(0, 10**9))}"
    check(stack, "webhook", payload)


@EXAMPLES
@given(data=st.data())
def test_generated_workflow_deliveries(stack: Stack, data: st.DataObject) -> None:
    payload = mutated(WORKFLOW, data)
    payload["customData"] = {"n": data.draw(st.integers(0, 10**9))}
    check(stack, "workflow", payload)


@EXAMPLES
@given(data=st.data())
def test_generated_forms(stack: Stack, data: st.DataObject) -> None:
    payload = mutated(FORM, data)
    payload["message"] = f"example {data.draw(st.integers(0, 10**9))}"
    check(stack, "form", payload)


@EXAMPLES
@given(data=st.data())
def test_generated_event_batches(stack: Stack, data: st.DataObject) -> None:
    event = {
        "type": "property_view",
        "visitorId": "v-1",
        "timestamp": "2026-12-01T00:00:00Z",
        "propertyId": "p1",
    }
    batch = {"events": [mutated(event, data)], "extra": data.draw(NASTY)}
    check(stack, "events", batch)
