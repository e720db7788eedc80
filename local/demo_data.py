"""Demo data for the local stack: the leads of an agent in the Inland Empire (California).

- :data:`CONTACTS` — six leads the GHL stand-in knows from the start when ``make run`` starts it
  (``GhlStandIn(demo_contacts=True)``): realistic names, fictional phone numbers (555-01xx),
  emails at example.com, their time zones, none of them DND, stable GHL-like ids.
- a browsing story per lead (what the agent's website saw), relative to "now":
  :func:`events_for` turns it into ``POST /events`` events with fresh ``eventId`` s each call,
  all inside the route's 30-day window; :func:`seed` posts them for every lead (``make run``
  does after start-up).
- :func:`person_for` — a realistic name and phone, deterministic from a key (the stand-in uses
  it for a contact GHL creates when a message arrives from a new number).

Standard library only at import (the stand-in imports it); :func:`seed` imports httpx.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

#: Oldest event the stories hold: POST /events refuses history older than 30 days.
MAX_AGE = timedelta(days=29)


@dataclass(frozen=True)
class Listing:
    property_id: str
    price: int
    beds: int
    baths: int
    city: str
    zip: str

    def data(self) -> dict[str, Any]:
        return {
            "price": self.price,
            "beds": self.beds,
            "baths": self.baths,
            "city": self.city,
            "zip": self.zip,
        }


#: Listings on the agent's website (CRMLS-style ids; prices of 2026).
LISTINGS = {
    listing.property_id: listing
    for listing in (
        Listing("CV26041187", 849_000, 4, 3, "Rancho Cucamonga", "91739"),
        Listing("CV26038214", 779_000, 3, 2, "Rancho Cucamonga", "91737"),
        Listing("CV26043560", 915_000, 4, 3, "Rancho Cucamonga", "91701"),
        Listing("IV26017733", 629_000, 3, 2, "Ontario", "91761"),
        Listing("IV26020941", 705_000, 4, 3, "Ontario", "91762"),
        Listing("CV26036602", 989_000, 4, 3, "Upland", "91784"),
        Listing("CV26040018", 699_000, 3, 2, "Upland", "91786"),
        Listing("IV26019275", 689_000, 4, 3, "Fontana", "92336"),
        Listing("IV26022480", 575_000, 3, 2, "Fontana", "92337"),
        Listing("TR26011456", 1_125_000, 4, 3, "Chino Hills", "91709"),
        Listing("IG26008834", 965_000, 5, 4, "Eastvale", "92880"),
        Listing("TR26012907", 659_000, 3, 2, "Chino", "91710"),
    )
}


@dataclass(frozen=True)
class Visit:
    """One thing the lead did on the website, ``ago`` before now."""

    type: str  # property_view | property_save | property_share | search | tour_request |
    #            valuation_request | page_view
    ago: timedelta
    property_id: str | None = None
    dwell_seconds: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    value: float | None = None


@dataclass(frozen=True)
class DemoContact:
    contact_id: str
    first_name: str
    last_name: str
    phone: str
    email: str
    city: str
    postal_code: str
    timezone: str
    visitor_id: str
    source: str
    tags: tuple[str, ...]
    story: str  # who the lead is, in a line
    #: The browsing story in sessions (visits of one sitting), oldest first.
    sessions: tuple[tuple[Visit, ...], ...]

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def ghl_contact(self, location_id: str) -> dict[str, Any]:
        """The contact as GHL's ``GET /contacts/{id}`` returns it."""
        return {
            "id": self.contact_id,
            "locationId": location_id,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "contactName": self.name,
            "email": self.email,
            "phone": self.phone,
            "city": self.city,
            "state": "CA",
            "postalCode": self.postal_code,
            "country": "US",
            "timezone": self.timezone,
            "source": self.source,
            "type": "lead",
            "tags": list(self.tags),
            "dnd": False,
            "dndSettings": {},
            "customFields": [],
        }


def _view(days: float, property_id: str, dwell: int) -> Visit:
    listing = LISTINGS[property_id]
    return Visit(
        "property_view", timedelta(days=days), property_id, dwell_seconds=dwell, data=listing.data()
    )


