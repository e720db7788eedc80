"""The worker: GHL events from the job queue → lead records, history and DND flags."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.worker import app as worker_app
from ghl_ai.leads.models import sms_blocked
from local.apigw import LambdaContext
from local.sqs_runner import QueueConsumer
from tests.conftest import EVENTS, TEMPLATE, Stack, fixture_bytes
from tests.support import (
    WORKFLOW_FIXTURE,
    events_of,
    messages_of,
    post_fixture,
    with_changes,
)

CONTACT = ("ve9EPM428h8vShlRW1KT", "nmFmQEsNgz6AVpgLVUJ0")  # the contact_*.json fixtures
SMS_LEAD = ("l1C08ntBrFjLS0elLIYU", "cI08i1Bls3iTB9bKgFJh")  # inbound_sms / outbound_sms


def run_worker(stack: Stack) -> None:
    results = stack.run_worker()
    assert results, "the worker received nothing"
    assert sum(r.failed for r in results) == 0


def deliver(stack: Stack, *payloads: str | bytes) -> None:
    """Deliver fixtures (by name) or raw bodies to the intake, then run the worker."""
    for payload in payloads:
        response = (
            post_fixture(stack, payload)
            if isinstance(payload, str)
            else stack.post_webhook(payload)
        )
        assert response.status == 200 and response.json["status"] == "queued", response.json
    run_worker(stack)


def test_contact_create_makes_a_lead(stack: Stack) -> None:
    deliver(stack, "contact_create.json")
    lead = stack.lead(*CONTACT)
    assert lead is not None
    assert (lead["name"], lead["firstName"], lead["lastName"]) == ("John Deo", "John", "Deo")
    assert lead["email"] == "JohnDeo@gmail.comm"
    assert lead["phone"] == "+919509597501"
    assert lead["tags"] == ["id magna sed lorem", "duis dolor commodo aliqua"]
    assert lead["dnd"] is True
    assert lead["createdAt"] == lead["updatedAt"]


def test_contact_update_changes_fields_and_keeps_created_at(stack: Stack) -> None:
    deliver(stack, "contact_create.json")
    created_at = stack.lead(*CONTACT)["createdAt"]
    deliver(stack, "contact_update.json")
    lead = stack.lead(*CONTACT)
    assert lead["tags"] == ["buyer", "needs qualifying"]
    assert lead["timezone"] == "America/Chicago"
    assert lead["dnd"] is False
    assert lead["createdAt"] == created_at
    assert lead["name"] == "John Deo"  # not in the update: kept


@pytest.mark.parametrize(
    ("dnd", "sms_status", "sms_is_blocked"),
    [
        (True, "inactive", True),  # the fixture as GHL documents it: global DND wins
        (False, "active", True),
        (False, "permanent", True),
        (False, "inactive", False),
    ],
)
def test_dnd_update_sets_the_channel_flags_the_sender_checks(
    stack: Stack, dnd: bool, sms_status: str, sms_is_blocked: bool
) -> None:
    payload = json.loads(fixture_bytes("contact_dnd_update.json"))
    payload["dnd"] = dnd
    payload["dndSettings"]["SMS"]["status"] = sms_status
    deliver(stack, json.dumps(payload).encode())

    lead = stack.lead(*CONTACT)
    assert lead is not None
    assert lead["dnd"] is dnd
    assert lead["dndChannels"]["SMS"] == sms_status
    assert lead["dndChannels"]["Email"] == "active"
    assert sms_blocked(lead) is sms_is_blocked
    assert sms_blocked(lead, "Email") is True


def test_an_inbound_sms_is_stored_and_counted(stack: Stack) -> None:
    deliver(stack, "inbound_sms.json")

    [message] = messages_of(stack, *SMS_LEAD)
    assert (message["direction"], message["channel"], message["body"]) == (
        "inbound",
        "SMS",
        "This is a test message",
    )
    assert message["sentAt"] == "2021-04-21T11:31:45.750000Z"
    lead = stack.lead(*SMS_LEAD)
    assert lead is not None
    assert lead["messagesIn"] == 1
    assert lead["lastInboundAt"] == "2021-04-21T11:31:45.750000Z"
    assert lead["lastInboundChannel"] == "SMS"


def test_an_outbound_message_is_stored_as_outbound_and_changes_no_inbound_state(
    stack: Stack,
) -> None:
    deliver(stack, "outbound_sms.json")

    [message] = messages_of(stack, *SMS_LEAD)
    assert message["direction"] == "outbound"
    lead = stack.lead(*SMS_LEAD)
    assert lead is not None
    assert lead["messagesOut"] == 1
    assert lead["lastOutboundAt"] == "2021-04-21T11:31:45.750000Z"
    assert "messagesIn" not in lead
    assert "lastInboundAt" not in lead


def test_an_outbound_message_after_an_inbound_one_leaves_the_inbound_counters(
    stack: Stack,
) -> None:
    deliver(stack, "inbound_sms.json")
    before = stack.lead(*SMS_LEAD)
    deliver(stack, "outbound_sms.json")
    after = stack.lead(*SMS_LEAD)

    assert (after["messagesIn"], after["lastInboundAt"]) == (
        before["messagesIn"],
        before["lastInboundAt"],
    )
    assert after["messagesOut"] == 1
    assert sorted(m["direction"] for m in messages_of(stack, *SMS_LEAD)) == ["inbound", "outbound"]


def test_contact_delete_removes_the_lead_its_messages_and_its_events(stack: Stack) -> None:
    location_id, contact_id = CONTACT
    their_sms = with_changes(
        "inbound_sms.json", locationId=location_id, contactId=contact_id, messageId="m-del-1"
    )
    deliver(stack, "contact_create.json", their_sms, "inbound_sms.json")
    assert stack.lead(*CONTACT) is not None
    assert len(messages_of(stack, *CONTACT)) == 1
    assert sorted(e["type"] for e in events_of(stack, *CONTACT)) == ["lead_created", "message_in"]

    deliver(stack, "contact_delete.json")

    assert stack.lead(*CONTACT) is None
    assert messages_of(stack, *CONTACT) == []
    assert events_of(stack, *CONTACT) == []
    # Another lead's data is untouched.
    assert stack.lead(*SMS_LEAD)["messagesIn"] == 1
    assert len(messages_of(stack, *SMS_LEAD)) == 1
    assert len(events_of(stack, *SMS_LEAD)) == 1


def test_a_workflow_webhook_upserts_the_lead(stack: Stack) -> None:
    deliver(stack, WORKFLOW_FIXTURE)
    lead = stack.lead("t9Ww7bY1xJJ6ThFHZVPC", "gxGfB9wxEy3anxbHB4nT")
    assert lead is not None
    assert lead["name"] == "Knobler Captura012"
    assert lead["email"] == "knobler.captura012@example.com"
    assert lead["tags"] == ["knobler-captura"]
    assert lead["workflowData"] == {"origem_knobler": "captura-012"}
    assert lead["lastWorkflowId"] == "d325be72-ae1d-490a-b6e7-62b404ecd35b"


def test_opportunity_and_appointment_events_are_recorded_on_the_lead(stack: Stack) -> None:
    deliver(stack, "opportunity_stage_update.json", "appointment_create.json")
    opportunity = stack.lead("ve9EPM428h8vShlRW1KT", "cJAWDskpkJHbRbhAT7bs")["opportunity"]
    assert opportunity["stageId"] == "e93ba61a-53b3-45e7-985a-c7732dbcdb69"
    appointment = stack.lead("0007BWpSzSwfiuSl0tR2", "9NkT25Vor1v4aQatFsv2")["appointment"]
    assert appointment["appointmentStatus"] == "confirmed"


# --- redelivery and failures ---------------------------------------------------------------


def test_the_same_sqs_job_delivered_twice_counts_once(stack: Stack) -> None:
    """SQS delivers at least once: a job seen again must not count the message again."""
    event = json.loads((EVENTS / "worker" / "inbound_sms.json").read_text())

    first = worker_app.handler(event, LambdaContext("WorkerFunction"))
    second = worker_app.handler(event, LambdaContext("WorkerFunction"))

    assert first == second == {"batchItemFailures": []}
    assert stack.lead(*SMS_LEAD)["messagesIn"] == 1
    assert len(messages_of(stack, *SMS_LEAD)) == 1


class RecordingWorker:
    """The real worker handler, remembering each batch it saw and what it answered (or
    raised: Powertools fails the whole invocation when every record of a batch failed)."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], dict[str, Any] | Exception]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        ids = [r["messageId"] for r in event["Records"]]
        try:
            result = worker_app.handler(event, context)
        except Exception as exc:
            self.calls.append((ids, exc))
            raise
        self.calls.append((ids, result))
        return result


