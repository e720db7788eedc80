"""`make demo`: a story told to the running local stack (`make run`), step by step.

python -m local.demo              # the story (below), against the stack in .local/stack.json
python -m local.demo sign FILE    # print a curl command that posts FILE signed with the dev key

Every step says what happened to the lead and why — replied (and what), held for quiet hours
(until when), skipped (why), duplicate, recorded only — read from what the system left behind:
the worker's record of each job (its idempotency record: the engine's action and reason), the
GHL stand-in's messages and contacts (``GET /_standin/...``) and ``GET /leads/{id}``.

Ids are fresh on every run (webhook and message ids, the story's contacts and their phone
numbers), so a second run tells the same story instead of answering ``duplicate`` everywhere.

The story: a new lead in GHL, through the samples in events/ (every GHL event shape we take:
texts, emails, a call, an appointment, DND, a workflow action, deletion); a repeated delivery,
a tampered and a malformed one; someone GHL has never seen texting in; a lead where it is night
(held for quiet hours); a lead qualified turn by turn; a website form; a poison job parked in
the DLQ; a lead browsing the website while its score rises; and a lead's home matches from its
form alone, then after it browses, then texted when a GHL workflow adds the matches tag; and a
new lead's follow-up sequence on the workflow engine, ending when she replies.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import secrets
import shlex
import string
import sys
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from local import demo_data, devkeys

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local" / "stack.json"
EVENTS = ROOT / "events" / "intake"
#: How the demo authenticates to the GHL stand-in's GHL routes (any bearer token will do).
STANDIN_HEADERS = {"Authorization": "Bearer local-standin-token", "Version": "2021-07-28"}
#: The quiet-hours-safe window, as the worker has it (same variables and defaults).
QUIET_START = int(os.environ.get("QUIET_HOURS_START", "8"))
QUIET_END = int(os.environ.get("QUIET_HOURS_END", "21"))


def _ghl_id() -> str:
    """A fresh GHL-style id (20 letters and digits)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(20))


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- what happened, in words ---------------------------------------------------------------------


def explain(
    track: dict[str, Any] | None,
    converse: dict[str, Any] | None,
    *,
    reply: str | None = None,
    timezone: str | None = None,
) -> str:
    """One line: what the worker did with a job (its ``track`` and ``converse`` results)."""
    if track and track.get("action") == "lead_deleted":
        held = track.get("detail") or "its history"
        return f"deleted: the lead and what we held about it ({held})"
    if converse is None:
        return f'replied: "{reply}"' if reply else "done (the worker left no record of it)"
    action, reason = converse.get("action"), str(converse.get("reason") or "")
    if action == "replied":
        return f'replied: "{reply}"' if reply else "replied"
    if action == "handed_off":
        said = f': "{reply}"' if reply else ""
        return f"handed off to the agent (a call task is in GHL){said}"
    if action == "held":
        return "held " + _until(reason, timezone) + " (quiet hours; the first message waits)"
    if action == "queued":
        return f"queued: {reason} — the RecommendationsFunction sends it"
    if action == "opted_out":
        return "opted out: no reply; SMS DND set in GHL and tagged opted-out"
    if action == "opted_in":
        return f'opted back in: "{reply}"' if reply else "opted back in"
    if reason.startswith("channel "):
        channel = reason.removeprefix("channel ").lower()
        return f"recorded only (not a message to answer: {channel}; only SMS is answered)"
    if reason.startswith("nothing to say on") or reason == "no contact":
        what = {
            "message_recorded": "kept in the conversation history",
            "lead_updated": "the lead's details updated",
        }.get(str((track or {}).get("action")), "")
        return "recorded only (not a message to answer" + (f": {what})" if what else ")")
    if reason == "no consent to text":
        return "recorded only: contact created in GHL, but no consent to text"
    if reason == "already in conversation":
        return "skipped: already in conversation (the first message goes out once)"
    if reason == "a human is in the conversation":
        return "skipped: a person on the team is in the conversation (the AI pauses)"
    return f"skipped: {reason}" if reason else f"{action}"


def _until(reason: str, timezone: str | None) -> str:
    """'until 08:00 America/New_York' from the engine's 'quiet hours until <ISO UTC>'."""
    stamp = reason.rsplit(" ", 1)[-1]
    try:
        opens = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return f"({reason})"
    if timezone:
        try:
            local = opens.astimezone(ZoneInfo(timezone))
            return f"until {local:%H:%M} {timezone}"
        except (KeyError, ValueError):
            pass
    return f"until {opens:%H:%M} UTC"


def intake_words(status: int, answer: Any) -> str | None:
    """The outcome when the intake itself decided (nothing for the worker), else None."""
    kind = answer.get("status") if isinstance(answer, dict) else None
    if status == 401:
        return "refused (401): the signature does not match the body; nothing stored"
    if status == 400:
        return "refused (400): not JSON; nothing stored"
    if status == 422:
        return f"refused (422): {answer.get('error', 'invalid fields')}"
    if status >= 300:
        return f"refused ({status}): {answer}"
    if kind == "duplicate":
        return "duplicate: already taken (stored once, queued once; never answered twice)"
    if kind == "recorded":
        return "recorded only (a GHL event we keep but have no work for)"
    if kind == "unknown":
        return "kept and acknowledged: an event type we do not know (so GHL never retries it)"
    return None


# -- the running stack ---------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    json: Any


