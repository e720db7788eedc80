"""GET /leads/{contactId}/recommendations and "send top matches", end to end: the catalogue in
DynamoDB (moto), website events through POST /events, the RecommendationsFunction's handler
on its route and its queue, GHL faked by the loopback stand-in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ghl_ai.adapters.dynamo import LeadStore, ListingStore
from ghl_ai.jobs import MatchesJob
from ghl_ai.leads.models import LeadChanges, LeadKey
from ghl_ai.listings.models import Listing
from local import devkeys
from local.ghl_standin import GhlStandIn
from tests.conftest import LOCATION_ID, Stack
from tests.conversation.driver import configure

OTHER_LOCATION = "OtherLoc0000000000001"
URL = "https://homes.example.com/l/{listingKey}"
CITIES = {"Fontana": (34.0922, -117.4350), "Ontario": (34.0633, -117.6509)}


@pytest.fixture
def ghl(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        configure(monkeypatch, standin, LISTING_URL_TEMPLATE=URL, LOCATION_TIMEZONE="UTC")
        yield standin


def listing(key: str, price: float, city: str = "Fontana", **extra: Any) -> Listing:
    lat, lon = CITIES[city]
    values: dict[str, Any] = {
        "beds": 4,
        "baths": 3.0,
        "property_sub_type": "Single Family Residence",
        "living_area": 2100.0,
        "hoa_monthly": 0.0,
        "latitude": lat,
        "longitude": lon,
        "address": f"{key[-3:]} Cedar Ave, {city}, CA",
        "postal_code": "92336",
    }
    values.update(extra)
    status = values.pop("status", "Active")
    return Listing(key, status, price, city=city, **values)


def store(stack: Stack) -> ListingStore:
    return ListingStore(stack.dynamodb, stack.resources.tables["ListingsTable"])


def load(stack: Stack, listings: list[Listing], location: str = LOCATION_ID) -> None:
    store(stack).upsert_many(location, listings, datetime.now(UTC))


def lead(stack: Stack, contact: str, location: str = LOCATION_ID, **state: Any) -> None:
    LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]).apply(
        LeadKey(location, contact), LeadChanges(set=state)
    )


def buyer_answers(budget: int = 700_000, area: str = "Fontana", beds: int = 4) -> dict[str, Any]:
    def answer(value: Any) -> dict[str, Any]:
        return {"value": value, "confidence": 0.9, "source": "rules"}

    return {
        "budget": answer({"min": None, "max": budget}),
        "area": answer(area),
        "bedrooms": answer(beds),
    }


def viewed(stack: Stack, contact: str, listing_key: str, times: int = 1) -> None:
    now = datetime.now(UTC)
    events = [
        {
            "type": "property_view",
            "timestamp": (now - timedelta(minutes=10 - i)).isoformat(),
            "eventId": str(uuid.uuid4()),
            "contactId": contact,
            "visitorId": f"v-{contact}",
            "propertyId": listing_key,
            "dwellSeconds": 60,
        }
        for i in range(times)
    ]
    assert stack.post_events({"events": events}).status == 202


def keys(body: dict[str, Any]) -> list[str]:
    return [r["listingKey"] for r in body["recommendations"]]


MARKET = [
    listing("FIT-001", 685_000, pool=True, remarks="Single story with a pool."),
    listing("FIT-002", 679_000),
    listing("OVER-003", 760_000),
    listing("FAR-004", 640_000, "Ontario", beds=3),
    listing("SOLD-005", 690_000, status="Closed"),
    listing("PEND-006", 688_000, status="Pending"),
]


def test_a_lead_gets_its_matches_with_reasons_concerns_and_the_model_version(
    stack: Stack,
) -> None:
    load(stack, MARKET)
    lead(stack, "c-ana", intent="buy", answers=buyer_answers(), firstName="Ana")

    response = stack.get_recommendations("c-ana", k=3)

    assert response.status == 200
    body = response.json
    assert body["contactId"] == "c-ana" and body["locationId"] == LOCATION_ID and body["k"] == 3
    assert body["modelVersion"] and 0 <= body["blend"] <= 1
    assert body["basis"] == {"stated": ["budget", "area", "bedrooms"], "interactions": 0}
    # Both fits score 1 (equal fits in catalogue order); the one over budget beats the one in
    # another city with a bedroom short.
    assert keys(body) == ["FIT-001", "FIT-002", "OVER-003"]
    top = body["recommendations"][0]
    assert top["reasons"][0].endswith("under budget") and "in Fontana, as asked" in top["reasons"]
    assert set(top) >= {"score", "reasons", "concerns", "factors", "price", "url", "status"}
    assert all(r["status"] == "Active" for r in body["recommendations"])
    everything = stack.get_recommendations("c-ana", k=50).json
    assert not {"SOLD-005", "PEND-006"} & set(keys(everything))
    over = next(r for r in everything["recommendations"] if r["listingKey"] == "OVER-003")
    assert "$60k over budget" in over["concerns"]


def test_matches_change_as_the_lead_browses(stack: Stack) -> None:
    load(stack, MARKET)
    lead(stack, "c-bo", intent="buy")
    before = keys(stack.get_recommendations("c-bo", k=5).json)
    viewed(stack, "c-bo", "FAR-004", times=3)  # it keeps looking at a 3-bed in Ontario

    after = stack.get_recommendations("c-bo", k=5).json

    assert after["basis"]["interactions"] == 1
    assert "FAR-004" not in keys(after)  # seen: not recommended back
    assert keys(after) != before


def test_errors_are_clear_json_and_another_location_is_invisible(stack: Stack) -> None:
    load(stack, MARKET)
    load(stack, [listing("THEIRS-9", 680_000, pool=True)], OTHER_LOCATION)
    lead(stack, "c-ana", answers=buyer_answers())
    lead(stack, "c-theirs", OTHER_LOCATION, answers=buyer_answers())

    assert stack.get_recommendations("c-ana", api_key=None).status == 401
    assert stack.get_recommendations("c-ana", api_key="wrong").status == 401
    bad = stack.get_recommendations("c-ana", k="0")
    assert bad.status == 400 and "k must be an integer from 1 to 50" in bad.json["error"]
    for k in ("ten", "1e3", "-1", "٣", "99999999999999999999"):
        assert stack.get_recommendations("c-ana", k=k).status == 400, k
    assert stack.get_recommendations("a" * 500).status == 400  # not a contact id
    assert stack.get_recommendations("c-nobody").status == 404
    # The other location's lead is not found with this location's key, and its listing is
    # never recommended here.
    assert stack.get_recommendations("c-theirs").status == 404
    mine = stack.get_recommendations("c-ana", k=50).json
    assert "THEIRS-9" not in keys(mine)


def test_a_listing_that_left_the_market_since_the_catalogue_was_cached_is_not_shown(
    stack: Stack,
) -> None:
    load(stack, MARKET)
    lead(stack, "c-ana", answers=buyer_answers())
    first = keys(stack.get_recommendations("c-ana", k=2).json)  # caches the catalogue
    gone = store(stack).get(LOCATION_ID, first[0])
    assert gone is not None
    load(stack, [Listing(**{**gone.__dict__, "status": "Pending"})])

    again = keys(stack.get_recommendations("c-ana", k=2).json)

    assert first[0] not in again and len(again) == 2


# -- send top matches -------------------------------------------------------------------------


def contact(ghl: GhlStandIn, **fields: Any) -> str:
    seeded = ghl.seed_contact(firstName="Ana", phone="+19095550123", **fields)
    return str(seeded["id"])


def matches_job(contact_id: str, k: int = 2) -> MatchesJob:
    return MatchesJob(
        id=str(uuid.uuid4()),
        received_at=datetime.now(UTC),
        location_id=LOCATION_ID,
        contact_id=contact_id,
        k=k,
    )


def send(stack: Stack, job: MatchesJob) -> None:
    url = stack.resources.queue_urls["MatchesQueue"]
    stack.sqs.send_message(QueueUrl=url, MessageBody=job.model_dump_json())
    results = stack.run_matches()
    assert sum(r.failed for r in results) == 0


def texts(ghl: GhlStandIn) -> list[str]:
    return [str(c.json["message"]) for c in ghl.calls_to("POST", "/conversations/messages")]


def test_send_top_matches_texts_links_once_and_never_repeats_a_listing(
    stack: Stack, ghl: GhlStandIn
) -> None:
    load(stack, MARKET)
    cid = contact(ghl)
    lead(stack, cid, intent="buy", answers=buyer_answers())
    job = matches_job(cid)

    send(stack, job)
    send(stack, job)  # a redelivery of the same job: no second text

    sent = texts(ghl)
    assert len(sent) == 1
    first = sent[0]
    assert first.startswith("Hi Ana, 2 homes that fit what you're looking for:")
    assert "https://homes.example.com/l/FIT-00" in first and "$685k" in first + "$679k"
    record = stack.lead(LOCATION_ID, cid)
    assert record is not None and len(record["sentListings"]) == 2

    send(stack, matches_job(cid))  # a later send: other listings, never the same twice
    second = texts(ghl)[1]
    assert not any(k in second for k in record["sentListings"])
    assert "SOLD-005" not in second and "PEND-006" not in second


def test_a_spanish_speaking_lead_gets_its_matches_in_spanish(stack: Stack, ghl: GhlStandIn) -> None:
    load(stack, MARKET)
    cid = contact(ghl)
    lead(stack, cid, intent="buy", answers=buyer_answers(), language="es")

    send(stack, matches_job(cid))

    (text,) = texts(ghl)
    assert text.startswith("Hola Ana, le comparto 2 casas que se ajustan a lo que busca:")
    assert " rec/" in text and " baños" in text and " bd" not in text
    assert text.endswith("¿Le gustaría ver alguna?")


def test_a_listing_gone_inactive_between_ranking_and_send_is_not_sent(
    stack: Stack, ghl: GhlStandIn
) -> None:
    load(stack, MARKET)
    cid = contact(ghl)
    lead(stack, cid, intent="buy", answers=buyer_answers())
    ranked = keys(stack.get_recommendations(cid, k=1).json)  # the catalogue is now cached
    gone = store(stack).get(LOCATION_ID, ranked[0])
    assert gone is not None
    load(stack, [Listing(**{**gone.__dict__, "status": "Closed"})])

    send(stack, matches_job(cid, k=1))

    (text,) = texts(ghl)
    assert ranked[0] not in text


def test_matches_wait_for_quiet_hours_and_respect_opt_out(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(stack, MARKET)
    cid = contact(ghl)
    lead(stack, cid, intent="buy", answers=buyer_answers(), optedOut=True)
    send(stack, matches_job(cid))
    assert texts(ghl) == []  # opted out: nothing

    cid = contact(ghl)
    lead(stack, cid, intent="buy", answers=buyer_answers())
    hour = datetime.now(ZoneInfo("UTC")).hour
    start, end = (hour + 1, hour + 2) if hour < 12 else (hour - 2, hour - 1)
    configure(
        monkeypatch,
        ghl,
        LISTING_URL_TEMPLATE=URL,
        LOCATION_TIMEZONE="UTC",
        QUIET_HOURS_START=str(start),
        QUIET_HOURS_END=str(end),
    )
    send(stack, matches_job(cid))
    assert texts(ghl) == []
    delayed = stack.sqs.get_queue_attributes(
        QueueUrl=stack.resources.queue_urls["MatchesQueue"],
        AttributeNames=["ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]["ApproximateNumberOfMessagesDelayed"]
    assert delayed == "1"  # held: back on the queue with a delay until the window opens


def test_the_matches_tag_from_a_ghl_workflow_queues_a_send(stack: Stack, ghl: GhlStandIn) -> None:
    load(stack, MARKET)
    cid = contact(ghl, tags=["send matches"])
    lead(stack, cid, intent="buy", answers=buyer_answers())
    delivery = {
        "type": "ContactTagUpdate",
        "locationId": LOCATION_ID,
        "id": cid,
        "tags": ["send matches"],
        "webhookId": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(),
    }
    assert stack.post_webhook(delivery).status == 200
    stack.run_worker()
    send_results = stack.run_matches()
    assert sum(r.succeeded for r in send_results) == 1
    assert texts(ghl)[0].startswith("Hi Ana,")
    assert devkeys.API_KEY  # the stack's key read the route above