def _listing_event(kind: str, days: float, property_id: str) -> Visit:
    return Visit(kind, timedelta(days=days), property_id, data=LISTINGS[property_id].data())


def _search(days: float, **filters: Any) -> Visit:
    return Visit("search", timedelta(days=days), data={"filters": filters})


def _page(days: float, path: str, dwell: int) -> Visit:
    return Visit("page_view", timedelta(days=days), dwell_seconds=dwell, data={"path": path})


def _minutes(visit: Visit, minutes: int) -> Visit:
    """The same visit ``minutes`` later in its session."""
    return Visit(
        visit.type,
        visit.ago - timedelta(minutes=minutes),
        visit.property_id,
        visit.dwell_seconds,
        visit.data,
        visit.value,
    )


def _session(*visits: Visit) -> tuple[Visit, ...]:
    """Visits of one sitting, a few minutes apart, in the order given."""
    return tuple(_minutes(v, 4 * i) for i, v in enumerate(visits))


CONTACTS: tuple[DemoContact, ...] = (
    DemoContact(
        contact_id="Fi4cW1O07CopqlOihT1K",
        first_name="Daniela",
        last_name="Reyes",
        phone="+19095550142",
        email="daniela.reyes@example.com",
        city="Rancho Cucamonga",
        postal_code="91739",
        timezone="America/Los_Angeles",
        visitor_id="lv-85959216d1d3bec4",
        source="Lyrio website",
        tags=("buyer",),
        story="hot buyer: browsing Rancho Cucamonga every day this week, asked for a tour",
        sessions=(
            _session(
                _search(6.2, city="Rancho Cucamonga", beds=4, maxPrice=900_000),
                _view(6.2, "CV26041187", 190),
                _view(6.2, "CV26043560", 40),
                _view(6.2, "CV26038214", 55),
            ),
            _session(
                _view(5.1, "CV26041187", 300),
                _listing_event("property_save", 5.1, "CV26041187"),
                _view(5.1, "CV26043560", 90),
                _view(5.1, "CV26038214", 45),
            ),
            _session(
                _search(4.1, city="Rancho Cucamonga", zip="91739", beds=4, maxPrice=900_000),
                _view(4.1, "CV26041187", 360),
                _view(4.1, "CV26043560", 120),
                _view(4.1, "CV26038214", 70),
            ),
            _session(
                _view(3.0, "CV26041187", 400),
                _page(3.0, "/mortgage-calculator", 150),
                _view(3.0, "CV26038214", 80),
            ),
            _session(
                _view(1.9, "CV26041187", 480),
                _listing_event("property_share", 1.9, "CV26041187"),
                _view(1.9, "CV26043560", 60),
            ),
            _session(
                _view(1.0, "CV26041187", 380),
                _view(1.0, "CV26043560", 70),
                _listing_event("property_save", 1.0, "CV26043560"),
                _view(1.0, "CV26038214", 40),
            ),
            _session(
                _view(0.3, "CV26041187", 320),
                _page(0.3, "/neighborhoods/etiwanda", 120),
                _view(0.3, "CV26043560", 85),
            ),
            _session(
                _view(0.08, "CV26043560", 60),
                _view(0.08, "CV26041187", 420),
                _page(0.08, "/schedule-a-tour", 45),
                _listing_event("tour_request", 0.08, "CV26041187"),
            ),
        ),
    ),
    DemoContact(
        contact_id="N4eiWBGeAqW8MtuJSjwq",
        first_name="Marcus",
        last_name="Whitfield",
        phone="+19095550117",
        email="marcus.whitfield@example.com",
        city="Ontario",
        postal_code="91761",
        timezone="America/Los_Angeles",
        visitor_id="lv-d3f494bb9f20f4d9",
        source="Zillow",
        tags=("buyer",),
        story="came back after 3 weeks away: Ontario and Upland again, saved a listing",
        sessions=(
            _session(
                _search(24.0, city="Ontario", beds=3, maxPrice=700_000),
                _view(24.0, "IV26017733", 70),
                _view(24.0, "IV26020941", 35),
            ),
            _session(
                _search(2.3, city="Upland", beds=3, maxPrice=750_000),
                _view(2.3, "CV26040018", 150),
                _view(2.3, "IV26020941", 110),
                _listing_event("property_save", 2.3, "CV26040018"),
            ),
            _session(_view(0.4, "CV26040018", 90)),
        ),
    ),
    DemoContact(
        contact_id="P5QAZh0fo7QZxKXvuKYV",
        first_name="Kevin",
        last_name="Tran",
        phone="+19095550163",
        email="kevin.tran@example.com",
        city="Fontana",
        postal_code="92337",
        timezone="America/Los_Angeles",
        visitor_id="lv-ce1645db4da75370",
        source="Open house",
        tags=(),
        story="cold: one quick look at a Fontana listing four weeks ago, nothing since",
        sessions=(_session(_view(28.0, "IV26022480", 20)),),
    ),
    DemoContact(
        contact_id="ywrztyXWZuFbLb9LxmDB",
        first_name="Rosa",
        last_name="Delgado",
        phone="+19095550128",
        email="rosa.delgado@example.com",
        city="Upland",
        postal_code="91786",
        timezone="America/Los_Angeles",
        visitor_id="lv-f7274338b3ab6116",
        source="Lyrio website",
        tags=("seller",),
        story="seller in Upland: read the selling guide, asked what her home is worth",
        sessions=(
            _session(
                _page(5.0, "/sell/guide", 200),
                _page(5.0, "/sold/upland-91786", 90),
                _view(5.0, "CV26040018", 75),
            ),
            _session(
                _page(1.2, "/home-value", 60),
                Visit(
                    "valuation_request",
                    timedelta(days=1.2),
                    data={"beds": 3, "baths": 2, "city": "Upland", "zip": "91786"},
                ),
            ),
        ),
    ),
    DemoContact(
        contact_id="bPzj6hSbcXaCNuXOjwJT",
        first_name="Jennifer",
        last_name="Okafor",
        phone="+19095550186",
        email="jennifer.okafor@example.com",
        city="Chino Hills",
        postal_code="91709",
        timezone="America/New_York",
        visitor_id="lv-5fe535ad470121ef",
        source="Referral",
        tags=("buyer", "relocation"),
        story="relocating from New York (Eastern time): Chino Hills and Eastvale, 4+ beds",
        sessions=(
            _session(
                _search(11.0, city="Chino Hills", beds=4, maxPrice=1_200_000),
                _search(11.0, city="Eastvale", beds=4, maxPrice=1_200_000),
                _view(11.0, "TR26011456", 130),
                _view(11.0, "IG26008834", 100),
            ),
            _session(
                _view(3.0, "IG26008834", 160),
                _listing_event("property_save", 3.0, "IG26008834"),
                _view(3.0, "TR26012907", 45),
            ),
        ),
    ),
    DemoContact(
        contact_id="p3duYWmDWlNGLqlJSCyZ",
        first_name="Alejandro",
        last_name="Morales",
        phone="+19095550151",
        email="alejandro.morales@example.com",
        city="Fontana",
        postal_code="92336",
        timezone="America/Los_Angeles",
        visitor_id="lv-bd29f350fbdb12a4",
        source="Facebook ad",
        tags=("buyer", "first-time-buyer"),
        story="first-time buyer: Fontana and Ontario under $700k, shared a listing",
        sessions=(
            _session(
                _page(13.0, "/first-time-buyers", 240),
                _search(
                    13.0,
                    city="Fontana",
                    minPrice=500_000,
                    maxPrice=700_000,
                    propertyType="Single family",
                ),
                _view(13.0, "IV26019275", 85),
            ),
            _session(
                _view(4.5, "IV26019275", 140),
                _listing_event("property_share", 4.5, "IV26019275"),
                _view(4.5, "IV26017733", 50),
            ),
        ),
    ),
)

