"""Reading listings from a file: a RESO CSV export or RESO Web API JSON pages.

**CSV** (``.csv``): a header row of RESO Data Dictionary names (``ListingKey``, ``ListPrice``,
``OriginalListPrice``, ``StandardStatus``, ``PropertyType``, ``PropertySubType``,
``BedroomsTotal``, ``BathroomsTotalInteger`` or ``BathroomsFull`` / ``BathroomsHalf``,
``LivingArea``, ``LotSizeSquareFeet`` or ``LotSizeAcres``, ``YearBuilt``, ``City``,
``PostalCode``, ``UnparsedAddress``, ``Latitude``, ``Longitude``, ``AssociationFee`` (and
``AssociationFeeFrequency``), ``PoolPrivateYN``, ``GarageSpaces``, ``PublicRemarks``,
``ModificationTimestamp``, ``Media`` as ``|``-separated URLs); names match whatever their case,
other columns are ignored. A :class:`RowError`'s ``line`` is the physical line where the record
starts (the header is line 1; a quoted field may span lines).

**RESO Web API JSON** (``.json``): one page, ``{"value": [{...}, ...], "@odata.nextLink": ...}``;
``Media`` is a list of ``{"MediaURL", "Order"}`` objects (entries whose ``MediaCategory`` is not
a photo are left out). A :class:`RowError`'s ``line`` is the record's 1-based index in its page,
``source`` the page's file name.

**A directory of pages**: every ``*.json`` in it, in the order of the ``@odata.nextLink`` chain.
A link points to the page whose file name (``page-2.json``) or stem (``page-2``) ends the link,
query string left out (``https://.../Property/page-2?$top=100``), else, for a link carrying
``$skip=N``, to the page whose name ends in the number N (``skip-200.json``). The first page is
the one no link points to. A link to a page that is not there is a :class:`RowError` (``line``
0, field ``@odata.nextLink``); the pages that are there still import. When the links do not
make one chain over every page (a page missing in the middle, two links to one page, a cycle,
an ambiguous link), the pages are read in file-name order.

Every record is validated on its own: one :class:`RowError` per bad field, and a record with any
error is skipped; nothing in a record makes reading fail. An error message quotes at most 40
characters of the value. :class:`ListingFileError` is for a file that cannot be read at all.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ghl_ai.listings.models import Listing, standard_status

#: Longest value of each kind a record may carry (longer: a RowError, never a crash).
MAX_KEY = 128
MAX_TEXT = 255
MAX_REMARKS = 10_000
MAX_MEDIA_TEXT = 20_000
MAX_URL = 2_048
#: Photos kept per listing.
MAX_PHOTOS = 10
#: A JSON page larger than this is refused as a whole.
MAX_PAGE_BYTES = 64 * 1024 * 1024
#: Beds and baths: a record outside 0..30 is an error.
MAX_ROOMS = 30
FIRST_YEAR = 1800
SQFT_PER_ACRE = 43_560.0
#: AssociationFeeFrequency → payments per month (other frequencies: the fee is not monthly).
_FEES_PER_MONTH = {
    "monthly": 1.0,
    "annually": 1 / 12,
    "quarterly": 1 / 3,
    "semiannually": 1 / 6,
    "bimonthly": 1 / 2,
    "semimonthly": 2.0,
    "weekly": 52 / 12,
    "biweekly": 26 / 12,
    "daily": 365 / 12,
}

FIELDS = (
    "ListingKey", "ListPrice", "OriginalListPrice", "StandardStatus", "PropertyType",
    "PropertySubType", "BedroomsTotal", "BathroomsTotalInteger", "BathroomsFull",
    "BathroomsHalf", "LivingArea", "LotSizeSquareFeet", "LotSizeAcres", "YearBuilt", "City",
    "PostalCode", "UnparsedAddress", "Latitude", "Longitude", "AssociationFee",
    "AssociationFeeFrequency", "PoolPrivateYN", "GarageSpaces", "PublicRemarks",
    "ModificationTimestamp", "Media",
)  # fmt: skip
_BY_LOWER = {name.lower(): name for name in FIELDS}
_THOUSANDS = re.compile(r"^\$?\d{1,3}(,\d{3})+(\.\d+)?$")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class ListingFileError(Exception):
    """The file cannot be read at all (the message says which and why)."""


@dataclass(frozen=True)
class RowError:
    """One bad field of one record: ``line`` is the CSV line (header = 1) or the record's
    1-based index in its JSON page (0: the page itself)."""

    source: str
    line: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


def _show(value: Any) -> str:
    """The value for a message: quoted, at most 40 characters."""
    text = value if isinstance(value, str) else repr(value)
    quoted = repr(text) if len(text) <= 38 else repr(text[:35]) + "…"
    return quoted[:40] if len(quoted) > 40 else quoted


def _storable(number: float) -> bool:
    """Finite and inside the range a DynamoDB number holds (1e-130 to 1e125)."""
    return number == 0 or 1e-125 < abs(number) < 1e125


class _Fields:
    """A raw record's values, read field by field; the problems found on the way."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw
        self.problems: list[tuple[str, str]] = []

    def _bad(self, name: str, message: str) -> None:
        self.problems.append((name, message))

    def has(self, name: str) -> bool:
        return self.value(name) is not None

    def value(self, name: str) -> Any:
        value = self._raw.get(name)
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    def text(self, name: str, limit: int = MAX_TEXT) -> str | None:
        value = self.value(name)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self._bad(name, f"not text: {_show(value)}")
            return None
        if len(value) > limit:
            self._bad(name, f"longer than {limit:,} characters")
            return None
        return value

    def number(
        self,
        name: str,
        low: float | None = None,
        high: float | None = None,
        *,
        whole: bool = False,
        positive: bool = False,
    ) -> float | None:
        value = self.value(name)
        if value is None:
            return None
        number: float | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int | float):
            try:
                number = float(value)
            except OverflowError:  # an integer beyond any float
                number = None
        elif isinstance(value, str) and len(value) <= 40:
            text = value.replace(",", "").lstrip("$") if _THOUSANDS.match(value) else value
            try:
                number = float(text)
            except ValueError:
                number = None
        if number is None or not math.isfinite(number):
            self._bad(name, f"not a number: {_show(value)}")
            return None
        if not _storable(number):
            self._bad(name, f"out of range: {_show(value)}")
            return None
        if whole and not number.is_integer():
            self._bad(name, f"not a whole number: {_show(value)}")
            return None
        if positive and number <= 0:
            self._bad(name, f"must be more than 0 (got {_show(value)})")
            return None
        if (low is not None and number < low) or (high is not None and number > high):
            bounds = f"{low:g} and {high:g}" if high is not None else None
            self._bad(
                name,
                f"must be between {bounds} (got {_show(value)})"
                if bounds
                else f"must be at least {low:g} (got {_show(value)})",
            )
            return None
        return number

    def flag(self, name: str) -> bool | None:
        value = self.value(name)
        if value is None or isinstance(value, bool):
            return value
        folded = str(value).strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
        self._bad(name, f"not yes/no (true/false): {_show(value)}")
        return None

    def timestamp(self, name: str) -> datetime | None:
        value = self.value(name)
        if value is None:
            return None
        parsed: datetime | None = None
        if isinstance(value, str) and len(value) <= 40:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
        if parsed is None:
            self._bad(name, f"not an ISO 8601 timestamp: {_show(value)}")
            return None
        # RESO timestamps carry their offset; one without is taken as UTC.
        try:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:  # year 1 or 9999 moved past the calendar's edge by its offset
            self._bad(name, f"not an ISO 8601 timestamp: {_show(value)}")
            return None

    def photos(self, name: str) -> tuple[str, ...]:
        value = self.value(name)
        if value is None:
            return ()
        if isinstance(value, str):
            if len(value) > MAX_MEDIA_TEXT:
                self._bad(name, f"longer than {MAX_MEDIA_TEXT:,} characters")
                return ()
            urls: list[Any] = [u.strip() for u in value.split("|")]
        elif isinstance(value, list):
            entries = []
            for position, entry in enumerate(value):
                if not isinstance(entry, Mapping):
                    self._bad(name, "not a list of objects with MediaURL and Order")
                    return ()
                category = entry.get("MediaCategory")
                if isinstance(category, str) and category and "photo" not in category.lower():
                    continue
                order = entry.get("Order")
                if isinstance(order, bool) or not isinstance(order, int | float):
                    order = None
                entries.append((order is None, order or 0, position, entry.get("MediaURL")))
            urls = [url for *_, url in sorted(entries, key=lambda e: e[:3])]
        else:
            self._bad(name, "not a list of objects with MediaURL and Order")
            return ()
        kept = [
            url
            for url in urls
            if isinstance(url, str)
            and len(url) <= MAX_URL
            and url.lower().startswith(("https://", "http://"))
        ]
        return tuple(kept[:MAX_PHOTOS])


