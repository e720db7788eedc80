"""What the soak sends: leads, their conversations, the GHL deliveries carrying them (with the
duplicates GHL sends) and their browsing on the website. Seeded: the same arguments give the
same workload.

Each lead is a buyer or a seller texting the agent (the scripted flows of
tests/conversation/test_flows.py, then labelled messages of tests/data/lead_messages.jsonl),
without the texts that would end the AI's part of the conversation — opt-out and opt-in
keywords, asking for a person — so every unique inbound message is owed exactly one reply. A
quarter of the leads start with a ``ContactCreate`` (we write first, which starts the
speed-to-lead and no-reply workflows); a few deliveries are other GHL events (a tag update the
worker has nothing to do for, a ``NoteCreate`` it only records, a type it does not know).

Duplicates copy a unique delivery, byte for byte with its signature as GHL's retries do:
``concurrent`` (sent at the same moment to another intake container: the idempotency record's
conditional write decides), ``soon`` (seconds later), ``late`` (tens of seconds later, after the
original was processed); ``new webhook id`` is the same message under a new ``webhookId``
(delivered again by GHL as a new webhook), which only the message id can tell apart.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATASET = ROOT / "tests" / "data" / "lead_messages.jsonl"

BUYER = [
    "Hi! We're looking to buy a home",
    "idk maybe",
    "probably within 2 months",
    "Westlake or Round Rock",
    "around 450k",
    "are you a bot?",
    "yes pre-approved with Chase",
    "3 bedrooms, need a garage",
    "single family",
    "thanks!",
]
SELLER = [
    "Hi, thinking about selling my house",
    "1234 Oak Street, Round Rock",
    "hmm",
    "we're relocating for work",
    "in about 3 months",
    "is this automated?",
    "it needs some work, the kitchen is dated",
    "hoping to get 550k",
    "what happens next?",
    "ok sounds good",
]
FIRST_NAMES = (
    "Maria", "Dan", "Priya", "Tom", "Aisha", "Luis", "Grace", "Ken", "Sofia", "Omar",
    "Ana", "Carlos", "Jasmine", "Miguel", "Tuan", "Leticia", "Andre", "Mei", "Kayla", "Hector",
)  # fmt: skip
LAST_NAMES = (
    "Lopez", "Whit", "Shah", "Berg", "Khan", "Ortiz", "Lee", "Sato", "Rossi", "Haddad",
    "Flores", "Nguyen", "Castillo", "Kim", "Ramirez", "Patel", "Torres", "Brooks", "Chen", "Vargas",
)  # fmt: skip
#: Area codes for the fictional 555-01xx numbers (1,000 distinct phones).
AREA_CODES = ("512", "737", "909", "951", "213", "310", "626", "714", "949", "619")
AGENT_NUMBER = "+15125550199"
#: Shares of the unique deliveries that are not inbound texts.
OTHER_TYPES = (("ContactTagUpdate", 0.03), ("NoteCreate", 0.01), ("SoakProbeEvent", 0.005))
DUPLICATE_MODES = (("concurrent", 0.3), ("soon", 0.35), ("late", 0.25), ("new webhook id", 0.1))
EVENT_BATCHES_PER_LEAD = 3


@dataclass
class Lead:
    index: int
    kind: str  # buyer | seller
    first_name: str
    last_name: str
    phone: str
    email: str
    visitor_id: str
    contact_id: str = ""  # given by the GHL stand-in


@dataclass
class Delivery:
    """One POST /webhooks/ghl: a unique one, or a copy of one (``copy_of``)."""

    number: int
    lead: int
    type: str
    text: str | None = None
    copy_of: int | None = None
    mode: str = "original"
    #: Built when first sent (a fresh timestamp), shared by byte-identical copies.
    raw: bytes | None = None
    signature: str = ""
    webhook_id: str = ""
    message_id: str | None = None
    #: What each attempt got: an HTTP status, or the transport error's name.
    attempts: list[int | str] = field(default_factory=list)
    #: The final answer: 2xx with its ``status`` field, or the last refusal.
    status: int | None = None
    answer: str = ""
    accepted_at: float | None = None


@dataclass
class EventBatch:
    number: int
    lead: int
    events: list[dict[str, Any]]
    #: A resend of batch ``copy_of`` (the tracking script retrying).
    copy_of: int | None = None
    status: int | None = None
    accepted: int = 0
    duplicates: int = 0
    attempts: list[int | str] = field(default_factory=list)


@dataclass
class Step:
    """A lead's next move: a delivery (its number) or an events batch (its number)."""

    delivery: int | None = None
    batch: int | None = None