class Stack:
    """The local stack as ``make run`` left it in .local/stack.json."""

    def __init__(self, state: dict[str, Any]) -> None:
        import boto3

        aws = {
            "endpoint_url": state["aws_endpoint_url"],
            "region_name": state["region"],
            "aws_access_key_id": "local",
            "aws_secret_access_key": devkeys.MOTO_SECRET_ACCESS_KEY,
        }
        self.dynamodb, self.sqs = boto3.client("dynamodb", **aws), boto3.client("sqs", **aws)
        self.state = state
        self.location = str(state["location_id"])
        self.queues: dict[str, str] = dict(state["queues"])
        self.jobs = self.queues["JobsQueue"]
        self.api = httpx.Client(base_url=state["api_url"], timeout=10)
        ghl_url = str(state["ghl_api_base_url"])
        self.ghl = (
            httpx.Client(base_url=ghl_url, timeout=10)
            if ghl_url.startswith("http://127.0.0.1")
            else None
        )
        self._dead_letter = self._dead_letter_queues()

    def close(self) -> None:
        self.api.close()
        if self.ghl is not None:
            self.ghl.close()

    # -- queues ----------------------------------------------------------------------------------
    def _dead_letter_queues(self) -> set[str]:
        """The queues that are another queue's DLQ (nothing consumes them)."""
        targets = set()
        for url in self.queues.values():
            attrs = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
            policy = attrs.get("Attributes", {}).get("RedrivePolicy")
            if policy:
                targets.add(json.loads(policy)["deadLetterTargetArn"].rsplit(":", 1)[-1])
        return {name for name, url in self.queues.items() if url.rsplit("/", 1)[-1] in targets}

    def depth(self, url: str) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    def wait(self, seconds: float = 15) -> bool:
        """Until the job queue (the worker's: webhooks, forms) is empty."""
        return self._until_empty([self.jobs], seconds)

    def wait_all(self, seconds: float = 20) -> bool:
        """Until every consumed queue is empty (the worker's, the scoring function's, ...)."""
        consumed = [url for name, url in self.queues.items() if name not in self._dead_letter]
        return self._until_empty(consumed, seconds)

    def _until_empty(self, urls: list[str], seconds: float) -> bool:
        """Delayed messages (a lead held for quiet hours) are not counted: they wait on
        purpose."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if all(self.depth(url) == 0 for url in urls):
                return True
            time.sleep(0.2)
        return False

    # -- what the worker did -----------------------------------------------------------------
    def job_results(self, job_id: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The worker's results for a job (``track``, ``converse``), from its idempotency
        records: Powertools keys them ``<function>#<md5 of the JSON job id>``."""
        table = self.state["tables"].get("IdempotencyTable")
        if not table:
            return None, None
        suffix = "#" + hashlib.md5(json.dumps(job_id).encode(), usedforsecurity=False).hexdigest()
        found: dict[str, dict[str, Any]] = {}
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="contains(#k, :h)",
            ExpressionAttributeNames={"#k": "id"},
            ExpressionAttributeValues={":h": {"S": suffix}},
        )
        for page in pages:
            for item in page["Items"]:
                key, data = item["id"]["S"], item.get("data", {}).get("S")
                if not key.endswith(suffix) or not data:
                    continue
                for step in ("track", "converse"):
                    if key.removesuffix(suffix).endswith(step):
                        found[step] = json.loads(data)
        return found.get("track"), found.get("converse")

    # -- intake ------------------------------------------------------------------------------
    def post(self, path: str, body: bytes, headers: dict[str, str]) -> Response:
        response = self.api.post(path, content=body, headers=headers)
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        return Response(response.status_code, answer)

    def lead(self, contact_id: str) -> dict[str, Any] | None:
        auth = {"Authorization": f"Bearer {devkeys.API_KEY}"}
        response = self.api.get(f"/leads/{contact_id}", headers=auth)
        return response.json() if response.status_code == 200 else None

    def recommendations(self, contact_id: str, k: int = 3) -> dict[str, Any] | None:
        auth = {"Authorization": f"Bearer {devkeys.API_KEY}"}
        path = f"/leads/{contact_id}/recommendations"
        response = self.api.get(path, params={"k": k}, headers=auth)
        return response.json() if response.status_code == 200 else None

    # -- the GHL stand-in --------------------------------------------------------------------
    def sent_to(self, contact_id: str) -> list[str]:
        """SMS bodies GHL accepted from us for the contact (oldest first)."""
        if self.ghl is not None:
            found = self.ghl.get("/_standin/messages", params={"contactId": contact_id})
            if found.status_code == 200:
                return [
                    m["body"]
                    for m in found.json()["messages"]
                    if m["direction"] == "outbound" and m["messageType"] == "TYPE_SMS"
                ]
        lead = self.lead(contact_id) or {}
        return [m["body"] for m in lead.get("lastMessages", []) if m["direction"] == "outbound"]

    def contact(self, contact_id: str) -> tuple[dict[str, Any] | None, bool]:
        """The stand-in's contact and whether it created it on its own."""
        if self.ghl is None:
            return None, False
        found = self.ghl.get(f"/_standin/contacts/{contact_id}")
        if found.status_code != 200:
            return None, False
        body = found.json()
        return body["contact"], bool(body.get("autoCreated"))

    def contact_by_phone(self, phone: str) -> dict[str, Any] | None:
        assert self.ghl is not None
        found = self.ghl.get("/_standin/contacts", params={"phone": phone}).json()["contacts"]
        return found[0] if found else None

    def fresh_phone(self) -> str:
        """A fictional number (555-01xx) no contact of the stand-in has yet."""
        assert self.ghl is not None
        taken = {c.get("phone") for c in self.ghl.get("/_standin/contacts").json()["contacts"]}
        for area in FRESH_AREA_CODES:
            for n in range(100, 200):
                phone = f"+1{area}5550{n}"
                if phone not in taken:
                    return phone
        raise SystemExit("the stand-in has used every fictional number: restart `make run`")

    def create_contact(self, **fields: Any) -> dict[str, Any]:
        """Create a contact in GHL (the stand-in), as a person or an import would."""
        assert self.ghl is not None
        body = {"locationId": self.location, **fields}
        created = self.ghl.post("/contacts/upsert", json=body, headers=STANDIN_HEADERS)
        created.raise_for_status()
        return dict(created.json()["contact"])

    def update_contact(self, contact_id: str, **fields: Any) -> None:
        assert self.ghl is not None
        path = f"/contacts/{contact_id}"
        self.ghl.put(path, json=fields, headers=STANDIN_HEADERS).raise_for_status()


#: Southern California area codes for the story's fresh contacts (numbers in 555-0100..0199).
FRESH_AREA_CODES = ("909", "951", "626", "760", "442", "562", "714", "657", "949", "818")


# -- one step ------------------------------------------------------------------------------------


class Story:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def heading(self, text: str) -> None:
        print(f"\n━━ {text}")

    def step(
        self,
        story: str,
        path: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        *,
        contact_id: str | None = None,
        label: str = "",
        sign: bool = True,
    ) -> Response:
        """Post one delivery, wait for the worker and say what happened to the lead."""
        headers = {"content-type": "application/json", **(headers or {})}
        if sign and path == "/webhooks/ghl":
            headers["x-ghl-signature"] = devkeys.sign(body)
        before = len(self.stack.sent_to(contact_id)) if contact_id else 0
        response = self.stack.post(path, body, headers)
        print(f"\n▶ {story}")
        answer = response.json
        shown = (
            answer.get("status", "")
            if isinstance(answer, dict) and response.status < 300
            else json.dumps(answer)
            if isinstance(answer, dict)
            else answer
        )
        print(f"  POST {path}{f' {label}' if label else ''} → {response.status} {shown}")
        words = intake_words(response.status, answer)
        if words is not None:
            print(f"  → {words}")
            return response
        busy = "" if self.stack.wait() else " (the worker is still busy)"
        print(f"  → {self.outcome(answer.get('id'), contact_id, before)}{busy}")
        return response

    def outcome(self, job_id: str | None, contact_id: str | None, before: int) -> str:
        track, converse = self.stack.job_results(job_id) if job_id else (None, None)
        reply = None
        if contact_id:
            sent = self.stack.sent_to(contact_id)
            reply = sent[-1] if len(sent) > before else None
        timezone = None
        if contact_id and converse and converse.get("action") == "held":
            contact, _ = self.stack.contact(contact_id)
            timezone = (contact or {}).get("timezone")
        return explain(track, converse, reply=reply, timezone=timezone)


