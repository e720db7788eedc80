"""GhlClient against the loopback GHL stand-in: real HTTP, no mocks of our own code.

Retry waits go to a recording ``sleep`` (nothing actually waits) and the jitter comes from a
seeded ``random.Random``, so every wait is asserted exactly.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.errors import GhlApiError
from local.ghl_standin import LOCATION_ID, PIPELINE_ID, STAGES, GhlStandIn, Scripted

TOKEN = "pit-7f3c9a1e-test-token"
SEED = 1234
SMS_TEXT = "Hi Dana, it's Sam from Elm Realty. Still looking at 12 Elm St? Reply STOP to opt out."


def jitter(n_waits: int, base: float = 0.5, cap: float = 8.0) -> list[float]:
    """The waits full jitter gives with the tests' seed: min(cap, base * 2**n) * random()."""
    rng = random.Random(SEED)
    return [min(cap, base * 2**n) * rng.random() for n in range(n_waits)]


@pytest.fixture
def ghl() -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        yield standin


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_client(ghl: GhlStandIn, sleeps: list[float]) -> Iterator[Callable[..., GhlClient]]:
    clients: list[GhlClient] = []

    def make(base_url: str | None = None, **options: Any) -> GhlClient:
        options = {"sleep": sleeps.append, "rng": random.Random(SEED), **options}
        client = GhlClient(base_url or ghl.base_url, TOKEN, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., GhlClient]) -> GhlClient:
    return make_client()


@pytest.fixture
def contact_id(ghl: GhlStandIn) -> str:
    return ghl.seed_contact(firstName="Dana", phone="+15550100", tags=["buyer"])["id"]


def the_error(excinfo: pytest.ExceptionInfo[GhlApiError]) -> GhlApiError:
    return excinfo.value


# -- headers -----------------------------------------------------------------------------------


def test_each_endpoint_gets_its_version_header(
    ghl: GhlStandIn, client: GhlClient, contact_id: str
) -> None:
    sent = client.send_message(contact_id, "Hello")
    client.search_conversations(LOCATION_ID, contact_id)
    client.get_conversation_messages(sent["conversationId"])
    client.get_contact(contact_id)
    client.update_contact(contact_id, {"firstName": "Dana"})
    client.add_tags(contact_id, ["warm-lead"])
    client.list_custom_fields(LOCATION_ID)
    client.list_pipelines(LOCATION_ID)
    client.search_opportunities(LOCATION_ID, contact_id)

    versions = {(c.method, c.path.split("/")[1], c.headers.get("version")) for c in ghl.calls}
    assert versions == {
        ("POST", "conversations", "2021-04-15"),
        ("GET", "conversations", "2021-04-15"),
        ("GET", "contacts", "2021-07-28"),
        ("PUT", "contacts", "2021-07-28"),
        ("POST", "contacts", "2021-07-28"),
        ("GET", "locations", "2021-07-28"),
        ("GET", "opportunities", "2021-07-28"),
    }
    assert len(ghl.calls) == 9


def test_every_call_carries_the_bearer_token(
    ghl: GhlStandIn, client: GhlClient, contact_id: str
) -> None:
    client.get_contact(contact_id)
    client.send_message(contact_id, "Hello")

    assert [c.headers["authorization"] for c in ghl.calls] == [f"Bearer {TOKEN}"] * 2
    assert all(c.headers["accept"] == "application/json" for c in ghl.calls)


def test_an_empty_token_is_refused_before_any_call(ghl: GhlStandIn) -> None:
    with pytest.raises(ValueError, match="token"):
        GhlClient(ghl.base_url, "")


# -- contacts, tags, notes, tasks, custom fields -------------------------------------------------


def test_get_contact_unwraps_the_contact(client: GhlClient, contact_id: str) -> None:
    contact = client.get_contact(contact_id)

    assert contact["id"] == contact_id
    assert contact["firstName"] == "Dana"
    assert contact["tags"] == ["buyer"]
    assert "contact" not in contact