@dataclass
class Workload:
    leads: list[Lead]
    deliveries: list[Delivery]
    batches: list[EventBatch]
    #: Per lead, its moves in order (unique deliveries and first sends of event batches).
    plans: list[list[Step]]
    #: Copies scheduled after the delivery they copy: (copy number, original number).
    copies_of: dict[int, list[int]]
    batch_copies_of: dict[int, list[int]]

    @property
    def unique(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.copy_of is None]

    @property
    def copies(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.copy_of is not None]


def _texts(rng: random.Random) -> list[str]:
    """Labelled messages a lead may send after its script: none that opts out or in, asks for
    a person, or is empty."""
    from ghl_ai.conversation import compliance
    from ghl_ai.conversation.extract import extract

    out = []
    for line in DATASET.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        text = str(row.get("text") or "").strip()
        if not text or row.get("handoff"):
            continue
        if compliance.is_opt_out(text) or compliance.is_opt_in(text, opted_out=True):
            continue
        if extract(text, today=datetime.now(UTC).date()).handoff_requested:
            continue
        out.append(text)
    rng.shuffle(out)
    return out


def _listing_views(
    rng: random.Random, listings: list[dict[str, Any]], n: int
) -> list[dict[str, Any]]:
    events = []
    for _ in range(n):
        listing = rng.choice(listings)
        kind = rng.choices(
            ["property_view", "property_save", "property_share", "search", "tour_request"],
            weights=[70, 12, 5, 10, 3],
        )[0]
        event: dict[str, Any] = {"type": kind}
        if kind == "search":
            event["data"] = {"filters": {"city": listing["City"], "beds": listing["BedroomsTotal"]}}
        else:
            event["propertyId"] = listing["ListingKey"]
            event["data"] = {
                "price": listing["ListPrice"],
                "beds": listing["BedroomsTotal"],
                "city": listing["City"],
                "zip": listing["PostalCode"],
            }
            if kind == "property_view":
                event["dwellSeconds"] = rng.randint(5, 600)
        events.append(event)
    return events


