"""Behaviour event batches, generated: :func:`validate_batch` sorts every event into valid or
refused with per-field problems (never an exception for one bad event), refuses only an
unusable batch as a whole (BatchError), and what it keeps is what the website sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ghl_ai.behaviour.events import (
    FUTURE_TOLERANCE,
    MAX_AGE,
    MAX_BATCH,
    BatchError,
    CheckedBatch,
    normalised,
    validate_batch,
    visitor_partition_id,
)
from tests.property.strategies import field_values, json_values

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
WIRE_FIELDS = {
    "type",
    "timestamp",
    "eventId",
    "visitorId",
    "contactId",
    "propertyId",
    "value",
    "dwellSeconds",
    "data",
    "event",
}
ids = st.from_regex(r"\A[A-Za-z0-9._:\-]{1,40}\Z")
contact_ids = st.from_regex(r"\A[A-Za-z0-9_\-]{1,30}\Z")
#: Times a website really reports: inside the window, and a little either side of it.
times = st.datetimes(
    min_value=datetime(2026, 10, 1), max_value=datetime(2026, 12, 1), timezones=st.timezones()
)


@st.composite
def website_events(draw: st.DrawFn) -> dict[str, Any]:
    when = draw(st.one_of(times, st.just(NOW - timedelta(minutes=1))))
    event: dict[str, Any] = {
        "type": draw(st.sampled_from(["property_view", "search", "Tour_Request", "page_view"])),
        "timestamp": when.isoformat(),
        "eventId": draw(ids),
    }
    who = draw(st.sampled_from(["visitor", "contact", "both"]))
    if who in ("visitor", "both"):
        event["visitorId"] = draw(ids)
    if who in ("contact", "both"):
        event["contactId"] = draw(contact_ids)
    if draw(st.booleans()):
        event["propertyId"] = draw(ids)
    if draw(st.booleans()):
        event["value"] = draw(st.floats(-1e12, 1e12) | st.integers(0, 10**9))
    if draw(st.booleans()):
        event["dwellSeconds"] = draw(st.floats(0, 86_400))
    if draw(st.booleans()):
        event["data"] = draw(
            st.dictionaries(st.text(min_size=1, max_size=8), field_values, max_size=4)
        )
    return event


@st.composite
def damaged_events(draw: st.DrawFn) -> Any:
    event = draw(website_events())
    how = draw(st.sampled_from(["retype", "drop", "extra", "not-an-object"]))
    if how == "not-an-object":
        return draw(json_values)
    key = draw(st.sampled_from(sorted(WIRE_FIELDS - {"event"})))
    if how == "retype":
        event[key] = draw(json_values)
    elif how == "drop":
        event.pop(key, None)
    else:
        event[draw(st.text(max_size=10))] = draw(json_values)
    return event


batches = st.one_of(
    st.lists(st.one_of(website_events(), damaged_events()), min_size=1, max_size=12).map(
        lambda events: {"events": events}
    ),
    json_values,
    st.dictionaries(st.sampled_from(["events", "siteKey"]), json_values, max_size=2),
)


def check(payload: Any) -> CheckedBatch | None:
    try:
        checked = validate_batch(payload, NOW)
    except BatchError as exc:
        assert exc.problem.index is None and exc.problem.field in ("body", "events")
        assert exc.problem.message
        hypothesis.event("batch refused")
        return None
    events = payload["events"]
    valid = {index for index, _ in checked.events}
    refused = {problem.index for problem in checked.problems}
    # Every event is either kept or refused with at least one problem, never both.
    assert valid | refused == set(range(len(events)))
    assert not valid & refused
    for problem in checked.problems:
        assert problem.field in WIRE_FIELDS, problem
        assert problem.message
    kept_ids = [event.event_id for _, event in checked.events]
    assert len(kept_ids) == len(set(kept_ids))
    for _, event in checked.events:
        assert NOW - MAX_AGE <= event.timestamp <= NOW + FUTURE_TOLERANCE
        assert event.timestamp.tzinfo is not None
        assert event.visitor_id or event.contact_id
    hypothesis.event(f"{len(valid)} kept, {len(refused)} refused")
    return checked


@given(payload=batches)
@example(payload={"events": []})
@example(payload={"events": [{}] * (MAX_BATCH + 1)})
@example(payload={"events": [None, [], "x", 1]})
def test_a_batch_is_sorted_event_by_event_or_refused_whole(payload: Any) -> None:
    check(payload)


@given(events=st.lists(website_events(), min_size=1, max_size=MAX_BATCH))
def test_what_the_website_sends_is_kept_as_sent(events: list[dict[str, Any]]) -> None:
    checked = check({"events": events})
    assert checked is not None
    kept = {index for index, _ in checked.events}
    for problem in checked.problems:
        if problem.field == "eventId":  # a repeat, within the batch, of an event kept before it
            sent_id = events[problem.index]["eventId"]
            assert any(events[i]["eventId"] == sent_id for i in kept if i < problem.index)
    for index, event in checked.events:
        sent = events[index]
        assert event.type == sent["type"].lower()
        assert event.timestamp == datetime.fromisoformat(sent["timestamp"])
        stored = normalised("loc", event)
        stream = sent.get("contactId") or visitor_partition_id(sent["visitorId"])
        assert stored.lead.contact_id == stream
        assert stored.event_id == sent["eventId"]
        assert stored.property_id == sent.get("propertyId")


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_timestamp_at_the_edge_of_the_calendar_is_a_problem_not_a_crash(timestamp: str) -> None:
    batch = {"events": [{"type": "x", "timestamp": timestamp, "eventId": "a", "visitorId": "v"}]}
    checked = validate_batch(batch, NOW)
    assert [(p.index, p.field) for p in checked.problems] == [(0, "timestamp")]