def _parse(raw: Mapping[str, Any], max_year: int) -> Listing | list[tuple[str, str]]:
    """The listing of one raw record, or its problems (field, message)."""
    f = _Fields(raw)
    key = f.text("ListingKey", MAX_KEY)
    if key is None and not any(name == "ListingKey" for name, _ in f.problems):
        f.problems.append(("ListingKey", "missing"))
    if not f.has("ListPrice"):
        f.problems.append(("ListPrice", "missing"))
    price = f.number("ListPrice", positive=True)
    original = f.number("OriginalListPrice", positive=True)
    status_text = f.text("StandardStatus")
    status = standard_status(status_text) if status_text else None
    if status_text is None and not any(name == "StandardStatus" for name, _ in f.problems):
        f.problems.append(("StandardStatus", "missing"))
    elif status_text is not None and status is None:
        f.problems.append(("StandardStatus", f"unknown status {_show(status_text)}"))
    property_type = f.text("PropertyType")
    sub_type = f.text("PropertySubType")
    beds = f.number("BedroomsTotal", 0, MAX_ROOMS, whole=True)
    baths = f.number("BathroomsTotalInteger", 0, MAX_ROOMS)
    if not f.has("BathroomsTotalInteger"):
        full = f.number("BathroomsFull", 0, MAX_ROOMS, whole=True)
        half = f.number("BathroomsHalf", 0, MAX_ROOMS, whole=True)
        if full is not None or half is not None:
            baths = (full or 0.0) + 0.5 * (half or 0.0)
            if baths > MAX_ROOMS:
                f.problems.append(
                    ("BathroomsFull", f"full + half baths must be at most {MAX_ROOMS}")
                )
    living_area = f.number("LivingArea", positive=True)
    lot = f.number("LotSizeSquareFeet", 0)
    if not f.has("LotSizeSquareFeet"):
        acres = f.number("LotSizeAcres", 0)
        lot = None if acres is None else round(acres * SQFT_PER_ACRE, 2)
        if lot is not None and not _storable(lot):
            f.problems.append(("LotSizeAcres", f"out of range: {_show(acres)}"))
    year = f.number("YearBuilt", FIRST_YEAR, max_year, whole=True)
    city = f.text("City")
    postal = f.text("PostalCode", 20)
    address = f.text("UnparsedAddress")
    latitude = f.number("Latitude", -90, 90)
    longitude = f.number("Longitude", -180, 180)
    fee = f.number("AssociationFee", 0)
    frequency = f.text("AssociationFeeFrequency")
    if fee is not None and frequency is not None:
        per_month = _FEES_PER_MONTH.get("".join(ch for ch in frequency.lower() if ch.isalpha()))
        fee = None if per_month is None else round(fee * per_month, 2)
        if fee is not None and not _storable(fee):
            f.problems.append(("AssociationFee", "out of range once made monthly"))
    pool = f.flag("PoolPrivateYN")
    garage = f.number("GarageSpaces", 0, 100)
    remarks = f.text("PublicRemarks", MAX_REMARKS)
    modified = f.timestamp("ModificationTimestamp")
    photos = f.photos("Media")
    if f.problems or key is None or price is None or status is None:
        return f.problems
    return Listing(
        listing_key=key,
        status=status,
        price=price,
        original_price=original,
        property_type=property_type,
        property_sub_type=sub_type,
        beds=None if beds is None else int(beds),
        baths=baths,
        living_area=living_area,
        lot_sqft=lot,
        year_built=None if year is None else int(year),
        city=city,
        postal_code=postal,
        address=address,
        latitude=latitude,
        longitude=longitude,
        hoa_monthly=fee,
        pool=pool,
        garage_spaces=garage,
        remarks=remarks or "",
        modified_at=modified,
        photos=photos,
    )