# -- the samples, made into one lead's story ----------------------------------------------------


def _sample(name: str) -> tuple[str, dict[str, Any], dict[str, str]]:
    event = json.loads((EVENTS / name).read_text())
    body = event["body"].encode()
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    headers = {
        k: v for k, v in event["headers"].items() if k not in ("content-length", "x-ghl-signature")
    }
    return event["rawPath"], json.loads(body), headers


@dataclass(frozen=True)
class StoryLead:
    contact_id: str
    first_name: str
    last_name: str
    phone: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def _fresh(payload: dict[str, Any], lead: StoryLead, location: str) -> dict[str, Any]:
    """The sample with this run's ids: our location, our lead, fresh webhook/message ids."""
    p = copy.deepcopy(payload)
    inner = p["data"] if isinstance(p.get("data"), dict) else p
    if "webhookId" in p:
        p["webhookId"] = str(uuid.uuid4())
    for target in [p] if inner is p else [p, inner]:
        if "locationId" in target:
            target["locationId"] = location
        if "contactId" in target:
            target["contactId"] = lead.contact_id
        for key in ("messageId", "emailMessageId"):
            if key in target:
                target[key] = _ghl_id()
        if "conversationId" in target:
            target["conversationId"] = _ghl_id()
    if str(p.get("type", "")).startswith("Contact"):
        p["id"] = lead.contact_id
    return p


def _contact_fields(lead: StoryLead) -> dict[str, Any]:
    return {
        "firstName": lead.first_name,
        "lastName": lead.last_name,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
    }


def _lead_story(story: Story, run: str) -> bytes | None:
    """A new lead in GHL, through every sample shape. Returns one inbound SMS body (signed
    again later to show a repeated delivery)."""
    stack = story.stack
    location = stack.location
    story.heading("a new lead in GHL, event by event (the samples in events/, with fresh ids)")
    if stack.ghl is None:
        lead = StoryLead(
            _ghl_id(), "Andrea", "Castillo", "+19095550199", f"andrea.castillo+{run}@example.com"
        )
    else:
        phone = stack.fresh_phone()
        email = f"andrea.castillo+{run}@example.com"
        created = stack.create_contact(
            firstName="Andrea",
            lastName="Castillo",
            name="Andrea Castillo",
            email=email,
            phone=phone,
            city="Rancho Cucamonga",
            state="CA",
            postalCode="91730",
            country="US",
            source="Zillow",
            timezone="America/Los_Angeles",
            tags=["buyer"],
        )
        lead = StoryLead(created["id"], "Andrea", "Castillo", phone, email)
    cid = lead.contact_id

    def send(sample: str, text: str, /, **changes: Any) -> bytes:
        path, payload, headers = _sample(sample)
        payload = _fresh(payload, lead, location)
        inner = payload["data"] if isinstance(payload.get("data"), dict) else payload
        inner.update(changes)
        body = json.dumps(payload).encode()
        label = f"{payload.get('type', 'workflow')} ({sample})"
        story.step(text, path, body, headers, contact_id=cid, label=label)
        return body

    now = _now_iso()
    contact = {
        **_contact_fields(lead),
        "address1": "10532 Church St",
        "city": "Rancho Cucamonga",
        "state": "CA",
        "postalCode": "91730",
        "country": "US",
        "source": "Zillow",
        "dateAdded": now,
        "dnd": False,
        "tags": ["buyer"],
        "assignedTo": "user-jorge",
        "customFields": [],
    }
    path, payload, headers = _sample("contact_create.json")
    payload = _fresh(payload, lead, location)
    for lorem in ("companyName", "dateOfBirth", "website"):
        payload.pop(lorem, None)
    payload.update(contact)
    story.step(
        f"a new lead arrives in GHL: {lead.name} of Rancho Cucamonga (contact {cid})",
        path,
        json.dumps(payload).encode(),
        headers,
        contact_id=cid,
        label="ContactCreate (contact_create.json)",
    )
    send(
        "contact_update.json",
        "the agent edits the contact (time zone, tags)",
        **_contact_fields(lead),
        timezone="America/Los_Angeles",
        tags=["buyer", "rancho-cucamonga"],
        dnd=False,
    )
    sms = send(
        "inbound_sms.json",
        "the lead texts in",
        body="Hi! Is the 4 bedroom on Banyan St still available?",
        dateAdded=_now_iso(),
        **{"from": lead.phone, "to": "+19095550100"},
    )
    send(
        "inbound_sms_data_wrapped.json",
        "another text, in the `data`-wrapped shape",
        body="We'd like to buy in the next 2 months",
        dateAdded=_now_iso(),
        **{"from": lead.phone, "to": "+19095550100"},
    )
    send(
        "outbound_sms.json",
        "a text goes out from GHL (outbound: never answered)",
        body="Here are two more 4-bedrooms in Etiwanda for you.",
        dateAdded=_now_iso(),
    )
    mail = {
        "body": "<div>Could you send me the HOA details for the Banyan St house?</div>",
        "subject": "HOA question",
        "from": f"{lead.name} <{lead.email}>",
        "dateAdded": _now_iso(),
    }
    send("inbound_email.json", "the lead emails (`to` as a string)", **mail, to="agent@example.com")
    send(
        "inbound_email_to_list.json",
        "the lead emails again (`to` as a list)",
        **mail,
        to=["agent@example.com", "team@example.com"],
    )
    send(
        "inbound_call.json",
        "the lead calls the office",
        dateAdded=_now_iso(),
        **{"from": lead.phone, "to": "+19095550100"},
    )
    path, payload, headers = _sample("appointment_create.json")
    payload["locationId"] = location
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    payload["appointment"].update(
        id=_ghl_id(),
        title=f"Showing: 6789 Banyan St ({lead.name})",
        address="6789 Banyan St, Rancho Cucamonga, CA 91739",
        contactId=cid,
        groupId=_ghl_id(),
        users=["user-jorge"],
        assignedUserId="user-jorge",
        notes="Bring the pre-approval letter.",
        startTime=start.isoformat(),
        endTime=(start + timedelta(hours=1)).isoformat(),
        dateAdded=_now_iso(),
        dateUpdated=_now_iso(),
    )
    story.step(
        "a showing is booked",
        path,
        json.dumps(payload).encode(),
        headers,
        contact_id=cid,
        label="AppointmentCreate (appointment_create.json)",
    )
    send(
        "opportunity_stage_update.json",
        "the opportunity moves stage",
        id=_ghl_id(),
        name=f"{lead.name} (buy)",
        monetaryValue=849000,
        source="Zillow",
        dateAdded=_now_iso(),
    )
    send(
        "note_create.json",
        "the agent adds a note",
        id=_ghl_id(),
        body="Prefers texts after 5pm; wants a yard for the dog.",
        dateAdded=_now_iso(),
    )
    path, payload, headers = _sample("unknown_event.json")
    payload.update(locationId=location, webhookId=str(uuid.uuid4()), invoiceId=f"inv_{run}")
    story.step(
        "an event type we do not know (an invoice is paid)",
        path,
        json.dumps(payload).encode(),
        headers,
        label=f"{payload['type']} (unknown_event.json)",
    )
    path, payload, headers = _sample("workflow_webhook_tag_trigger.json")
    payload.update(
        contact_id=cid,
        first_name=lead.first_name,
        last_name=lead.last_name,
        full_name=lead.name,
        email=lead.email,
        phone=lead.phone,
        tags="buyer,needs qualifying",
        country="US",
        date_created=_now_iso(),
        customData={"lead_source": "zillow"},
    )
    payload["location"].update(
        name="Jorge's Team",
        address="10500 Civic Center Dr",
        city="Rancho Cucamonga",
        state="CA",
        country="US",
        postalCode="91730",
        fullAddress="10500 Civic Center Dr, Rancho Cucamonga CA 91730",
        id=location,
    )
    story.step(
        "a GHL workflow adds the tag `needs qualifying` (Webhook action)",
        path,
        json.dumps(payload).encode(),
        {**headers, "x-webhook-secret": devkeys.WORKFLOW_SECRET},
        contact_id=cid,
        label="WorkflowWebhook (workflow_webhook_tag_trigger.json)",
    )
    dnd = {"status": "active", "message": "Asked by phone not to be texted", "code": "101"}
    off = {"status": "inactive", "message": "", "code": "101"}
    channels = {ch: dict(off) for ch in ("Call", "Email", "GMB", "FB", "WhatsApp")}
    settings = {"SMS": dnd, **channels}
    if stack.ghl is not None:
        stack.update_contact(cid, dndSettings=settings)
    send(
        "contact_dnd_update.json",
        "the lead asks, by phone, not to be texted: the agent turns on DND for SMS",
        **_contact_fields(lead),
        dnd=False,
        dndSettings=settings,
    )
    send(
        "inbound_sms.json",
        "the lead texts again (DND for SMS is on)",
        body="One more thing: does it have a 3-car garage?",
        dateAdded=_now_iso(),
        **{"from": lead.phone, "to": "+19095550100"},
    )
    path, payload, headers = _sample("contact_delete.json")
    payload = _fresh(payload, lead, location)
    payload.update(email=lead.email, name=lead.name)
    story.step(
        "the contact is deleted in GHL",
        path,
        json.dumps(payload).encode(),
        headers,
        contact_id=None,
        label="ContactDelete (contact_delete.json)",
    )
    return sms