def build(
    *,
    deliveries: int,
    leads: int,
    duplicates: float,
    seed: int,
    listings: list[dict[str, Any]],
    now: datetime,
) -> Workload:
    if leads < 1 or deliveries < leads:
        raise ValueError("need at least one lead and one delivery per lead")
    rng = random.Random(seed)
    unique_count = round(deliveries * (1 - duplicates))
    pool = _texts(rng)
    people: list[Lead] = []
    for i in range(leads):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        phone = f"+1{AREA_CODES[(i // 100) % len(AREA_CODES)]}55501{i % 100:02d}"
        people.append(
            Lead(
                index=i,
                kind="buyer" if i % 2 == 0 else "seller",
                first_name=first,
                last_name=last,
                phone=phone,
                email=f"{first.lower()}.{last.lower()}{i}@example.com",
                visitor_id=f"v-{seed}-{i:05d}-{rng.getrandbits(32):08x}",
            )
        )

    out: list[Delivery] = []
    batches: list[EventBatch] = []
    plans: list[list[Step]] = []
    cursor = 0
    for lead in people:
        count = unique_count // leads + (1 if lead.index < unique_count % leads else 0)
        script = list(BUYER if lead.kind == "buyer" else SELLER)
        texts = script + [
            pool[(cursor + k) % len(pool)] for k in range(max(0, count - len(script)))
        ]
        cursor += max(0, count - len(script))
        plan: list[Step] = []
        kinds: list[str] = []
        if lead.index % 4 == 0:
            kinds.append("ContactCreate")
        while len(kinds) < count:
            draw, kind = rng.random(), "InboundMessage"
            for name, share in OTHER_TYPES:
                if draw < share:
                    kind = name
                    break
                draw -= share
            kinds.append(kind)
        sms = iter(texts)
        for kind in kinds:
            text = next(sms) if kind == "InboundMessage" else None
            out.append(Delivery(number=len(out), lead=lead.index, type=kind, text=text))
            plan.append(Step(delivery=len(out) - 1))
        # Website browsing between the texts; a third of the leads browse anonymously first
        # and are identified by a later batch (stitching moves the earlier events).
        anonymous_first = rng.random() < 1 / 3
        for b in range(EVENT_BATCHES_PER_LEAD):
            events = _listing_views(rng, listings, rng.randint(3, 12))
            for e in events:
                e["eventId"] = f"ev-{seed}-{len(batches):06d}-{rng.getrandbits(40):010x}"
                e["timestamp"] = (now - timedelta(minutes=rng.randint(1, 600))).isoformat()
                e["visitorId"] = lead.visitor_id
                if not (anonymous_first and b == 0):
                    e["contactId"] = "{contact}"  # filled in once the contact id is known
            batches.append(EventBatch(number=len(batches), lead=lead.index, events=events))
            at = min(len(plan), 1 + (b * len(plan)) // EVENT_BATCHES_PER_LEAD)
            plan.insert(at, Step(batch=len(batches) - 1))
        plans.append(plan)

    copies_of: dict[int, list[int]] = {}
    originals = [d.number for d in out]
    modes = [m for m, _ in DUPLICATE_MODES]
    weights = [w for _, w in DUPLICATE_MODES]
    for _ in range(deliveries - unique_count):
        original = out[rng.choice(originals)]
        mode = rng.choices(modes, weights=weights)[0]
        if mode == "new webhook id" and original.type != "InboundMessage":
            mode = "soon"
        copy = Delivery(
            number=len(out),
            lead=original.lead,
            type=original.type,
            text=original.text,
            copy_of=original.number,
            mode=mode,
        )
        out.append(copy)
        copies_of.setdefault(original.number, []).append(copy.number)

    batch_copies_of: dict[int, list[int]] = {}
    for batch in list(batches):
        if rng.random() < 0.1:
            resent = EventBatch(
                number=len(batches), lead=batch.lead, events=batch.events, copy_of=batch.number
            )
            batches.append(resent)
            batch_copies_of.setdefault(batch.number, []).append(resent.number)
    return Workload(people, out, batches, plans, copies_of, batch_copies_of)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def payload(delivery: Delivery, lead: Lead, location_id: str, seed: int) -> dict[str, Any]:
    """The webhook body GHL would send for a unique delivery (a fresh timestamp)."""
    now = _iso(datetime.now(UTC))
    base: dict[str, Any] = {
        "type": delivery.type,
        "locationId": location_id,
        "webhookId": f"wh-{seed}-{delivery.number:06d}",
        "timestamp": now,
    }
    contact = lead.contact_id
    if delivery.type == "InboundMessage":
        return base | {
            "contactId": contact,
            "messageId": f"msg-{seed}-{delivery.number:06d}",
            "conversationId": f"conv-{contact}",
            "body": delivery.text,
            "direction": "inbound",
            "messageType": "SMS",
            "contentType": "text/plain",
            "status": "delivered",
            "dateAdded": now,
            "from": lead.phone,
            "to": AGENT_NUMBER,
        }
    if delivery.type == "ContactCreate":
        return base | {
            "id": contact,
            "firstName": lead.first_name,
            "lastName": lead.last_name,
            "name": f"{lead.first_name} {lead.last_name}",
            "phone": lead.phone,
            "email": lead.email,
            "source": "website",
            "dateAdded": now,
            "tags": ["website lead"],
        }
    if delivery.type == "ContactTagUpdate":
        return base | {
            "id": contact,
            "contactId": contact,
            "tags": ["website lead", "open house"],
        }
    if delivery.type == "NoteCreate":
        return base | {
            "id": f"note-{seed}-{delivery.number:06d}",
            "contactId": contact,
            "body": "Met at the Saturday open house.",
            "dateAdded": now,
        }
    return base | {"contactId": contact, "detail": "an event type this install does not know"}