class _Reader:
    """Validates records of one import: the duplicate check spans every file of it."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}
        self._max_year = datetime.now(UTC).year + 1

    def records(
        self, raw: Mapping[str, Any], source: str, line: int, where: str
    ) -> Iterator[Listing | RowError]:
        parsed = _parse(raw, self._max_year)
        problems = parsed if isinstance(parsed, list) else []
        key = parsed.listing_key if isinstance(parsed, Listing) else None
        if key is None and not any(name == "ListingKey" for name, _ in problems):
            key = _Fields(raw).text("ListingKey", MAX_KEY)
        if key is not None:
            if key in self._seen:
                problems = [("ListingKey", f"duplicate of {self._seen[key]}"), *problems]
            else:
                self._seen[key] = where
        if problems:
            for name, message in problems:
                yield RowError(source, line, name, message)
        elif isinstance(parsed, Listing):
            yield parsed

    def page(self, data: Mapping[str, Any], source: str) -> Iterator[Listing | RowError]:
        for index, raw in enumerate(data["value"], start=1):
            if not isinstance(raw, Mapping):
                yield RowError(source, index, "record", "not a JSON object")
                continue
            yield from self.records(raw, source, index, f"{source} record {index}")


def parse_records(
    records: Iterable[Mapping[str, Any]], source: str = "records"
) -> Iterator[Listing | RowError]:
    """RESO Web API records already in memory (``line``: the 1-based index)."""
    yield from _Reader().page({"value": list(records)}, source)


# -- CSV ---------------------------------------------------------------------------------------


def _csv_header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            header = next(csv.reader(fh), None)
    except (OSError, csv.Error) as exc:
        raise ListingFileError(f"{path}: cannot be read ({exc})") from None
    if not header:
        raise ListingFileError(f"{path}: empty (no header row)")
    names = [_BY_LOWER.get(h.strip().lower(), h.strip()) for h in header]
    if "ListingKey" not in names:
        raise ListingFileError(f"{path}: the header has no ListingKey column")
    return names


def _csv_rows(path: Path) -> Iterator[tuple[int, dict[str, str]] | RowError]:
    names = _csv_header(path)
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        next(reader)
        previous = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a field over csv's limit, a stray quote: this row only
                yield RowError(path.name, previous + 1, "record", f"unreadable CSV row ({exc})")
                previous = reader.line_num
                continue
            line, previous = previous + 1, reader.line_num
            if any(cell.strip() for cell in row):
                yield line, dict(zip(names, row, strict=False))


def _read_csv(path: Path) -> Iterator[Listing | RowError]:
    reader = _Reader()
    for row in _csv_rows(path):
        if isinstance(row, RowError):
            yield row
            continue
        line, raw = row
        yield from reader.records(raw, path.name, line, f"line {line}")


# -- JSON pages --------------------------------------------------------------------------------


def _load_page(path: Path) -> dict[str, Any]:
    try:
        size = path.stat().st_size
        if size > MAX_PAGE_BYTES:
            raise ListingFileError(f"{path}: larger than {MAX_PAGE_BYTES // 2**20} MB")
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ListingFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise ListingFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ListingFileError(f"{path}: not JSON ({str(exc)[:80]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("value"), list):
        raise ListingFileError(f'{path}: not a RESO Web API page (no "value" list)')
    return data


def _next_link(data: Mapping[str, Any]) -> str | None:
    link = data.get("@odata.nextLink")
    return link.strip() or None if isinstance(link, str) else None


def _link_end(link: str) -> str:
    return repr(link) if len(link) <= 38 else repr("…" + link[-35:])


@dataclass
class _Page:
    path: Path
    count: int
    link: str | None


_MISSING, _AMBIGUOUS = "missing", "ambiguous"


def _target(page: _Page, pages: list[_Page]) -> _Page | str | None:
    """The page ``page``'s nextLink points to, None without a link, or missing / ambiguous."""
    if page.link is None:
        return None
    others = [p for p in pages if p is not page]
    link = page.link.split("#", 1)[0]
    for tail in (link.split("?", 1)[0].rstrip("/"), link.rstrip("/")):
        found: list[tuple[int, _Page]] = []
        for other in others:
            for name in (other.path.name, other.path.stem):
                at = len(tail) - len(name)
                if tail.endswith(name) and (at == 0 or not tail[at - 1].isalnum()):
                    found.append((len(name), other))
        if found:
            longest = max(n for n, _ in found)
            best = {id(p): p for n, p in found if n == longest}
            return next(iter(best.values())) if len(best) == 1 else _AMBIGUOUS
    skip = dict(parse_qsl(urlsplit(link).query)).get("$skip")
    if skip is not None and skip.isdigit():
        numbered = [
            p
            for p in others
            if (m := re.search(r"(\d+)$", p.path.stem)) and int(m.group(1)) == int(skip)
        ]
        if len(numbered) > 1:
            return _AMBIGUOUS
        if numbered:
            return numbered[0]
    return _MISSING


