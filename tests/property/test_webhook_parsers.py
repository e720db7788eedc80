"""GHL webhook bodies, generated: read as the routes read them (:func:`ghl_ai.limits.load_json`,
then the parsers), they give a GhlWebhook or the documented errors only (MalformedBody,
SchemaError), and what they give names the right type, location, contact and dedupe key.

The payloads start from GHL's documented examples (tests/fixtures/ghl/, a superset of
../shared/fixtures/ghl/) and are reshaped the ways GHL sends them (``data``-wrapped or flat,
a contact's ``id`` or ``contactId``, appointments nested or not, ``to`` as a string or a list,
workflow ``tags`` as a comma-separated string), then damaged: unknown fields, any field given a
value of any type, raw literals and bytes no encoder writes.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import hypothesis
from hypothesis import example, given
from hypothesis import strategies as st

from ghl_ai.errors import MalformedBody, SchemaError
from ghl_ai.limits import MAX_DEPTH, MAX_DIGITS, MAX_VALUES, load_json
from ghl_ai.webhooks.events import (
    MAX_BODY_BYTES,
    GhlWebhook,
    parse_json,
    parse_marketplace_webhook,
    parse_workflow_webhook,
    workflow_location_id,
)
from tests.conftest import FIXTURES
from tests.property.strategies import (
    RAW_LITERALS,
    field_values,
    json_values,
    raw_json,
    same_json,
    text,
    words,
)

WORKFLOW_FIXTURE = "workflow_webhook_tag_trigger.json"


def _flat(payload: dict[str, Any]) -> dict[str, Any]:
    """A documented example without its ``data`` envelope (the tests wrap payloads themselves)."""
    inner = payload.get("data")
    return {**inner, **{k: v for k, v in payload.items() if k != "data"}} if inner else payload


MARKETPLACE = {
    path.name: _flat(json.loads(path.read_bytes()))
    for path in sorted(FIXTURES.glob("*.json"))
    if path.name != WORKFLOW_FIXTURE
}
WORKFLOW = json.loads((FIXTURES / WORKFLOW_FIXTURE).read_bytes())
MESSAGE_TYPES = ("InboundMessage", "OutboundMessage")
MAX_BYTES = MAX_BODY_BYTES
#: Types GHL documents, plus ones it may add: the parser must take any name.
EVENT_TYPES = st.one_of(
    st.sampled_from(sorted({p["type"] for p in MARKETPLACE.values()})),
    st.sampled_from(["ContactTagUpdate", "AppointmentDelete", "TaskCreate", "OpportunityDelete"]),
    words,
)


def _set_path(payload: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of ``payload`` with ``path`` (keys into nested objects) set to ``value``."""
    out = dict(payload)
    head, *rest = path
    out[head] = _set_path(out[head], rest, value) if rest else value
    return out


def _paths(payload: dict[str, Any], prefix: list[str] | None = None) -> list[list[str]]:
    found: list[list[str]] = []
    for key, value in payload.items():
        found.append([*(prefix or []), key])
        if isinstance(value, dict):
            found += _paths(value, [*(prefix or []), key])
    return found


