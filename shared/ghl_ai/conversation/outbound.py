"""What every proactive or reply SMS shares, whoever sends it (the conversation, "send top
matches"): the lead's record completed from GHL the first time we work it, the gates that
forbid writing to it now, and the exactly-once send of a message claimed in the outbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ghl_ai.adapters.dynamo import LeadStore, OutboxStore, moment
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.conversation import compliance
from ghl_ai.errors import GhlApiError
from ghl_ai.leads.models import LeadChanges, LeadKey, sms_blocked
from ghl_ai.observability import logger
from ghl_ai.tenants import TenantProfile
from ghl_ai.webhooks.events import utcnow


class Outbound:
    def __init__(
        self,
        *,
        leads: LeadStore,
        outbox: OutboxStore,
        ghl: GhlClient,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._leads = leads
        self._outbox = outbox
        self._ghl = ghl
        self._clock = clock

    def lead(self, key: LeadKey) -> dict[str, Any]:
        """The lead's record, completed from GHL the first time we work it (name, phone, tags,
        DND, time zone)."""
        lead = self._leads.get(key) or {}
        if lead.get("ghlSyncedAt"):
            return lead
        try:
            contact = self._ghl.get_contact(key.contact_id)
        except GhlApiError as exc:
            if exc.status not in (400, 404):
                raise
            return {**lead, "ghlMissing": True}
        changes = LeadChanges(set={"ghlSyncedAt": self._clock()})
        for ours, theirs in (
            ("firstName", "firstName"),
            ("lastName", "lastName"),
            ("name", "contactName"),
            ("phone", "phone"),
            ("email", "email"),
            ("timezone", "timezone"),
        ):
            if contact.get(theirs) and not lead.get(ours):
                changes.set[ours] = contact[theirs]
        tags = sorted(
            {str(t).lower() for t in contact.get("tags") or []} | set(lead.get("tags") or [])
        )
        changes.set["tags"] = tags
        if "dnd" in contact:
            changes.set["dnd"] = bool(contact["dnd"])
        if isinstance(contact.get("dndSettings"), dict):
            channels = {
                ch: str((spec or {}).get("status", "")).lower()
                for ch, spec in contact["dndSettings"].items()
                if isinstance(spec, dict)
            }
            changes.set["dndChannels"] = {**channels, **(lead.get("dndChannels") or {})}
        self._leads.apply(key, changes)
        return self._leads.get(key) or {}

    @staticmethod
    def window_opens(lead: dict[str, Any], profile: TenantProfile, now: datetime) -> datetime:
        """When a proactive message may go: ``now`` inside the quiet-hours-safe window of the
        lead's zone (else the location's), else the window's next opening."""
        tz = compliance.zone(lead.get("timezone"), profile.timezone)
        return compliance.next_allowed(now, tz, profile.quiet_hours_start, profile.quiet_hours_end)

    def gate(self, lead: dict[str, Any], profile: TenantProfile) -> str | None:
        """Why the AI must not write to this lead now, or None."""
        if lead.get("ghlMissing"):
            return "contact not found in GHL"
        if lead.get("optedOut"):
            return "opted out"
        if sms_blocked(lead, "SMS"):
            return "DND for SMS"
        if profile.bot_off_tag in {str(t).lower() for t in lead.get("tags") or []}:
            return f"tag {profile.bot_off_tag}"
        if lead.get("handedOff"):
            return "handed off to the agent"
        human = lead.get("lastHumanOutboundAt")
        if human and profile.human_pause_minutes:
            at = datetime.fromisoformat(str(human).replace("Z", "+00:00"))
            if self._clock() - at < timedelta(minutes=profile.human_pause_minutes):
                return "a human is in the conversation"
        return None

    def send(self, key: LeadKey, effect_id: str, claim: dict[str, Any], body: str) -> bool:
        """Send the claimed message exactly once. True when it is (now) sent.

        The claim is marked ``sending`` before GHL is called. A claim found ``sending`` or
        ``uncertain`` (GHL answered 500 or not at all, or the worker died after the call) may
        have been carried out: GHL's own conversation history decides, and only a text GHL
        does not have is sent again. A refused send (4xx) is ``failed`` and never retried.
        """
        status = claim.get("status")
        if status == "done":
            return True
        if status == "failed":
            return False
        if status in ("sending", "uncertain"):
            found = self._already_sent(key, body, claim)
            if found is not None:
                logger.info(
                    "GHL had sent the message already; not resending",
                    extra={"contact_id": key.contact_id, "effect_id": effect_id},
                )
                self._done(effect_id, claim, found.get("id"))
                return True
        else:
            self._outbox.finish(effect_id, "sending")
        try:
            result = self._ghl.send_message(key.contact_id, body, "SMS")
        except GhlApiError as exc:
            if exc.maybe_done:
                # GHL may have sent it (a plain 500, a lost answer): the retry looks in GHL's
                # history before sending again, so the lead gets it once.
                logger.warning(
                    "GHL may or may not have sent the message; the retry checks its history",
                    extra={"status": exc.status, "contact_id": key.contact_id},
                )
                self._outbox.finish(effect_id, "uncertain", error=exc.status)
                raise
            if exc.retryable:
                # GHL did not take it (429 / 502-504 / no connection): the claim keeps the same
                # text and the job is retried.
                raise
            logger.error(
                "GHL refused the message",
                extra={"status": exc.status, "contact_id": key.contact_id},
            )
            self._outbox.finish(effect_id, "failed", error=exc.status)
            return False
        message_id = result.get("messageId")
        if message_id and not self._outbox.take_message(str(message_id), claim, key, self._clock()):
            # Another claim's retry took our text for its own in the moment between GHL
            # sending it and this line: that lead got one text for two claims.
            logger.warning(
                "a text GHL sent was taken by another claim",
                extra={"contact_id": key.contact_id, "effect_id": effect_id},
            )
        self._done(effect_id, claim, message_id)
        return True

    def _done(self, effect_id: str, claim: dict[str, Any], message_id: Any) -> None:
        sent_at = self._clock()
        # The caller records the message under these: a retry then finds the same in the claim.
        claim["messageId"] = message_id
        claim["sentAt"] = sent_at
        self._outbox.finish(effect_id, "done", messageId=message_id, sentAt=sent_at)

    def _already_sent(
        self, key: LeadKey, body: str, claim: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The outbound message with exactly this text GHL has for the lead since the claim
        (a minute's clock skew allowed) that no other claim holds, or None; the one found is
        then held by this claim (two replies may have the same text: each takes its own
        message). GHL errors propagate: the job is retried."""
        claimed = moment(claim.get("claimedAt"))
        since = claimed - timedelta(minutes=1) if claimed is not None else None
        for conversation in self._ghl.search_conversations(key.location_id, key.contact_id):
            for message in self._ghl.get_conversation_messages(str(conversation["id"]), 50):
                if str(message.get("direction", "")).lower() != "outbound":
                    continue
                if str(message.get("body") or "").strip() != body.strip():
                    continue
                added = moment(message.get("dateAdded"))
                if since is not None and added is not None and added < since:
                    continue
                if self._outbox.take_message(str(message.get("id")), claim, key, self._clock()):
                    return message
        return None