def _chain(directory: Path) -> tuple[list[_Page], dict[str, RowError]]:
    """The pages in reading order, and the error to report after each page whose next page
    is missing (by file name)."""
    paths = sorted(p for p in directory.glob("*.json") if p.is_file())
    if not paths:
        raise ListingFileError(f"{directory}: no *.json pages in the directory")
    pages = []
    for path in paths:
        data = _load_page(path)
        pages.append(_Page(path, len(data["value"]), _next_link(data)))
    targets = {page.path.name: _target(page, pages) for page in pages}
    errors = {
        page.path.name: RowError(
            page.path.name,
            0,
            "@odata.nextLink",
            f"the next page is not in the directory (link ends {_link_end(page.link or '')})",
        )
        for page in pages
        if targets[page.path.name] == _MISSING
    }
    pointed = {t.path.name for t in targets.values() if isinstance(t, _Page)}
    heads = [p for p in pages if p.path.name not in pointed]
    if len(heads) == 1 and _AMBIGUOUS not in targets.values():
        order: list[_Page] = []
        seen: set[str] = set()
        page: _Page | None = heads[0]
        while page is not None and page.path.name not in seen:
            order.append(page)
            seen.add(page.path.name)
            target = targets[page.path.name]
            page = target if isinstance(target, _Page) else None
        if len(order) == len(pages):
            return order, errors
    return pages, errors