BY_ID = {c.contact_id: c for c in CONTACTS}


def _timestamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(contact: DemoContact, visit: Visit, now: datetime) -> dict[str, Any]:
    # Never older than the route accepts, never in the future (a minute of margin each way).
    ago = min(max(visit.ago, timedelta(minutes=1)), MAX_AGE)
    event: dict[str, Any] = {
        "type": visit.type,
        "timestamp": _timestamp(now - ago),
        "eventId": str(uuid.uuid4()),
        "visitorId": contact.visitor_id,
        "contactId": contact.contact_id,
    }
    if visit.property_id:
        event["propertyId"] = visit.property_id
    if visit.dwell_seconds is not None:
        event["dwellSeconds"] = visit.dwell_seconds
    if visit.value is not None:
        event["value"] = visit.value
    event["data"] = dict(visit.data)
    return event


def sessions_for(contact: DemoContact, now: datetime | None = None) -> list[list[dict[str, Any]]]:
    """The contact's browsing story as ``POST /events`` events, one list per sitting, oldest
    first; fresh event ids on every call."""
    now = now or datetime.now(UTC)
    return [
        sorted((_event(contact, v, now) for v in session), key=lambda e: e["timestamp"])
        for session in contact.sessions
    ]


def events_for(contact: DemoContact, now: datetime | None = None) -> list[dict[str, Any]]:
    """The contact's whole browsing story as ``POST /events`` events (oldest first), with
    fresh event ids on every call and timestamps inside the route's window."""
    return [e for session in sessions_for(contact, now) for e in session]


