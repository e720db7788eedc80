"""``ghl-ai listings import`` against the listings table of template.yaml (moto): bad rows
reported by line while the rest is stored, an idempotent re-import, price drops, one location
never seeing another's listings, and the demo catalogue."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ghl_ai.adapters.dynamo import ListingStore
from ghl_ai.listings.models import RECOMMENDABLE_STATUSES
from ghl_ai_cli.main import app
from local import demo_catalogue, demo_data
from tests.conftest import EVENTS, LOCATION_ID, Stack

SAMPLES = EVENTS / "listings"
OTHER_LOCATION = "oTh3rLocAt1on00000000"
runner = CliRunner()


@pytest.fixture
def table(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("GHL_LOCATION_ID", raising=False)
    monkeypatch.delenv("LISTINGS_TABLE", raising=False)
    return stack.resources.tables["ListingsTable"]


@pytest.fixture
def store(stack: Stack, table: str) -> ListingStore:
    return ListingStore(stack.dynamodb, table)


def import_file(path: Path, table: str, location: str = LOCATION_ID) -> dict[str, Any]:
    result = runner.invoke(
        app, ["listings", "import", str(path), "--location", location, "--table", table, "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # nothing but the summary on stdout


def items(stack: Stack) -> list[dict[str, Any]]:
    return sorted(stack.scan("ListingsTable"), key=lambda i: (i["locationId"], i["listingKey"]))


def edited_sample(tmp_path: Path, **prices: float) -> Path:
    page = json.loads((SAMPLES / "reso_sample.json").read_text())
    for record in page["value"]:
        record["ListPrice"] = prices.get(record["ListingKey"], record["ListPrice"])
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(page))
    return path


def test_bad_rows_are_reported_by_line_and_the_others_are_stored(
    stack: Stack, table: str, store: ListingStore
) -> None:
    summary = import_file(SAMPLES / "reso_sample.csv", table)

    assert (summary["added"], summary["updated"], summary["unchanged"]) == (6, 0, 0)
    assert [(e["line"], e["field"]) for e in summary["errors"]] == [
        (4, "ListPrice"),
        (4, "StandardStatus"),
        (8, "ListingKey"),
        (8, "Latitude"),
    ]
    assert summary["errors"][0] == {
        "source": "reso_sample.csv",
        "line": 4,
        "field": "ListPrice",
        "message": "not a number: 'Call agent'",
    }
    stored = {listing.listing_key: listing for listing in store.for_location(LOCATION_ID)}
    assert sorted(stored) == ["CV26050913", "CV26051184", "IG26010257", "IV26024406",
                              "IV26025519", "TR26014372"]  # fmt: skip
    assert "CV26057790" not in stored  # the row with the bad price
    assert stored["IV26024406"].latitude == 34.0281  # the first of the duplicate key
    assert stored["TR26014372"].status == "Coming Soon"
    assert stored["IG26010257"].baths == 2.5 and stored["IG26010257"].home_type() == "townhouse"


def test_people_see_a_summary_table_and_each_error_by_line(table: str) -> None:
    result = runner.invoke(
        app,
        ["listings", "import", str(SAMPLES / "reso_sample.csv")],
        env={"GHL_LOCATION_ID": LOCATION_ID, "LISTINGS_TABLE": table},
    )

    assert result.exit_code == 0, result.output
    out = result.stdout
    for label in ("added", "updated", "unchanged", "errors", "price drops"):
        assert label in out
    assert "line 4, ListPrice: not a number: 'Call agent'" in out
    assert "line 4, StandardStatus: unknown status 'Sold'" in out
    assert "line 8, ListingKey: duplicate of line 3" in out


def test_importing_the_same_file_again_changes_nothing(
    stack: Stack, table: str, store: ListingStore
) -> None:
    first = import_file(SAMPLES / "reso_sample.json", table)
    before = items(stack)

    again = import_file(SAMPLES / "pages", table)  # the same listings, as three linked pages

    assert (first["added"], first["updated"], first["unchanged"]) == (6, 0, 0)
    assert again == {
        "added": 0,
        "updated": 0,
        "unchanged": 6,
        "errors": [],
        "priceDrops": [],
        "priceDropAlerts": {},
    }
    assert items(stack) == before
    assert all(i["importedAt"] == i["updatedAt"] for i in before)
    assert all("previousPrice" not in i for i in before)


def test_a_lower_price_is_an_update_and_a_price_drop(
    stack: Stack, table: str, store: ListingStore, tmp_path: Path
) -> None:
    import_file(SAMPLES / "reso_sample.json", table)
    before = {i["listingKey"]: i for i in items(stack)}

    summary = import_file(edited_sample(tmp_path, CV26050913=1_019_000, IV26025519=655_000), table)

    assert (summary["added"], summary["updated"], summary["unchanged"]) == (0, 2, 4)
    assert summary["priceDrops"] == [
        {"listingKey": "CV26050913", "oldPrice": 1_049_000.0, "newPrice": 1_019_000.0}
    ]
    after = {i["listingKey"]: i for i in items(stack)}
    dropped = after["CV26050913"]
    assert dropped["listPrice"] == 1_019_000 and dropped["previousPrice"] == 1_049_000
    assert dropped["priceChangedAt"] == dropped["updatedAt"] > before["CV26050913"]["updatedAt"]
    assert dropped["importedAt"] == before["CV26050913"]["importedAt"]
    assert after["IV26025519"]["previousPrice"] == 649_000  # a rise: updated, not a drop
    for key in ("CV26051184", "IV26024406", "TR26014372", "IG26010257"):
        assert after[key] == before[key]
    assert store.get(LOCATION_ID, "CV26050913").price == 1_019_000.0  # type: ignore[union-attr]


def test_a_location_never_sees_another_locations_listings(
    stack: Stack, table: str, store: ListingStore, tmp_path: Path
) -> None:
    import_file(SAMPLES / "reso_sample.json", table)
    page = json.loads(edited_sample(tmp_path, CV26051184=799_000).read_text())
    page["value"].append({**page["value"][0], "ListingKey": "OC26099999"})
    other_file = tmp_path / "other.json"
    other_file.write_text(json.dumps(page))

    other = import_file(other_file, table, location=OTHER_LOCATION)

    assert (other["added"], other["updated"], other["priceDrops"]) == (7, 0, [])
    mine = {listing.listing_key: listing for listing in store.for_location(LOCATION_ID)}
    assert len(mine) == 6 and "OC26099999" not in mine
    assert mine["CV26051184"].price == 879_000.0
    assert store.get(LOCATION_ID, "OC26099999") is None
    assert store.get(OTHER_LOCATION, "CV26051184").price == 799_000.0  # type: ignore[union-attr]
    assert set(store.get_many(LOCATION_ID, ["OC26099999", "CV26051184"])) == {"CV26051184"}
    assert len(list(store.for_location(OTHER_LOCATION))) == 7


def test_listings_are_read_by_status(table: str, store: ListingStore) -> None:
    import_file(SAMPLES / "reso_sample.json", table)

    active = [listing.status for listing in store.for_location(LOCATION_ID, RECOMMENDABLE_STATUSES)]
    soon = {x.status for x in store.for_location(LOCATION_ID, {"Active", "Coming Soon"})}

    assert active == ["Active"] * 4
    assert soon == {"Active", "Coming Soon"}
    assert list(store.for_location(LOCATION_ID, ())) == []


def test_the_demo_catalogue_imports_cleanly_with_the_websites_listings(
    stack: Stack, table: str, store: ListingStore
) -> None:
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    records = demo_catalogue.records(now)

    summary = demo_catalogue.load(stack.dynamodb, table, LOCATION_ID, now)
    again = demo_catalogue.load(stack.dynamodb, table, LOCATION_ID, now)

    assert records == demo_catalogue.records(now)  # seeded
    assert (summary.added, summary.errors) == (300, [])
    assert (again.added, again.updated, again.unchanged) == (0, 0, 300)
    stored = store.get_many(LOCATION_ID, [r["ListingKey"] for r in records])
    assert len(stored) == 300 == len(list(store.for_location(LOCATION_ID)))
    for key, site in demo_data.LISTINGS.items():
        listing = stored[key]
        assert (listing.price, listing.beds, listing.baths, listing.city, listing.postal_code) == (
            site.price,
            site.beds,
            site.baths,
            site.city,
            site.zip,
        )
        assert listing.status == "Active"
    active = sum(1 for x in stored.values() if x.status == "Active")
    assert 0.75 <= active / 300 <= 0.92
    assert {x.city for x in stored.values()} >= {"Rancho Cucamonga", "Ontario", "Fontana",
                                                  "Upland", "Chino Hills", "Eastvale",
                                                  "Corona", "Claremont"}  # fmt: skip


def test_an_unreadable_file_or_a_missing_option_exits_2_in_one_line(
    table: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    cases = [
        (["listings", "import", str(tmp_path / "absent.csv"), "--location", LOCATION_ID,
          "--table", table], "no such file"),
        (["listings", "import", str(broken), "--location", LOCATION_ID, "--table", table],
         "not JSON"),
        (["listings", "import", str(SAMPLES / "reso_sample.json"), "--table", table],
         "--location"),
        (["listings", "import", str(SAMPLES / "reso_sample.json"), "--location", LOCATION_ID],
         "--table"),
        (["listings", "import", str(SAMPLES / "reso_sample.json"), "--location", LOCATION_ID,
          "--table", "no-such-table"], "ResourceNotFoundException"),
    ]  # fmt: skip
    for args, says in cases:
        result = runner.invoke(app, args)

        assert result.exit_code == 2, (args, result.output)
        assert says in result.stderr and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stdout == ""


class ThrottledDynamoDB:
    """The real (moto) client, except that every batch call handles only its first key or
    request and hands the rest back as unprocessed, as DynamoDB does under throttling."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls = {"batch_get_item": 0, "batch_write_item": 0}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls["batch_get_item"] += 1
        [(name, request)] = RequestItems.items()
        first, rest = request["Keys"][:1], request["Keys"][1:]
        response = self._client.batch_get_item(RequestItems={name: {**request, "Keys": first}})
        if rest:
            response["UnprocessedKeys"] = {name: {**request, "Keys": rest}}
        assert len(request["Keys"]) <= 100
        return response

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls["batch_write_item"] += 1
        [(name, requests)] = RequestItems.items()
        assert len(requests) <= 25
        response = self._client.batch_write_item(RequestItems={name: requests[:1]})
        response["UnprocessedItems"] = {name: requests[1:]} if requests[1:] else {}
        return response