@pytest.mark.parametrize(
    "poison", ['{"nope": 1}', "not json at all"], ids=["not-a-job", "not-json"]
)
def test_a_poison_message_fails_alone_and_is_parked_in_the_dlq(stack: Stack, poison: str) -> None:
    jobs_url = stack.resources.queue_urls["JobsQueue"]
    assert post_fixture(stack, "inbound_sms.json").json["status"] == "queued"
    poison_id = stack.sqs.send_message(QueueUrl=jobs_url, MessageBody=poison)["MessageId"]
    worker = RecordingWorker()
    consumer = QueueConsumer(
        stack.sqs,
        jobs_url,
        stack.resources.queue_arns["JobsQueue"],
        worker,
        function_name="WorkerFunction",
    )

    # One batch with both: only the poison message is reported, the valid job takes effect.
    first = consumer.poll_once(wait_seconds=0)
    assert first.received == 2
    [(_, response)] = worker.calls
    assert response == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert stack.lead(*SMS_LEAD)["messagesIn"] == 1

    # Retried alone until the redrive policy moves it to the DLQ.
    consumer.drain(max_batches=20)
    policy = TEMPLATE["Resources"]["JobsQueue"]["Properties"]["RedrivePolicy"]
    assert [ids for ids, _ in worker.calls[1:]] == [[poison_id]] * (
        int(policy["maxReceiveCount"]) - 1
    )
    assert stack.queue_depth("JobsQueue") == 0
    parked = stack.sqs.receive_message(
        QueueUrl=stack.resources.queue_urls["JobsDLQ"], MaxNumberOfMessages=10
    )["Messages"]
    assert [m["Body"] for m in parked] == [poison]
    # The valid job ran once, however often its batch neighbour was retried.
    assert stack.lead(*SMS_LEAD)["messagesIn"] == 1
