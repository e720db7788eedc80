"""A loopback stand-in for the GHL API v2 endpoints ``ghl_ai.adapters.ghl`` uses.

Standard library only. Tests start one per test (``with GhlStandIn() as ghl:``) and assert on
``ghl.calls`` and its in-memory state; ``make run`` starts it with ``echo=True`` so the local
stack prints every call GHL would have received (message text included: a local dev tool).

``make run`` also passes ``demo_contacts=True`` (the stand-in knows the leads of
``local/demo_data.py`` from the start) and ``autocreate_contacts=True``: ``GET /contacts/{id}``
for an id it does not know creates that contact, as GHL does when a message arrives from a new
number (GHL creates the contact, then the webhook names it). Tests start it empty, and an
unknown contact is a 404 there.

``GET /_standin/messages?contactId=`` and ``GET /_standin/contacts[/{id}]`` (outside GHL's
paths: no auth, not recorded, not printed) let ``make demo`` read what the system did.

Like GHL it checks ``Authorization: Bearer ...`` (401) and the ``Version`` header (400), stores
tags lower-cased and answers with GHL-shaped JSON. ``script()`` queues canned responses (429 with
``Retry-After``, 503, a slow answer, ...) for the next matching requests.

``faults=GhlFaults(...)`` (off by default; ``make soak``) injects seeded faults into a share of
the API calls: 429 with ``Retry-After``, 500, 502 / 503 (nothing is done), and two faults after
the request was accepted — the call is carried out (the SMS recorded as sent, the task created)
and then its answer comes too late for the client (``timeout``) or never (``dropped``: the
connection is closed without a response). ``injected`` counts them by kind; ``unanswered`` keeps
the calls that were carried out but whose answer the client never got. ``before_answer`` lets a
harness look at each call after it was carried out and before it is answered (and withhold the
answer: the soak kills the calling process there).

    python -m local.ghl_standin --port 8010
"""

from __future__ import annotations

import argparse
import fnmatch
import itertools
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.demo_data import CONTACTS as DEMO_CONTACTS
from local.demo_data import person_for
from local.loopback import LoopbackServer

LOCATION_ID = "loc-standin"
PIPELINE_ID = "pipe-buyer-seller"
STAGES = ["New Lead", "Contacted", "Qualified", "Appointment Set", "Under Contract", "Closed"]
#: The contact custom fields every location has: id | name | dataType | picklist options.
CUSTOM_FIELDS = """
cf-budget        | Budget           | MONETORY       |
cf-timeline      | Timeline         | SINGLE_OPTIONS | ASAP, 1-3 months, 3-6 months, 6+ months
cf-preapproval   | Pre-Approval     | SINGLE_OPTIONS | Pre-approved, In progress, Cash buyer, No
cf-intent        | Buy/Sell Intent  | SINGLE_OPTIONS | Buy, Sell, Buy and sell, Rent
cf-area          | Preferred Area   | TEXT           |
cf-property-type | Property Type    | SINGLE_OPTIONS | Single family, Condo, Townhouse, Land
cf-bedrooms      | Bedrooms         | NUMERICAL      |
cf-ai-score      | AI Score         | NUMERICAL      |
cf-temperature   | Lead Temperature | SINGLE_OPTIONS | Hot, Warm, Cold
cf-churn-risk    | Churn Risk       | SINGLE_OPTIONS | Low, Medium, High, Critical
cf-ai-summary    | AI Summary       | LARGE_TEXT     |
cf-must-haves    | Must-Haves       | TEXT           |
cf-address       | Property Address | TEXT           |
cf-motivation    | Seller Motivation | TEXT          |
cf-condition | Property Condition | SINGLE_OPTIONS | Move-in ready, Good, Needs work, Fixer upper
cf-price         | Price Expectation | MONETORY      |
cf-bathrooms     | Bathrooms        | NUMERICAL      |
cf-readiness | Readiness | SINGLE_OPTIONS | Just browsing, No rush, Curious about value
cf-language | Preferred Language | SINGLE_OPTIONS | English, Spanish
"""
NON_CONVERSATION_VERSION, CONVERSATION_VERSION = "2021-07-28", "2021-04-15"


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    json: Any
    #: The fault injected into this call (a :data:`FAULT_KINDS` name), if any.
    fault: str | None = None


