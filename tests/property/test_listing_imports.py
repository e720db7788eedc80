"""Listing imports, generated: CSV files and RESO Web API pages whose records carry any value
in any field give, for every record, one Listing or its per-field RowErrors (``line N, Field:
message``) — never an exception — and every Listing they give can be stored and read back."""

from __future__ import annotations

import csv
import json
import math
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import example, given
from hypothesis import strategies as st

from ghl_ai.adapters.dynamo import from_item, to_item
from ghl_ai.listings.models import STANDARD_STATUSES, Listing
from ghl_ai.listings.reso import (
    FIELDS,
    MAX_PHOTOS,
    RowError,
    count_records,
    parse_records,
    read_listings,
)
from tests.property.strategies import field_values, json_values, words

numeric_text = st.one_of(
    st.integers(-(10**7), 10**9).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(1_000, 10**9).map(lambda n: f"${n:,}"),
    st.sampled_from(["1e400", "-0", "1_000", "0x10", " 12 ", "", "12.5.1", "9" * 45]),
)
timestamps = st.one_of(
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda t: t.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-13-01"]),
)
media = st.one_of(
    st.lists(
        st.sampled_from(["https://img.example/1.jpg", "http://x/2.png", "ftp://x"]), max_size=12
    ).map("|".join),
    st.lists(
        st.fixed_dictionaries(
            {"MediaURL": st.sampled_from(["https://img.example/a.jpg", "nope"]) | field_values},
            optional={
                "Order": st.integers() | st.floats() | field_values,
                "MediaCategory": st.sampled_from(["Photo", "Video", "", "floor plan"]),
            },
        ),
        max_size=12,
    ),
)
#: A value for each RESO field: mostly the kind the field holds, sometimes anything.
FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "ListingKey": words,
    "StandardStatus": st.sampled_from([*STANDARD_STATUSES, "active under contract", "Sold"]),
    "PropertyType": words,
    "PropertySubType": st.sampled_from(["Single Family Residence", "Condominium", "Cabin"]),
    "City": words,
    "PostalCode": st.from_regex(r"\A[0-9]{5}\Z"),
    "UnparsedAddress": st.text(max_size=40),
    "PoolPrivateYN": st.sampled_from(["Y", "n", "true", "False", "1", "maybe"]) | st.booleans(),
    "PublicRemarks": st.text(max_size=80),
    "ModificationTimestamp": timestamps,
    "Media": media,
    "AssociationFeeFrequency": st.sampled_from(["Monthly", "Annually", "Semi-Annually", "once"]),
}


def value_for(field: str) -> st.SearchStrategy[Any]:
    typical = FIELD_VALUES.get(field)
    if typical is None:  # a number field
        typical = numeric_text | st.integers(-(10**6), 10**12) | st.floats()
    return st.one_of(typical, typical, typical, field_values)


@st.composite
def records(draw: st.DrawFn, *, json_kinds: bool = True) -> dict[str, Any]:
    record: dict[str, Any] = {
        "ListingKey": draw(words),
        "ListPrice": draw(st.integers(1, 10**8) | numeric_text),
        "StandardStatus": draw(FIELD_VALUES["StandardStatus"]),
    }
    for field in draw(st.lists(st.sampled_from(FIELDS), max_size=10, unique=True)):
        record[field] = draw(value_for(field) if json_kinds else value_for(field).map(_cell))
    if draw(st.booleans()):
        record[draw(words)] = draw(field_values)
    return record


def _cell(value: Any) -> str:
    """A value as a CSV cell holds it."""
    if isinstance(value, str):
        return value
    return json.dumps(value, allow_nan=True) if isinstance(value, list | dict) else str(value)


def check(items: list[Listing | RowError], count: int, *, source: str) -> None:
    """One Listing or at least one RowError per record; errors carry their record's line."""
    by_line: dict[int, list[Listing | RowError]] = {}
    listings = 0
    for item in items:
        if isinstance(item, RowError):
            assert item.source == source
            assert item.field in (*FIELDS, "record"), item
            assert item.message and len(item.message) <= 200, item
            by_line.setdefault(item.line, []).append(item)
        else:
            listings += 1
            check_listing(item)
    assert listings + len(by_line) <= count
    hypothesis.event(f"{listings} listings, {len(by_line)} records refused")


def check_listing(listing: Listing) -> None:
    assert listing.price > 0 and listing.status in STANDARD_STATUSES
    for value in (
        listing.price,
        listing.original_price,
        listing.baths,
        listing.living_area,
        listing.lot_sqft,
        listing.latitude,
        listing.longitude,
        listing.hoa_monthly,
        listing.garage_spaces,
    ):
        assert value is None or math.isfinite(value), listing
    assert len(listing.photos) <= MAX_PHOTOS
    assert all(p.lower().startswith(("https://", "http://")) for p in listing.photos)
    assert listing.modified_at is None or listing.modified_at.tzinfo == UTC
    # What the catalogue stores comes back the same, and hashes (the change detector).
    state = listing.to_state()
    assert Listing.from_state(from_item(to_item(state))) == listing
    listing.content_hash()