def test_unknown_contact_is_a_404_with_the_path_template(
    ghl: GhlStandIn, client: GhlClient, sleeps: list[float]
) -> None:
    with pytest.raises(GhlApiError) as excinfo:
        client.get_contact("no-such-contact")

    error = the_error(excinfo)
    assert (error.status, error.method, error.path) == (404, "GET", "/contacts/{contactId}")
    assert error.detail == "Contact not found"
    assert "no-such-contact" not in str(error)
    assert len(ghl.calls) == 1
    assert sleeps == []


def test_ids_cannot_leave_their_path_segment(ghl: GhlStandIn, client: GhlClient) -> None:
    with pytest.raises(GhlApiError):
        client.get_contact("../locations/x")
    with pytest.raises(ValueError, match="contactId"):
        client.add_note("", "note")

    assert [c.path for c in ghl.calls] == ["/contacts/..%2Flocations%2Fx"]


def test_upsert_creates_then_matches_the_same_contact(ghl: GhlStandIn, client: GhlClient) -> None:
    created = client.upsert_contact(LOCATION_ID, {"firstName": "Lee", "email": "lee@example.com"})
    again = client.upsert_contact(LOCATION_ID, {"email": "lee@example.com", "lastName": "Park"})

    assert created["new"] is True
    assert again["new"] is False
    assert again["contact"]["id"] == created["contact"]["id"]
    assert ghl.calls[0].json["locationId"] == LOCATION_ID
    assert len(ghl.contacts) == 1


def test_tags_are_added_and_removed_through_the_tag_endpoints(
    ghl: GhlStandIn, client: GhlClient, contact_id: str
) -> None:
    added = client.add_tags(contact_id, ["Hot-Lead", "pre-approved"])
    removed = client.remove_tags(contact_id, ["buyer"])

    assert added["tags"] == ["buyer", "hot-lead", "pre-approved"]
    assert removed["tags"] == ["hot-lead", "pre-approved"]
    assert ghl.contacts[contact_id]["tags"] == ["hot-lead", "pre-approved"]
    [add] = ghl.calls_to("POST", f"/contacts/{contact_id}/tags")
    [delete] = ghl.calls_to("DELETE", f"/contacts/{contact_id}/tags")
    assert add.json == {"tags": ["Hot-Lead", "pre-approved"]}
    assert delete.json == {"tags": ["buyer"]}
    assert ghl.calls_to("PUT", "/contacts") == []


def test_update_contact_refuses_tags_and_custom_fields(
    ghl: GhlStandIn, client: GhlClient, contact_id: str
) -> None:
    with pytest.raises(ValueError, match="add_tags"):
        client.update_contact(contact_id, {"firstName": "D", "tags": ["hot-lead"]})
    with pytest.raises(ValueError, match="update_custom_fields"):
        client.update_contact(contact_id, {"customFields": []})
    assert ghl.calls == []

    updated = client.update_contact(contact_id, {"lastName": "Reyes"})

    assert updated["lastName"] == "Reyes"
    assert updated["tags"] == ["buyer"]
    assert ghl.calls[0].json == {"lastName": "Reyes"}


def test_custom_fields_are_listed_and_written_by_id(
    ghl: GhlStandIn, client: GhlClient, contact_id: str
) -> None:
    fields = {f["name"]: f["id"] for f in client.list_custom_fields(LOCATION_ID)}
    budget, temperature = fields["Budget"], fields["Lead Temperature"]

    contact = client.update_custom_fields(contact_id, {budget: 650000, temperature: "Hot"})

    assert ghl.calls[0].query == {"model": "contact"}
    [put] = ghl.calls_to("PUT", f"/contacts/{contact_id}")
    assert put.json == {
        "customFields": [
            {"id": budget, "field_value": 650000},
            {"id": temperature, "field_value": "Hot"},
        ]
    }
    assert {"id": budget, "value": 650000} in contact["customFields"]
    assert {"id": temperature, "value": "Hot"} in ghl.contacts[contact_id]["customFields"]


