"""Lyrio website forms (``POST /forms/lyrio``): JSON or form-encoded, authenticated by the
location's site key, rate limited per client, screened by a honeypot, validated without echoing
what the visitor typed, and enqueued once for the worker."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from functions.intake import app as intake_app
from ghl_ai.adapters.queue import JobQueue
from ghl_ai.adapters.ratelimit import FixedWindowLimiter
from ghl_ai.forms.intake import FormIntake, dedupe_key
from ghl_ai.forms.lyrio import LyrioForm
from ghl_ai.jobs import LyrioFormJob
from ghl_ai.tenants import digest
from local import devkeys
from local.apigw import LambdaContext, http_event, response_json
from tests.conftest import LOCATION_ID, Stack

FORM = {
    "first_name": "Maria",
    "last_name": "Gonzalez",
    "email": "Maria.Gonzalez@Example.com",
    "phone": "(512) 555-0147",
    "intent": "buying",
    "budget": "$450k to $550k",
    "timeline": "within 3 months",
    "message": "Can we see the Oak Street house on Saturday?",
    "consent": True,
    "website": "",
}
ID = re.compile(r"^form:[0-9a-f]{64}$")
#: 2026-11-20 15:10:00 UTC: ten minutes into an hourly window.
NOW = 1795187400.0


@dataclass
class Reply:
    status: int
    json: Any
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return json.dumps(self.json)


def post_form(
    body: bytes | dict[str, Any],
    *,
    content_type: str = "application/json",
    site_key: str | None = devkeys.SITE_KEY,
    ip: str = "203.0.113.7",
) -> Reply:
    if isinstance(body, dict):
        raw = (
            urlencode(body).encode()
            if content_type.startswith("application/x-www-form-urlencoded")
            else json.dumps(body).encode()
        )
    else:
        raw = body
    headers = {"content-type": content_type}
    if site_key is not None:
        headers["x-site-key"] = site_key
    event = http_event("POST", "/forms/lyrio", raw, headers)
    event["requestContext"]["http"]["sourceIp"] = ip
    result = intake_app.handler(event, LambdaContext("IntakeFunction"))
    return Reply(result["statusCode"], response_json(result), result.get("headers") or {})


def form_jobs(stack: Stack) -> list[LyrioFormJob]:
    jobs: dict[str, LyrioFormJob] = {}
    for _ in range(5):  # moto returns at most 10 per call, in any order
        response = stack.sqs.receive_message(
            QueueUrl=stack.resources.queue_urls["JobsQueue"], MaxNumberOfMessages=10
        )
        for message in response.get("Messages", []):
            job = LyrioFormJob.model_validate_json(message["Body"])
            jobs[job.id] = job
    return list(jobs.values())


@pytest.fixture
def fixed_clock(stack: Stack) -> None:
    """The form intake with its rate limiter on a fixed clock (passed in through its
    constructor), so a test never straddles an hour boundary."""
    d = intake_app.deps()
    d.forms = FormIntake(
        JobQueue(stack.sqs, d.settings.jobs_queue_url),
        FixedWindowLimiter(
            stack.dynamodb,
            d.settings.rate_limits_table,
            limit=d.settings.form_rate_limit_per_hour,
            clock=lambda: NOW,
        ),
    )


# -- accepted --------------------------------------------------------------------------------


def test_a_json_form_is_accepted_and_queued_for_the_worker(stack: Stack) -> None:
    reply = post_form(FORM)

    assert reply.status == 202, reply.json
    assert reply.json["status"] == "accepted"
    assert ID.match(reply.json["id"])
    [job] = form_jobs(stack)
    assert job.id == reply.json["id"]
    assert job.kind == "lyrio_form"
    assert job.location_id == LOCATION_ID
    form = job.form
    assert (form.first_name, form.last_name) == ("Maria", "Gonzalez")
    assert form.phone == "+15125550147"
    assert form.email == "maria.gonzalez@example.com"
    assert form.intent == "buy"
    assert form.budget == "$450k to $550k"
    assert form.timeline == "within 3 months"
    assert form.consent is True


def test_a_form_encoded_form_is_accepted_with_the_site_key_as_a_field(stack: Stack) -> None:
    """What a plain HTML form posts: camelCase names, the key as a hidden field, the consent
    checkbox as "on"."""
    body = {
        "siteKey": devkeys.SITE_KEY,
        "firstName": "Derek",
        "lastName": "Olsen",
        "phone": "512.555.0199",
        "intent": "selling",
        "timeline": "next spring",
        "consent": "on",
        "website": "",
    }

    reply = post_form(
        body, content_type="application/x-www-form-urlencoded; charset=UTF-8", site_key=None
    )

    assert reply.status == 202, reply.json
    assert reply.json["status"] == "accepted"
    [job] = form_jobs(stack)
    assert job.location_id == LOCATION_ID
    assert (job.form.first_name, job.form.last_name) == ("Derek", "Olsen")
    assert job.form.phone == "+15125550199"
    assert job.form.email is None
    assert job.form.intent == "sell"
    assert job.form.consent is True


def test_a_form_encoded_key_repeated_takes_its_first_value(stack: Stack) -> None:
    raw = b"site_key=" + devkeys.SITE_KEY.encode() + b"&email=a%40example.com&email=b%40example.com"

    reply = post_form(raw, content_type="application/x-www-form-urlencoded", site_key=None)

    assert reply.status == 202, reply.json
    [job] = form_jobs(stack)
    assert job.form.email == "a@example.com"
    assert job.form.consent is False


def test_the_site_key_may_come_in_the_json_body(stack: Stack) -> None:
    reply = post_form({**FORM, "siteKey": devkeys.SITE_KEY}, site_key=None)

    assert reply.status == 202, reply.json
    assert [job.location_id for job in form_jobs(stack)] == [LOCATION_ID]


def test_a_double_submit_is_queued_once(stack: Stack) -> None:
    first = post_form(FORM)
    second = post_form(FORM)

    assert first.status == second.status == 202
    assert first.json == {"status": "accepted", "id": first.json["id"]}
    assert second.json == {"status": "duplicate", "id": first.json["id"]}
    assert stack.queue_depth() == 1
    assert len(form_jobs(stack)) == 1


def test_the_same_form_spelled_differently_is_still_one_submission(stack: Stack) -> None:
    """The key is taken from the validated form: whitespace, case and phone formatting do not
    make a new submission."""
    respelled = {**FORM, "email": " maria.gonzalez@example.com ", "phone": "512-555-0147"}

    assert post_form(FORM).json["status"] == "accepted"
    assert post_form(respelled).json["status"] == "duplicate"
    assert stack.queue_depth() == 1


def test_different_forms_and_locations_have_different_ids() -> None:
    form = LyrioForm.model_validate({"email": "a@example.com"})
    other = LyrioForm.model_validate({"email": "a@example.com", "intent": "sell"})

    assert dedupe_key("loc-a", form) == dedupe_key("loc-a", form)
    assert dedupe_key("loc-a", form) != dedupe_key("loc-b", form)
    assert dedupe_key("loc-a", form) != dedupe_key("loc-a", other)


def test_a_location_in_the_tenants_table_uses_its_own_site_key(stack: Stack) -> None:
    """Multi-location install: the site key is stored as a digest and indexed (bySiteKey)."""
    stack.dynamodb.put_item(
        TableName=stack.resources.tables["TenantsTable"],
        Item={"locationId": {"S": "tenant-two"}, "siteKeySha256": {"S": digest("site-two")}},
    )

    reply = post_form(FORM, site_key="site-two")

    assert reply.status == 202, reply.json
    assert [job.location_id for job in form_jobs(stack)] == ["tenant-two"]
    # The same form for another location is another submission, not a duplicate.
    assert post_form(FORM).json["status"] == "accepted"
    assert stack.queue_depth() == 2


# -- rejected --------------------------------------------------------------------------------


def test_bad_fields_are_each_named_and_no_value_is_echoed(stack: Stack) -> None:
    bad = {**FORM, "email": "maria-at-example", "phone": "555-01", "intent": "lease"}

    reply = post_form(bad)

    assert reply.status == 422
    assert reply.json["error"] == "invalid form"
    problems = reply.json["problems"]
    assert {p["field"] for p in problems} == {"email", "phone", "intent"}
    assert all(p["message"] for p in problems)
    for value in ("maria-at-example", "555-01", "lease", "Maria", "Oak Street"):
        assert value not in reply.text
    assert stack.queue_depth() == 0


def test_a_form_without_a_phone_or_an_email_names_the_phone(stack: Stack) -> None:
    reply = post_form({"first_name": "Maria", "message": "Call me", "phone": "", "email": ""})

    assert reply.status == 422
    assert reply.json["problems"] == [
        {"field": "phone", "message": "a phone or an email is required"}
    ]
    assert stack.queue_depth() == 0


def test_too_long_and_wrongly_typed_fields_are_named(stack: Stack) -> None:
    reply = post_form({**FORM, "first_name": "x" * 81, "budget": {"max": 500000}})

    assert reply.status == 422
    assert [p["field"] for p in reply.json["problems"]] == ["first_name", "budget"]
    assert "x" * 81 not in reply.text and "500000" not in reply.text


def test_a_filled_honeypot_is_answered_like_an_accept_but_dropped(
    stack: Stack, powertools_logs: io.StringIO
) -> None:
    reply = post_form({**FORM, "website": "http://cheap-pills.example"})

    assert reply.status == 202
    assert reply.json["status"] == "accepted"
    assert ID.match(reply.json["id"])
    assert stack.queue_depth() == 0
    assert stack.scan("IdempotencyTable") == []
    [record] = [
        json.loads(line) for line in powertools_logs.getvalue().splitlines() if "honeypot" in line
    ]
    assert record["message"] == "form dropped: honeypot"
    assert record["location_id"] == LOCATION_ID
    assert "maria" not in powertools_logs.getvalue().lower()


def test_a_honeypot_wins_even_over_invalid_fields(stack: Stack) -> None:
    """A bot learns nothing from validation: it is told its post was accepted."""
    reply = post_form({"website": "spam", "email": "not-an-email"})

    assert reply.status == 202 and reply.json["status"] == "accepted"
    assert stack.queue_depth() == 0


@pytest.mark.parametrize(
    "site_key",
    [None, "", "not-the-site-key", devkeys.API_KEY],
    ids=["absent", "empty", "wrong", "api-key"],
)
def test_a_missing_or_wrong_site_key_is_rejected(stack: Stack, site_key: str | None) -> None:
    reply = post_form(FORM, site_key=site_key)

    assert reply.status == 401
    assert reply.json == {"error": "invalid site key"}
    assert stack.queue_depth() == 0
    # Only the client's refused-credentials counter: no form was counted for any location.
    assert [i["bucket"].split("#")[0] for i in stack.scan("RateLimitsTable")] == ["authfail"]


def test_a_site_key_in_the_body_must_also_be_right(stack: Stack) -> None:
    reply = post_form({**FORM, "site_key": "guess"}, site_key=None)

    assert reply.status == 401
    assert "guess" not in reply.text
    assert stack.queue_depth() == 0


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data; boundary=x", "application/xml", ""]
)
def test_an_unsupported_content_type_is_415(stack: Stack, content_type: str) -> None:
    reply = post_form(b"email=a%40example.com", content_type=content_type)

    assert reply.status == 415
    assert "application/json" in reply.json["error"]
    assert stack.queue_depth() == 0


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"{not json", "not valid JSON: Expecting property name"),
        (b"", "empty"),
        (b'{"email": "a@example.com"', "not valid JSON: Expecting ',' delimiter"),
    ],
)
def test_malformed_json_is_400(stack: Stack, raw: bytes, problem: str) -> None:
    reply = post_form(raw)

    assert reply.status == 400
    assert problem in reply.json["error"]
    assert "a@example.com" not in reply.text
    assert stack.queue_depth() == 0


@pytest.mark.parametrize("raw", [b"[]", b'"hello"', b"42", b"null"])
def test_json_that_is_not_an_object_is_422(stack: Stack, raw: bytes) -> None:
    reply = post_form(raw)

    assert reply.status == 422
    assert reply.json["problems"] == [{"field": "body", "message": "must be a JSON object"}]


# -- rate limit ------------------------------------------------------------------------------


@pytest.mark.usefixtures("fixed_clock")
def test_the_eleventh_post_from_one_ip_in_an_hour_is_refused(stack: Stack) -> None:
    for i in range(10):
        reply = post_form({**FORM, "email": f"lead{i}@example.com"}, ip="198.51.100.20")
        assert reply.status == 202, (i, reply.json)

    refused = post_form({**FORM, "email": "lead10@example.com"}, ip="198.51.100.20")

    assert refused.status == 429
    # Ten minutes into the window: fifty minutes to wait.
    assert refused.headers["retry-after"] == "3000"
    assert refused.json["retryAfter"] == 3000
    assert stack.queue_depth() == 10
    # Another client of the same site is not affected.
    other = post_form({**FORM, "email": "lead10@example.com"}, ip="198.51.100.21")
    assert other.status == 202
    assert stack.queue_depth() == 11


@pytest.mark.usefixtures("fixed_clock")
def test_the_rate_limit_counts_per_location(stack: Stack) -> None:
    stack.dynamodb.put_item(
        TableName=stack.resources.tables["TenantsTable"],
        Item={"locationId": {"S": "tenant-two"}, "siteKeySha256": {"S": digest("site-two")}},
    )
    for i in range(10):
        assert post_form({**FORM, "email": f"l{i}@example.com"}).status == 202

    assert post_form({**FORM, "email": "x@example.com"}).status == 429
    assert post_form({**FORM, "email": "x@example.com"}, site_key="site-two").status == 202


@pytest.mark.usefixtures("fixed_clock")
def test_the_counter_stores_no_ip_and_expires(stack: Stack) -> None:
    post_form(FORM, ip="192.0.2.55")

    window = int(NOW // 3600) * 3600
    # The location's own hourly counter, and the client's.
    location, client = ([], [])  # type: tuple[list[dict[str, Any]], list[dict[str, Any]]]
    for counter in stack.scan("RateLimitsTable"):
        is_location = re.fullmatch(rf"form#{LOCATION_ID}#\d+", counter["bucket"])
        (location if is_location else client).append(counter)
    assert [c["hits"] for c in location] == [1]
    [item] = client
    assert re.fullmatch(rf"form#{LOCATION_ID}#[0-9a-f]{{16}}#{window}", item["bucket"])
    assert "192.0.2.55" not in json.dumps(item)
    assert item["hits"] == 1
    assert item["expiresAt"] > window + 3600


def test_the_limiter_window_rolls_over(stack: Stack) -> None:
    clock = [NOW]
    limiter = FixedWindowLimiter(
        stack.dynamodb,
        stack.resources.tables["RateLimitsTable"],
        limit=2,
        clock=lambda: clock[0],
    )

    decisions = [limiter.hit("form#loc#client") for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert [d.hits for d in decisions] == [1, 2, 3]
    assert decisions[-1].retry_after == 3000

    clock[0] = NOW + 3000  # the next window
    assert limiter.hit("form#loc#client").allowed


# -- logs ------------------------------------------------------------------------------------


def test_form_logs_carry_ids_but_not_what_the_visitor_typed(
    stack: Stack, powertools_logs: io.StringIO, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    accepted = post_form(FORM)
    post_form({**FORM, "email": "maria-at-example"})

    everything = powertools_logs.getvalue() + caplog.text
    assert accepted.json["id"] in everything
    assert "form rejected: invalid" in everything
    private = ["Maria", "Gonzalez", "example.com", "555-0147", "5125550147", "Oak Street"]
    assert [value for value in private if value in everything] == []
