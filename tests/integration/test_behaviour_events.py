"""POST /events and GET /track.js through the intake handler, against moto: what the website
gets back, what is stored, what is queued for scoring."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ghl_ai.jobs import ScoringJob
from local.apigw import LambdaContext, http_event
from tests.conftest import LOCATION_ID, Stack
from tests.support import events_of

NOW = datetime.now(UTC)


def event(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "property_view",
        "timestamp": (NOW - timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
        "eventId": str(uuid.uuid4()),
        "visitorId": "v-abc123",
        "propertyId": "IE-1042",
        "dwellSeconds": 42,
        "data": {"price": 615000, "beds": 4, "city": "Rancho Cucamonga"},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def scoring_jobs(stack: Stack) -> list[ScoringJob]:
    response = stack.sqs.receive_message(
        QueueUrl=stack.resources.queue_urls["ScoringQueue"], MaxNumberOfMessages=10
    )
    return [ScoringJob.model_validate_json(m["Body"]) for m in response.get("Messages", [])]


def test_a_batch_is_stored_under_its_streams_and_queued_for_scoring(stack: Stack) -> None:
    batch = [event(), event(type="property_save"), event(contactId="c-42", visitorId="v-9")]

    response = stack.post_events({"events": batch})

    assert (response.status, response.json) == (202, {"accepted": 3, "duplicates": 0})
    anonymous = events_of(stack, LOCATION_ID, "visitor:v-abc123")
    assert sorted(e["type"] for e in anonymous) == ["property_save", "property_view"]
    view = next(e for e in anonymous if e["type"] == "property_view")
    assert view["propertyId"] == "IE-1042"
    assert view["data"]["dwellSeconds"] == 42 and view["data"]["price"] == 615000
    assert [e["type"] for e in events_of(stack, LOCATION_ID, "c-42")] == ["property_view"]
    [job] = scoring_jobs(stack)
    assert (job.location_id, job.contacts, job.visitors) == (LOCATION_ID, ["c-42"], ["v-abc123"])
    assert [(i.visitor_id, i.contact_id) for i in job.identities] == [("v-9", "c-42")]


def test_a_resent_batch_is_counted_as_duplicates_and_stored_once(stack: Stack) -> None:
    batch = {"events": [event(), event()]}
    assert stack.post_events(batch).json == {"accepted": 2, "duplicates": 0}

    again = stack.post_events(batch)

    assert (again.status, again.json) == (202, {"accepted": 0, "duplicates": 2})
    assert len(events_of(stack, LOCATION_ID, "visitor:v-abc123")) == 2


def test_unknown_types_are_stored_not_refused(stack: Stack) -> None:
    response = stack.post_events({"events": [event(type="Video_Play", propertyId=None)]})

    assert response.status == 202
    [stored] = events_of(stack, LOCATION_ID, "visitor:v-abc123")
    assert stored["type"] == "video_play"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"type": None}, "type", "required"),
        ({"type": "page view!"}, "type", "pattern"),
        ({"timestamp": None}, "timestamp", "required"),
        ({"timestamp": "yesterday"}, "timestamp", "datetime"),
        ({"timestamp": (NOW + timedelta(hours=2)).isoformat()}, "timestamp", "future"),
        ({"timestamp": (NOW - timedelta(days=45)).isoformat()}, "timestamp", "30 days"),
        ({"eventId": None}, "eventId", "required"),
        ({"eventId": "x" * 200}, "eventId", "at most 128"),
        ({"visitorId": None}, "visitorId", "visitorId or contactId"),
        ({"visitorId": "has spaces"}, "visitorId", "pattern"),
        ({"contactId": "a:b"}, "contactId", "pattern"),
        ({"propertyId": ""}, "propertyId", "at least 1"),
        ({"value": "lots"}, "value", "number"),
        ({"dwellSeconds": -3}, "dwellSeconds", "greater than or equal"),
        ({"dwellSeconds": 100000}, "dwellSeconds", "less than or equal"),
        ({"data": [1, 2]}, "data", "dictionary"),
        ({"data": {"blob": "x" * 5000}}, "data", "4096 bytes"),
        ({"data": {"": 1}}, "data", "empty keys"),
        (
            {"data": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}},
            "data",
            "nest",
        ),
    ],
)
def test_each_bad_field_is_named_by_index_and_the_good_events_are_kept(
    stack: Stack, fields: dict[str, Any], field: str, words: str
) -> None:
    bad = {**event(), **fields}
    bad = {k: v for k, v in bad.items() if v is not None}

    response = stack.post_events({"events": [event(), bad, event()]})

    assert response.status == 422, response.json
    body = response.json
    assert body["error"] == "invalid events"
    [problem] = body["problems"]
    assert (problem["index"], problem["field"]) == (1, field)
    assert words in problem["message"]
    assert (body["accepted"], body["duplicates"], body["taken"]) == (2, 0, [0, 2])
    assert len(events_of(stack, LOCATION_ID, "visitor:v-abc123")) == 2


def test_a_lone_surrogate_is_stored_as_a_replacement_character(stack: Stack) -> None:
    """A broken emoji (a lone UTF-16 surrogate) cannot be stored as is; it is replaced."""
    raw = (
        '{"events": [' + json.dumps(event())[:-1] + ', "data": {"name": "a\\ud800b"}}]}'
    ).encode()

    response = stack.post_events(raw)

    assert response.status == 202, response.json
    [stored] = stack.scan("EventsTable")
    assert stored["data"]["name"] == "a\ufffdb"


def test_problems_never_quote_what_was_sent(stack: Stack) -> None:
    secret = "maria@example.com"
    response = stack.post_events({"events": [event(visitorId=secret)]})

    assert response.status == 422
    assert secret not in json.dumps(response.json)


def test_the_same_event_id_twice_in_a_batch_is_refused_once(stack: Stack) -> None:
    same = event()
    response = stack.post_events({"events": [same, dict(same)]})

    assert response.status == 422
    assert response.json["problems"] == [
        {"index": 1, "field": "eventId", "message": "appears twice in this batch"}
    ]
    assert response.json["taken"] == [0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"events": []}, "must hold 1 to 100 events"),
        ({"events": [event() for _ in range(101)]}, "must hold 1 to 100 events"),
        ({"events": "lots"}, "must be a list of events"),
        ({"nothing": 1}, "must be a list of events"),
        ([event()], "must be a JSON object"),
    ],
)
def test_an_unusable_batch_is_a_422_naming_the_batch(stack: Stack, body: Any, message: str) -> None:
    response = stack.post_events(json.dumps(body).encode())

    assert response.status == 422
    assert response.json["problems"][0]["message"] == message
    assert stack.queue_depth("ScoringQueue") == 0


def test_a_body_that_is_not_json_is_a_400(stack: Stack) -> None:
    response = stack.post_events(b'{"events": [')

    assert response.status == 400
    assert "not valid JSON" in response.json["error"]


def test_a_body_over_256_kb_is_a_413_and_nothing_is_stored(stack: Stack) -> None:
    big = json.dumps({"events": [event(data={"pad": "x" * 3000}) for _ in range(90)]})
    assert len(big) > 256 * 1024

    response = stack.post_events(big.encode())

    assert response.status == 413
    assert stack.scan("EventsTable") == []


@pytest.mark.parametrize("site_key", [None, "wrong-key"])
def test_a_missing_or_wrong_site_key_is_a_401(stack: Stack, site_key: str | None) -> None:
    response = stack.post_events({"events": [event()]}, site_key=site_key)

    assert response.status == 401
    assert stack.scan("EventsTable") == []


def test_the_site_key_may_come_in_the_body_or_the_query_as_sendbeacon_needs(stack: Stack) -> None:
    from local import devkeys

    in_body = stack.post_events(
        {"siteKey": devkeys.SITE_KEY, "events": [event()]},
        site_key=None,
        content_type="text/plain;charset=UTF-8",
    )
    in_query = stack.post_events(
        {"events": [event()]}, site_key=None, query={"siteKey": devkeys.SITE_KEY}
    )

    assert (in_body.status, in_query.status) == (202, 202)
    assert len(events_of(stack, LOCATION_ID, "visitor:v-abc123")) == 2


def test_a_wrong_key_in_the_header_is_refused_before_the_body_is_read(stack: Stack) -> None:
    response = stack.post_events(b"not json at all", site_key="wrong-key")

    assert response.status == 401


def test_other_content_types_are_a_415(stack: Stack) -> None:
    response = stack.post_events({"events": [event()]}, content_type="application/xml")

    assert response.status == 415


def test_the_tracking_script_is_served_cacheable(stack: Stack) -> None:
    from functions.intake import app as intake_app

    result = intake_app.handler(http_event("GET", "/track.js"), LambdaContext("x"))

    assert result["statusCode"] == 200
    assert result["headers"]["content-type"].startswith("application/javascript")
    assert "max-age" in result["headers"]["cache-control"]
    assert "sendBeacon" in result["body"]


def test_each_site_key_writes_only_its_own_locations_streams(stack: Stack) -> None:
    from ghl_ai.tenants import digest

    stack.dynamodb.put_item(
        TableName=stack.resources.tables["TenantsTable"],
        Item={"locationId": {"S": "tenant-two"}, "siteKeySha256": {"S": digest("site-two")}},
    )
    same_visitor = {"events": [event(visitorId="v-shared", contactId="c-1")]}

    assert stack.post_events(same_visitor).status == 202
    assert stack.post_events(same_visitor, site_key="site-two").status == 202

    assert len(events_of(stack, LOCATION_ID, "c-1")) == 1
    assert len(events_of(stack, "tenant-two", "c-1")) == 1
    assert sorted(job.location_id for job in scoring_jobs(stack)) == [LOCATION_ID, "tenant-two"]
    # a body claiming another location changes nothing: the key decides
    forged = {"events": [event(contactId="c-2")], "locationId": "tenant-two"}
    assert stack.post_events(forged).status == 202
    assert events_of(stack, "tenant-two", "c-2") == []


def test_a_batch_mixing_new_and_already_stored_events_stores_only_the_new(stack: Stack) -> None:
    old, new = event(), event()
    stack.post_events({"events": [old]})

    response = stack.post_events({"events": [new, old, event(contactId="c-7")]})

    assert (response.status, response.json) == (202, {"accepted": 2, "duplicates": 1})
    assert len(events_of(stack, LOCATION_ID, "visitor:v-abc123")) == 2
    assert len(events_of(stack, LOCATION_ID, "c-7")) == 1


def test_json_nested_thousands_deep_is_a_400_not_a_crash(stack: Stack) -> None:
    response = stack.post_events(b'{"events": ' + b"[" * 5000 + b"]" * 5000 + b"}")

    assert response.status == 400
    assert response.json == {"error": "body nests deeper than 32 levels"}
