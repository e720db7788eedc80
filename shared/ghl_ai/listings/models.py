"""A listing of the catalogue: the RESO Data Dictionary fields recommendations use, normalised.

Field ← RESO name: ``listing_key`` ← ListingKey, ``status`` ← StandardStatus (RESO's spelling,
:data:`STANDARD_STATUSES`), ``price`` ← ListPrice, ``original_price`` ← OriginalListPrice,
``property_type`` / ``property_sub_type`` ← PropertyType / PropertySubType, ``beds`` ←
BedroomsTotal, ``baths`` ← BathroomsTotalInteger (else BathroomsFull + ½ BathroomsHalf),
``living_area`` ← LivingArea (sq ft), ``lot_sqft`` ← LotSizeSquareFeet (else LotSizeAcres ×
43,560), ``year_built`` ← YearBuilt, ``city`` ← City, ``postal_code`` ← PostalCode, ``address``
← UnparsedAddress, ``latitude`` / ``longitude``, ``hoa_monthly`` ← AssociationFee (per month),
``pool`` ← PoolPrivateYN, ``garage_spaces`` ← GarageSpaces, ``remarks`` ← PublicRemarks,
``modified_at`` ← ModificationTimestamp (UTC), ``photos`` ← Media[].MediaURL by Order (≤ 10).

Standard library only (the shared layer and the CLI both import it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

#: RESO StandardStatus values, in RESO's spelling.
STANDARD_STATUSES: tuple[str, ...] = (
    "Active",
    "Coming Soon",
    "Active Under Contract",
    "Pending",
    "Closed",
    "Canceled",
    "Expired",
    "Withdrawn",
    "Hold",
    "Delete",
    "Incomplete",
)
#: Statuses a listing may be recommended in. "Coming Soon" only where the location allows it
#: (:func:`recommendable`'s ``include_coming_soon``).
RECOMMENDABLE_STATUSES: frozenset[str] = frozenset({"Active"})
COMING_SOON = "Coming Soon"

_STATUS_BY_FOLDED = {"".join(s.lower().split()): s for s in STANDARD_STATUSES}
_STATUS_BY_FOLDED["cancelled"] = "Canceled"  # the British spelling some feeds use


def standard_status(text: str) -> str | None:
    """``text`` in RESO's spelling ("active under contract", "ActiveUnderContract", "Active
    Under Contract" → "Active Under Contract"), or None when it is not a StandardStatus."""
    folded = "".join(ch for ch in text.lower() if ch.isalnum())
    return _STATUS_BY_FOLDED.get(folded)


def recommendable(status: str, include_coming_soon: bool = False) -> bool:
    """Whether a listing in ``status`` may be recommended: Active, and Coming Soon only when
    asked."""
    return status in RECOMMENDABLE_STATUSES or (include_coming_soon and status == COMING_SOON)


#: PropertySubType → the conversation's home types (conversation/model.py ``property_type``).
_SUB_TYPES = {
    "single family residence": "single_family",
    "single family": "single_family",
    "cabin": "single_family",
    "condominium": "condo",
    "condo": "condo",
    "stock cooperative": "condo",
    "own your own": "condo",
    "townhouse": "townhouse",
    "duplex": "multi_family",
    "triplex": "multi_family",
    "quadruplex": "multi_family",
    "multi family": "multi_family",
    "manufactured home": "manufactured",
    "manufactured on land": "manufactured",
    "mobile home": "manufactured",
    "unimproved land": "land",
}
#: PropertyType → home type, when the sub-type says nothing.
_TYPES = {
    "residential income": "multi_family",
    "land": "land",
    "manufactured in park": "manufactured",
}