#: What :class:`GhlFaults` injects. The first four are answered at once and nothing is done;
#: ``timeout`` and ``dropped`` are carried out first, then answered late or not at all.
FAULT_KINDS = ("429", "500", "502", "503", "timeout", "dropped")


@dataclass(frozen=True)
class GhlFaults:
    """Seeded faults: for each API call, the probability of each kind (they add up to at most
    1). ``retry_after`` is the 429's ``Retry-After`` (seconds); ``timeout_delay`` how long a
    ``timeout`` call waits before answering (longer than the client's timeout)."""

    rate_limited: float = 0.0
    server_error: float = 0.0
    bad_gateway: float = 0.0  # 502 and 503, one each in turn
    timeout: float = 0.0
    dropped: float = 0.0
    retry_after: float = 1.0
    timeout_delay: float = 11.0
    seed: int = 0

    def __post_init__(self) -> None:
        rates = (self.rate_limited, self.server_error, self.bad_gateway, self.timeout, self.dropped)
        if min(rates) < 0 or sum(rates) > 1:
            raise ValueError("fault rates must be probabilities adding up to at most 1")


#: Called with each call carried out, its status, its answer and the client's (host, port)
#: before the answer is written; True withholds the answer (the caller is gone).
BeforeAnswer = Callable[[RecordedCall, int, Any, tuple[str, int]], bool]


@dataclass(frozen=True)
class Scripted:
    """A canned answer: status, optional headers and JSON body (a GHL-like error body when
    omitted), and an optional delay before answering (to provoke client read timeouts)."""

    status: int
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class _Reply(Exception):
    """Raised by a route to answer early with a status and body."""

    def __init__(self, status: int, body: Any) -> None:
        self.status, self.body = status, body


def _error(status: int, message: Any) -> _Reply:
    return _Reply(status, {"statusCode": status, "message": message})


