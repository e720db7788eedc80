"""Reading RESO listings: every field from CSV and Web API JSON, one error per bad field with its
line, pages followed along their nextLink chain, files that cannot be read at all; the listing
model's stored form, content hash and home types."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ghl_ai.adapters.dynamo import from_item, to_item
from ghl_ai.listings.models import Listing, recommendable
from ghl_ai.listings.reso import (
    ListingFileError,
    RowError,
    count_records,
    parse_records,
    read_listings,
)
from tests.conftest import EVENTS

SAMPLES = EVENTS / "listings"
NEXT_YEAR = datetime.now(UTC).year + 1


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_page(path: Path, records: list[Any], next_link: str | None = None) -> Path:
    page: dict[str, Any] = {"@odata.context": "https://api.example.com/$metadata#Property"}
    page["value"] = records
    if next_link:
        page["@odata.nextLink"] = next_link
    path.write_text(json.dumps(page))
    return path


def record(key: str, price: Any = 700_000, **fields: Any) -> dict[str, Any]:
    return {"ListingKey": key, "ListPrice": price, "StandardStatus": "Active", **fields}


def split(items: list[Listing | RowError]) -> tuple[list[Listing], list[RowError]]:
    return (
        [i for i in items if isinstance(i, Listing)],
        [i for i in items if isinstance(i, RowError)],
    )


# -- every field -------------------------------------------------------------------------------


def test_csv_reads_every_field(tmp_path: Path) -> None:
    header = [
        "ListingKey", "StandardStatus", "ListPrice", "OriginalListPrice", "PropertyType",
        "PropertySubType", "BedroomsTotal", "BathroomsTotalInteger", "BathroomsFull",
        "BathroomsHalf", "LivingArea", "LotSizeSquareFeet", "LotSizeAcres", "YearBuilt",
        "UnparsedAddress", "city", "PostalCode", "Latitude", "Longitude", "AssociationFee",
        "AssociationFeeFrequency", "PoolPrivateYN", "GarageSpaces", "PublicRemarks",
        "ModificationTimestamp", "Media", "ListAgentFullName",
    ]  # fmt: skip
    path = write_csv(tmp_path / "export.csv", header, [
        ["CV1", "Active", "849000", "869,000", "Residential", "Single Family Residence", "4",
         "3", "", "", "2250", "7200", "", "2004", "1 Banyan St, Rancho Cucamonga, CA 91739",
         "Rancho Cucamonga", "91739", "34.1512", "-117.5174", "95", "Monthly", "true", "3",
         "Pool and solar.", "2026-11-18T09:42:10-08:00",
         "https://p.example.com/1.jpg| https://p.example.com/2.jpg", "Sofia Ramirez"],
        ["IV2", "active under contract", "514900", "", "Residential", "Condominium", "2", "",
         "2", "1", "1188", "", "0.5", "2018", "", "Ontario", "91761", "", "", "1200",
         "Annually", "N", "", "", "2026-11-19T17:05:00Z", "", ""],
    ])  # fmt: skip

    items = list(read_listings(path))

    assert items == [
        Listing(
            listing_key="CV1", status="Active", price=849_000.0, original_price=869_000.0,
            property_type="Residential", property_sub_type="Single Family Residence", beds=4,
            baths=3.0, living_area=2250.0, lot_sqft=7200.0, year_built=2004,
            city="Rancho Cucamonga", postal_code="91739",
            address="1 Banyan St, Rancho Cucamonga, CA 91739", latitude=34.1512,
            longitude=-117.5174, hoa_monthly=95.0, pool=True, garage_spaces=3.0,
            remarks="Pool and solar.", modified_at=datetime(2026, 11, 18, 17, 42, 10, tzinfo=UTC),
            photos=("https://p.example.com/1.jpg", "https://p.example.com/2.jpg"),
        ),
        Listing(
            listing_key="IV2", status="Active Under Contract", price=514_900.0,
            property_type="Residential", property_sub_type="Condominium", beds=2, baths=2.5,
            living_area=1188.0, lot_sqft=21_780.0, year_built=2018, city="Ontario",
            postal_code="91761", hoa_monthly=100.0, pool=False, remarks="",
            modified_at=datetime(2026, 11, 19, 17, 5, tzinfo=UTC),
        ),
    ]  # fmt: skip
    assert count_records(path) == 2


def test_json_reads_every_field_and_orders_the_photos(tmp_path: Path) -> None:
    media = [
        {"MediaURL": f"https://p.example.com/{o}.jpg", "Order": o, "MediaCategory": "Photo"}
        for o in (12, 3, 1, 2, 11, 4, 5, 6, 7, 8, 9, 10)
    ]
    media.append({"MediaURL": "https://p.example.com/plan.pdf", "Order": 0,
                  "MediaCategory": "FloorPlan Document"})  # fmt: skip
    path = write_page(tmp_path / "page.json", [
        record("TR1", 1_385_000, OriginalListPrice=1_400_000, PropertyType="Residential",
               PropertySubType="Single Family Residence", BedroomsTotal=4, BathroomsFull=3,
               BathroomsHalf=1, LivingArea=2840, LotSizeAcres=1.12, YearBuilt=1979,
               UnparsedAddress="3015 Carbon Canyon Rd, Chino Hills, CA 91709",
               City="Chino Hills", PostalCode=91709, Latitude=33.9562, Longitude=-117.7481,
               AssociationFee=None, PoolPrivateYN=False, GarageSpaces=2,
               PublicRemarks="Horse property with an ADU.",
               ModificationTimestamp="2026-11-20T14:00:00.250Z", Media=media,
               StandardStatus="ComingSoon"),
    ])  # fmt: skip

    [listing] = read_listings(path)

    assert listing == Listing(
        listing_key="TR1", status="Coming Soon", price=1_385_000.0, original_price=1_400_000.0,
        property_type="Residential", property_sub_type="Single Family Residence", beds=4,
        baths=3.5, living_area=2840.0, lot_sqft=48_787.2, year_built=1979,
        city="Chino Hills", postal_code="91709",
        address="3015 Carbon Canyon Rd, Chino Hills, CA 91709", latitude=33.9562,
        longitude=-117.7481, pool=False, garage_spaces=2.0,
        remarks="Horse property with an ADU.",
        modified_at=datetime(2026, 11, 20, 14, 0, 0, 250_000, tzinfo=UTC),
        photos=tuple(f"https://p.example.com/{o}.jpg" for o in range(1, 11)),
    )  # fmt: skip


# -- validation --------------------------------------------------------------------------------


def test_each_bad_field_is_reported_with_its_line_and_the_good_rows_still_read(
    tmp_path: Path,
) -> None:
    header = ["ListingKey", "ListPrice", "StandardStatus", "BedroomsTotal",
              "BathroomsTotalInteger", "LivingArea", "Latitude", "Longitude",
              "ModificationTimestamp", "YearBuilt", "PoolPrivateYN", "PublicRemarks"]  # fmt: skip
    ok = ["", "", "", "", "", "", "", "", "", ""]
    rows = [
        ["G1", "600000", "Active", *ok[:8], "two\nline\nremarks"],  # lines 2-4
        ["", "650000", "Active", *ok[:9]],  # 5: key
        ["B2", "", "Active", *ok[:9]],  # 6: price missing
        ["B3", "0", "Active", *ok[:9]],  # 7: price not positive
        ["B4", "six hundred", "Sold", *ok[:9]],  # 8: price + status
        ["B5", "600000", "Active", "31", "-1", "big", *ok[:6]],  # 9: beds, baths, area
        ["B6", "600000", "Active", "", "", "", "95", "-200", "yesterday", "1700", "", ""],  # 10
        ["B7", "600000", "Active", *ok[:6], str(NEXT_YEAR + 1), "maybe", ""],  # 11
        ["G1", "600000", "Active", *ok[:9]],  # 12: duplicate of line 2
        ["B8", "600000", "Active", "3.5", *ok[:8]],  # 13: beds not whole
        ["G2", "$610,000", "Pending", "3", "2", "1500", "34.1", "-117.6",
         "2026-11-01T00:00:00Z", str(NEXT_YEAR), "yes", ""],  # 14
    ]  # fmt: skip
    path = write_csv(tmp_path / "listings.csv", header, rows)

    listings, errors = split(list(read_listings(path)))

    assert [(item.listing_key, item.price) for item in listings] == [
        ("G1", 600_000.0),
        ("G2", 610_000.0),
    ]
    assert listings[0].remarks == "two\nline\nremarks"
    assert {(e.line, e.field) for e in errors} == {
        (5, "ListingKey"),
        (6, "ListPrice"),
        (7, "ListPrice"),
        (8, "ListPrice"),
        (8, "StandardStatus"),
        (9, "BedroomsTotal"),
        (9, "BathroomsTotalInteger"),
        (9, "LivingArea"),
        (10, "Latitude"),
        (10, "Longitude"),
        (10, "ModificationTimestamp"),
        (10, "YearBuilt"),
        (11, "YearBuilt"),
        (11, "PoolPrivateYN"),
        (12, "ListingKey"),
        (13, "BedroomsTotal"),
    }
    assert len(errors) == 16 and {e.source for e in errors} == {"listings.csv"}
    messages = {(e.line, e.field): e.message for e in errors}
    assert messages[(5, "ListingKey")] == "missing"
    assert messages[(8, "StandardStatus")] == "unknown status 'Sold'"
    assert messages[(12, "ListingKey")] == "duplicate of line 2"
    assert count_records(path) == len(rows)


def test_an_error_never_quotes_more_than_40_characters_of_the_value(tmp_path: Path) -> None:
    secret = "0123456789" * 30
    path = write_page(tmp_path / "page.json", [record("A", secret, BedroomsTotal=secret)])

    errors = list(read_listings(path))

    assert {e.field for e in errors if isinstance(e, RowError)} == {"ListPrice", "BedroomsTotal"}
    for error in errors:
        assert isinstance(error, RowError)
        assert secret[:41] not in error.message and len(error.message) < 80


def test_a_huge_field_is_an_error_of_its_row_only(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "huge.csv", ["ListingKey", "ListPrice", "StandardStatus",
                                             "PublicRemarks"], [
        ["A", "500000", "Active", "ok"],
        ["B", "500000", "Active", "x" * 200_000],  # over the CSV reader's field limit
        ["C", "500000", "Active", "y" * 20_000],  # over the remarks' limit
        ["D", "500000", "Active", "fine"],
    ])  # fmt: skip

    listings, errors = split(list(read_listings(path)))

    assert [item.listing_key for item in listings] == ["A", "D"]
    assert [(e.line, e.field) for e in errors] == [(3, "record"), (4, "PublicRemarks")]
    assert all(len(e.message) < 120 for e in errors)


def test_json_errors_name_the_page_and_the_record(tmp_path: Path) -> None:
    path = write_page(tmp_path / "page-1.json", [
        record("A"), "not an object", record("B", -5), record("C", True), record("D"),
    ])  # fmt: skip

    listings, errors = split(list(read_listings(path)))

    assert [item.listing_key for item in listings] == ["A", "D"]
    assert [(e.source, e.line, e.field) for e in errors] == [
        ("page-1.json", 2, "record"),
        ("page-1.json", 3, "ListPrice"),
        ("page-1.json", 4, "ListPrice"),
    ]


def test_in_memory_records_are_validated_the_same_way() -> None:
    listings, errors = split(list(parse_records([record("A"), record("A")], "feed")))

    assert [item.listing_key for item in listings] == ["A"]
    assert errors == [RowError("feed", 2, "ListingKey", "duplicate of feed record 1")]


# -- pages -------------------------------------------------------------------------------------


def test_a_directory_of_pages_is_read_in_the_order_of_its_links(tmp_path: Path) -> None:
    base = "https://api.example.com/reso/odata/Property"
    write_page(tmp_path / "p-zeta.json", [record("Z1"), record("Z2")], f"{base}/p-alpha")
    write_page(tmp_path / "p-alpha.json", [record("A1")], f"{base}/p-mid.json?$top=2")
    write_page(tmp_path / "p-mid.json", [record("M1"), record("M2")])

    items = list(read_listings(tmp_path))

    assert [i.listing_key for i in items if isinstance(i, Listing)] == ["Z1", "Z2", "A1", "M1",
                                                                        "M2"]  # fmt: skip
    assert count_records(tmp_path) == 5


def test_skip_links_point_to_the_page_named_by_the_number(tmp_path: Path) -> None:
    link = "https://api.example.com/reso/odata/Property?$top=2&$skip={}"
    write_page(tmp_path / "skip-10.json", [record("C")])
    write_page(tmp_path / "skip-5.json", [record("B")], link.format(10))
    write_page(tmp_path / "skip-0.json", [record("A")], link.format(5).replace("$", "%24"))

    keys = [i.listing_key for i in read_listings(tmp_path) if isinstance(i, Listing)]

    assert keys == ["A", "B", "C"]  # file-name order would be skip-0, skip-10, skip-5


def test_a_missing_next_page_is_reported_and_the_pages_present_still_read(
    tmp_path: Path,
) -> None:
    link = "https://api.example.com/reso/odata/Property?$top=2&$skip={}"
    write_page(tmp_path / "skip-0.json", [record("A"), record("B")], link.format(2))
    write_page(tmp_path / "skip-4.json", [record("E")])  # skip-2.json never downloaded
    write_page(tmp_path / "skip-6.json", [record("A")], link.format(4))

    listings, errors = split(list(read_listings(tmp_path)))

    assert [item.listing_key for item in listings] == ["A", "B", "E"]
    assert [(e.source, e.line, e.field) for e in errors] == [
        ("skip-0.json", 0, "@odata.nextLink"),
        ("skip-6.json", 1, "ListingKey"),  # a key repeated on another page of the import
    ]
    assert "not in the directory" in errors[0].message and "skip=2" in errors[0].message


def test_a_single_page_that_has_more_pages_says_so(tmp_path: Path) -> None:
    path = write_page(tmp_path / "first.json", [record("A")], "https://x.example.com/?$skip=1")

    listings, errors = split(list(read_listings(path)))

    assert [item.listing_key for item in listings] == ["A"]
    assert [(e.line, e.field) for e in errors] == [(0, "@odata.nextLink")]


# -- unreadable files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("absent.csv", None, "no such file"),
        ("absent.json", None, "no such file"),
        ("broken.json", "{not json", "not JSON"),
        ("binary.json", b"\xff\xfe\x00garbage", "not JSON"),
        ("odata.json", '{"items": []}', '"value" list'),
        ("list.json", "[]", '"value" list'),
        ("nokey.csv", "Key,ListPrice\nA,1\n", "no ListingKey column"),
        ("empty.csv", "", "empty"),
        ("listings.txt", "ListingKey\nA\n", "not a .csv or .json file"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_listing_file_error(
    tmp_path: Path, name: str, content: str | bytes | None, says: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)

    with pytest.raises(ListingFileError, match=says):
        read_listings(path)
    with pytest.raises(ListingFileError):
        count_records(path)


def test_a_directory_without_pages_or_with_a_broken_page_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ListingFileError, match=r"no \*\.json pages"):
        read_listings(tmp_path)
    write_page(tmp_path / "a.json", [record("A")])
    (tmp_path / "b.json").write_text("nope")
    with pytest.raises(ListingFileError, match=r"b\.json: not JSON"):
        read_listings(tmp_path)


# -- the committed samples ---------------------------------------------------------------------


def test_the_samples_hold_the_same_six_listings_and_the_csv_its_two_bad_rows() -> None:
    from_json = list(read_listings(SAMPLES / "reso_sample.json"))
    from_pages = list(read_listings(SAMPLES / "pages"))
    listings, errors = split(list(read_listings(SAMPLES / "reso_sample.csv")))

    assert len(from_json) == 6 and all(isinstance(i, Listing) for i in from_json)
    assert from_pages == from_json
    assert listings == from_json
    assert sorted(i.status for i in listings) == ["Active", "Active", "Active", "Active",
                                                  "Coming Soon", "Pending"]  # fmt: skip
    assert [(e.line, e.field) for e in errors] == [
        (4, "ListPrice"),
        (4, "StandardStatus"),
        (8, "ListingKey"),
        (8, "Latitude"),
    ]


# -- the listing -------------------------------------------------------------------------------


def test_the_stored_form_round_trips_through_dynamodb_exactly() -> None:
    for listing in read_listings(SAMPLES / "reso_sample.json"):
        assert isinstance(listing, Listing)
        state = listing.to_state()
        assert state["listingKey"] == listing.listing_key and state["listPrice"] == listing.price
        assert Listing.from_state(from_item(to_item(state))) == listing
        assert Listing.from_state(state).content_hash() == listing.content_hash()


def test_the_content_hash_follows_the_content_only() -> None:
    first = list(read_listings(SAMPLES / "reso_sample.json"))
    again = list(read_listings(SAMPLES / "pages"))
    a = first[0]
    assert isinstance(a, Listing)

    assert [x.content_hash() for x in first] == [y.content_hash() for y in again]  # type: ignore[union-attr]
    assert (
        Listing("K", "Active", 849_000).content_hash()
        == Listing("K", "Active", 849_000.0).content_hash()
    )
    changed = Listing.from_state({**a.to_state(), "listPrice": a.price - 10_000})
    assert changed.content_hash() != a.content_hash()
    photos = Listing.from_state({**a.to_state(), "photos": list(reversed(a.photos))})
    assert photos.content_hash() != a.content_hash()


@pytest.mark.parametrize(
    ("property_type", "sub_type", "home"),
    [
        ("Residential", "Single Family Residence", "single_family"),
        ("Residential", "Condominium", "condo"),
        ("Residential", "Townhouse", "townhouse"),
        ("Residential Income", "Duplex", "multi_family"),
        ("Residential Income", "Triplex", "multi_family"),
        ("Residential Income", "Quadruplex", "multi_family"),
        ("Residential Income", None, "multi_family"),
        ("Land", None, "land"),
        ("Land", "Unimproved Land", "land"),
        ("Residential", "Manufactured On Land", "manufactured"),
        ("Manufactured In Park", "Manufactured Home", "manufactured"),
        ("Residential", "Mobile Home", "manufactured"),
        ("Residential", None, None),
        ("Commercial Sale", "Office", None),
    ],
)
def test_home_types_in_the_conversations_words(
    property_type: str, sub_type: str | None, home: str | None
) -> None:
    listing = Listing("K", "Active", 1.0, property_type=property_type, property_sub_type=sub_type)

    assert listing.home_type() == home


def test_only_active_listings_are_recommendable_and_coming_soon_when_asked() -> None:
    assert recommendable("Active")
    assert not recommendable("Coming Soon")
    assert recommendable("Coming Soon", include_coming_soon=True)
    for status in ("Pending", "Active Under Contract", "Closed", "Canceled", "Expired"):
        assert not recommendable(status, include_coming_soon=True)
