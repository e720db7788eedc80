"""``GET /leads/{contactId}``: the lead's state for the caller's location only, behind the
location's API key (``Authorization: Bearer <key>``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.intake import app as intake_app
from ghl_ai import config
from ghl_ai.adapters.dynamo import LeadStore, MessageStore, WorkflowRunStore, iso
from ghl_ai.leads.models import LeadChanges, LeadKey, Message
from ghl_ai.tenants import digest
from local import devkeys
from local.apigw import LambdaContext, http_event, response_json
from tests.conftest import LOCATION_ID, Stack

CONTACT_ID = "gxGfB9wxEy3anxbHB4nT"
OTHER_LOCATION = "someone-elses-location"
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

LEAD = {
    "firstName": "Maria",
    "lastName": "Gonzalez",
    "name": "Maria Gonzalez",
    "phone": "+15125550147",
    "tags": ["lyrio", "needs qualifying"],
    "language": "es",
    "intent": "buy",
    "intentConfidence": 0.85,
    "answers": {
        "budget": {"value": {"min": 400000, "max": 550000}, "confidence": 0.9, "source": "rules"},
        "timeline": {"value": 90, "confidence": 1, "source": "form"},
        "area": {"value": "Westlake", "confidence": 0.8, "source": "claude"},
        "pre_approval": {"value": "in_progress", "confidence": 0.7, "source": "rules"},
        "bedrooms": {"value": 3, "confidence": 0.75, "source": "rules"},
    },
    "temperature": "warm",
    "optedOut": False,
    "handedOff": True,
    "dnd": False,
    "dndChannels": {"Email": "active"},
    "qualifiedAt": "2026-11-20T15:20:00Z",
    "lastInboundAt": "2026-11-20T15:22:00Z",
    "lastOutboundAt": "2026-11-20T15:23:00Z",
    "updatedAt": "2026-11-20T15:23:01Z",
}


def seed_lead(stack: Stack, location_id: str, contact_id: str, attributes: dict[str, Any]) -> None:
    LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]).apply(
        LeadKey(location_id, contact_id), LeadChanges(set=attributes)
    )


def seed_messages(stack: Stack, location_id: str, contact_id: str, count: int) -> None:
    store = MessageStore(stack.dynamodb, stack.resources.tables["MessagesTable"])
    for i in range(count):
        store.put(
            Message(
                lead=LeadKey(location_id, contact_id),
                message_id=f"m{i:02d}",
                direction="inbound" if i % 2 == 0 else "outbound",
                channel="SMS",
                body=f"message {i}",
                sent_at=START + timedelta(minutes=i),
            )
        )


def get_lead(
    contact_id: str = CONTACT_ID, authorization: str | None = f"Bearer {devkeys.API_KEY}"
) -> tuple[int, Any, dict[str, str]]:
    headers = {"authorization": authorization} if authorization is not None else {}
    event = http_event(
        "GET", f"/leads/{contact_id}", None, headers, route_key="GET /leads/{contactId}"
    )
    event["pathParameters"] = {"contactId": contact_id}
    result = intake_app.handler(event, LambdaContext("IntakeFunction"))
    return result["statusCode"], response_json(result), result.get("headers") or {}


def put_tenant(stack: Stack, location_id: str, **attributes: str) -> None:
    stack.dynamodb.put_item(
        TableName=stack.resources.tables["TenantsTable"],
        Item={"locationId": {"S": location_id}, **{k: {"S": v} for k, v in attributes.items()}},
    )


def test_a_lead_is_returned_with_answers_flags_and_last_messages(stack: Stack) -> None:
    seed_lead(stack, LOCATION_ID, CONTACT_ID, LEAD)
    seed_messages(stack, LOCATION_ID, CONTACT_ID, 12)

    status, body, _ = get_lead()

    assert status == 200, body
    assert body == {
        "contactId": CONTACT_ID,
        "locationId": LOCATION_ID,
        "name": "Maria Gonzalez",
        "firstName": "Maria",
        "language": "es",
        "intent": "buy",
        "intentConfidence": 0.85,
        "answers": {
            "budget": {
                "value": {"min": 400000, "max": 550000},
                "confidence": 0.9,
                "source": "rules",
                "text": "$400,000 to $550,000",
            },
            "timeline": {
                "value": 90,
                "confidence": 1.0,
                "source": "form",
                "text": "about 3 months",
            },
            "area": {
                "value": "Westlake",
                "confidence": 0.8,
                "source": "claude",
                "text": "Westlake",
            },
            "pre_approval": {
                "value": "in_progress",
                "confidence": 0.7,
                "source": "rules",
                "text": "in progress",
            },
            "bedrooms": {"value": 3, "confidence": 0.75, "source": "rules", "text": "3"},
        },
        "temperature": "warm",
        "qualificationTemperature": "warm",
        "score": None,
        "churn": None,
        "flags": {
            "optedOut": False,
            "dnd": False,
            "dndChannels": {"Email": "active"},
            "handedOff": True,
            "aiOff": False,
            "smsBlocked": False,
        },
        "qualifiedAt": "2026-11-20T15:20:00Z",
        "lastInboundAt": "2026-11-20T15:22:00Z",
        "lastOutboundAt": "2026-11-20T15:23:00Z",
        "lastMessages": [
            {
                "direction": "inbound" if i % 2 == 0 else "outbound",
                "channel": "SMS",
                "body": f"message {i}",
                "at": f"2026-11-20T15:{i:02d}:00Z",
            }
            for i in range(2, 12)
        ],
        "workflows": [],
        "updatedAt": "2026-11-20T15:23:01Z",
    }
    # DynamoDB numbers come back as JSON numbers, not strings.
    assert isinstance(body["answers"]["bedrooms"]["value"], int)
    assert isinstance(body["intentConfidence"], float)


def test_a_lead_with_little_known_has_empty_defaults(stack: Stack) -> None:
    seed_lead(stack, LOCATION_ID, CONTACT_ID, {"firstName": "Sam", "lastName": "Lee"})

    status, body, _ = get_lead()

    assert status == 200
    assert body["name"] == "Sam Lee"
    assert body["intent"] is None and body["intentConfidence"] is None
    assert body["answers"] == {} and body["lastMessages"] == [] and body["workflows"] == []
    assert body["temperature"] is None and body["qualifiedAt"] is None
    assert body["flags"] == {
        "optedOut": False,
        "dnd": False,
        "dndChannels": {},
        "handedOff": False,
        "aiOff": False,
        "smsBlocked": False,
    }


@pytest.mark.parametrize(
    ("attributes", "sms_blocked"),
    [
        ({"optedOut": True}, True),
        ({"dnd": True}, True),
        ({"dndChannels": {"SMS": "active"}}, True),
        ({"dndChannels": {"SMS": "inactive", "Email": "permanent"}}, False),
    ],
)
def test_sms_blocked_follows_dnd_and_opt_out(
    stack: Stack, attributes: dict[str, Any], sms_blocked: bool
) -> None:
    seed_lead(stack, LOCATION_ID, CONTACT_ID, attributes)

    assert get_lead()[1]["flags"]["smsBlocked"] is sms_blocked


def test_ai_off_is_the_locations_bot_off_tag(stack: Stack) -> None:
    seed_lead(stack, LOCATION_ID, CONTACT_ID, {"tags": ["hot-lead", "ai-off"]})
    assert get_lead()[1]["flags"]["aiOff"] is True

    # A location with its own bot-off tag: "ai-off" means nothing there.
    put_tenant(stack, "tenant-two", apiKeySha256=digest("key-two"), botOffTag="Pause-Bot")
    seed_lead(stack, "tenant-two", CONTACT_ID, {"tags": ["ai-off"]})
    assert get_lead(authorization="Bearer key-two")[1]["flags"]["aiOff"] is False
    seed_lead(stack, "tenant-two", CONTACT_ID, {"tags": ["pause-bot"]})
    assert get_lead(authorization="Bearer key-two")[1]["flags"]["aiOff"] is True


def test_an_unknown_contact_is_404(stack: Stack) -> None:
    status, body, _ = get_lead("nobody-here")

    assert status == 404
    assert body == {"error": "lead not found"}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-key",
        f"Basic {devkeys.API_KEY}",
        "Bearer " + "x" * 300,
    ],
    ids=["absent", "empty", "no-key", "blank-key", "wrong-key", "basic", "long"],
)
def test_a_missing_or_wrong_api_key_is_401(stack: Stack, authorization: str | None) -> None:
    seed_lead(stack, LOCATION_ID, CONTACT_ID, LEAD)

    status, body, headers = get_lead(authorization=authorization)

    assert status == 401
    assert headers["www-authenticate"] == "Bearer"
    assert "key" in body["error"].lower()
    text = json.dumps(body)
    assert devkeys.API_KEY not in text and "Maria" not in text


def test_the_site_key_is_not_an_api_key(stack: Stack) -> None:
    seed_lead(stack, LOCATION_ID, CONTACT_ID, LEAD)

    assert get_lead(authorization=f"Bearer {devkeys.SITE_KEY}")[0] == 401


def test_another_locations_lead_is_never_returned(stack: Stack) -> None:
    """Same contact id, another location: with our key it does not exist."""
    seed_lead(stack, OTHER_LOCATION, CONTACT_ID, {**LEAD, "name": "Someone Else"})
    seed_messages(stack, OTHER_LOCATION, CONTACT_ID, 3)

    status, body, _ = get_lead()

    assert status == 404
    assert body == {"error": "lead not found"}

    # With both present, ours is the one we get, with our messages only.
    seed_lead(stack, LOCATION_ID, CONTACT_ID, {"name": "Our Lead"})
    status, body, _ = get_lead()
    assert status == 200
    assert (body["name"], body["locationId"], body["lastMessages"]) == (
        "Our Lead",
        LOCATION_ID,
        [],
    )


def test_a_location_in_the_tenants_table_reads_only_its_own_leads(stack: Stack) -> None:
    """Multi-location install: the API key is stored as a digest and indexed (byApiKey)."""
    put_tenant(stack, "tenant-two", apiKeySha256=digest("key-two"))
    seed_lead(stack, "tenant-two", "contact-two", {"name": "Tenant Two Lead", "temperature": "hot"})
    seed_lead(stack, LOCATION_ID, CONTACT_ID, LEAD)

    status, body, _ = get_lead("contact-two", authorization="Bearer key-two")
    assert status == 200
    assert (body["locationId"], body["name"], body["temperature"]) == (
        "tenant-two",
        "Tenant Two Lead",
        "hot",
    )
    # Neither key reaches the other location's lead.
    assert get_lead(CONTACT_ID, authorization="Bearer key-two")[0] == 404
    assert get_lead("contact-two")[0] == 404


def seed_run(
    stack: Stack, workflow: str, started: datetime, step: str, **changes: Any
) -> dict[str, Any]:
    """A run as the engine starts it (with its lock), moved on by one ``advance``."""
    runs = WorkflowRunStore(stack.dynamodb, stack.resources.tables["WorkflowRunsTable"])
    run = {
        "runId": f"{workflow}:{started.timestamp():.0f}",
        "locationId": LOCATION_ID,
        "contactId": CONTACT_ID,
        "workflow": workflow,
        "status": "active",
        "stepId": "first",
        "seq": 0,
        "startedAt": iso(started),
        "dueAt": started.timestamp(),
        "dueBucket": WorkflowRunStore.DUE,
        "history": [{"seq": 0, "step": "first", "type": "send_sms", "at": 1, "outcome": "sent"}],
    }
    assert runs.create(run, lock=True)
    assert runs.advance(run, 0, {"seq": 1, "stepId": step, **changes})
    return run


def test_the_lead_shows_its_active_and_paused_workflow_runs_not_the_ended_ones(
    stack: Stack,
) -> None:
    seed_lead(stack, LOCATION_ID, CONTACT_ID, {"firstName": "Sam"})
    seed_run(
        stack,
        "speed_to_lead",
        START,
        "follow_up",
        status="done",
        endReason="goal: replied",
        endedAt=iso(START + timedelta(hours=1)),
        dueAt=None,
        dueBucket=None,
    )
    nurture = seed_run(
        stack,
        "long_term_nurture",
        START + timedelta(days=1),
        "wait_day_5",
        dueAt=(START + timedelta(days=4, minutes=2)).timestamp() + 0.25,
    )
    seed_run(
        stack,
        "hot_lead_alert",
        START + timedelta(hours=2),
        "notify",
        status="paused",
        dueBucket=None,
    )

    status, body, _ = get_lead()

    assert status == 200, body
    assert body["workflows"] == [
        {
            "runId": nurture["runId"],
            "workflow": "long_term_nurture",
            "status": "active",
            "step": "wait_day_5",
            "nextDueAt": "2026-11-24T15:02:00Z",
        },
        {
            "runId": f"hot_lead_alert:{(START + timedelta(hours=2)).timestamp():.0f}",
            "workflow": "hot_lead_alert",
            "status": "paused",
            "step": "notify",
            "nextDueAt": None,
        },
    ]


def test_without_a_runs_table_the_lead_lists_no_workflows(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_lead(stack, LOCATION_ID, CONTACT_ID, {"firstName": "Sam"})
    seed_run(stack, "long_term_nurture", START, "wait_day_5")
    monkeypatch.delenv("RUNS_TABLE")
    config.intake_settings.cache_clear()
    intake_app.deps.cache_clear()

    status, body, _ = get_lead()

    assert status == 200 and body["workflows"] == []
