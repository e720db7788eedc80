"""A location's catalogue as numpy arrays: one row per listing, so a lead's matches among
50,000 listings are a few vectorised passes instead of a Python loop.

The index holds every listing of the catalogue (a lead's history may name one that has since
sold), and ``candidate`` marks the ones that may be recommended (``Active``, and ``Coming
Soon`` when the location allows it). Must-haves are found once per listing when the index is
built: in the structured fields where RESO has one (``PoolPrivateYN``, ``GarageSpaces``, lot
size, year built), else in the public remarks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ghl_ai.listings.models import Listing, recommendable

#: Home types in the conversation's vocabulary (conversation/model.py ``property_type``).
HOME_TYPES = ("single_family", "condo", "townhouse", "multi_family", "land", "manufactured")
HOME_TYPE_WORDS = {
    "single_family": "a single-family home",
    "condo": "a condo",
    "townhouse": "a townhouse",
    "multi_family": "a multi-family property",
    "land": "land",
    "manufactured": "a manufactured home",
}

#: Big yard / acreage thresholds (square feet of lot).
BIG_LOT_SQFT = 7_500.0
ACREAGE_SQFT = 0.5 * 43_560.0


@dataclass(frozen=True)
class MustHave:
    """A must-have a lead can ask for, how listings show it, and how to say it."""

    name: str
    words: str  # what the reason says ("a pool")
    pattern: str  # in the remarks (case-insensitive)
    synonyms: tuple[str, ...] = ()  # how leads say it


MUST_HAVES: tuple[MustHave, ...] = (
    MustHave("pool", "a pool", r"\bpool\b", ("swimming pool",)),
    MustHave("garage", "a garage", r"\bgarage\b", ("2 car garage", "two car garage")),
    MustHave(
        "big yard",
        "a big yard",
        r"\b(large|big|huge|spacious|oversized)\s+(back)?yard\b",
        ("yard", "backyard", "large yard", "big backyard"),
    ),
    MustHave(
        "single story",
        "a single story",
        r"\b(single|one)[- ](story|storey|level)\b",
        ("single level", "one story", "single-story", "no stairs"),
    ),
    MustHave("rv parking", "RV parking", r"\brv\b", ("rv", "rv access", "boat parking")),
    MustHave(
        "adu",
        "an ADU / casita",
        r"\b(adu|casita|guest\s*house|in-law)\b",
        ("casita", "guest house", "in-law suite", "granny flat"),
    ),
    MustHave("view", "a view", r"\bviews?\b", ("views", "mountain view", "city lights")),
    MustHave("office", "an office", r"\b(office|den|study)\b", ("home office", "den")),
    MustHave("solar", "solar", r"\bsolar\b", ("solar panels",)),
    MustHave(
        "acreage",
        "acreage",
        r"\b(acre|acres|acreage|horse)\b",
        ("horse property", "land", "acre", "horses"),
    ),
    MustHave(
        "schools",
        "top-rated schools nearby",
        r"\bschools?\b",
        ("good schools", "school district", "great schools"),
    ),
    MustHave(
        "new construction",
        "newer construction",
        r"\b(new construction|newly built|brand new)\b",
        ("new build", "newer home", "new"),
    ),
)
_BY_NAME = {m.name: m for m in MUST_HAVES}
_ALIASES = {alias: m.name for m in MUST_HAVES for alias in (m.name, *m.synonyms)}


def must_have_name(text: str) -> str:
    """A lead's must-have in the catalogue's words ("swimming pool" → "pool"); unknown ones
    stay as said (they are then looked for in the remarks as words)."""
    said = " ".join(text.lower().replace("-", " ").split())
    return _ALIASES.get(said, _ALIASES.get(said.rstrip("s"), said))


def must_have_words(name: str) -> str:
    known = _BY_NAME.get(name)
    return known.words if known else name


def _normal(text: str | None) -> str:
    return " ".join((text or "").lower().split())


@dataclass
class CatalogueIndex:
    """Parallel arrays over the catalogue's listings (nan where a value is unknown)."""

    keys: np.ndarray  # listing keys (str, object array)
    listings: list[Listing]
    candidate: np.ndarray  # bool: may be recommended
    price: np.ndarray
    beds: np.ndarray
    baths: np.ndarray
    living_area: np.ndarray
    lot_sqft: np.ndarray
    year_built: np.ndarray
    hoa: np.ndarray
    lat: np.ndarray  # radians
    lon: np.ndarray
    city: np.ndarray  # code in ``cities``, -1 unknown
    postal: np.ndarray  # code in ``postals``, -1 unknown
    home_type: np.ndarray  # code in HOME_TYPES, -1 unknown
    modified: np.ndarray  # epoch seconds, nan unknown
    cities: list[str]
    postals: list[str]
    features: dict[str, np.ndarray]  # must-have name → bool per listing
    row: dict[str, int]

    @classmethod
    def build(
        cls,
        listings: Iterable[Listing],
        *,
        include_coming_soon: bool = False,
        year: int | None = None,
    ) -> CatalogueIndex:
        """The index of ``listings``; ``year`` (default: this year) dates "new construction"."""
        rows = list(listings)
        cities: dict[str, int] = {}
        postals: dict[str, int] = {}

        def code(table: dict[str, int], value: str | None) -> int:
            key = _normal(value)
            return table.setdefault(key, len(table)) if key else -1

        def num(values: Iterable[float | int | None]) -> np.ndarray:
            return np.asarray([np.nan if v is None else float(v) for v in values], dtype=np.float64)

        lat = num(r.latitude for r in rows)
        lon = num(r.longitude for r in rows)
        types = {t: i for i, t in enumerate(HOME_TYPES)}
        index = cls(
            keys=np.asarray([r.listing_key for r in rows], dtype=object),
            listings=rows,
            candidate=np.asarray(
                [recommendable(r.status, include_coming_soon) for r in rows], dtype=bool
            ),
            price=num(r.price for r in rows),
            beds=num(r.beds for r in rows),
            baths=num(r.baths for r in rows),
            living_area=num(r.living_area for r in rows),
            lot_sqft=num(r.lot_sqft for r in rows),
            year_built=num(r.year_built for r in rows),
            hoa=num(r.hoa_monthly for r in rows),
            lat=np.radians(lat),
            lon=np.radians(lon),
            city=np.asarray([code(cities, r.city) for r in rows], dtype=np.int32),
            postal=np.asarray([code(postals, r.postal_code) for r in rows], dtype=np.int32),
            home_type=np.asarray(
                [types.get(r.home_type() or "", -1) for r in rows], dtype=np.int32
            ),
            modified=num(r.modified_at.timestamp() if r.modified_at else None for r in rows),
            cities=list(cities),
            postals=list(postals),
            features={},
            row={r.listing_key: i for i, r in enumerate(rows)},
        )
        this_year = year or datetime.now().year
        index.features = {m.name: index._detect(m, this_year) for m in MUST_HAVES}
        return index

    def __len__(self) -> int:
        return len(self.listings)

    def _remarks_match(self, pattern: str) -> np.ndarray:
        found = re.compile(pattern, re.IGNORECASE).search
        return np.asarray([bool(found(r.remarks)) for r in self.listings], dtype=bool)

    def _detect(self, must: MustHave, this_year: int) -> np.ndarray:
        said = self._remarks_match(must.pattern)
        if must.name == "pool":
            flag = np.asarray([r.pool is True for r in self.listings], dtype=bool)
            denied = np.asarray([r.pool is False for r in self.listings], dtype=bool)
            return flag | (said & ~denied)
        if must.name == "garage":
            with np.errstate(invalid="ignore"):
                spaces = np.asarray(
                    [r.garage_spaces or 0.0 for r in self.listings], dtype=np.float64
                )
            return (spaces >= 1) | said
        if must.name == "big yard":
            with np.errstate(invalid="ignore"):
                return said | (self.lot_sqft >= BIG_LOT_SQFT)
        if must.name == "acreage":
            with np.errstate(invalid="ignore"):
                return said | (self.lot_sqft >= ACREAGE_SQFT)
        if must.name == "new construction":
            with np.errstate(invalid="ignore"):
                return said | (self.year_built >= this_year - 3)
        return said

    def feature(self, name: str) -> np.ndarray:
        """Which listings have the must-have ``name`` (an unknown one: its words in the
        remarks, found once and kept)."""
        if name not in self.features:
            self.features[name] = self._remarks_match(r"\b" + re.escape(name) + r"\b")
        return self.features[name]

    def city_code(self, text: str | None) -> int:
        try:
            return self.cities.index(_normal(text))
        except ValueError:
            return -1

    def postal_code(self, text: str | None) -> int:
        try:
            return self.postals.index(_normal(text))
        except ValueError:
            return -1

    def centre_of(self, mask: np.ndarray) -> tuple[float, float] | None:
        """Mean position (radians) of the listings in ``mask`` that have coordinates."""
        known = mask & ~np.isnan(self.lat) & ~np.isnan(self.lon)
        if not known.any():
            return None
        return float(self.lat[known].mean()), float(self.lon[known].mean())


EARTH_RADIUS_MILES = 3958.8


def miles(index: CatalogueIndex, centre: tuple[float, float]) -> np.ndarray:
    """Great-circle distance of every listing from ``centre`` (radians), nan when unknown."""
    lat0, lon0 = centre
    dlat = index.lat - lat0
    dlon = index.lon - lon0
    a = np.sin(dlat / 2) ** 2 + np.cos(lat0) * np.cos(index.lat) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