# -- people GHL creates on its own ---------------------------------------------------------------

FIRST_NAMES = (
    "Ana", "Carlos", "Jasmine", "Miguel", "Brittany", "Tuan", "Guadalupe", "Ryan",
    "Leticia", "Andre", "Mei", "Jose", "Kayla", "Arturo", "Samantha", "Hector",
)  # fmt: skip
LAST_NAMES = (
    "Flores", "Nguyen", "Hernandez", "Johnson", "Castillo", "Kim", "Ramirez", "Patel",
    "Torres", "Williams", "Gutierrez", "Lee", "Mendoza", "Brooks", "Vargas", "Chen",
)  # fmt: skip
#: Inland Empire area codes, for numbers in the fictional 555-0100..0199 range.
AREA_CODES = ("909", "951")


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    phone: str


def person_for(key: str) -> Person:
    """A realistic name and a fictional Inland Empire phone number, always the same for
    ``key``."""
    digest = hashlib.sha256(key.encode()).digest()
    return Person(
        FIRST_NAMES[digest[0] % len(FIRST_NAMES)],
        LAST_NAMES[digest[1] % len(LAST_NAMES)],
        f"+1{AREA_CODES[digest[2] % len(AREA_CODES)]}55501{digest[3] % 100:02d}",
    )


# -- seeding the running stack -------------------------------------------------------------------


def seed(
    api_url: str,
    site_key: str,
    location_id: str,
    *,
    now: datetime | None = None,
    client: Any = None,
    say: Callable[[str], None] = print,
) -> tuple[int, int]:
    """Post every demo lead's browsing story to ``POST /events`` and say how it went in one
    line. Never raises: a missing route (404), a refusal or no connection is reported and the
    caller carries on. Returns (leads, events) accepted."""
    import httpx

    now = now or datetime.now(UTC)
    own = client is None
    http = client or httpx.Client(base_url=api_url, timeout=10)
    leads = accepted = duplicates = 0
    try:
        for contact in CONTACTS:
            events = events_for(contact, now)
            response = http.post(
                f"{api_url}/events",
                json={"events": events},
                headers={"X-Site-Key": site_key},
            )
            if response.status_code == 404:
                say(
                    "demo data: POST /events is not there yet (404): the demo leads' browsing "
                    "histories are not loaded"
                )
                return leads, accepted
            if response.status_code != 202:
                say(
                    f"demo data: POST /events answered {response.status_code} for "
                    f"{contact.name}: {response.text[:200]}"
                )
                return leads, accepted
            body = response.json() if response.content else {}
            leads += 1
            accepted += int(body.get("accepted", len(events)))
            duplicates += int(body.get("duplicates", 0))
    except Exception as exc:  # the stack must keep running whatever happens here
        say(f"demo data: could not post the browsing histories ({type(exc).__name__}: {exc})")
        return leads, accepted
    finally:
        if own:
            http.close()
    again = f" ({duplicates} already there)" if duplicates else ""
    say(f"demo data: {leads} leads, {accepted} events{again} (location {location_id})")
    return leads, accepted