def _deliveries(story: Story, sms: bytes) -> None:
    story.heading("deliveries the intake refuses or has already taken")
    story.step(
        "GHL retries a delivery it already made",
        "/webhooks/ghl",
        sms,
        label="InboundMessage (the same bytes again)",
    )
    signature = devkeys.sign(sms)
    tampered = sms.replace(b"Banyan St", b"BANYAN ST")
    story.step(
        "a body altered after signing",
        "/webhooks/ghl",
        tampered,
        {"x-ghl-signature": signature},
        sign=False,
    )
    junk = b'{"type": "InboundMessage",'
    story.step("malformed JSON (validly signed)", "/webhooks/ghl", junk)


def _inbound(location: str, contact_id: str, text: str, phone: str | None = None) -> bytes:
    payload = {
        "type": "InboundMessage",
        "locationId": location,
        "contactId": contact_id,
        "conversationId": _ghl_id(),
        "messageId": _ghl_id(),
        "body": text,
        "contentType": "text/plain",
        "direction": "inbound",
        "messageType": "SMS",
        "status": "delivered",
        "dateAdded": _now_iso(),
        "to": "+19095550100",
    }
    if phone:
        payload["from"] = phone
    return json.dumps(payload).encode()


def _newcomer(story: Story) -> None:
    stack = story.stack
    story.heading("someone GHL has never seen texts the agent's number")
    if stack.ghl is None:
        print("  (skipped: the stack talks to real GHL)")
        return
    cid = _ghl_id()
    body = _inbound(stack.location, cid, "Hi, saw your sign on Haven Ave. Still for sale?")
    story.step(
        f"an SMS from a new number (GHL creates contact {cid}, then sends the webhook)",
        "/webhooks/ghl",
        body,
        contact_id=cid,
        label="InboundMessage",
    )
    contact, auto = stack.contact(cid)
    if contact and auto:
        print(
            f"  (the GHL stand-in created the contact when the worker asked for it: "
            f"{contact.get('contactName')}, {contact.get('phone')}, {contact.get('timezone')})"
        )


#: Time zones a lead may be in, and a lead from there (first choice first).
NIGHT_LEADS = (
    ("America/New_York", "Brandon", "Mitchell", "New York"),
    ("America/Chicago", "Tanya", "Brooks", "Chicago"),
    ("Pacific/Honolulu", "Keoni", "Kahale", "Honolulu"),
    ("Europe/London", "Oliver", "Bennett", "London"),
    ("Asia/Manila", "Maricel", "Santos", "Manila"),
)


#: Where a relocating lead's phone may still be, for a text that must go out in daytime.
DAY_ZONES = (
    ("America/Los_Angeles", "Los Angeles"),
    ("America/New_York", "New York"),
    ("Europe/London", "London"),
    ("Asia/Manila", "Manila"),
    ("Pacific/Honolulu", "Honolulu"),
    ("Asia/Tokyo", "Tokyo"),
)