def test_note_and_task_are_created(ghl: GhlStandIn, client: GhlClient, contact_id: str) -> None:
    due = datetime(2026, 3, 5, 9, 30, tzinfo=ZoneInfo("America/New_York"))

    note = client.add_note(contact_id, "Pre-approved, wants 3 bed in Elm Park")
    task = client.create_task(contact_id, "Call Dana (hot lead)", due, body="Asked for a call")

    assert note["body"] == "Pre-approved, wants 3 bed in Elm Park"
    assert task["title"] == "Call Dana (hot lead)"
    [task_call] = ghl.calls_to("POST", f"/contacts/{contact_id}/tasks")
    assert task_call.json == {
        "title": "Call Dana (hot lead)",
        "dueDate": "2026-03-05T14:30:00Z",
        "completed": False,
        "body": "Asked for a call",
    }
    assert [n["contactId"] for n in ghl.notes] == [contact_id]


def test_a_contacts_tasks_and_notes_are_listed(
    ghl: GhlStandIn, client: GhlClient, contact_id: str
) -> None:
    due = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
    client.add_note(contact_id, "Wants a pool")
    client.create_task(contact_id, "Call Dana", due, body="Asked for a call")
    other = ghl.seed_contact(firstName="Lee")["id"]
    client.add_note(other, "Not Dana's")

    assert [n["body"] for n in client.list_notes(contact_id)] == ["Wants a pool"]
    (task,) = client.list_tasks(contact_id)
    assert (task["title"], task["body"], task["dueDate"]) == (
        "Call Dana",
        "Asked for a call",
        "2026-03-05T09:30:00Z",
    )


def test_a_naive_due_date_is_refused(ghl: GhlStandIn, client: GhlClient, contact_id: str) -> None:
    with pytest.raises(ValueError, match="timezone"):
        client.create_task(contact_id, "Call", datetime(2026, 3, 5, 9, 30))
    assert ghl.calls == []


# -- conversations ---------------------------------------------------------------------------


def test_send_message_and_read_the_history(
    ghl: GhlStandIn, client: GhlClient, contact_id: str
) -> None:
    ghl.seed_inbound(contact_id, "Is 12 Elm St still available?")

    sent = client.send_message(contact_id, SMS_TEXT)
    conversations = client.search_conversations(LOCATION_ID, contact_id)
    history = client.get_conversation_messages(sent["conversationId"], limit=10)

    assert set(sent) >= {"conversationId", "messageId"}
    [post] = ghl.calls_to("POST", "/conversations/messages")
    assert post.json == {"type": "SMS", "contactId": contact_id, "message": SMS_TEXT}
    assert [c["id"] for c in conversations] == [sent["conversationId"]]
    assert ghl.calls_to("GET", "/conversations/search")[0].query == {
        "locationId": LOCATION_ID,
        "contactId": contact_id,
    }
    assert [(m["direction"], m["body"]) for m in history] == [
        ("outbound", SMS_TEXT),
        ("inbound", "Is 12 Elm St still available?"),
    ]


def test_email_extras_are_passed_through(
    ghl: GhlStandIn, client: GhlClient, contact_id: str
) -> None:
    client.send_message(contact_id, "Body", channel="Email", subject="Homes", html="<p>Body</p>")

    [post] = ghl.calls_to("POST", "/conversations/messages")
    assert post.json == {
        "type": "Email",
        "contactId": contact_id,
        "message": "Body",
        "subject": "Homes",
        "html": "<p>Body</p>",
    }


def test_history_accepts_the_flat_messages_shape(ghl: GhlStandIn, client: GhlClient) -> None:
    flat = {"messages": [{"id": "m1", "body": "hi"}, {"id": "m2", "body": "there"}]}
    ghl.script("GET", "/conversations/*/messages", [Scripted(200, json=flat)])

    assert [m["id"] for m in client.get_conversation_messages("conv-x")] == ["m1", "m2"]


# -- opportunities ---------------------------------------------------------------------------