def test_what_dynamodb_leaves_unprocessed_is_retried(stack: Stack, table: str) -> None:
    from ghl_ai.listings.catalogue import import_listings
    from ghl_ai.listings.reso import parse_records

    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    records = demo_catalogue.records(now, n=130)
    client = ThrottledDynamoDB(stack.dynamodb)
    store = ListingStore(client, table)

    summary = import_listings(store, LOCATION_ID, parse_records(records), now, batch=130)

    assert (summary.added, summary.errors) == (130, [])
    assert len(store.get_many(LOCATION_ID, [r["ListingKey"] for r in records])) == 130
    assert client.calls["batch_get_item"] >= 2 * 130 and client.calls["batch_write_item"] >= 130
    assert len(list(ListingStore(stack.dynamodb, table).for_location(LOCATION_ID))) == 130


def test_a_price_drop_alerts_the_agent_of_each_lead_that_saved_or_kept_viewing_the_home(
    stack: Stack, table: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Saved it → alerted; viewed it twice → alerted; viewed it once → not; once only."""
    import uuid

    from local.ghl_standin import GhlStandIn
    from tests.conversation.driver import configure

    import_file(SAMPLES / "reso_sample.json", table)
    monkeypatch.setenv("GHL_LOCATION_ID", LOCATION_ID)  # the intake's single location
    with GhlStandIn() as ghl:
        configure(monkeypatch, ghl)
        saver, viewer, glancer = (ghl.seed_contact(firstName=n)["id"] for n in ("Sam", "Vi", "Gil"))
        now = datetime.now(UTC)

        def event(kind: str, contact: str) -> dict[str, Any]:
            return {
                "type": kind,
                "timestamp": now.isoformat(),
                "eventId": str(uuid.uuid4()),
                "contactId": contact,
                "propertyId": "CV26050913",
            }

        batch = [event("property_save", saver), event("property_view", viewer)]
        batch += [event("property_view", viewer), event("property_view", glancer)]
        assert stack.post_events({"events": batch}).status == 202
        stack.run_scoring()
        tasks_before = len(ghl.calls_to("POST", "/contacts/"))

        edited = edited_sample(tmp_path, CV26050913=1_019_000)
        command = ["listings", "import", str(edited), "--location", LOCATION_ID, "--table", table]
        command += ["--events-table", stack.resources.tables["EventsTable"], "--json"]
        queue = ["--scoring-queue", stack.resources.queue_urls["ScoringQueue"]]
        result = runner.invoke(app, [*command, *queue])
        assert result.exit_code == 0, result.output
        told = json.loads(result.stdout)["priceDropAlerts"]
        assert told == {"CV26050913": sorted([saver, viewer])}
        stack.run_scoring()

        tasks = [
            c.json["title"]
            for c in ghl.calls_to("POST", "/contacts/")
            if c.path.endswith("/tasks") and "Price drop" in str(c.json.get("title"))
        ]
        assert sorted(tasks) == sorted(
            f"Price drop on a home {name} follows: listing CV26050913, now $1,019k ($30k less)"
            for name in ("Sam", "Vi")
        )
        assert len(ghl.calls_to("POST", "/contacts/")) > tasks_before
        # Importing the same file again finds no drop: nobody is told twice.
        again = json.loads(runner.invoke(app, command).stdout)
        assert again["priceDrops"] == [] and again["priceDropAlerts"] == {}