def day_zone(now: datetime) -> tuple[str, str]:
    """The first of :data:`DAY_ZONES` where it is between 09:00 and 20:00 now."""
    for zone, city in DAY_ZONES:
        if QUIET_START + 1 <= now.astimezone(ZoneInfo(zone)).hour < QUIET_END - 1:
            return zone, city
    return DAY_ZONES[0]


def night_zone(now: datetime, start: int = QUIET_START, end: int = QUIET_END) -> tuple[str, ...]:
    """The first of :data:`NIGHT_LEADS` where it is outside [start, end) now (else the first)."""
    for lead in NIGHT_LEADS:
        if not start <= now.astimezone(ZoneInfo(lead[0])).hour < end:
            return lead
    return NIGHT_LEADS[0]


def _quiet_hours(story: Story, run: str) -> None:
    stack = story.stack
    story.heading("a new lead where it is night: the first message waits for 08:00 there")
    if stack.ghl is None:
        print("  (skipped: the stack talks to real GHL)")
        return
    zone, first, last, city = night_zone(datetime.now(UTC))
    local = datetime.now(ZoneInfo(zone))
    phone = stack.fresh_phone()
    email = f"{first}.{last}+{run}@example.com".lower()
    created = stack.create_contact(
        firstName=first,
        lastName=last,
        name=f"{first} {last}",
        phone=phone,
        email=email,
        timezone=zone,
        source="Relocation referral",
        tags=["buyer", "relocation"],
    )
    payload = {
        "type": "ContactCreate",
        "locationId": stack.location,
        "id": created["id"],
        "firstName": first,
        "lastName": last,
        "name": f"{first} {last}",
        "email": email,
        "phone": phone,
        "timezone": zone,
        "source": "Relocation referral",
        "tags": ["buyer", "relocation"],
        "dnd": False,
        "dateAdded": _now_iso(),
    }
    story.step(
        f"{first} {last}, moving from {city}, is added in GHL at {local:%H:%M} {zone} time",
        "/webhooks/ghl",
        json.dumps(payload).encode(),
        contact_id=created["id"],
        label="ContactCreate",
    )


BUYER_TURNS = [
    "Hi! We saw your listing on Zillow, we're looking to buy a home",
    "probably within 2 months",
    "Rancho Cucamonga or Upland",
    "around 650k",
    "are you a bot?",
    "yes, pre-approved with Chase",
    "3 bedrooms, need a garage",
]


def _conversation(story: Story, run: str) -> None:
    """A lead texting in and being qualified, turn by turn."""
    stack = story.stack
    story.heading("a lead texts in and is qualified, turn by turn")
    if stack.ghl is None:
        print("  (skipped: the stack talks to real GHL)")
        return
    phone = stack.fresh_phone()
    contact = stack.create_contact(
        firstName="Maria",
        lastName="Lopez",
        name="Maria Lopez",
        phone=phone,
        email=f"maria.lopez+{run}@example.com",
    )
    cid = contact["id"]
    print(f"  Maria Lopez (contact {cid}, {phone})")
    for text in BUYER_TURNS:
        before = len(stack.sent_to(cid))
        body = _inbound(stack.location, cid, text, phone)
        headers = {"content-type": "application/json", "x-ghl-signature": devkeys.sign(body)}
        response = stack.post("/webhooks/ghl", body, headers)
        stack.wait()
        print(f"  lead: {text}")
        answer = response.json if isinstance(response.json, dict) else {}
        words = intake_words(response.status, answer) or story.outcome(
            answer.get("id"), cid, before
        )
        if words.startswith("replied: "):
            print(f"  AI:   {words.removeprefix('replied: ').strip(chr(34))}")
        else:
            print(f"  → {words}")
    lead = stack.lead(cid) or {}
    answers = ", ".join(f"{k}={v['text']}" for k, v in (lead.get("answers") or {}).items())
    print(
        f"  GET /leads/{cid} → intent={lead.get('intent')}, "
        f"temperature={lead.get('temperature')}, {answers}"
    )


def _form(story: Story, run: str) -> None:
    stack = story.stack
    story.heading("a website (Lyrio) form with consent")
    if stack.ghl is None:
        print("  (skipped: the stack talks to real GHL)")
        return
    form = json.loads((EVENTS / "lyrio_form_json.json").read_text())
    fields = json.loads(form["body"])
    phone = stack.fresh_phone()
    fields.update(
        first_name="Vanessa",
        last_name="Ortiz",
        email=f"vanessa.ortiz+{run}@example.com",
        phone=f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}",
        budget="$600k to $700k",
        timeline="within 3 months",
        message="We'd love to see the Fontana house on Sierra Lakes Pkwy this weekend.",
        listing_id="IV26019275",
        source_page="https://lyrio.example.com/listings/IV26019275",
    )
    headers = {k: v for k, v in form["headers"].items() if k != "content-length"}
    body = json.dumps(fields).encode()
    posted = stack.post("/forms/lyrio", body, headers)
    print("\n▶ Vanessa Ortiz asks about a Fontana listing and ticks the consent box")
    print(f"  POST /forms/lyrio → {posted.status} {posted.json}")
    words = intake_words(posted.status, posted.json)
    if words:
        print(f"  → {words}")
        return
    stack.wait()
    contact = stack.contact_by_phone(phone)
    cid = contact["id"] if contact else None
    job = posted.json.get("id") if isinstance(posted.json, dict) else None
    outcome = story.outcome(job, cid, 0)
    if cid:
        print(f"  (the worker created contact {cid} in GHL, tagged lyrio, website-lead)")
    print(f"  → {outcome}")


def _poison(story: Story) -> None:
    stack = story.stack
    story.heading("a poison job on the queue: retried, then parked in JobsDLQ")
    dlq = stack.queues["JobsDLQ"]
    before = stack.depth(dlq)
    stack.sqs.send_message(QueueUrl=stack.jobs, MessageBody='{"not": "a job"}')
    print("  (takes a few visibility timeouts)")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and stack.depth(dlq) <= before:
        time.sleep(1)
    if stack.depth(dlq) > before:
        print("  → parked in JobsDLQ after 5 receives (one more message there); the rest ran on")
    else:
        print(f"  → not in JobsDLQ yet (JobsQueue holds {stack.depth(stack.jobs)})")