def test_opportunity_is_created_found_and_moved(
    ghl: GhlStandIn, client: GhlClient, contact_id: str
) -> None:
    [pipeline] = client.list_pipelines(LOCATION_ID)
    stage = {s["name"]: s["id"] for s in pipeline["stages"]}

    created = client.create_opportunity(
        LOCATION_ID, pipeline["id"], contact_id, "Dana - buyer", monetary_value=450000
    )
    found = client.search_opportunities(LOCATION_ID, contact_id)
    moved = client.update_opportunity(created["id"], {"pipelineStageId": stage["Qualified"]})

    assert [s["name"] for s in pipeline["stages"]] == STAGES
    assert pipeline["id"] == PIPELINE_ID
    assert created["pipelineStageId"] == stage["New Lead"]
    assert [o["id"] for o in found] == [created["id"]]
    assert ghl.calls_to("GET", "/opportunities/search")[0].query == {
        "location_id": LOCATION_ID,
        "contact_id": contact_id,
    }
    assert moved["pipelineStageId"] == stage["Qualified"]
    assert ghl.opportunities[created["id"]]["monetaryValue"] == 450000


# -- retries ---------------------------------------------------------------------------------


def test_429_with_retry_after_is_honoured_and_sends_one_message(
    ghl: GhlStandIn, client: GhlClient, contact_id: str, sleeps: list[float]
) -> None:
    ghl.script("POST", "/conversations/messages", [Scripted(429, headers={"Retry-After": "3"})])

    sent = client.send_message(contact_id, SMS_TEXT)

    assert sleeps == [3.0]
    assert len(ghl.calls_to("POST", "/conversations/messages")) == 2
    assert [m["id"] for m in ghl.messages] == [sent["messageId"]]


def test_retry_after_as_an_http_date_is_honoured(
    ghl: GhlStandIn, client: GhlClient, contact_id: str, sleeps: list[float]
) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=10), usegmt=True)
    ghl.script("GET", "/contacts/*", [Scripted(429, headers={"Retry-After": later})])

    client.get_contact(contact_id)

    [wait] = sleeps
    assert 8.0 < wait <= 10.0


def test_503_twice_then_success_backs_off_with_jitter(
    ghl: GhlStandIn, client: GhlClient, contact_id: str, sleeps: list[float]
) -> None:
    ghl.script("GET", f"/contacts/{contact_id}", [503, 503])

    contact = client.get_contact(contact_id)

    assert contact["id"] == contact_id
    assert sleeps == pytest.approx(jitter(2))
    assert len(ghl.calls) == 3


def test_backoff_is_capped(
    ghl: GhlStandIn, make_client: Callable[..., GhlClient], contact_id: str, sleeps: list[float]
) -> None:
    client = make_client(backoff_base=2.0, backoff_cap=3.0, deadline_seconds=100)
    ghl.script("GET", "/contacts/*", [502, 502, 502])

    client.get_contact(contact_id)

    assert sleeps == pytest.approx(jitter(3, base=2.0, cap=3.0))
    assert all(w <= 3.0 for w in sleeps)


def test_a_500_on_a_read_is_retried(
    ghl: GhlStandIn, client: GhlClient, contact_id: str, sleeps: list[float]
) -> None:
    ghl.script("GET", "/contacts/*", [500])

    assert client.get_contact(contact_id)["id"] == contact_id
    assert len(ghl.calls) == 2
    assert len(sleeps) == 1


def non_idempotent_calls(contact_id: str) -> dict[str, tuple[str, Callable[[GhlClient], Any]]]:
    due = datetime(2026, 1, 1, tzinfo=UTC)
    return {
        "send_message": (
            "/conversations/messages",
            lambda c: c.send_message(contact_id, SMS_TEXT),
        ),
        "add_note": ("/contacts/*/notes", lambda c: c.add_note(contact_id, "note")),
        "create_task": ("/contacts/*/tasks", lambda c: c.create_task(contact_id, "Call", due)),
        "create_opportunity": (
            "/opportunities/",
            lambda c: c.create_opportunity(LOCATION_ID, PIPELINE_ID, contact_id, "Dana"),
        ),
    }