@dataclass(frozen=True)
class Listing:
    listing_key: str
    status: str  # RESO StandardStatus, RESO's spelling
    price: float  # ListPrice, > 0
    original_price: float | None = None
    property_type: str | None = None
    property_sub_type: str | None = None
    beds: int | None = None
    baths: float | None = None
    living_area: float | None = None  # sq ft
    lot_sqft: float | None = None
    year_built: int | None = None
    city: str | None = None
    postal_code: str | None = None
    address: str | None = None  # UnparsedAddress
    latitude: float | None = None
    longitude: float | None = None
    hoa_monthly: float | None = None  # AssociationFee, per month
    pool: bool | None = None  # PoolPrivateYN
    garage_spaces: float | None = None
    remarks: str = ""  # PublicRemarks
    modified_at: datetime | None = None  # ModificationTimestamp, aware UTC
    photos: tuple[str, ...] = ()  # Media[].MediaURL by Media[].Order, at most 10

    def home_type(self) -> str | None:
        """single_family | condo | townhouse | multi_family | land | manufactured, or None
        when PropertyType / PropertySubType do not say."""
        sub = " ".join((self.property_sub_type or "").lower().replace("-", " ").split())
        if sub in _SUB_TYPES:
            return _SUB_TYPES[sub]
        kind = " ".join((self.property_type or "").lower().split())
        return _TYPES.get(kind)

    def to_state(self) -> dict[str, Any]:
        """The stored attributes (camelCase; unknown values left out; the timestamp as ISO
        8601 UTC). :meth:`from_state` gives the same listing back."""
        state: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, datetime):
                value = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
            elif isinstance(value, tuple):
                value = list(value)
            state[_STATE_NAMES[f.name]] = value
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Listing:
        """The listing of stored attributes (other attributes of the item are ignored; numbers
        may come back as int or float, as DynamoDB gives them)."""

        def number(name: str) -> float | None:
            value = state.get(name)
            return None if value is None else float(value)

        def whole(name: str) -> int | None:
            value = state.get(name)
            return None if value is None else int(value)

        def text(name: str) -> str | None:
            value = state.get(name)
            return None if value is None else str(value)

        modified = state.get("modifiedAt")
        pool = state.get("pool")
        return cls(
            listing_key=str(state["listingKey"]),
            status=str(state["status"]),
            price=float(state["listPrice"]),
            original_price=number("originalListPrice"),
            property_type=text("propertyType"),
            property_sub_type=text("propertySubType"),
            beds=whole("beds"),
            baths=number("baths"),
            living_area=number("livingArea"),
            lot_sqft=number("lotSqft"),
            year_built=whole("yearBuilt"),
            city=text("city"),
            postal_code=text("postalCode"),
            address=text("address"),
            latitude=number("latitude"),
            longitude=number("longitude"),
            hoa_monthly=number("hoaMonthly"),
            pool=None if pool is None else bool(pool),
            garage_spaces=number("garageSpaces"),
            remarks=str(state.get("remarks") or ""),
            modified_at=(
                datetime.fromisoformat(str(modified)).astimezone(UTC) if modified else None
            ),
            photos=tuple(str(p) for p in state.get("photos") or ()),
        )

    def content_hash(self) -> str:
        """SHA-256 (hex) of the listing's canonical JSON: the same data gives the same hash,
        whatever file or import it came from."""
        state = {
            name: float(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else value
            for name, value in self.to_state().items()
        }  # numbers as floats: 849000 and 849000.0 are the same price
        canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


#: Field name → stored attribute name.
_STATE_NAMES = {
    "listing_key": "listingKey",
    "status": "status",
    "price": "listPrice",
    "original_price": "originalListPrice",
    "property_type": "propertyType",
    "property_sub_type": "propertySubType",
    "beds": "beds",
    "baths": "baths",
    "living_area": "livingArea",
    "lot_sqft": "lotSqft",
    "year_built": "yearBuilt",
    "city": "city",
    "postal_code": "postalCode",
    "address": "address",
    "latitude": "latitude",
    "longitude": "longitude",
    "hoa_monthly": "hoaMonthly",
    "pool": "pool",
    "garage_spaces": "garageSpaces",
    "remarks": "remarks",
    "modified_at": "modifiedAt",
    "photos": "photos",
}
#: Stored attribute names of the listing's own fields (the rest of an item is bookkeeping).
STATE_ATTRIBUTES: frozenset[str] = frozenset(_STATE_NAMES.values())