def _score(story: Story, run: str) -> None:
    """A lead browsing the agent's website in sittings; its score after each."""
    stack = story.stack
    story.heading("a lead browses the website and its score rises")
    template = demo_data.CONTACTS[0]
    if stack.ghl is None:
        print("  (skipped: the stack talks to real GHL)")
        return
    phone = stack.fresh_phone()
    created = stack.create_contact(
        firstName="Sofia",
        lastName="Ramirez",
        name="Sofia Ramirez",
        phone=phone,
        email=f"sofia.ramirez+{run}@example.com",
        city=template.city,
        state="CA",
        postalCode=template.postal_code,
        timezone=template.timezone,
        source="Lyrio website",
        tags=["buyer"],
    )
    cid = created["id"]
    lead = replace(
        template,
        contact_id=cid,
        first_name="Sofia",
        last_name="Ramirez",
        phone=phone,
        visitor_id=f"lv-{uuid.uuid4().hex[:16]}",
    )
    payload = {
        "type": "ContactCreate",
        "locationId": stack.location,
        "id": cid,
        "firstName": "Sofia",
        "lastName": "Ramirez",
        "name": "Sofia Ramirez",
        "phone": phone,
        "email": created.get("email"),
        "timezone": template.timezone,
        "source": "Lyrio website",
        "tags": ["buyer"],
        "dnd": False,
        "dateAdded": _now_iso(),
    }
    story.step(
        f"Sofia Ramirez signs up on the website (contact {cid}); she browses like the demo's "
        f"{template.first_name}: {template.story}",
        "/webhooks/ghl",
        json.dumps(payload).encode(),
        contact_id=cid,
        label="ContactCreate",
    )
    now = datetime.now(UTC)
    for burst in bursts(demo_data.sessions_for(lead, now)):
        when = _span(now, burst)
        kinds = ", ".join(_count(burst))
        response = stack.api.post(
            "/events", json={"siteKey": devkeys.SITE_KEY, "events": burst}, timeout=10
        )
        print(f"\n▶ on the website {when}: {kinds}")
        print(f"  POST /events ({len(burst)} events) → {response.status_code} {_json(response)}")
        if response.status_code == 404:
            print("  (POST /events is not there yet: no behaviour events, no score)")
            return
        if response.status_code >= 300:
            return
        busy = "" if stack.wait_all() else " (still busy: see the `make run` terminal)"
        print(f"  → {score_words(stack.lead(cid))}{busy}")


def _matches(story: Story, run: str) -> None:
    """A lead's listing matches: from its form alone, then as it browses, then texted."""
    stack = story.stack
    story.heading("a lead's home matches change as it browses, then go out by text")
    if stack.ghl is None:
        print("  (skipped: the stack talks to real GHL)")
        return
    # He is relocating: his phone keeps the time zone where it is daytime now, so the text can
    # go out (quiet hours hold it otherwise; the quiet-hours step above shows that).
    zone, city = day_zone(datetime.now(UTC))
    phone = stack.fresh_phone()
    stack.create_contact(
        firstName="Marcus", lastName="Lee", phone=phone, timezone=zone, source="Lyrio website"
    )
    form = json.loads((EVENTS / "lyrio_form_json.json").read_text())
    fields = json.loads(form["body"])
    fields.update(
        first_name="Marcus",
        last_name="Lee",
        email=f"marcus.lee+{run}@example.com",
        phone=f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}",
        intent="buy",
        budget="up to $700k",
        timeline="within 3 months",
        message="Looking for a family home, 4 bedrooms.",
        listing_id="",
        source_page="https://lyrio.example.com/search",
    )
    headers = {k: v for k, v in form["headers"].items() if k != "content-length"}
    posted = stack.post("/forms/lyrio", json.dumps(fields).encode(), headers)
    print(
        f"\n▶ Marcus Lee, relocating from {city} ({zone}), fills in the website form: buying, "
        "up to $700k, within 3 months"
    )
    print(f"  POST /forms/lyrio → {posted.status} {posted.json}")
    stack.wait_all()
    contact = stack.contact_by_phone(phone)
    if contact is None:
        print("  (no contact was created: see the `make run` terminal)")
        return
    cid = contact["id"]
    first = stack.recommendations(cid)
    print(f"\n▶ GET /leads/{cid}/recommendations?k=3 (from the form alone)")
    if first is None:
        print("  (the recommendations route is not answering)")
        return
    print(matches_words(first))

    # He browses 4-bed homes around Ontario and Fontana: long looks, a save.
    browsed = ["IV26020941", "IV26019275", "IV26017733"]
    now = datetime.now(UTC)
    events = []
    for i, key in enumerate(browsed):
        at = now - timedelta(minutes=30 - 5 * i)
        events.append(
            {
                "type": "property_view",
                "timestamp": at.isoformat().replace("+00:00", "Z"),
                "eventId": f"demo-{run}-view-{i}",
                "visitorId": f"lv-{run}-marcus",
                "contactId": cid,
                "propertyId": key,
                "dwellSeconds": 150,
            }
        )
    events.append({**events[1], "type": "property_save", "eventId": f"demo-{run}-save"})
    response = stack.api.post(
        "/events", json={"siteKey": devkeys.SITE_KEY, "events": events}, timeout=10
    )
    print(
        f"\n▶ on the website: Marcus looks at 3 homes in Ontario and Fontana ({', '.join(browsed)})"
        " for minutes each and saves one"
    )
    print(f"  POST /events ({len(events)} events) → {response.status_code} {_json(response)}")
    stack.wait_all()
    second = stack.recommendations(cid)
    print(f"\n▶ GET /leads/{cid}/recommendations?k=3 (after browsing)")
    if second is not None:
        print(matches_words(second))
        before = [r["listingKey"] for r in first["recommendations"]]
        after = [r["listingKey"] for r in second["recommendations"]]
        print(f"  (changed: {before} → {after})" if before != after else "  (unchanged)")

    tag = {
        "type": "ContactTagUpdate",
        "locationId": stack.location,
        "id": cid,
        "tags": ["lyrio", "website-lead", "send matches"],
        "webhookId": f"demo-{run}-matches",
        "timestamp": _now_iso(),
    }
    before_texts = len(stack.sent_to(cid))
    story.step(
        'A GHL workflow adds the tag "send matches" to Marcus',
        "/webhooks/ghl",
        json.dumps(tag).encode(),
        contact_id=cid,
        label="ContactTagUpdate",
    )
    stack.wait_all()
    texts = stack.sent_to(cid)[before_texts:]
    matches = [t for t in texts if "homes that fit" in t or "a home that fits" in t]
    if matches:
        print("  → the RecommendationsFunction texted him:")
        for line in matches[-1].splitlines():
            print(f"      {line}")
    else:
        print("  → no matches text (quiet hours in his time zone hold it: it goes at 08:00)")