def nothing_created(ghl: GhlStandIn) -> bool:
    return not (ghl.messages or ghl.notes or ghl.tasks or ghl.opportunities)


NON_IDEMPOTENT = ["send_message", "add_note", "create_task", "create_opportunity"]


@pytest.mark.parametrize("operation", NON_IDEMPOTENT)
def test_a_plain_500_on_a_non_idempotent_post_is_not_retried(
    ghl: GhlStandIn, client: GhlClient, contact_id: str, sleeps: list[float], operation: str
) -> None:
    path, call = non_idempotent_calls(contact_id)[operation]
    ghl.script("POST", path, [500])

    with pytest.raises(GhlApiError) as excinfo:
        call(client)

    assert the_error(excinfo).status == 500
    assert len(ghl.calls) == 1
    assert sleeps == []
    assert nothing_created(ghl)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_a_non_idempotent_post_is_retried_when_ghl_did_not_process_it(
    ghl: GhlStandIn, client: GhlClient, contact_id: str, sleeps: list[float], status: int
) -> None:
    ghl.script("POST", "/conversations/messages", [status])

    client.send_message(contact_id, SMS_TEXT)

    assert len(ghl.calls_to("POST", "/conversations/messages")) == 2
    assert len(sleeps) == 1
    assert [m["body"] for m in ghl.messages] == [SMS_TEXT]


def test_a_read_timeout_on_send_message_is_not_retried(
    ghl: GhlStandIn, make_client: Callable[..., GhlClient], contact_id: str, sleeps: list[float]
) -> None:
    client = make_client(timeout=0.2)
    ghl.script("POST", "/conversations/messages", [Scripted(201, json={}, delay=1.0)])

    with pytest.raises(GhlApiError) as excinfo:
        client.send_message(contact_id, SMS_TEXT)

    error = the_error(excinfo)
    assert error.status == 0
    assert isinstance(error.__cause__, httpx.ReadTimeout)
    assert error.maybe_done  # GHL may have sent it: the caller must not send it again
    assert len(ghl.calls) == 1
    assert sleeps == []


def test_a_read_timeout_on_a_read_is_retried(
    ghl: GhlStandIn, make_client: Callable[..., GhlClient], contact_id: str, sleeps: list[float]
) -> None:
    client = make_client(timeout=0.2)
    ghl.script("GET", "/contacts/*", [Scripted(200, json={}, delay=1.0)])

    assert client.get_contact(contact_id)["id"] == contact_id
    assert len(ghl.calls) == 2
    assert sleeps == pytest.approx(jitter(1))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(
    ghl: GhlStandIn, client: GhlClient, contact_id: str, sleeps: list[float], status: int
) -> None:
    ghl.script("GET", "/contacts/*", [status])

    with pytest.raises(GhlApiError) as excinfo:
        client.get_contact(contact_id)

    assert the_error(excinfo).status == status
    assert not the_error(excinfo).retryable
    assert len(ghl.calls) == 1
    assert sleeps == []


def test_exhausted_attempts_raise_a_retryable_429(
    ghl: GhlStandIn, client: GhlClient, contact_id: str, sleeps: list[float]
) -> None:
    ghl.script("POST", "/contacts/*/tags", [429] * 10)

    with pytest.raises(GhlApiError) as excinfo:
        client.add_tags(contact_id, ["hot-lead"])

    error = the_error(excinfo)
    assert (error.status, error.path) == (429, "/contacts/{contactId}/tags")
    assert error.retryable
    assert not error.maybe_done  # a 429 was never carried out
    assert len(ghl.calls) == 4
    assert sleeps == pytest.approx(jitter(3))
    assert ghl.contacts[contact_id]["tags"] == ["buyer"]


