"""The workflow "Webhook" action has no signature: a per-location secret authenticates it."""

from __future__ import annotations

import json

import pytest

from ghl_ai.tenants import digest
from local import devkeys
from tests.conftest import LOCATION_ID, Response, Stack, fixture_json
from tests.support import WORKFLOW_FIXTURE, inbox_item

PAYLOAD = fixture_json(WORKFLOW_FIXTURE)
CONTACT_ID = PAYLOAD["contact_id"]


def assert_unauthorized(stack: Stack, response: Response, presented: str | None) -> None:
    assert response.status == 401
    text = json.dumps(response.json)
    assert devkeys.WORKFLOW_SECRET not in text
    if presented:
        assert presented not in text
    assert stack.scan("WebhooksTable") == []
    assert stack.queue_depth() == 0


def test_the_fixture_claims_the_configured_location() -> None:
    assert PAYLOAD["location"]["id"] == LOCATION_ID


@pytest.mark.parametrize("via", ["header", "query"])
def test_the_correct_secret_is_accepted(stack: Stack, via: str) -> None:
    response = stack.post_workflow(PAYLOAD, via=via)
    assert response.status == 200
    assert response.json["status"] == "queued"
    assert inbox_item(stack, LOCATION_ID, response.json["id"]) is not None
    assert stack.queue_depth() == 1


@pytest.mark.parametrize("via", ["header", "query"])
def test_a_wrong_secret_is_rejected(stack: Stack, via: str) -> None:
    wrong = "not-the-workflow-secret"
    assert_unauthorized(stack, stack.post_workflow(PAYLOAD, secret=wrong, via=via), wrong)


@pytest.mark.parametrize("secret", [None, ""], ids=["absent", "empty"])
def test_a_missing_secret_is_rejected(stack: Stack, secret: str | None) -> None:
    assert_unauthorized(stack, stack.post_workflow(PAYLOAD, secret=secret), None)


def test_a_secret_that_is_a_prefix_of_the_real_one_is_rejected(stack: Stack) -> None:
    prefix = devkeys.WORKFLOW_SECRET[:-1]
    assert_unauthorized(stack, stack.post_workflow(PAYLOAD, secret=prefix), prefix)


def test_the_right_secret_cannot_speak_for_another_location(stack: Stack) -> None:
    other = {**PAYLOAD, "location": {**PAYLOAD["location"], "id": "someone-elses-location"}}
    response = stack.post_workflow(other)
    assert_unauthorized(stack, response, devkeys.WORKFLOW_SECRET)
    assert stack.scan("LeadsTable") == []


def test_a_payload_without_a_location_is_refused_naming_it(stack: Stack) -> None:
    """The secret names the location; a body that does not is refused, not queued."""
    anonymous = {k: v for k, v in PAYLOAD.items() if k != "location"}
    response = stack.post_workflow(anonymous)
    assert (response.status, response.json["status"]) == (200, "refused")
    assert [p.split(":")[0] for p in response.json["problems"]] == ["location"]
    assert stack.queue_depth() == 0


def test_a_location_in_the_tenants_table_uses_its_own_secret(stack: Stack) -> None:
    """Multi-location install: the secret is stored as a SHA-256 digest per location."""
    stack.dynamodb.put_item(
        TableName=stack.resources.tables["TenantsTable"],
        Item={
            "locationId": {"S": "tenant-two"},
            "workflowSecretSha256": {"S": digest("tenant-two-secret")},
        },
    )
    payload = {**PAYLOAD, "location": {**PAYLOAD["location"], "id": "tenant-two"}}

    accepted = stack.post_workflow(payload, secret="tenant-two-secret")
    assert accepted.status == 200 and accepted.json["status"] == "queued"
    # The single-location secret does not open another tenant's door.
    refused = stack.post_workflow({**payload, "contact_id": "other"})
    assert refused.status == 401


@pytest.mark.parametrize("via", ["header", "query"])
def test_a_secret_with_url_special_characters_works_in_the_header_and_the_query(
    stack: Stack, via: str
) -> None:
    secret = "a+b&c=d %e/f?"
    stack.dynamodb.put_item(
        TableName=stack.resources.tables["TenantsTable"],
        Item={"locationId": {"S": "tenant-three"}, "workflowSecretSha256": {"S": digest(secret)}},
    )
    payload = {**PAYLOAD, "location": {**PAYLOAD["location"], "id": "tenant-three"}}
    response = stack.post_workflow(payload, secret=secret, via=via)
    assert response.status == 200, response.json
