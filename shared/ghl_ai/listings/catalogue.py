"""Importing listings into a location's catalogue: an idempotent upsert in batches.

Importing the same records again changes nothing (every listing ``unchanged``: its content hash
is the one stored); a listing whose content changed is ``updated`` (a lower ListPrice than the
stored one is also a :class:`PriceDrop`); records with errors are reported, never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ghl_ai.listings.models import Listing
from ghl_ai.listings.reso import RowError


class ListingUpserts(Protocol):
    """What the import needs of the store (``adapters.dynamo.ListingStore``)."""

    def upsert_many(
        self, location_id: str, listings: list[Listing], now: datetime
    ) -> list[tuple[str, Listing | None]]: ...


@dataclass(frozen=True)
class PriceDrop:
    listing_key: str
    old_price: float
    new_price: float


@dataclass
class ImportSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    price_drops: list[PriceDrop] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [e.as_dict() for e in self.errors],
            "priceDrops": [
                {"listingKey": d.listing_key, "oldPrice": d.old_price, "newPrice": d.new_price}
                for d in self.price_drops
            ],
        }


def import_listings(
    store: ListingUpserts,
    location_id: str,
    records: Iterable[Listing | RowError],
    now: datetime,
    progress: Callable[[int], None] | None = None,
    batch: int = 100,
) -> ImportSummary:
    """Upsert the listings of ``records`` into ``location_id``'s catalogue, ``batch`` at a
    time, and collect the errors. ``progress`` is called with how many records were just
    processed (a record with several errors counts once; page errors, line 0, not at all)."""
    summary = ImportSummary()
    pending: list[Listing] = []
    keys: set[str] = set()  # of pending
    done = 0  # records processed since progress was last told
    last_error: tuple[str, int] | None = None

    def flush() -> None:
        nonlocal done
        if pending:
            outcomes = store.upsert_many(location_id, pending, now)
            for listing, (outcome, previous) in zip(pending, outcomes, strict=True):
                if outcome == "added":
                    summary.added += 1
                elif outcome == "updated":
                    summary.updated += 1
                else:
                    summary.unchanged += 1
                if previous is not None and listing.price < previous.price:
                    summary.price_drops.append(
                        PriceDrop(listing.listing_key, previous.price, listing.price)
                    )
            pending.clear()
            keys.clear()
        if progress is not None and done:
            progress(done)
        done = 0

    for record in records:
        if isinstance(record, RowError):
            summary.errors.append(record)
            where = (record.source, record.line)
            if record.line > 0 and where != last_error:
                done += 1
            last_error = where
            continue
        last_error = None
        if record.listing_key in keys:
            flush()  # one batch holds each key once (the later record wins)
        pending.append(record)
        keys.add(record.listing_key)
        done += 1
        if len(pending) >= batch:
            flush()
    flush()
    return summary
