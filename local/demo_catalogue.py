"""The demo agent's listings catalogue: about 300 listings of the Inland Empire (California) as
RESO Web API records, generated from a seed (the same seed, the same listings).

What is realistic about them: the cities of the agent's market with their real approximate
coordinates (each listing jittered around its city's centre, in the city's ZIP codes); 2026
prices from each city's price per square foot and the home's size, age and features (detached
homes about $450k–$1.6M, condos and townhomes lower, HOA dues for them and for homes in
planned communities); the mix of home types, beds 1–6, baths, lot sizes (acreage for horse
properties), year built by city; remarks naming what buyers ask for ("single story", "RV
parking", "pool", "casita", "ADU", "view", "solar", "cul-de-sac", "near top-rated schools",
"horse property"); about 85% Active, the rest Coming Soon, Pending, Active Under Contract or
Closed; ``ModificationTimestamp`` within the 60 days before ``now``; 1–3 placeholder photos on
example.com.

It holds every listing of the demo website (:data:`local.demo_data.LISTINGS`, the ones the
seeded browsing stories look at) with the same ListingKey, price, beds, baths, city and ZIP,
Active.

    records(now)                          the RESO records (dicts)
    load(dynamodb, table, location, now)  import them into a listings table
    python -m local.demo_catalogue [FILE] write them as one RESO Web API page (stdout: -)

Standard library only at import time (and ghl_ai); :func:`load` imports the DynamoDB adapter.
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from local.demo_data import LISTINGS

if TYPE_CHECKING:
    from ghl_ai.listings.catalogue import ImportSummary


@dataclass(frozen=True)
class City:
    name: str
    latitude: float
    longitude: float
    zips: tuple[str, ...]
    price_per_sqft: float  # a detached home's, 2026
    built: tuple[int, int]  # year built range
    planned: float  # share of detached homes in HOA planned communities
    weight: float  # share of the listings
    prefix: str  # the MLS listing-id prefix the area's listings use
    areas: tuple[str, ...]  # neighbourhoods remarks mention
    views: float = 0.1  # share of homes with a view
    horses: float = 0.0  # share of detached homes on horse property


CITIES = (
    City("Rancho Cucamonga", 34.1064, -117.5931, ("91701", "91730", "91737", "91739"), 445,
         (1972, 2022), 0.35, 16, "CV", ("Etiwanda", "Alta Loma", "Terra Vista", "Victoria"),
         views=0.18, horses=0.05),
    City("Ontario", 34.0633, -117.6509, ("91761", "91762", "91764"), 395, (1952, 2024), 0.3,
         14, "IV", ("Ontario Ranch", "the New Model Colony", "College Park", "Old Town")),
    City("Fontana", 34.0922, -117.4350, ("92335", "92336", "92337"), 365, (1958, 2023), 0.2,
         14, "IV", ("Sierra Lakes", "Hunter's Ridge", "Coyote Canyon", "Southridge"),
         horses=0.04),
    City("Upland", 34.0975, -117.6484, ("91784", "91786"), 450, (1948, 2016), 0.1, 9, "CV",
         ("North Upland", "San Antonio Heights", "Upland Hills", "Colonies"), views=0.2),
    City("Chino Hills", 33.9898, -117.7326, ("91709",), 485, (1978, 2016), 0.3, 9, "TR",
         ("Butterfield Ranch", "Los Serranos", "Carbon Canyon", "Vellano"), views=0.35,
         horses=0.06),
    City("Chino", 34.0122, -117.6889, ("91708", "91710"), 425, (1958, 2024), 0.3, 8, "TR",
         ("The Preserve", "College Park", "Chino Ranch")),
    City("Eastvale", 33.9636, -117.5639, ("92880",), 390, (2002, 2024), 0.5, 9, "IG",
         ("The Enclave", "Providence Ranch", "Eastvale Gateway")),
    City("Corona", 33.8753, -117.5664, ("92879", "92881", "92882", "92883"), 415,
         (1968, 2023), 0.35, 13, "IG", ("Sierra del Oro", "South Corona", "Dos Lagos",
         "Temescal Valley"), views=0.15, horses=0.04),
    City("Claremont", 34.0967, -117.7198, ("91711",), 525, (1922, 2006), 0.05, 8, "CV",
         ("the Claremont Village", "North Claremont", "Padua Hills"), views=0.15),
)  # fmt: skip
BY_NAME = {c.name: c for c in CITIES}

STREETS = (
    "Banyan", "Base Line", "Haven", "Etiwanda", "Carnelian", "Archibald", "Hellman", "Milliken",
    "Sierra", "Citrus", "Cherry", "Foothill", "Mountain", "Euclid", "Grove", "Vineyard",
    "Mission", "Riverside", "Schaefer", "Pipeline", "Peyton", "Soquel Canyon", "Limonite",
    "Hamner", "Ontario", "Magnolia", "Sixth", "Indian Hill", "Towne", "Live Oak", "Sapphire",
    "Palo Verde", "Jacaranda", "Sycamore", "Madrone", "Almond", "Pepper Tree", "Canyon Vista",
)  # fmt: skip
SUFFIXES = ("St", "Ave", "Dr", "Ct", "Ln", "Pl", "Way", "Cir", "Rd")
#: PropertyType, PropertySubType and the share of listings of each kind of home.
KINDS = (
    ("single_family", "Residential", "Single Family Residence", 0.70),
    ("condo", "Residential", "Condominium", 0.11),
    ("townhouse", "Residential", "Townhouse", 0.10),
    ("multi_family", "Residential Income", None, 0.04),
    ("manufactured", "Manufactured In Park", "Manufactured Home", 0.03),
    ("land", "Land", "Unimproved Land", 0.02),
)
STATUSES = (
    ("Active", 0.85),
    ("Coming Soon", 0.05),
    ("Pending", 0.04),
    ("Active Under Contract", 0.03),
    ("Closed", 0.03),
)
PHOTO_URL = "https://photos.example.com/listings/{key}/{order}.jpg"


def _pick(rnd: random.Random, options: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    return rnd.choices(options, weights=[o[-1] for o in options])[0]


def _price(value: float, low: float, high: float) -> int:
    """A list price as agents set them: $1,000 under a round $5,000 (849,000), in range."""
    value = min(max(value, low), high)
    return int(round(value / 5_000) * 5_000 - 1_000)


class _Generator:
    def __init__(self, now: datetime, seed: int) -> None:
        self.now = now.astimezone(UTC)
        self.rnd = random.Random(seed)  # seeded demo data, not a secret  # nosec B311
        self.keys = set(LISTINGS)

    def key(self, city: City) -> str:
        while True:
            key = f"{city.prefix}26{self.rnd.randrange(1_000, 60_000):06d}"
            if key not in self.keys:
                self.keys.add(key)
                return key

    def listing(
        self,
        *,
        key: str | None = None,
        city: City | None = None,
        kind: str | None = None,
        status: str | None = None,
        zip_code: str | None = None,
        beds: int | None = None,
        baths: int | None = None,
        price: int | None = None,
    ) -> dict[str, Any]:
        rnd = self.rnd
        city = city or rnd.choices(CITIES, weights=[c.weight for c in CITIES])[0]
        home, property_type, sub_type, _ = (
            next(k for k in KINDS if k[0] == kind) if kind else _pick(rnd, KINDS)
        )
        if home == "multi_family":
            sub_type = rnd.choice(("Duplex", "Duplex", "Triplex", "Quadruplex"))
        key = key or self.key(city)
        zip_code = zip_code or rnd.choice(city.zips)
        status = status or str(_pick(rnd, STATUSES)[0])
        low, high = city.built
        year = rnd.randint(low, high) if home != "condo" else rnd.randint(max(low, 1975), high)
        features: set[str] = set()
        record: dict[str, Any] = {
            "ListingKey": key,
            "StandardStatus": status,
            "PropertyType": property_type,
            "PropertySubType": sub_type,
            "City": city.name,
            "PostalCode": zip_code,
        }
        ppsf = city.price_per_sqft * (1 + (year - 1990) * 0.002) * rnd.uniform(0.9, 1.1)
        if home == "land":
            acres = round(rnd.uniform(0.3, 4.5), 2)
            record["LotSizeAcres"] = acres
            features.add("horse property" if rnd.random() < 0.5 else "acreage")
            value = 260_000 + acres * rnd.uniform(90_000, 160_000)
            record["ListPrice"] = price or _price(value, 250_000, 950_000)
        else:
            if home == "single_family":
                beds = beds or int(_pick(rnd, ((2, 5), (3, 30), (4, 38), (5, 20), (6, 7)))[0])
                sqft = 450 + 380 * beds + rnd.gauss(0, 260)
                factor = 1.0
            elif home == "condo":
                beds = beds or rnd.choice((1, 2, 2, 2, 3))
                sqft, factor = 420 + 380 * beds + rnd.gauss(0, 120), 0.82
            elif home == "townhouse":
                beds = beds or rnd.choice((2, 3, 3, 4))
                sqft, factor = 560 + 380 * beds + rnd.gauss(0, 150), 0.88
            elif home == "multi_family":
                beds = beds or {"Duplex": 4, "Triplex": 6, "Quadruplex": 6}[str(sub_type)]
                sqft, factor = 500 + 360 * beds + rnd.gauss(0, 200), 0.85
            else:  # manufactured
                beds = beds or rnd.choice((2, 3, 3))
                sqft, factor = 600 + 320 * beds + rnd.gauss(0, 120), 0.32
            sqft = int(round(max(sqft, 520), -1))
            if price is not None:  # a demo website listing: its size follows its price
                sqft = int(round(price / (ppsf * factor) / 10) * 10)
            baths = baths or max(1, min(beds, round(beds * rnd.uniform(0.6, 0.95))))
            half = home in ("single_family", "townhouse") and rnd.random() < 0.25 and not price
            if half:
                record["BathroomsFull"], record["BathroomsHalf"] = baths, 1
            else:
                record["BathroomsTotalInteger"] = baths
            record["BedroomsTotal"] = beds
            record["LivingArea"] = sqft
            self.features(record, city, home, year, features)
            if "horse property" in features:
                record["LotSizeAcres"] = round(rnd.uniform(0.5, 2.5), 2)
            elif home in ("single_family", "multi_family"):
                lot = rnd.uniform(4_800, 10_500) if year < 2000 else rnd.uniform(3_600, 8_200)
                record["LotSizeSquareFeet"] = int(round(lot, -1))
            elif home in ("townhouse", "manufactured"):
                record["LotSizeSquareFeet"] = int(round(rnd.uniform(1_400, 2_800), -1))
            bonus = 1 + 0.04 * ("pool" in features) + 0.06 * ("view" in features)
            bonus += 0.05 * bool(features & {"casita", "ADU"}) + 0.12 * (
                "horse property" in features
            )
            value = sqft * ppsf * factor * bonus
            bounds = {
                "single_family": (455_000, 1_600_000),
                "condo": (340_000, 690_000),
                "townhouse": (430_000, 860_000),
                "multi_family": (720_000, 1_450_000),
                "manufactured": (165_000, 420_000),
            }[home]
            record["ListPrice"] = price or _price(value, *bounds)
            record["YearBuilt"] = year
            record["GarageSpaces"] = {
                "single_family": rnd.choice((2, 2, 2, 3, 3, 1)),
                "condo": rnd.choice((1, 1, 2)),
                "townhouse": 2,
                "multi_family": rnd.choice((2, 3, 4)),
                "manufactured": rnd.choice((0, 1, 2)),
            }[home]
            record["PoolPrivateYN"] = "pool" in features
            hoa = None
            if home == "condo":
                hoa = rnd.randrange(280, 540, 5)
            elif home == "townhouse":
                hoa = rnd.randrange(180, 390, 5)
            elif home == "single_family" and rnd.random() < city.planned:
                hoa = rnd.randrange(85, 260, 5)
                features.add("planned community")
            if hoa is not None:
                record["AssociationFee"] = hoa
                record["AssociationFeeFrequency"] = "Monthly"
        if rnd.random() < 0.2:
            record["OriginalListPrice"] = _price(record["ListPrice"] * rnd.uniform(1.01, 1.07),
                                                 0, 10**9)  # fmt: skip
        else:
            record["OriginalListPrice"] = record["ListPrice"]
        number = rnd.randrange(1_000, 19_999)
        street = f"{number} {rnd.choice(STREETS)} {rnd.choice(SUFFIXES)}"
        if home == "condo":
            street += f" Unit {rnd.randrange(1, 4)}{rnd.randrange(1, 30):02d}"
        record["UnparsedAddress"] = f"{street}, {city.name}, CA {zip_code}"
        record["Latitude"] = round(city.latitude + max(-0.035, min(0.035, rnd.gauss(0, 0.014))), 6)
        record["Longitude"] = round(city.longitude + max(-0.04, min(0.04, rnd.gauss(0, 0.016))), 6)
        record["PublicRemarks"] = self.remarks(record, city, home, features)
        age = timedelta(seconds=rnd.uniform(600, 60 * 86_400))
        record["ModificationTimestamp"] = (self.now - age).strftime("%Y-%m-%dT%H:%M:%SZ")
        record["Media"] = [
            {
                "MediaKey": f"{key}-{order}",
                "MediaCategory": "Photo",
                "Order": order,
                "MediaURL": PHOTO_URL.format(key=key, order=order),
            }
            for order in range(1, rnd.randint(1, 3) + 1)
        ]
        return record

    def features(
        self, record: dict[str, Any], city: City, home: str, year: int, features: set[str]
    ) -> None:
        rnd = self.rnd
        detached = home in ("single_family", "multi_family", "manufactured")
        chances = {
            "single story": (0.45 if year < 1985 else 0.2) if detached else 0.0,
            "pool": 0.3 if home == "single_family" else 0.0,
            "RV parking": 0.14 if home == "single_family" and year < 2000 else 0.0,
            "casita": 0.06 if home == "single_family" and record["BedroomsTotal"] >= 4 else 0.0,
            "ADU": 0.07 if home in ("single_family", "multi_family") else 0.0,
            "view": city.views,
            "solar": 0.3 if year > 2005 else 0.15,
            "cul-de-sac": 0.16 if home == "single_family" else 0.0,
            "near top-rated schools": 0.4 if city.name in ("Chino Hills", "Claremont") else 0.22,
            "horse property": city.horses if home == "single_family" else 0.0,
        }
        features.update(name for name, p in chances.items() if rnd.random() < p)

    def remarks(self, record: dict[str, Any], city: City, home: str, features: set[str]) -> str:
        rnd = self.rnd
        area = rnd.choice(city.areas)
        words = {
            "single_family": "home",
            "condo": "condo",
            "townhouse": "townhome",
            "multi_family": f"{str(record['PropertySubType']).lower()}",
            "manufactured": "manufactured home",
            "land": "lot",
        }[home]
        if home == "land":
            acres = record["LotSizeAcres"]
            parts = [f"{acres:g} acres of land in {area}, {city.name}."]
            if "horse property" in features:
                parts.append("Zoned for horses: horse property with room for a barn and arena.")
            else:
                parts.append("Flat, usable acreage ready for your custom home.")
            parts.append("Utilities at the street.")
            return " ".join(parts)
        adjective = rnd.choice(("Beautiful", "Updated", "Spacious", "Move-in ready", "Charming",
                                "Bright", "Well kept"))  # fmt: skip
        story = "single story " if "single story" in features else ""
        parts = [f"{adjective} {story}{record['BedroomsTotal']}-bedroom {words} in {area}."]
        sentences = {
            "pool": "Entertainer's backyard with a sparkling pool and spa.",
            "RV parking": "Gated RV parking with room for the boat and the toys.",
            "casita": "A detached casita for guests or a home office.",
            "ADU": "Permitted ADU with its own entrance: rental income or multi-generational.",
            "view": "Mountain and city light views from the main rooms.",
            "solar": rnd.choice(("Owned solar keeps the bills low.", "Leased solar panels.")),
            "cul-de-sac": "Quiet cul-de-sac location.",
            "near top-rated schools": "Near top-rated schools, parks and shopping.",
            "horse property": "Horse property on acreage with corrals and a tack room.",
            "planned community": "Community pool, parks and trails in a planned community.",
        }
        parts += [text for name, text in sentences.items() if name in features]
        if record.get("GarageSpaces"):
            parts.append(f"{record['GarageSpaces']}-car garage.")
        parts.append(rnd.choice(("Close to the 210 and the 15.", "Easy access to the 10 and 60.",
                                 "Minutes from Ontario International Airport.",
                                 "Walk to shops and dining.")))  # fmt: skip
        return " ".join(parts)


def records(now: datetime, n: int = 300, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` RESO Web API records (at least the demo website's listings, which come first),
    the same for the same ``seed`` and ``now`` (only the timestamps depend on ``now``)."""
    generator = _Generator(now, seed)
    out = [
        generator.listing(
            key=site.property_id,
            city=BY_NAME[site.city],
            kind="single_family",
            status="Active",
            zip_code=site.zip,
            beds=site.beds,
            baths=site.baths,
            price=site.price,
        )
        for site in LISTINGS.values()
    ]
    while len(out) < n:
        out.append(generator.listing())
    return out


def load(dynamodb_client: Any, table: str, location_id: str, now: datetime) -> ImportSummary:
    """Import the catalogue into ``table`` for ``location_id`` (an idempotent upsert)."""
    from ghl_ai.adapters.dynamo import ListingStore
    from ghl_ai.listings.catalogue import import_listings
    from ghl_ai.listings.reso import parse_records

    return import_listings(
        ListingStore(dynamodb_client, table),
        location_id,
        parse_records(records(now), source="demo_catalogue"),
        now,
    )


def main(argv: list[str]) -> int:
    page = json.dumps({"value": records(datetime.now(UTC))}, indent=2) + "\n"
    if not argv or argv[0] == "-":
        sys.stdout.write(page)
    else:
        with open(argv[0], "w", encoding="utf-8") as fh:
            fh.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