def _read_pages(
    pages: list[tuple[Path, dict[str, Any] | None]], errors: Mapping[str, RowError]
) -> Iterator[Listing | RowError]:
    reader = _Reader()
    for path, data in pages:
        yield from reader.page(data if data is not None else _load_page(path), path.name)
        if path.name in errors:
            yield errors[path.name]


# -- the API -------------------------------------------------------------------------------------


def read_listings(path: Path) -> Iterator[Listing | RowError]:
    """Every record of a ``.csv`` file, a ``.json`` page or a directory of pages: a Listing,
    or a RowError for each bad field of a record that is skipped. Streams (one page in memory
    at a time); the file is checked before this returns (:class:`ListingFileError`)."""
    path = Path(path)
    if path.is_dir():
        order, errors = _chain(path)
        return _read_pages([(page.path, None) for page in order], errors)
    if not path.exists():
        raise ListingFileError(f"{path}: no such file or directory")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        _csv_header(path)
        return _read_csv(path)
    if suffix == ".json":
        data = _load_page(path)
        link = _next_link(data)
        more = {
            path.name: RowError(
                path.name,
                0,
                "@odata.nextLink",
                "more pages follow this one: put every page in one directory and import it",
            )
        }
        return _read_pages([(path, data)], more if link else {})
    raise ListingFileError(f"{path}: not a .csv or .json file, nor a directory of .json pages")


def count_records(path: Path) -> int:
    """How many records :func:`read_listings` will read (a progress bar's total): CSV rows
    after the header (unreadable ones too), JSON records."""
    path = Path(path)
    if path.is_dir():
        return sum(page.count for page in _chain(path)[0])
    if not path.exists():
        raise ListingFileError(f"{path}: no such file or directory")
    if path.suffix.lower() == ".csv":
        return sum(1 for _ in _csv_rows(path))
    return len(_load_page(path)["value"])
