"""Drive the whole system through a conversation, as GHL would: signed webhooks into the intake
handler, the worker handler run on the queue (moto), GHL faked by the loopback stand-in and,
for the Claude path, the Anthropic Messages API faked by its loopback stand-in."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.recommendations import app as recommendations_app
from functions.scoring import app as scoring_app
from functions.worker import app as worker_app
from functions.workflows import app as workflows_app
from ghl_ai import config
from local.anthropic_standin import AnthropicStandIn
from local.ghl_standin import GhlStandIn, RecordedCall
from tests.conftest import LOCATION_ID, Response, Stack

AGENT = {"AGENT_NAME": "Jorge", "BROKERAGE": "Sunbelt Realty", "MARKET_AREA": "Austin"}
AREAS = "Westlake,Round Rock,Cedar Park,Mueller,South Congress,Pflugerville"
_ids = itertools.count(1)


@dataclass
class Conversation:
    stack: Stack
    ghl: GhlStandIn
    contact_id: str
    location_id: str = LOCATION_ID
    sent_before: int = 0
    replies: list[str] = field(default_factory=list)

    # -- what the lead and GHL do -------------------------------------------------------------
    def lead_says(self, text: str, *, message_id: str | None = None) -> list[str]:
        """The lead texts us; returns the SMS bodies GHL accepted from us in answer."""
        response = self.deliver(self.inbound_payload(text, message_id))
        assert response.status == 200, response.json
        return self.run()

    def inbound_payload(self, text: str, message_id: str | None = None) -> dict[str, Any]:
        n = next(_ids)
        return {
            "type": "InboundMessage",
            "locationId": self.location_id,
            "contactId": self.contact_id,
            "messageId": message_id or f"in-{n:05d}",
            "conversationId": "conv-test",
            "body": text,
            "direction": "inbound",
            "messageType": "SMS",
            "dateAdded": "2026-11-23T15:00:00.000Z",
            "from": "+15125550100",
            "to": "+15125550199",
        }

    def deliver(self, payload: dict[str, Any]) -> Response:
        return self.stack.post_webhook(json.dumps(payload).encode())

    def agent_writes(self, text: str) -> None:
        """A person on the agent's team texts the lead from the GHL app."""
        n = next(_ids)
        payload = {
            "type": "OutboundMessage",
            "locationId": self.location_id,
            "contactId": self.contact_id,
            "messageId": f"out-{n:05d}",
            "body": text,
            "direction": "outbound",
            "messageType": "SMS",
            "userId": "user-jorge",
            "source": "app",
        }
        assert self.deliver(payload).status == 200
        self.run()

    def contact_created(self) -> list[str]:
        contact = self.ghl.contacts[self.contact_id]
        payload = {
            "type": "ContactCreate",
            "locationId": self.location_id,
            "id": self.contact_id,
            "firstName": contact.get("firstName"),
            "phone": contact.get("phone"),
            "tags": contact.get("tags", []),
            "dateAdded": "2026-11-23T15:00:00.000Z",
        }
        assert self.deliver(payload).status == 200
        return self.run()

    def run(self) -> list[str]:
        self.stack.run_worker()
        return self.new_sms()

    # -- what GHL saw -------------------------------------------------------------------------
    def new_sms(self) -> list[str]:
        sent = [
            m["body"]
            for m in self.ghl.messages
            if m["direction"] == "outbound" and m["contactId"] == self.contact_id
        ]
        new = sent[self.sent_before :]
        self.sent_before = len(sent)
        self.replies.extend(new)
        return new

    def calls(self, method: str, path: str) -> list[RecordedCall]:
        return self.ghl.calls_to(method, path)

    def tags(self) -> list[str]:
        return list(self.ghl.contacts[self.contact_id]["tags"])

    def custom_fields(self) -> dict[str, Any]:
        names = {f["id"]: f["name"] for f in self.ghl.custom_fields}
        return {
            names.get(cf["id"], cf["id"]): cf["value"]
            for cf in self.ghl.contacts[self.contact_id]["customFields"]
        }

    def lead(self) -> dict[str, Any]:
        return self.stack.lead(self.location_id, self.contact_id) or {}


def configure(
    monkeypatch: pytest.MonkeyPatch,
    ghl: GhlStandIn,
    claude: AnthropicStandIn | None = None,
    **env: str,
) -> None:
    """Point the worker at the GHL stand-in (and, given one, the Anthropic stand-in: Claude
    answers) with the test persona; extra env overrides."""
    if claude is not None:
        env = {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": claude.base_url, **env}
    values = {
        "GHL_API_TOKEN": "pit-test-token",
        "GHL_API_BASE_URL": ghl.base_url,
        "MARKET_AREAS": AREAS,
        "QUIET_HOURS_START": "0",
        "QUIET_HOURS_END": "24",
        **AGENT,
        **env,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    if "ANTHROPIC_API_KEY" not in env:
        monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    config.worker_settings.cache_clear()
    config.scoring_settings.cache_clear()
    config.recommendations_settings.cache_clear()
    config.workflow_settings.cache_clear()
    worker_app.deps.cache_clear()
    recommendations_app.deps.cache_clear()
    workflows_app.deps.cache_clear()
    scoring_app.deps.cache_clear()


def dnd_updates(ghl: GhlStandIn, contact_id: str) -> list[dict[str, Any]]:
    """The DND settings our writes to the contact set, in order."""
    return [
        c.json["dndSettings"]
        for c in ghl.calls_to("PUT", f"/contacts/{contact_id}")
        if "dndSettings" in c.json
    ]


def record_turn(reply: str, **fields: Any) -> dict[str, Any]:
    """A ``record_turn`` tool input for the Anthropic stand-in to return: ``reply`` and the
    given fields over a turn that learned nothing."""
    return {
        "reply": reply,
        "intent": None,
        "intent_confidence": 0.0,
        "answers": {},
        "handoff_requested": False,
        "asked_if_bot": False,
        "vague": False,
        "language": "en",
        "asked_field": None,
        **fields,
    }


def one_reply(c: Conversation, text: str) -> str:
    """The lead texts us; the one SMS we answer with."""
    sent = c.lead_says(text)
    assert len(sent) == 1, (text, sent)
    return sent[0]


def new_lead(stack: Stack, ghl: GhlStandIn, **fields: Any) -> Conversation:
    contact = ghl.seed_contact(
        LOCATION_ID,
        **{"firstName": "Maria", "lastName": "Lopez", "phone": "+15125550100", **fields},
    )
    return Conversation(stack, ghl, contact["id"])