@given(batch=st.lists(records() | json_values, max_size=8))
@example(batch=[{"ListingKey": "a", "ListPrice": 10**400, "StandardStatus": "Active"}])
@example(
    batch=[
        {
            "ListingKey": "a",
            "ListPrice": 1,
            "StandardStatus": "Active",
            "ModificationTimestamp": "0001-01-01T00:00:00+05:00",
        }
    ]
)
@example(
    batch=[{"ListingKey": "a", "ListPrice": 1, "StandardStatus": "Active", "LotSizeAcres": 1e307}]
)
@example(
    batch=[
        {
            "ListingKey": "a",
            "ListPrice": 1,
            "StandardStatus": "Active",
            "AssociationFee": 1e308,
            "AssociationFeeFrequency": "daily",
        }
    ]
)
@example(batch=[{"ListingKey": "a", "ListPrice": 1e200, "StandardStatus": "Active"}])
@example(batch=[{"ListingKey": "a", "ListPrice": 1e-200, "StandardStatus": "Active"}])
def test_records_in_memory_become_listings_or_row_errors(batch: list[Any]) -> None:
    items = list(parse_records(batch, source="page.json"))
    check(items, len(batch), source="page.json")
    assert all(1 <= i.line <= len(batch) for i in items if isinstance(i, RowError))


@given(batch=st.lists(records(), min_size=1, max_size=6), data=st.data())
def test_a_json_page_reads_like_its_records(
    batch: list[dict[str, Any]], data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.json"
        path.write_bytes(
            json.dumps(
                {"value": batch}, allow_nan=True, ensure_ascii=data.draw(st.booleans())
            ).encode("utf-8", "surrogatepass")
        )
        try:
            items = list(read_listings(path))
        except Exception as exc:  # only a page that is not JSON at all may be refused whole
            assert type(exc).__name__ == "ListingFileError", exc
            return
        assert count_records(path) == len(batch)
    check(items, len(batch), source="page.json")


def _physical_lines(rows: list[list[str]]) -> Iterator[int]:
    """The line each row starts on when csv.writer writes them after a header (line 1)."""
    line = 2
    for row in rows:
        yield line
        line += sum(cell.count("\n") for cell in row) + 1


@given(
    batch=st.lists(records(json_kinds=False), min_size=1, max_size=6),
    header_case=st.sampled_from([str, str.lower, str.upper]),
)
def test_a_csv_file_gives_each_record_or_its_errors_on_its_own_line(
    batch: list[dict[str, Any]], header_case: Any
) -> None:
    header = sorted({key for record in batch for key in record}, key=str)
    rows = [[_cell(record.get(name, "")) for name in header] for record in batch]
    # Cells csv cannot round-trip (NUL, a lone CR) are out of scope; newlines inside cells stay.
    rows = [[c.replace("\x00", "").replace("\r", "") for c in row] for row in rows]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "listings.csv"
        with path.open("w", newline="", encoding="utf-8", errors="surrogatepass") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow([header_case(name) if name in FIELDS else name for name in header])
            writer.writerows(rows)
        items = list(read_listings(path))
        blank = sum(not any(c.strip() for c in row) for row in rows)
        assert count_records(path) == len(rows) - blank
    check(items, len(rows), source="listings.csv")
    starts = [
        line
        for line, row in zip(_physical_lines(rows), rows, strict=True)
        if any(c.strip() for c in row)
    ]
    for item in items:
        if isinstance(item, RowError):
            assert item.line in starts, (item, starts)


@given(
    key=words,
    price=st.integers(1, 10**8),
    beds=st.integers(0, 30),
    baths=st.sampled_from([1, 1.5, 2, 3.5]),
    city=words,
    when=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.timezones()
    ),
)
def test_a_valid_record_becomes_the_listing_it_describes(
    key: str, price: int, beds: int, baths: float, city: str, when: datetime
) -> None:
    record = {
        "ListingKey": key,
        "ListPrice": f"${price:,}" if price >= 1000 else str(price),
        "StandardStatus": "Active",
        "BedroomsTotal": beds,
        "BathroomsTotalInteger": baths,
        "City": city,
        "ModificationTimestamp": when.isoformat(),
    }
    [listing] = list(parse_records([record]))
    assert isinstance(listing, Listing), listing
    assert (listing.listing_key, listing.price, listing.beds, listing.baths, listing.city) == (
        key,
        float(price),
        beds,
        float(baths),
        city,
    )
    assert listing.modified_at == when.astimezone(UTC)