def test_a_retry_after_beyond_the_deadline_gives_up_without_waiting(
    ghl: GhlStandIn, make_client: Callable[..., GhlClient], contact_id: str, sleeps: list[float]
) -> None:
    client = make_client(deadline_seconds=5)
    ghl.script("POST", "/conversations/messages", [Scripted(429, headers={"Retry-After": "30"})])

    with pytest.raises(GhlApiError) as excinfo:
        client.send_message(contact_id, SMS_TEXT)

    assert the_error(excinfo).status == 429
    assert "deadline" in the_error(excinfo).detail
    assert sleeps == []
    assert len(ghl.calls) == 1
    assert ghl.messages == []


def test_waits_add_up_to_at_most_the_deadline(
    ghl: GhlStandIn, make_client: Callable[..., GhlClient], contact_id: str, sleeps: list[float]
) -> None:
    client = make_client(deadline_seconds=5, max_attempts=10)
    ghl.script("GET", "/contacts/*", [Scripted(503, headers={"Retry-After": "2"})] * 10)

    with pytest.raises(GhlApiError) as excinfo:
        client.get_contact(contact_id)

    assert the_error(excinfo).status == 503
    assert sleeps == [2.0, 2.0]
    assert len(ghl.calls) == 3


# -- what errors carry -----------------------------------------------------------------------


def test_errors_never_carry_the_token_or_the_message_body(
    ghl: GhlStandIn, client: GhlClient, contact_id: str
) -> None:
    echoed = {"statusCode": 401, "message": f"Invalid token {TOKEN} for {SMS_TEXT}"}
    ghl.script("POST", "/conversations/messages", [Scripted(401, json=echoed), 500])

    for _ in range(2):
        with pytest.raises(GhlApiError) as excinfo:
            client.send_message(contact_id, SMS_TEXT)
        error = the_error(excinfo)
        text = f"{error} {error!r} {error.detail} {error.args}"
        assert TOKEN not in text
        assert error.path == "/conversations/messages"
    assert the_error(excinfo).detail == "Internal Server Error"


def test_long_ghl_messages_are_truncated(ghl: GhlStandIn, client: GhlClient) -> None:
    ghl.script("GET", "/contacts/*", [Scripted(422, json={"message": ["x" * 150, "y" * 150]})])

    with pytest.raises(GhlApiError) as excinfo:
        client.get_contact("c1")

    assert len(the_error(excinfo).detail) == 200
    assert the_error(excinfo).detail.startswith("x" * 150 + "; ")


def test_a_closed_port_is_a_transport_error_with_status_0(
    make_client: Callable[..., GhlClient], sleeps: list[float]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}")

    with pytest.raises(GhlApiError) as excinfo:
        client.send_message("c1", SMS_TEXT)

    error = the_error(excinfo)
    assert (error.status, error.method, error.path) == (0, "POST", "/conversations/messages")
    assert error.retryable
    assert isinstance(error.__cause__, httpx.ConnectError)
    assert sleeps == pytest.approx(jitter(3))  # never reached GHL: safe to retry even a POST


def test_retries_are_logged_with_fields_and_no_body(
    ghl: GhlStandIn, client: GhlClient, contact_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    ghl.script("POST", "/conversations/messages", [Scripted(429, headers={"Retry-After": "1"})])

    client.send_message(contact_id, SMS_TEXT)

    [retry] = [r for r in caplog.records if r.getMessage() == "GHL request retry"]
    fields = {k: getattr(retry, k, None) for k in ("method", "path", "status", "attempt", "wait")}
    assert fields == {
        "method": "POST",
        "path": "/conversations/messages",
        "status": 429,
        "attempt": 1,
        "wait": 1.0,
    }
    logged = " ".join(str(v) for r in caplog.records for v in vars(r).values())
    assert SMS_TEXT not in logged
    assert TOKEN not in logged


def test_the_context_manager_closes_the_connection_pool(ghl: GhlStandIn) -> None:
    with GhlClient(ghl.base_url, TOKEN) as client:
        pass

    with pytest.raises(RuntimeError):
        client.list_pipelines(LOCATION_ID)
    assert ghl.calls == []
