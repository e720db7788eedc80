"""The soak's faults at the edges: the GHL and Anthropic stand-ins' injected faults, and the
AWS fault proxy in front of a moto server (local/faults.py), seen from the real clients —
GhlClient, httpx, boto3 with its own retry handler."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.errors import GhlApiError
from local.anthropic_standin import AnthropicFaults, AnthropicStandIn
from local.faults import AwsFaultProxy, AwsFaults
from local.ghl_standin import LOCATION_ID, GhlFaults, GhlStandIn

TOKEN = "pit-fault-injection-test"


def _client(ghl: GhlStandIn, sleeps: list[float] | None = None, **options: Any) -> GhlClient:
    waits = sleeps if sleeps is not None else []
    return GhlClient(ghl.base_url, TOKEN, sleep=waits.append, rng=random.Random(1), **options)


def _contact(ghl: GhlStandIn) -> str:
    return str(ghl.seed_contact(LOCATION_ID, firstName="Dana", phone="+15125550111")["id"])


# -- GHL -------------------------------------------------------------------------------------


def test_a_dropped_connection_after_the_send_leaves_the_text_sent_and_the_caller_unsure() -> None:
    with GhlStandIn(faults=GhlFaults(dropped=1.0)) as ghl:
        contact = _contact(ghl)
        with _client(ghl) as client, pytest.raises(GhlApiError) as failed:
            client.send_message(contact, "Hi Dana, one question about Elm St.")
        assert failed.value.status == 0 and failed.value.maybe_done  # never sent twice
        assert [m["body"] for m in ghl.messages] == ["Hi Dana, one question about Elm St."]
        assert [(c.path, c.fault) for c, _, _ in ghl.unanswered] == [
            ("/conversations/messages", "dropped")
        ]
        assert ghl.injected == {"dropped": 1}


def test_a_dropped_idempotent_call_is_retried_and_done() -> None:
    faults = GhlFaults(dropped=0.5, seed=3)
    with GhlStandIn(faults=faults) as ghl:
        contact = _contact(ghl)
        with _client(ghl, max_attempts=10) as client:
            for n in range(6):
                client.add_tags(contact, [f"tag-{n}"])
        assert ghl.contacts[contact]["tags"] == [f"tag-{n}" for n in range(6)]
        assert ghl.injected["dropped"] >= 1


def test_a_429_carries_retry_after_and_nothing_is_done() -> None:
    sleeps: list[float] = []
    with GhlStandIn(faults=GhlFaults(rate_limited=1.0, retry_after=2.5)) as ghl:
        contact = _contact(ghl)
        with _client(ghl, sleeps, max_attempts=3) as client, pytest.raises(GhlApiError) as failed:
            client.send_message(contact, "Hello")
        assert failed.value.status == 429
        assert sleeps == [2.5, 2.5]  # the client waited what Retry-After said
        assert ghl.messages == [] and ghl.injected == {"429": 3}


def test_500_and_502_503_refuse_without_doing_anything() -> None:
    with GhlStandIn(faults=GhlFaults(bad_gateway=1.0)) as ghl:
        contact = _contact(ghl)
        with _client(ghl, max_attempts=4) as client, pytest.raises(GhlApiError):
            client.send_message(contact, "Hello")
        assert ghl.injected == {"502": 2, "503": 2}
        assert ghl.messages == []
    with GhlStandIn(faults=GhlFaults(server_error=1.0)) as ghl:
        contact = _contact(ghl)
        with _client(ghl) as client, pytest.raises(GhlApiError) as failed:
            client.send_message(contact, "Hello")
        assert failed.value.status == 500 and failed.value.maybe_done
        assert ghl.messages == [] and ghl.injected == {"500": 1}


def test_a_timeout_is_carried_out_and_answered_after_the_client_gave_up() -> None:
    with GhlStandIn(faults=GhlFaults(timeout=1.0, timeout_delay=1.0)) as ghl:
        contact = _contact(ghl)
        started = time.monotonic()
        with _client(ghl, timeout=0.2) as client, pytest.raises(GhlApiError) as failed:
            client.add_note(contact, "Called, no answer.")
        assert failed.value.status == 0 and failed.value.maybe_done
        assert time.monotonic() - started < 0.9  # the client did not wait for the answer
        assert [n["body"] for n in ghl.notes] == ["Called, no answer."]
        assert ghl.unanswered[0][0].fault == "timeout"


def test_faults_are_seeded_and_follow_their_rates() -> None:
    def kinds(seed: int) -> list[str | None]:
        faults = GhlFaults(rate_limited=0.1, server_error=0.1, bad_gateway=0.1, seed=seed)
        with GhlStandIn(faults=faults) as ghl, httpx.Client(base_url=ghl.base_url) as http:
            for _ in range(300):
                http.get("/contacts/missing", headers={"Authorization": "Bearer x"})
            return [c.fault for c in ghl.calls]

    first = kinds(5)
    assert first == kinds(5) != kinds(6)
    share = sum(1 for k in first if k) / len(first)
    assert 0.2 < share < 0.4  # 0.3 asked for


def test_without_faults_nothing_is_injected() -> None:
    with GhlStandIn() as ghl:
        contact = _contact(ghl)
        with _client(ghl) as client:
            for n in range(20):
                client.send_message(contact, f"text {n}")
        assert len(ghl.messages) == 20 and not ghl.injected and not ghl.unanswered


def test_before_answer_can_withhold_an_answer_after_the_call_was_carried_out() -> None:
    seen: list[tuple[str, int]] = []

    def withhold(call: Any, status: int, payload: Any, client: tuple[str, int]) -> bool:
        seen.append((call.path, status))
        return call.path == "/conversations/messages"

    with GhlStandIn(before_answer=withhold) as ghl:
        contact = _contact(ghl)
        with _client(ghl) as client:
            client.get_contact(contact)
            with pytest.raises(GhlApiError) as failed:
                client.send_message(contact, "Hello")
        assert failed.value.maybe_done
        assert seen == [(f"/contacts/{contact}", 200), ("/conversations/messages", 201)]
        assert len(ghl.messages) == 1 and ghl.unanswered[0][0].fault is None


# -- Anthropic -------------------------------------------------------------------------------


def _message(api: AnthropicStandIn, timeout: float = 5.0) -> httpx.Response:
    body = {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    headers = {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"}
    return httpx.post(f"{api.base_url}/v1/messages", json=body, headers=headers, timeout=timeout)


def test_anthropic_answers_500_and_529_with_the_api_error_bodies() -> None:
    with AnthropicStandIn(faults=AnthropicFaults(overloaded=1.0)) as api:
        response = _message(api)
        assert response.status_code == 529
        assert response.json()["error"]["type"] == "overloaded_error"
    with AnthropicStandIn(faults=AnthropicFaults(server_error=1.0)) as api:
        response = _message(api)
        assert response.status_code == 500
        assert response.json()["error"]["type"] == "api_error"
        assert api.injected == {"500": 1}


def test_anthropic_timeout_answers_too_late() -> None:
    with AnthropicStandIn(faults=AnthropicFaults(timeout=1.0, timeout_delay=1.0)) as api:
        with pytest.raises(httpx.ReadTimeout):
            _message(api, timeout=0.2)
        assert api.injected == {"timeout": 1}
    with AnthropicStandIn(faults=AnthropicFaults()) as api:
        assert _message(api).status_code == 200 and not api.injected


# -- AWS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _aws(service: str, url: str, attempts: int | None = None) -> Any:
    config = (
        Config(retries={"total_max_attempts": attempts, "mode": "standard"}) if attempts else None
    )
    return boto3.client(service, endpoint_url=url, region_name="us-east-1", config=config)


def _table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_throttled_dynamodb_requests_are_retried_by_botocore(moto_url: str) -> None:
    # botocore's standard retry mode backs off ~0.5 s per throttle: a few requests only.
    with AwsFaultProxy(moto_url, AwsFaults(dynamodb_throttle=0.3, seed=1)) as proxy:
        dynamodb = _aws("dynamodb", proxy.base_url)
        _table(dynamodb, "throttled")  # control plane: never throttled
        for n in range(6):
            dynamodb.put_item(TableName="throttled", Item={"id": {"S": str(n)}})
        items = [
            dynamodb.get_item(TableName="throttled", Key={"id": {"S": str(n)}}) for n in range(6)
        ]
        assert all("Item" in i for i in items)
        injected = proxy.stats()["injected"]
        assert sum(injected.values()) >= 2  # and every one of them absorbed by retries
        assert set(injected) <= {
            "dynamodb ProvisionedThroughputExceededException",
            "dynamodb ThrottlingException",
        }


def test_a_throttle_has_dynamodbs_error_shape(moto_url: str) -> None:
    _table(_aws("dynamodb", moto_url), "shape")
    with AwsFaultProxy(moto_url, AwsFaults(dynamodb_throttle=1.0, seed=2)) as proxy:
        once = _aws("dynamodb", proxy.base_url, attempts=1)
        codes = set()
        for n in range(8):
            with pytest.raises(ClientError) as failed:
                once.put_item(TableName="shape", Item={"id": {"S": str(n)}})
            assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            codes.add(failed.value.response["Error"]["Code"])
        assert codes == {"ProvisionedThroughputExceededException", "ThrottlingException"}
        transact = [{"Put": {"TableName": "shape", "Item": {"id": {"S": "t"}}}}]
        reasons = set()
        for _ in range(6):
            with pytest.raises(ClientError) as failed:
                once.transact_write_items(TransactItems=transact)
            reasons.add(failed.value.response["Error"]["Code"])
            if failed.value.response["Error"]["Code"] == "TransactionCanceledException":
                assert failed.value.response["CancellationReasons"][0]["Code"] == "ThrottlingError"
        assert "TransactionCanceledException" in reasons
    assert "Item" not in _aws("dynamodb", moto_url).get_item(
        TableName="shape", Key={"id": {"S": "t"}}
    )


def test_a_lost_delete_brings_the_message_back_after_its_visibility_timeout(moto_url: str) -> None:
    with AwsFaultProxy(moto_url, AwsFaults(sqs_redeliver=1.0)) as proxy:
        sqs = _aws("sqs", proxy.base_url)
        url = sqs.create_queue(QueueName="redelivered", Attributes={"VisibilityTimeout": "1"})[
            "QueueUrl"
        ]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"job": 1}))
        first = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]
        deleted = sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": "0", "ReceiptHandle": first["ReceiptHandle"]}]
        )
        assert deleted["Successful"] == [{"Id": "0"}] and not deleted.get("Failed")
        time.sleep(1.2)
        again = sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=2, MessageSystemAttributeNames=["All"]
        )["Messages"][0]
        assert again["MessageId"] == first["MessageId"]
        assert again["Attributes"]["ApproximateReceiveCount"] == "2"
        assert proxy.stats()["injected"] == {"sqs delete dropped (message redelivered)": 1}


def test_without_faults_the_proxy_only_forwards(moto_url: str) -> None:
    with AwsFaultProxy(moto_url) as proxy:
        sqs = _aws("sqs", proxy.base_url)
        url = sqs.create_queue(QueueName="plain")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="x")
        message = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1)["Messages"][0]
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "0"
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
        stats = proxy.stats()
        assert stats["injected"] == {} and stats["forwarded"]["sqs"] >= 4