@st.composite
def marketplace_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A flat Marketplace payload: a documented example, reshaped and damaged."""
    payload = dict(MARKETPLACE[draw(st.sampled_from(sorted(MARKETPLACE)))])
    if draw(st.integers(0, 4)) == 0:
        payload["type"] = draw(EVENT_TYPES)
    if "id" in payload and draw(st.integers(0, 3)) == 0:
        # A contact's id sent as contactId (the shape of non-contact events).
        payload["contactId"] = payload.pop("id")
    if "appointment" in payload and draw(st.integers(0, 3)) == 0:
        payload.update(payload.pop("appointment"))
    if "to" in payload:
        payload["to"] = draw(
            st.sampled_from(("kept", "kept", "string", "list", "any")).flatmap(
                lambda how: {
                    "kept": st.just(payload["to"]),
                    "string": words,
                    "list": st.lists(words, max_size=3),
                    "any": field_values,
                }[how]
            )
        )
    if draw(st.booleans()):
        payload["webhookId"] = draw(st.one_of(*[words] * 6, text, field_values))
    if draw(st.booleans()):
        payload["timestamp"] = draw(
            st.one_of(
                st.sampled_from(["2026-11-20T15:04:05.000Z", "2026-11-20T15:04:05+14:00"]),
                st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()),
                st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]),
                field_values,
            )
        )
    for _ in range(draw(st.sampled_from((0, 0, 1, 2, 3)))):
        path = draw(st.sampled_from(_paths(payload)))
        payload = _set_path(payload, path, draw(field_values))
    extra = draw(st.dictionaries(text | words, field_values, max_size=3))
    payload.update({k: v for k, v in extra.items() if k not in payload and k != "data"})
    return payload


def wrapped(payload: dict[str, Any], outer: set[str]) -> dict[str, Any]:
    """The ``data``-wrapped variant: ``outer`` keys stay outside, the rest move into ``data``."""
    return {
        **{k: v for k, v in payload.items() if k in outer},
        "data": {k: v for k, v in payload.items() if k not in outer},
    }


def expected_contact_id(flat: dict[str, Any]) -> Any:
    """The contact each documented shape names (reference/ghl.md)."""
    event_type = flat["type"]
    if event_type.startswith("Contact"):
        return flat["id"]
    if event_type.startswith("Appointment"):
        return flat["appointment"]["contactId"]
    if event_type in MESSAGE_TYPES or event_type.startswith(("Opportunity", "Note", "Task")):
        return flat["contactId"]
    contact = flat.get("contactId")
    return contact if isinstance(contact, str) else None


def expected_dedupe_key(flat: dict[str, Any], raw: bytes) -> str:
    if flat.get("webhookId"):
        return f"wh:{flat['webhookId']}"
    if flat["type"] in MESSAGE_TYPES:
        message_id = flat.get("messageId") or flat.get("emailMessageId")
        if message_id:
            return f"msg:{flat['locationId']}:{flat['type']}:{message_id}"
    return "body:" + hashlib.sha256(raw).hexdigest()


def parse_or_refuse(raw: bytes) -> GhlWebhook | None:
    """The documented outcomes only: a GhlWebhook, or None for MalformedBody / SchemaError."""
    try:
        event = parse_marketplace_webhook(load_json(raw, max_bytes=MAX_BYTES), raw)
    except (MalformedBody, SchemaError) as exc:
        assert str(exc), "an error the sender gets back says what is wrong"
        hypothesis.event(f"refused: {type(exc).__name__}")
        return None
    hypothesis.event("parsed")
    return event


def identity(event: GhlWebhook) -> tuple[Any, ...]:
    return (
        event.type,
        event.location_id,
        event.contact_id,
        event.dedupe_key,
        event.occurred_at,
        event.direction,
        event.channel,
        event.message_id,
        json.dumps(event.payload, sort_keys=True),
    )


def check_marketplace(event: GhlWebhook, flat: dict[str, Any], raw: bytes) -> None:
    assert event.type == flat["type"]
    assert event.location_id == flat.get("locationId", "unknown")
    assert event.contact_id == expected_contact_id(flat)
    assert event.dedupe_key == expected_dedupe_key(flat, raw)
    assert same_json(event.payload, flat)
    if flat["type"] in MESSAGE_TYPES:
        assert event.direction == flat["direction"].lower()
        if flat.get("messageType"):
            assert event.channel == flat["messageType"]
    # Deterministic: the same bytes are the same event, so a retry is recognised.
    again = parse_marketplace_webhook(load_json(raw, max_bytes=MAX_BYTES), raw)
    assert identity(again) == identity(event)


@given(payload=marketplace_payloads(), data=st.data())
def test_a_marketplace_payload_is_parsed_right_or_refused(
    payload: dict[str, Any], data: st.DataObject
) -> None:
    raw = data.draw(raw_json(payload))
    event = parse_or_refuse(raw)
    if event is not None and same_json(load_json(raw, max_bytes=MAX_BYTES), payload):
        # Nothing spliced in: the body is the payload we built, so we know what it says.
        check_marketplace(event, payload, raw)


@given(payload=marketplace_payloads(), outer=st.sets(st.sampled_from(["webhookId", "timestamp"])))
def test_the_data_wrapped_variant_reads_like_the_flat_one(
    payload: dict[str, Any], outer: set[str]
) -> None:
    raw_flat = json.dumps(payload).encode()
    body = wrapped(payload, {"type", *outer})
    raw = json.dumps(body).encode()
    flat_event, wrapped_event = parse_or_refuse(raw_flat), parse_or_refuse(raw)
    assert (flat_event is None) == (wrapped_event is None)
    if wrapped_event is not None:
        check_marketplace(wrapped_event, payload, raw)


@given(payload=marketplace_payloads(), indent=st.sampled_from([None, 1, 4]))
def test_a_webhook_id_keys_the_delivery_however_the_body_is_spaced(
    payload: dict[str, Any], indent: int | None
) -> None:
    first = parse_or_refuse(json.dumps(payload).encode())
    second = parse_or_refuse(
        json.dumps(payload, indent=indent, ensure_ascii=False).encode("utf-8", "surrogatepass")
    )
    assert (first is None) == (second is None)
    if first is not None and second is not None and payload.get("webhookId"):
        assert first.dedupe_key == second.dedupe_key


def _walk(value: Any, depth: int = 0) -> list[tuple[Any, int]]:
    """Every value in a parsed body with its nesting depth (iteratively: bodies may be deep)."""
    found, stack = [], [(value, depth)]
    while stack:
        node, level = stack.pop()
        found.append((node, level))
        if isinstance(node, dict):
            stack += [(k, level + 1) for k in node] + [(v, level + 1) for v in node.values()]
        elif isinstance(node, list):
            stack += [(v, level + 1) for v in node]
    return found


BODIES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(RAW_LITERALS).map(str.encode),
    json_values.flatmap(raw_json),
    marketplace_payloads().flatmap(raw_json),
)


@given(raw=BODIES)
@example(raw=b"[" * 100_000)
@example(raw=b"9" * 5000)
@example(raw=b'{"type":"InboundMessage","locationId":1' + b"0" * 5000 + b"}")
@example(raw=b'{"a":"\\ud800","\\udfff":["\\ud83d"]}')
@example(raw=b" " * (MAX_BYTES + 1))
def test_a_body_is_read_into_what_can_be_stored_or_refused(raw: bytes) -> None:
    """What load_json returns DynamoDB can hold and the parsers can walk: bounded depth and
    size, finite numbers of at most 38 digits, no lone surrogates; else MalformedBody."""
    try:
        value = load_json(raw, max_bytes=MAX_BYTES)
    except MalformedBody as exc:
        assert str(exc)
        return
    nodes = _walk(value)
    assert len(nodes) <= MAX_VALUES + 1
    for node, depth in nodes:
        if isinstance(node, dict | list):
            assert depth <= MAX_DEPTH
        elif isinstance(node, str):
            node.encode("utf-8")  # no lone surrogate left
        elif isinstance(node, float):
            assert math.isfinite(node)
        elif isinstance(node, int) and not isinstance(node, bool):
            assert len(str(abs(node)).strip("0") or "0") <= MAX_DIGITS
    parse_or_refuse(raw)


@given(raw=st.binary(max_size=50) | st.sampled_from(RAW_LITERALS).map(str.encode))
@example(raw=b"9" * 5000)
def test_parse_json_reads_or_refuses_any_bytes(raw: bytes) -> None:
    try:
        parse_json(raw)
    except MalformedBody as exc:
        assert str(exc)


# -- the workflow "Webhook" action -------------------------------------------------------------


@st.composite
def workflow_payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload = dict(WORKFLOW)
    payload["tags"] = draw(
        st.one_of(
            st.lists(words, max_size=4).map(", ".join),
            st.lists(words, max_size=4).map(lambda tags: " ,".join(tags) + ","),
            st.lists(words, max_size=4),
            st.sampled_from([None, ""]),
            field_values,
        )
    )
    if draw(st.booleans()):
        payload["location"] = {**payload["location"], "id": draw(st.one_of(words, field_values))}
    if draw(st.booleans()):
        payload["contact_id"] = draw(st.one_of(words, field_values))
    if draw(st.integers(0, 3)) == 0:
        payload["workflow"] = draw(field_values)
    for _ in range(draw(st.sampled_from((0, 0, 1, 2)))):
        path = draw(st.sampled_from(_paths(payload)))
        payload = _set_path(payload, path, draw(field_values))
    payload.update(draw(st.dictionaries(text | words, field_values, max_size=3)))
    return payload


def expected_tags(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [tag.strip() for tag in value.split(",") if tag.strip()]
    return list(value)


@given(payload=workflow_payloads(), data=st.data())
def test_a_workflow_payload_is_parsed_right_or_refused(
    payload: dict[str, Any], data: st.DataObject
) -> None:
    raw = data.draw(raw_json(payload))
    try:
        parsed = load_json(raw, max_bytes=MAX_BYTES)
        event = parse_workflow_webhook(parsed, raw)
    except (MalformedBody, SchemaError) as exc:
        assert str(exc)
        hypothesis.event(f"refused: {type(exc).__name__}")
        return
    hypothesis.event("parsed")
    # The secret the route checks is the one of the location the event is recorded under.
    assert workflow_location_id(parsed) == event.location_id
    assert event.type == "WorkflowWebhook"
    assert event.dedupe_key == f"wf:{event.location_id}:{hashlib.sha256(raw).hexdigest()}"
    if same_json(parsed, payload):
        assert event.location_id == payload["location"]["id"]
        assert event.contact_id == payload["contact_id"]
        assert event.payload["tags"] == expected_tags(payload["tags"])
        assert all(isinstance(tag, str) for tag in event.payload["tags"])
    again = parse_workflow_webhook(load_json(raw, max_bytes=MAX_BYTES), raw)
    assert identity(again) == identity(event)