def _nurture(story: Story, run: str) -> None:
    """A new lead's follow-up sequence advancing on the workflow engine, then ending on a
    reply (waits run LOCAL_TIME_SCALE times faster: `LOCAL_TIME_SCALE=3600 make run`)."""
    stack = story.stack
    story.heading("a new lead's follow-ups run on the workflow engine and stop when it replies")
    if stack.ghl is None:
        print("  (skipped: the stack talks to real GHL)")
        return
    scale = float(stack.state.get("time_scale") or 1)
    zone, city = day_zone(datetime.now(UTC))
    phone = stack.fresh_phone()
    created = stack.create_contact(
        firstName="Nora", lastName="Quinn", phone=phone, timezone=zone, source="Zillow"
    )
    cid = created["id"]
    payload = {
        "type": "ContactCreate",
        "locationId": stack.location,
        "id": cid,
        "firstName": "Nora",
        "lastName": "Quinn",
        "phone": phone,
        "timezone": zone,
        "source": "Zillow",
        "dateAdded": _now_iso(),
    }
    story.step(
        f"a new lead, Nora Quinn (in {city}, {zone}), arrives from Zillow",
        "/webhooks/ghl",
        json.dumps(payload).encode(),
        contact_id=cid,
        label="ContactCreate",
    )
    stack.wait_all()
    print(f"  → workflows now running for her: {', '.join(workflow_words(stack, cid)) or 'none'}")
    sent = len(stack.sent_to(cid))
    steps = (
        ("5-minute nudge (speed_to_lead)", 300, "5 minutes"),
        ("24-hour follow-up (no_reply_followup)", 86400, "24 hours"),
    )
    for label, seconds, after in steps:
        real = seconds / scale
        if real > 40:
            print(
                f"  (the {label} goes {after} after the first text; at "
                f"LOCAL_TIME_SCALE={scale:g} that is {real:,.0f} s away — "
                "`LOCAL_TIME_SCALE=3600 make run` shows it at once)"
            )
            break
        deadline = time.monotonic() + real + 10
        while time.monotonic() < deadline and len(stack.sent_to(cid)) <= sent:
            time.sleep(0.5)
        texts = stack.sent_to(cid)
        if len(texts) > sent:
            print(f"\n▶ the {label}, {after} after the first text (on the scaled clock):")
            print(f'  → sent: "{texts[-1]}"')
            sent = len(texts)
    story.step(
        'Nora replies "Hi! Yes, looking for a 3 bed in Ontario."',
        "/webhooks/ghl",
        _inbound(stack.location, cid, "Hi! Yes, looking for a 3 bed in Ontario.", phone),
        contact_id=cid,
        label="InboundMessage",
    )
    stack.wait_all()
    print(f"  → her workflows: {', '.join(workflow_words(stack, cid))}")


def _churn(story: Story, run: str) -> None:
    """A lead gone quiet for two months: the daily churn sweep flags it and a re-engagement play
    starts (or, for the random 10 % holdout, deliberately does not)."""
    from ghl_ai.adapters.dynamo import BehaviourEventStore, LeadStore
    from ghl_ai.adapters.queue import JobQueue
    from ghl_ai.churn.sweep import ChurnSweep
    from ghl_ai.jobs import ScoringJob
    from ghl_ai.leads.models import BehaviourEvent, LeadKey
    from ghl_ai.observability import logger
    from ghl_ai.workflows.catalogue import builtin
    from ghl_ai.workflows.experiments import assign

    stack = story.stack
    story.heading("a lead gone quiet is flagged by the daily churn sweep and a play starts")
    if stack.ghl is None or "ChurnQueue" not in stack.queues:
        print("  (skipped: the stack talks to real GHL, or has no churn functions)")
        return
    zone, city = day_zone(datetime.now(UTC))
    phone = stack.fresh_phone()
    created = stack.create_contact(
        firstName="Dale",
        lastName="Porter",
        phone=phone,
        email=f"dale.porter+{run}@example.com",
        timezone=zone,
        source="Lyrio website",
    )
    cid = created["id"]
    print(f"\n▶ Dale Porter (contact {cid}, in {city}) has been in the CRM since the summer")
    # His website history, imported (older than POST /events takes: it refuses events more
    # than 30 days old), then the scoring job a replay queues — which also keeps his activity
    # summary, what the sweep reads instead of his history.
    now = datetime.now(UTC)
    days = [70, 67, 64, 61, 58, 55]
    events = BehaviourEventStore(stack.dynamodb, stack.state["tables"]["EventsTable"])
    events.put_new_batch(
        [
            BehaviourEvent(
                lead=LeadKey(stack.location, cid),
                type="property_view",
                timestamp=now - timedelta(days=d, hours=3),
                event_id=f"demo-dale-{run}-{i}",
                source="import",
                property_id=f"IE-{2400 + i}",
            )
            for i, d in enumerate(days)
        ]
    )
    job = ScoringJob(
        id=f"demo-dale-{run}", received_at=now, location_id=stack.location, contacts=[cid]
    )
    stack.sqs.send_message(QueueUrl=stack.queues["ScoringQueue"], MessageBody=job.model_dump_json())
    print(f"  his website history is imported: {len(days)} visits, 70 to 55 days ago, then nothing")
    stack.wait_all()
    print("\n▶ the daily churn sweep runs (the ChurnSweepFunction's schedule; by hand:")
    print("  `ghl-ai churn sweep`): every lead not scored today goes to the ChurnScoreFunction")
    sweep = ChurnSweep(
        LeadStore(stack.dynamodb, stack.state["tables"]["LeadsTable"]),
        JobQueue(stack.sqs, stack.queues["ChurnQueue"]),
        lambda: [stack.location],
    )
    logger.setLevel("WARNING")  # the sweep's own log line belongs to the `make run` terminal
    report = sweep.run(stack.location)
    print(
        f"  → {report.leads} lead(s) queued in {report.chunks} chunk(s); "
        f"{report.already_scored} already scored today"
    )
    stack.wait_all()
    churn = (stack.lead(cid) or {}).get("churn")
    if not churn:
        print("  → (not scored yet: see the `make run` terminal)")
        return
    print(
        f"  → GET /leads/{cid}: churn tier {churn['tier']} — quiet for 7 / 14 / 30 days: "
        f"{churn['d7']:.0%} / {churn['d14']:.0%} / {churn['d30']:.0%}"
    )
    print(f"    reasons: {'; '.join(churn['reasons'])}")
    contact, _ = stack.contact(cid)
    tags = [t for t in (contact or {}).get("tags", []) if str(t).startswith("churn-risk")]
    print(f"  → in GHL: tag {', '.join(tags) or '(none)'} and the Churn Risk field")
    split = builtin()["re_engage"].step("plays")  # Dale's score is low: not the high-value split
    weights = {v.name: v.weight for v in split.variants}
    variant = assign(split.experiment, f"{stack.location}:{cid}", weights)
    deadline = time.monotonic() + 15
    words: list[str] = []
    while time.monotonic() < deadline:
        words = workflow_words(stack, cid)
        if any(w.startswith("re_engage_") for w in words) or variant == "holdout":
            break
        time.sleep(0.5)
    print(f"  → his workflows: {', '.join(words) or 'none'}")
    if variant == "holdout":
        print("    (Dale drew the 10 % holdout: no play, so the plays' lift is measured honestly)")
    for line in play_words(stack, cid):
        print(f"  → {line}")
    print("  (`ghl-ai workflows report --hours 336` compares the plays with the holdout)")