def _custom_field(position: int, row: str) -> dict[str, Any]:
    fid, name, kind, options = (part.strip() for part in row.split("|"))
    key = "contact." + fid.removeprefix("cf-").replace("-", "_")
    picklist = [o.strip() for o in options.split(",")] if options else []
    field = dict(id=fid, name=name, fieldKey=key, dataType=kind, picklistOptions=picklist)
    return field | dict(position=position * 50, model="contact", locationId=LOCATION_ID)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class GhlStandIn(LoopbackServer):
    def __init__(
        self,
        port: int = 0,
        *,
        echo: bool = False,
        demo_contacts: bool = False,
        autocreate_contacts: bool = False,
        location_id: str = LOCATION_ID,
        timezone: str = "America/Los_Angeles",
        faults: GhlFaults | None = None,
        before_answer: BeforeAnswer | None = None,
    ) -> None:
        """``location_id`` and ``timezone``: the location the demo and auto-created contacts
        belong to and its time zone (new contacts get it). ``faults`` and ``before_answer``:
        see the module docstring."""
        self._port, self._echo = port, echo
        self._demo_contacts, self._autocreate = demo_contacts, autocreate_contacts
        self.location_id, self.timezone = location_id, timezone
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self.faults = faults
        self.before_answer = before_answer
        self._fault_rng = random.Random(faults.seed if faults else 0)  # not crypto  # nosec B311
        self._gateway_turn = itertools.count()
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> GhlStandIn:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the client pools connections
            disable_nagle_algorithm = True  # headers and body go out in separate writes
            timeout = 10

            def _handle(self) -> None:
                standin._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._closing.clear()
        serve, quick_stop = self._server.serve_forever, {"poll_interval": 0.05}
        threading.Thread(target=serve, kwargs=quick_stop, daemon=True).start()
        return self

    def stop(self) -> None:
        self._closing.set()  # wakes the answers a ``timeout`` fault holds back
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- test API ----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget calls and scripts and go back to the seeded state."""
        with self._lock:
            self.calls: list[RecordedCall] = []
            self._scripts: list[tuple[str, str, list[Scripted]]] = []
            self._ids = itertools.count(1)
            self.contacts: dict[str, dict[str, Any]] = {}
            self.notes: list[dict[str, Any]] = []
            self.tasks: list[dict[str, Any]] = []
            self.messages: list[dict[str, Any]] = []  # outbound (sent by us) and seeded inbound
            self.conversations: dict[str, dict[str, Any]] = {}
            self.opportunities: dict[str, dict[str, Any]] = {}
            rows = CUSTOM_FIELDS.strip().splitlines()
            self.custom_fields = [_custom_field(i, line) for i, line in enumerate(rows)]
            stages = [
                dict(id="stage-" + n.lower().replace(" ", "-"), name=n, position=i)
                for i, n in enumerate(STAGES)
            ]
            pipeline: dict[str, Any] = dict(
                id=PIPELINE_ID, name="Buyer/Seller Leads", locationId=LOCATION_ID
            )
            self.pipelines = [pipeline | {"stages": stages}]
            #: Ids of the contacts created by ``GET /contacts/{id}`` (``autocreate_contacts``).
            self.autocreated: set[str] = set()
            #: Faults injected, by kind (``GhlFaults``).
            self.injected: Counter[str] = Counter()
            #: Calls carried out whose answer the client never got: (call, status, payload).
            self.unanswered: list[tuple[RecordedCall, int, Any]] = []
            self._notes: list[str] = []  # lines to print after the current call's
            if self._demo_contacts:
                for demo in DEMO_CONTACTS:
                    contact = demo.ghl_contact(self.location_id) | {"dateAdded": _now()}
                    self.contacts[demo.contact_id] = contact

    def calls_to(self, method: str, path_prefix: str) -> list[RecordedCall]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    def script(self, method: str, path: str, responses: list[Scripted | int]) -> None:
        """Answer the next ``len(responses)`` requests matching ``method`` and ``path`` (exact,
        or an fnmatch pattern such as ``/contacts/*``) with these, then behave normally."""
        queued = [r if isinstance(r, Scripted) else Scripted(r) for r in responses]
        with self._lock:
            self._scripts.append((method.upper(), path, queued))

    def seed_contact(self, location_id: str = LOCATION_ID, **fields: Any) -> dict[str, Any]:
        """Create a contact directly (no call recorded) and return it."""
        with self._lock:
            return self._new_contact({"locationId": location_id, **fields})

    def seed_inbound(self, contact_id: str, body: str, channel: str = "SMS") -> dict[str, Any]:
        """Record a message the lead sent (for history reads) and return it."""
        with self._lock:
            return self._add_message(self.contacts[contact_id], channel, body, "inbound")

    # -- request handling --------------------------------------------------------------------
    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        url = urlsplit(req.path)
        raw = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        if url.path.startswith("/_standin/"):
            with self._lock:
                status, payload = self._inspect(req.command, url.path, dict(parse_qsl(url.query)))
                payload = json.loads(json.dumps(payload))  # a snapshot, taken under the lock
            self._write(req, status, {}, payload)
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        sent = {k.lower(): v for k, v in req.headers.items()}
        call = RecordedCall(req.command, url.path, dict(parse_qsl(url.query)), sent, body)
        headers: dict[str, str] = {}
        with self._lock:
            scripted = self._next_scripted(call)
            fault = self._draw_fault() if scripted is None else None
            if fault is not None:
                call = replace(call, fault=fault)
                self.injected[fault] += 1
                if fault in ("429", "500", "502", "503"):
                    scripted = self._refusal(fault)
            self.calls.append(call)
            if scripted is None:
                try:
                    status, payload = 200, self._route(call)
                    if call.method == "POST" and call.path != "/contacts/upsert":
                        status = 201
                except _Reply as reply:
                    status, payload = reply.status, reply.body
            notes, self._notes = self._notes, []
        if scripted is not None:
            time.sleep(scripted.delay)
            status, headers = scripted.status, scripted.headers
            payload = scripted.json
            if payload is None and status >= 400:
                payload = {"statusCode": status, "message": HTTPStatus(status).phrase}
        if self._echo:
            self._print(call, status)
            for line in notes:
                print(line, flush=True)
        carried_out = scripted is None
        if carried_out and self.before_answer is not None:
            address = (str(req.client_address[0]), int(req.client_address[1]))
            if self.before_answer(call, status, payload, address):
                fault = "withheld"  # the harness stopped the caller: no answer
        if carried_out and fault in ("timeout", "dropped", "withheld"):
            with self._lock:
                self.unanswered.append((call, status, payload))
            if fault == "timeout":
                assert self.faults is not None
                self._closing.wait(self.faults.timeout_delay)  # the client gives up first
            else:
                req.close_connection = True  # closed without a response
                return
        self._write(req, status, headers, payload)

    def _draw_fault(self) -> str | None:
        """The fault for the next API call, if any (called with the lock held)."""
        f = self.faults
        if f is None:
            return None
        draw = self._fault_rng.random()
        for kind, rate in (
            ("429", f.rate_limited),
            ("500", f.server_error),
            ("502", f.bad_gateway),
            ("timeout", f.timeout),
            ("dropped", f.dropped),
        ):
            if draw < rate:
                if kind == "502" and next(self._gateway_turn) % 2:
                    return "503"
                return kind
            draw -= rate
        return None

    def _refusal(self, fault: str) -> Scripted:
        assert self.faults is not None
        if fault == "429":
            return Scripted(
                429,
                {"statusCode": 429, "message": "Too many requests"},
                {"Retry-After": f"{self.faults.retry_after:g}"},
            )
        return Scripted(int(fault))

    @staticmethod
    def _write(
        req: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: Any
    ) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        try:
            req.send_response(status)
            for name, value in headers.items():
                req.send_header(name, value)
            req.send_header("Content-Type", "application/json")
            req.send_header("Content-Length", str(len(data)))
            req.end_headers()
            req.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def _next_scripted(self, call: RecordedCall) -> Scripted | None:
        for method, pattern, queued in self._scripts:
            if method == call.method and queued and fnmatch.fnmatchcase(call.path, pattern):
                return queued.pop(0)
        return None

    def _route(self, c: RecordedCall) -> Any:
        auth = c.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise _error(401, "Invalid JWT")
        p = c.path.rstrip("/").split("/")[1:]
        want = CONVERSATION_VERSION if p[:1] == ["conversations"] else NON_CONVERSATION_VERSION
        if "version" not in c.headers:
            raise _error(400, "Version header was not found")
        if c.headers["version"] != want:
            raise _error(400, f"Version {c.headers['version']} is not supported for this route")
        b = c.json if isinstance(c.json, dict) else {}
        match c.method, p:
            case "POST", ["contacts", "upsert"]:
                return self._upsert(b)
            case "GET", ["contacts", cid]:
                if cid not in self.contacts and self._autocreate:
                    return {"contact": self._autocreate_contact(cid)}
                return {"contact": self._contact(cid)}
            case "PUT", ["contacts", cid]:
                return {"succeded": True, "contact": self._update_contact(self._contact(cid), b)}
            case ("POST" | "DELETE") as m, ["contacts", cid, "tags"]:
                contact, tags = self._contact(cid), b.get("tags")
                if not isinstance(tags, list):
                    raise _error(422, ["tags must be an array"])
                lowered = [str(t).strip().lower() for t in tags]
                kept = [t for t in contact["tags"] if m == "POST" or t not in lowered]
                contact["tags"] = kept + [t for t in lowered if m == "POST" and t not in kept]
                return {"tags": contact["tags"]}
            case "GET", ["contacts", cid, "notes"]:
                cid = self._contact(cid)["id"]
                return {"notes": [n for n in self.notes if n["contactId"] == cid]}
            case "GET", ["contacts", cid, "tasks"]:
                cid = self._contact(cid)["id"]
                return {"tasks": [t for t in self.tasks if t["contactId"] == cid]}
            case "POST", ["contacts", cid, "notes"]:
                self._require(b, "body")
                cid = self._contact(cid)["id"]
                note = dict(id=self._id("note"), body=b["body"], contactId=cid, dateAdded=_now())
                self.notes.append(note)
                return {"note": note}
            case "POST", ["contacts", cid, "tasks"]:
                self._require(b, "title", "dueDate")
                cid = self._contact(cid)["id"]
                task = dict(id=self._id("task"), contactId=cid, body=None, completed=False) | b
                self.tasks.append(task)
                return {"task": task}
            case "POST", ["conversations", "messages"]:
                self._require(b, "type", "contactId")
                if b["contactId"] not in self.contacts:
                    raise _error(400, "Contact not found")
                msg = self._add_message(
                    self.contacts[b["contactId"]], b["type"], b.get("message", ""), "outbound"
                )
                queued = "Message queued successfully."
                return dict(conversationId=msg["conversationId"], messageId=msg["id"], msg=queued)
            case "GET", ["conversations", "search"]:
                self._require(c.query, "locationId")
                found = self._owned(
                    self.conversations, c.query["locationId"], c.query.get("contactId")
                )
                return {"conversations": found, "total": len(found)}
            case "GET", ["conversations", conv_id, "messages"]:
                if conv_id not in self.conversations:
                    raise _error(404, "Conversation not found")
                found = [m for m in reversed(self.messages) if m["conversationId"] == conv_id]
                found = found[: int(c.query.get("limit", 20))]
                last = found[-1]["id"] if found else None
                return {"messages": dict(lastMessageId=last, nextPage=False, messages=found)}
            case "GET", ["locations", _loc, "customFields"]:
                return {"customFields": self.custom_fields}
            case "GET", ["opportunities", "pipelines"]:
                self._require(c.query, "locationId")
                return {"pipelines": self.pipelines}
            case "GET", ["opportunities", "search"]:
                if "locationId" in c.query:
                    raise _error(422, ["property locationId should not exist"])
                self._require(c.query, "location_id")
                found = self._owned(
                    self.opportunities, c.query["location_id"], c.query.get("contact_id")
                )
                return {"opportunities": found, "meta": {"total": len(found)}}
            case "POST", ["opportunities"]:
                self._require(b, "pipelineId", "locationId", "name", "status", "contactId")
                self._contact(b["contactId"])
                stage_ids = self._stage_ids(b["pipelineId"])
                if b.get("pipelineStageId", stage_ids[0]) not in stage_ids:
                    raise _error(400, "Pipeline stage not found")
                opp: dict[str, Any] = dict(
                    id=self._id("opp"), pipelineStageId=stage_ids[0], monetaryValue=0
                )
                opp.update(b, createdAt=_now())
                self.opportunities[opp["id"]] = opp
                return {"opportunity": opp}
            case "PUT", ["opportunities", opp_id]:
                if opp_id not in self.opportunities:
                    raise _error(404, "Opportunity not found")
                opp = self.opportunities[opp_id]
                if "pipelineStageId" in b and b["pipelineStageId"] not in self._stage_ids(
                    b.get("pipelineId", opp["pipelineId"])
                ):
                    raise _error(400, "Pipeline stage not found")
                opp.update(b, updatedAt=_now())
                return {"opportunity": opp}
        raise _error(404, f"Cannot {c.method} {c.path}")

    # -- state helpers (called with the lock held) -------------------------------------------
    def _id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids):04d}"

    @staticmethod
    def _require(body: dict[str, Any], *names: str) -> None:
        missing = [n for n in names if body.get(n) in (None, "")]
        if missing:
            raise _error(422, [f"{n} should not be empty" for n in missing])

    def _contact(self, contact_id: str) -> dict[str, Any]:
        if contact_id not in self.contacts:
            raise _error(404, "Contact not found")
        return self.contacts[contact_id]

    @staticmethod
    def _owned(items: dict[str, Any], location_id: str, contact_id: str | None) -> list[Any]:
        """Items of one location (and of one contact when ``contact_id`` is given)."""
        return [
            i
            for i in items.values()
            if i["locationId"] == location_id and contact_id in (None, i["contactId"])
        ]

    def _stage_ids(self, pipeline_id: str) -> list[str]:
        for pipeline in self.pipelines:
            if pipeline["id"] == pipeline_id:
                return [stage["id"] for stage in pipeline["stages"]]
        raise _error(400, "Pipeline not found")

    def _new_contact(self, fields: dict[str, Any]) -> dict[str, Any]:
        contact: dict[str, Any] = dict(
            id=self._id("contact"), tags=[], customFields=[], dnd=False, dndSettings={}
        )
        contact.update(timezone=self.timezone, dateAdded=_now())
        self.contacts[contact["id"]] = contact
        return self._update_contact(contact, fields)

    def _update_contact(self, contact: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
        values = {cf["id"]: cf["value"] for cf in contact["customFields"]}
        for cf in fields.get("customFields") or []:
            values[cf["id"]] = cf.get("field_value", cf.get("fieldValue", cf.get("value")))
        contact.update({k: v for k, v in fields.items() if k != "customFields"})
        contact["tags"] = [str(t).lower() for t in contact["tags"]]
        contact["customFields"] = [{"id": k, "value": v} for k, v in values.items()]
        return contact

    def _autocreate_contact(self, contact_id: str) -> dict[str, Any]:
        """The contact GHL creates when a message arrives from a number it does not know:
        a name and phone made up from the id (the same every time), the location's time zone,
        no tags, not DND."""
        person = person_for(contact_id)
        contact: dict[str, Any] = dict(
            id=contact_id,
            locationId=self.location_id,
            firstName=person.first_name,
            lastName=person.last_name,
            contactName=f"{person.first_name} {person.last_name}",
            phone=person.phone,
            timezone=self.timezone,
            source="inbound SMS",
            type="lead",
            tags=[],
            customFields=[],
            dnd=False,
            dndSettings={},
            dateAdded=_now(),
        )
        self.contacts[contact_id] = contact
        self.autocreated.add(contact_id)
        self._notes.append(
            f"GHL stand-in: created contact {contact_id} ({contact['contactName']}, "
            f"{person.phone}, {self.timezone}), as GHL does for a message from a new number"
        )
        return contact

    def _inspect(self, method: str, path: str, query: dict[str, str]) -> tuple[int, Any]:
        """The read-only ``/_standin/`` routes for ``make demo`` (called with the lock held)."""
        p = path.rstrip("/").split("/")[2:]
        if method != "GET":
            return 405, {"statusCode": 405, "message": "read-only"}
        match p:
            case ["messages"]:
                cid = query.get("contactId")
                found = [m for m in self.messages if cid in (None, m["contactId"])]
                return 200, {"messages": found}
            case ["contacts"]:
                found = [
                    c
                    for c in self.contacts.values()
                    if all(c.get(k) == query[k] for k in ("phone", "email") if k in query)
                ]
                return 200, {"contacts": found}
            case ["contacts", cid] if cid in self.contacts:
                return 200, {"contact": self.contacts[cid], "autoCreated": cid in self.autocreated}
        return 404, {"statusCode": 404, "message": f"Cannot GET {path}"}

    def _upsert(self, body: dict[str, Any]) -> dict[str, Any]:
        self._require(body, "locationId")
        for contact in self.contacts.values():
            same = any(body.get(k) and body.get(k) == contact.get(k) for k in ("email", "phone"))
            if same and contact["locationId"] == body["locationId"]:
                return {"new": False, "contact": self._update_contact(contact, body)}
        return {"new": True, "contact": self._new_contact(body)}

    def _add_message(
        self, contact: dict[str, Any], channel: str, body: str, direction: str
    ) -> dict[str, Any]:
        conv = next(
            (v for v in self.conversations.values() if v["contactId"] == contact["id"]), None
        )
        if conv is None:
            conv = dict(id=self._id("conv"), contactId=contact["id"], type="TYPE_PHONE")
            conv.update(locationId=contact["locationId"], unreadCount=0)
            self.conversations[conv["id"]] = conv
        status = "pending" if direction == "outbound" else "delivered"
        msg = dict(id=self._id("msg"), conversationId=conv["id"], contactId=contact["id"])
        msg.update(locationId=contact["locationId"], direction=direction, body=body, status=status)
        msg.update(
            messageType=f"TYPE_{channel.upper()}", contentType="text/plain", dateAdded=_now()
        )
        self.messages.append(msg)
        conv.update(lastMessageBody=body, dateUpdated=msg["dateAdded"])
        return msg

    def _print(self, c: RecordedCall, status: int) -> None:
        b = c.json if isinstance(c.json, dict) else {}
        if c.method == "POST" and c.path == "/conversations/messages":
            summary = f'{b.get("type")} to {b.get("contactId")}: "{b.get("message", "")}"'
        elif c.path.endswith("/tags"):
            summary = ("+" if c.method == "POST" else "-") + ", ".join(map(str, b.get("tags", [])))
        else:
            summary = json.dumps(b or c.query, ensure_ascii=False)[:160] if b or c.query else ""
        suffix = f"  → {status}" if status >= 300 else ""
        print(f"GHL ← {c.method} {c.path}  {summary}{suffix}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Local GHL API stand-in (prints calls).")
    parser.add_argument("--port", type=int, default=8010)
    parser.add_argument(
        "--demo", action="store_true", help="know the demo contacts, create unknown ones"
    )
    args = parser.parse_args()
    standin = GhlStandIn(
        args.port, echo=True, demo_contacts=args.demo, autocreate_contacts=args.demo
    )
    standin.serve(f"GHL stand-in on {{url}} (location {LOCATION_ID})")


if __name__ == "__main__":
    main()
