"""The local stack as a newcomer meets it: the GHL stand-in knows the demo leads, creates a
contact it does not know (as GHL does for a message from a new number) so that a text from
anyone is answered, and the demo data's browsing stories fit ``POST /events``."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.errors import GhlApiError
from local import demo, demo_data
from local.ghl_standin import GhlStandIn
from tests.conftest import LOCATION_ID, Stack
from tests.conversation.driver import Conversation, configure

NEW_CONTACT = "Zq8PmW3kTb6RxN1sLv0Y"  # an id GHL just gave a number it had never seen
EVENT_TYPES = {
    "property_view",
    "property_save",
    "property_share",
    "search",
    "tour_request",
    "valuation_request",
    "page_view",
}


@pytest.fixture
def client() -> Iterator[Any]:
    def make(standin: GhlStandIn) -> GhlClient:
        made = GhlClient(standin.base_url, "pit-test-token", sleep=lambda _: None)
        clients.append(made)
        return made

    clients: list[GhlClient] = []
    yield make
    for made in clients:
        made.close()


# -- the demo contacts --------------------------------------------------------------------------


def test_the_stand_in_knows_the_demo_contacts(client: Any) -> None:
    with GhlStandIn(demo_contacts=True, location_id=LOCATION_ID) as ghl:
        ghl_client = client(ghl)
        for demo_contact in demo_data.CONTACTS:
            contact = ghl_client.get_contact(demo_contact.contact_id)
            assert contact["firstName"] == demo_contact.first_name
            assert contact["lastName"] == demo_contact.last_name
            assert contact["locationId"] == LOCATION_ID
            assert re.fullmatch(r"\+190955501\d\d", contact["phone"])
            assert contact["email"].endswith("@example.com")
            assert contact["dnd"] is False and contact["dndSettings"] == {}
            assert re.fullmatch(r"[A-Za-z0-9]{20}", contact["id"])
        assert ghl.calls_to("GET", "/contacts/")  # GHL routes are recorded as before
    zones = {c.timezone for c in demo_data.CONTACTS}
    assert "America/Los_Angeles" in zones and len(zones) > 1  # one lead elsewhere: quiet hours
    assert len({c.phone for c in demo_data.CONTACTS}) == len(demo_data.CONTACTS)
    assert len({c.visitor_id for c in demo_data.CONTACTS}) == len(demo_data.CONTACTS)


def test_by_default_the_stand_in_is_empty_and_an_unknown_contact_is_a_404(client: Any) -> None:
    with GhlStandIn() as ghl:
        assert ghl.contacts == {}
        with pytest.raises(GhlApiError) as excinfo:
            client(ghl).get_contact(NEW_CONTACT)
    assert excinfo.value.status == 404


def test_an_unknown_contact_is_created_as_ghl_does_for_a_new_number(client: Any) -> None:
    with GhlStandIn(autocreate_contacts=True, location_id=LOCATION_ID) as ghl:
        first = client(ghl).get_contact(NEW_CONTACT)
        again = client(ghl).get_contact(NEW_CONTACT)
        listed = httpx.get(f"{ghl.base_url}/_standin/contacts/{NEW_CONTACT}").json()
        calls = len(ghl.calls)
    assert first == again
    assert first["id"] == NEW_CONTACT and first["locationId"] == LOCATION_ID
    assert first["firstName"] in demo_data.FIRST_NAMES
    assert first["lastName"] in demo_data.LAST_NAMES
    assert re.fullmatch(r"\+1(909|951)55501\d\d", first["phone"])
    assert first["timezone"] == "America/Los_Angeles"
    assert first["tags"] == [] and first["dnd"] is False
    assert listed["autoCreated"] is True
    assert calls == 2  # the /_standin/ read is not one of GHL's calls
    # The same id makes the same person in any stand-in (a restarted `make run`).
    person = demo_data.person_for(NEW_CONTACT)
    assert (person.first_name, person.last_name, person.phone) == (
        first["firstName"],
        first["lastName"],
        first["phone"],
    )


def test_a_text_from_a_contact_ghl_just_created_is_answered(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GhlStandIn(autocreate_contacts=True, location_id=LOCATION_ID) as ghl:
        configure(monkeypatch, ghl)
        lead = Conversation(stack, ghl, NEW_CONTACT)
        (reply,) = lead.lead_says("Hi, saw your sign on Haven Ave. Is it still for sale?")
        messages = httpx.get(
            f"{ghl.base_url}/_standin/messages", params={"contactId": NEW_CONTACT}
        ).json()["messages"]
    assert "Jorge with Sunbelt Realty" in reply
    assert NEW_CONTACT in ghl.autocreated
    record = lead.lead()
    assert not record.get("ghlMissing")
    assert record["firstName"] == ghl.contacts[NEW_CONTACT]["firstName"]
    assert [m["body"] for m in messages if m["direction"] == "outbound"] == [reply]


# -- the browsing stories -----------------------------------------------------------------------


def test_events_for_gives_fresh_ids_and_times_inside_the_routes_window() -> None:
    now = datetime.now(UTC)
    for contact in demo_data.CONTACTS:
        first, second = demo_data.events_for(contact, now), demo_data.events_for(contact, now)
        assert 1 <= len(first) <= 100
        ids = {e["eventId"] for e in first}
        assert len(ids) == len(first) and not ids & {e["eventId"] for e in second}
        assert all(uuid.UUID(i).version == 4 for i in ids)
        stamps = [datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00")) for e in first]
        assert stamps == sorted(stamps)
        assert all(now - timedelta(days=29, minutes=1) <= s < now for s in stamps)
        for event in first:
            assert event["type"] in EVENT_TYPES
            assert event["visitorId"] == contact.visitor_id
            assert event["contactId"] == contact.contact_id
            if event["type"] == "property_view":
                assert event["dwellSeconds"] > 0 and event["propertyId"]
                assert set(event["data"]) == {"price", "beds", "baths", "city", "zip"}
            if event["type"] == "search":
                assert event["data"]["filters"]
    types = {e["type"] for c in demo_data.CONTACTS for e in demo_data.events_for(c, now)}
    assert types == EVENT_TYPES


def test_the_stories_pass_the_routes_validation() -> None:
    events = pytest.importorskip("ghl_ai.behaviour.events")
    now = datetime.now(UTC)
    for contact in demo_data.CONTACTS:
        batch = {"events": demo_data.events_for(contact, now)}
        checked = events.validate_batch(batch, now)
        assert checked.problems == []


def _transport(answer: Any) -> tuple[httpx.MockTransport, list[dict[str, Any]]]:
    posted: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        posted.append({"path": request.url.path, "headers": request.headers, **_body(request)})
        return answer(request)

    return httpx.MockTransport(handle), posted


def _body(request: httpx.Request) -> dict[str, Any]:
    return dict(json.loads(request.content))


def test_seed_posts_every_leads_story_and_says_so_in_one_line() -> None:
    def accept(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            202, json={"accepted": len(_body(request)["events"]), "duplicates": 0}
        )

    transport, posted = _transport(accept)
    said: list[str] = []
    with httpx.Client(transport=transport, base_url="http://stack") as http:
        leads, count = demo_data.seed(
            "http://stack", "site-key", LOCATION_ID, client=http, say=said.append
        )
    total = sum(len(demo_data.events_for(c)) for c in demo_data.CONTACTS)
    assert (leads, count) == (len(demo_data.CONTACTS), total)
    assert {p["path"] for p in posted} == {"/events"}
    assert all(p["headers"]["x-site-key"] == "site-key" for p in posted)
    assert said == [f"demo data: {leads} leads, {total} events (location {LOCATION_ID})"]


@pytest.mark.parametrize(
    "answer",
    [
        lambda _: httpx.Response(404, json={"detail": "Not Found"}),
        lambda _: httpx.Response(500, json={"error": "internal error"}),
        lambda request: (_ for _ in ()).throw(httpx.ConnectError("refused", request=request)),
    ],
    ids=["no-route-yet", "error", "no-connection"],
)
def test_seed_never_stops_the_stack(answer: Any) -> None:
    transport, posted = _transport(answer)
    said: list[str] = []
    with httpx.Client(transport=transport, base_url="http://stack") as http:
        assert demo_data.seed("http://stack", "k", LOCATION_ID, client=http, say=said.append) == (
            0,
            0,
        )
    assert len(posted) == 1 and len(said) == 1 and said[0].startswith("demo data: ")


# -- what `make demo` says ---------------------------------------------------------------------


def test_the_demo_says_what_happened_and_why() -> None:
    held = {"action": "held", "reason": "quiet hours until 2026-12-01T13:00:00Z"}
    assert demo.explain(None, held, timezone="America/New_York").startswith(
        "held until 08:00 America/New_York (quiet hours"
    )
    replied = {"action": "replied", "reason": ""}
    assert demo.explain(None, replied, reply="Hi Maria") == 'replied: "Hi Maria"'
    dnd = {"action": "skipped", "reason": "DND for SMS"}
    assert demo.explain(None, dnd) == "skipped: DND for SMS"
    email = {"action": "skipped", "reason": "channel EMAIL"}
    assert demo.explain(None, email).startswith("recorded only (not a message to answer")
    assert demo.intake_words(200, {"status": "duplicate"}).startswith("duplicate: already taken")
    assert demo.intake_words(401, {}).startswith("refused (401)")
    assert demo.intake_words(200, {"status": "queued"}) is None


def test_the_demo_reads_the_score_or_says_scoring_is_not_running() -> None:
    assert demo.score_words({"contactId": "x"}) == "(no score yet: scoring is not running)"
    assert demo.score_words({"score": None}) == "(not scored yet)"
    scored = {"score": {"value": 87, "temperature": "hot", "reasons": ["asked for a tour"]}}
    assert demo.score_words(scored) == "score 87 (hot) because asked for a tour"


def test_somewhere_among_the_demo_zones_it_is_night_at_every_hour() -> None:
    for hour in range(24 * 2):  # winter and summer time
        start = datetime(2026, 12 if hour < 24 else 7, 1, tzinfo=UTC)
        now = start + timedelta(hours=hour % 24, minutes=30)
        zone = demo.night_zone(now)[0]
        local = now.astimezone(demo.ZoneInfo(zone))
        assert not demo.QUIET_START <= local.hour < demo.QUIET_END, (now, zone)