def play_words(stack: Stack, contact_id: str) -> list[str]:
    """What the lead's churn play did, step by step (from the runs table)."""
    from ghl_ai.adapters.dynamo import WorkflowRunStore

    runs = WorkflowRunStore(stack.dynamodb, stack.state["tables"]["WorkflowRunsTable"])
    words = []
    for run in runs.for_lead(stack.location, contact_id):
        if str(run.get("workflow", "")).startswith("re_engage_"):
            done = [f"{e['step']}: {e['outcome']}" for e in run.get("history") or []]
            words.append(f"{run['workflow']}: {'; '.join(done) or 'started'}")
    return words


def workflow_words(stack: Stack, contact_id: str) -> list[str]:
    """The lead's workflow runs in a few words (from the runs table)."""
    from ghl_ai.adapters.dynamo import WorkflowRunStore

    table = stack.state["tables"].get("WorkflowRunsTable")
    if not table:
        return []
    runs = WorkflowRunStore(stack.dynamodb, table).for_lead(stack.location, contact_id)
    words = []
    for r in runs:
        if r.get("status") == "active":
            words.append(f"{r['workflow']} (next: {r['stepId']})")
        else:
            words.append(f"{r['workflow']} {r['status']} ({r.get('endReason', '')})")
    return words


def matches_words(body: dict[str, Any]) -> str:
    """The route's answer in a few lines: each listing with its reasons and concerns."""
    basis = body.get("basis", {})
    lines = [
        f"  model {body.get('modelVersion')} (content weight {body.get('blend')}), segment "
        f"{body.get('segment')}, from {', '.join(basis.get('stated') or ['nothing said'])} and "
        f"{basis.get('interactions', 0)} listings browsed"
    ]
    for i, r in enumerate(body.get("recommendations", []), 1):
        lines.append(
            f"  {i}) {r['listingKey']} {r.get('city')}, ${r['price']:,.0f}, {r.get('beds')} bd "
            f"— score {r['score']:.2f}: {'; '.join(r['reasons'])}"
            + (f" (but: {'; '.join(r['concerns'])})" if r["concerns"] else "")
        )
    return "\n".join(lines)


def bursts(sessions: list[list[dict[str, Any]]], n: int = 4) -> list[list[dict[str, Any]]]:
    """The sittings in ``n`` bursts (consecutive sittings together), oldest first."""
    size = -(-len(sessions) // n) if sessions else 1
    groups = [sessions[i : i + size] for i in range(0, len(sessions), size)]
    return [[e for sitting in group for e in sitting] for group in groups]


def score_words(lead: dict[str, Any] | None) -> str:
    """The lead's score as ``GET /leads/{id}`` shows it, in a line."""
    if lead is None:
        return "(no lead record yet)"
    if "score" not in lead:
        return "(no score yet: scoring is not running)"
    score = lead["score"]
    if not score:
        return "(not scored yet)"
    reasons = score.get("reasons") or []
    said = "; ".join(str(r.get("text", r) if isinstance(r, dict) else r) for r in reasons)
    return f"score {score.get('value')} ({score.get('temperature')})" + (
        f" because {said}" if said else ""
    )


def _ago(now: datetime, stamp: str) -> tuple[int, str]:
    at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    hours = (now - at).total_seconds() / 3600
    return (max(1, round(hours)), "hours") if hours < 20 else (round(hours / 24), "days")


def _span(now: datetime, events: list[dict[str, Any]]) -> str:
    """When a burst happened: '6 to 5 days ago', '2 hours ago', '7 hours to ...'."""
    (a, unit_a), (b, unit_b) = _ago(now, events[0]["timestamp"]), _ago(now, events[-1]["timestamp"])
    if unit_a == unit_b:
        b_said = f"{b} {unit_b}" if b != 1 else f"1 {unit_b[:-1]}"
        return f"{b_said} ago" if a == b else f"{a} to {b_said} ago"
    return f"{a} {unit_a} to {b} {unit_b if b != 1 else unit_b[:-1]} ago"


def _count(events: list[dict[str, Any]]) -> list[str]:
    kinds: dict[str, int] = {}
    for e in events:
        kinds[e["type"]] = kinds.get(e["type"], 0) + 1
    return [f"{n} {k.replace('_', ' ')}{'s' if n > 1 else ''}" for k, n in kinds.items()]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:200]


def replay() -> int:
    if not STATE.exists():
        print("The local stack is not running: start it with `make run` in another terminal.")
        return 1
    stack = Stack(json.loads(STATE.read_text()))
    story = Story(stack)
    run = uuid.uuid4().hex[:6]
    try:
        print(f"GET /health → {stack.api.get('/health').json()}")
        sms = _lead_story(story, run)
        if sms is not None:
            _deliveries(story, sms)
        _newcomer(story)
        _quiet_hours(story, run)
        _conversation(story, run)
        _form(story, run)
        _poison(story)
        _score(story, run)
        _matches(story, run)
        _nurture(story, run)
        _churn(story, run)
    finally:
        stack.close()
    return 0


def sign(path: str) -> int:
    body = Path(path).read_bytes()
    state = (
        json.loads(STATE.read_text()) if STATE.exists() else {"api_url": "http://127.0.0.1:3000"}
    )
    print(
        "curl -sS -X POST "
        f"{state['api_url']}/webhooks/ghl -H 'content-type: application/json' "
        f"-H 'x-ghl-signature: {devkeys.sign(body)}' --data-binary @{shlex.quote(path)}"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "sign":
        sys.exit(sign(sys.argv[2]))
    sys.exit(replay())
