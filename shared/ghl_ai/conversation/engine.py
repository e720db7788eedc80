"""The conversation engine: for each inbound message (or a reason to write first) it decides
whether to answer at all, asks a brain what to say, sends the reply exactly once and writes the
results back into GHL and into the lead's state.

Order of work for an inbound message, and why:

1. Compliance keywords first: an opt-out is honoured before anything else (SMS DND set in GHL,
   tagged; no reply to STOP and the other English carrier keywords, which the carrier / GHL
   confirms, and one confirmation in the lead's language to ALTO, BAJA, "stop texting me" ...,
   which nothing else confirms: sent before the DND, which would block it); START / UNSTOP /
   INICIO opts back in.
2. Gates: opted out, DND for the channel, the bot-off tag, handed off to the agent, a human
   wrote recently (pause). A gated message is still recorded (the tracker did it) but not
   answered.
3. Decide (Claude when configured, the rule-based qualifier on any Claude failure), then claim
   the reply in the outbox under the inbound message's id *with the decision*, then send. A
   retry (SQS redelivery, Lambda timeout) finds the claim and re-sends the stored reply only if
   it was never sent; it never asks the model again and never answers twice. The first message
   to a lead says who is writing, for which brokerage, and how to opt out, whichever brain (or
   the engine itself: a hand-off, the opt-in confirmation) wrote it.
4. GHL write-back (fields, tags, note, opportunity, task), then the lead's state is saved — last,
   so that a failed write-back is retried from the same state. Every message we send goes into
   the lead's history (the messages table) under its send time kept in the claim, so a retry
   writes the same item again rather than a second copy. The temperature the agent sees
   (*Lead Temperature*, the temperature tags) is the lead score's: the worker asks the
   ScoringFunction to rescore the lead after the turn, and the score combines the
   qualification's temperature kept here with the lead's behaviour (ghl_ai/scoring/score.py).

**Language.** The lead's language is kept on the lead (``language``): GHL's (the *Preferred
Language* field, else the contact's language / locale) the first time, then each message's when
the extractor (or Claude) is sure of it; a short or number-only message keeps it. Replies, the
introduction and the opt-out notice are in it, and *Preferred Language* is written when it
changes. **Nurture.** A lead whose readiness says browsing / no rush / curious about value
(``qualification.readiness``) gets no questionnaire; on that message it is tagged
``long-term-nurture`` and the ``browsing_nurture`` workflow starts (through the tag's
``tag_added`` trigger); when a later message makes it ready, the tag and *Readiness* go.
**Questions.** A message that asks something (``grounding.question_in``) is looked up in the
location's documents (``ghl_ai.knowledge``): the brain answers from the passages found and from
nothing else (``Turn.references``; the rule-based path quotes the best one). A question they do
not answer gets no fact: the brain says the agent will answer it, and the agent gets a task
with the question (``Decision.question``), once per message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from ghl_ai import effects
from ghl_ai.adapters.dynamo import LeadStore, MessageStore, OutboxStore, iso
from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.adapters.queue import MAX_DELAY_SECONDS, JobQueue
from ghl_ai.conversation import compliance
from ghl_ai.conversation.grounding import question_in, references, shorten
from ghl_ai.conversation.model import (
    Answer,
    Brain,
    Decision,
    Extraction,
    FieldName,
    HistoryLine,
    Language,
    Reference,
    Turn,
)
from ghl_ai.conversation.outbound import Outbound
from ghl_ai.conversation.personas import flows, persona_template
from ghl_ai.conversation.qualification import (
    describe,
    is_qualified,
    merge,
    missing_fields,
    readiness,
    stored_answers,
    temperature,
    updated_intent,
)
from ghl_ai.conversation.rules import handoff_reply
from ghl_ai.conversation.sms import with_intro
from ghl_ai.conversation.wording import OPT_IN_REPLIES, OPT_OUT_CONFIRMATIONS, fill
from ghl_ai.conversation.writeback import HANDOFF_TAG, NURTURE_TAG, OPTED_OUT_TAG, GhlWriteBack
from ghl_ai.jobs import MatchesJob, OutreachJob
from ghl_ai.leads.models import LeadChanges, LeadKey, Message, lead_name, sms_blocked
from ghl_ai.observability import logger, metrics
from ghl_ai.tenants import TenantDirectory, TenantProfile
from ghl_ai.webhooks.events import utcnow

if TYPE_CHECKING:
    from ghl_ai.knowledge.base import KnowledgeBase
    from ghl_ai.workflows.triggers import WorkflowStarter

#: Channels the AI answers on. Other channels are recorded, never answered by the AI.
REPLY_CHANNELS = frozenset({"SMS"})
OPT_IN_REPLY = OPT_IN_REPLIES["en"]
#: A buyer who just qualified gets its top matches this long after our reply.
MATCHES_DELAY_SECONDS = 120
#: A question the agent's documents do not answer is his task, due this soon.
QUESTION_DUE = timedelta(hours=2)


@dataclass(frozen=True)
class Outcome:
    """What the engine did with one message or outreach (logged, asserted by tests)."""

    action: str  # replied | skipped | held | queued | opted_out | opted_in | handed_off
    reason: str = ""
    reply: str | None = None
    temperature: str | None = None
    source: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ConversationEngine:
    def __init__(
        self,
        *,
        leads: LeadStore,
        messages: MessageStore,
        outbox: OutboxStore,
        ghl: GhlClient,
        tenants: TenantDirectory,
        jobs: JobQueue,
        rules: Brain,
        matches: JobQueue | None = None,
        claude: Brain | None = None,
        writeback: GhlWriteBack | None = None,
        workflows: WorkflowStarter | None = None,
        knowledge: KnowledgeBase | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._leads = leads
        self._messages = messages
        self._outbox = outbox
        self._ghl = ghl
        self._tenants = tenants
        self._jobs = jobs
        self._matches = matches
        self._rules = rules
        self._claude = claude
        self._writeback = writeback or GhlWriteBack(ghl)
        self._workflows = workflows
        self._knowledge = knowledge
        self._clock = clock
        self._outbound = Outbound(leads=leads, outbox=outbox, ghl=ghl, clock=clock)
        self._gate = self._outbound.gate

    # -- entry points ------------------------------------------------------------------------

    def on_inbound(self, message: Message) -> Outcome:
        """Answer (or not) one inbound message the tracker has just recorded."""
        key = message.lead
        if message.channel not in REPLY_CHANNELS:
            # Carrier keywords are an SMS matter; other channels are recorded, not answered.
            return Outcome("skipped", f"channel {message.channel}")
        profile = self._tenants.profile(key.location_id)
        lead = self._outbound.lead(key)
        text = message.body or ""
        opt_out = compliance.opt_out_language(text)
        if opt_out is not None:
            confirm = not compliance.carrier_confirms(text)
            return self._opt_out(key, lead, message, opt_out, confirm=confirm)
        opt_in = compliance.opt_in_language(text, opted_out=bool(lead.get("optedOut")))
        if opt_in is not None:
            return self._opt_in(key, lead, message, opt_in)
        gate = self._gate(lead, profile)
        if gate:
            return Outcome("skipped", gate)
        history = self._history(key, lead, exclude=message.message_id)
        return self._turn(
            key,
            lead,
            profile,
            effect_id=f"reply:{key.location_id}:{message.message_id}",
            inbound=text,
            history=history,
        )

    def start(self, key: LeadKey, reason: str, context: dict[str, Any] | None = None) -> Outcome:
        """Write first (speed to lead): a new contact, a form, an activation tag. Held until the
        lead's quiet-hours-safe window opens; never sent twice, never to a lead we already
        talk to."""
        profile = self._tenants.profile(key.location_id)
        lead = self._outbound.lead(key)
        gate = self._gate(lead, profile)
        if gate:
            return Outcome("skipped", gate)
        if lead.get("firstOutboundAt") or lead.get("lastOutboundAt") or lead.get("messagesIn"):
            return Outcome("skipped", "already in conversation")
        if not lead.get("phone"):
            return Outcome("skipped", "no phone")
        now = self._clock()
        opens = self._outbound.window_opens(lead, profile, now)
        if opens > now:
            delay = min(MAX_DELAY_SECONDS, int((opens - now).total_seconds()) + 1)
            job = OutreachJob(
                id=f"outreach:{key.location_id}:{key.contact_id}:{int(now.timestamp())}",
                received_at=now,
                location_id=key.location_id,
                contact_id=key.contact_id,
                reason=reason,
            )
            self._jobs.send(job.model_dump_json(), delay_seconds=delay)
            return Outcome("held", f"quiet hours until {iso(opens)}", extra={"delay": delay})
        context = {"first_name": lead.get("firstName"), **(context or {})}
        return self._turn(
            key,
            lead,
            profile,
            effect_id=f"first:{key.location_id}:{key.contact_id}",
            inbound=None,
            history=[],
            context=context,
        )

    # -- one turn ----------------------------------------------------------------------------

    def _turn(
        self,
        key: LeadKey,
        lead: dict[str, Any],
        profile: TenantProfile,
        *,
        effect_id: str,
        inbound: str | None,
        history: list[HistoryLine],
        context: dict[str, Any] | None = None,
    ) -> Outcome:
        now = self._clock()
        lead = self._known_language(key, lead, now)
        language: Language = lead.get("language") or "en"
        template = persona_template(profile.persona.template)
        answers = stored_answers(lead.get("answers"))
        intent = lead.get("intent")
        streak = int(lead.get("vagueStreak") or 0)  # vague answers in a row so far
        first_contact = not lead.get("firstOutboundAt") and not any(
            h.direction == "outbound" for h in history
        )
        claim = self._outbox.get(effect_id)
        if claim is not None and claim.get("decision"):
            decision = _decision_from(claim["decision"])
        else:
            question = question_in(inbound)
            turn = Turn(
                persona=profile.persona,
                now=now,
                intent=intent,
                answers=answers,
                last_asked=lead.get("lastAskedField"),
                missing=missing_fields(intent, answers, flows(template)),
                history=history,
                inbound=inbound,
                first_contact=first_contact,
                vague_streak=streak,
                context=context or {},
                language=language,
                question=question,
                references=self._references(key, inbound) if question else (),
            )
            decision = self._decide(turn)
            spoken = decision.extraction.language or language
            vague = streak + 1 if decision.extraction.vague else 0
            # A nurtured lead is asked nothing: its "ok"s are not a loop to break.
            nurtured = readiness(merge(answers, decision.extraction.answers)) is not None
            if (
                vague >= profile.max_vague_answers
                and not decision.extraction.handoff_requested
                and not nurtured
            ):
                # Looping on vague answers helps nobody: hand the lead to the agent.
                extraction = decision.extraction.model_copy(update={"handoff_requested": True})
                decision = Decision(
                    reply=handoff_reply(profile.persona.agent_name, spoken, template.name),
                    extraction=extraction,
                    asked=None,
                    source=decision.source,
                    usage=decision.usage,
                )  # no question for the agent's task: he calls

            if first_contact:
                decision = _introduced(decision, profile, spoken)
            claim = self._outbox.claim(
                effect_id,
                {
                    "kind": "sms",
                    "locationId": key.location_id,
                    "contactId": key.contact_id,
                    "decision": _decision_to(decision),
                },
                now,
            )
            decision = _decision_from(claim["decision"])
        sent = self._outbound.send(key, effect_id, claim, decision.reply)

        extraction = decision.extraction
        intent = updated_intent(intent, extraction.intent, extraction.intent_confidence)
        merged = merge(answers, extraction.answers)
        temp = temperature(intent, merged)
        qualified = is_qualified(intent, merged)
        handoff = extraction.handoff_requested
        vague = streak + 1 if extraction.vague else 0
        # The message's language when it is clear, else the lead's (a short "ok" keeps it).
        learned: str | None = extraction.language or lead.get("language")

        self._write_back(key, lead, profile, intent, merged, temp, qualified, handoff, now, learned)
        if decision.question and not handoff:
            self._ask_agent(key, lead, effect_id, decision.question, now)

        changes = LeadChanges(
            set={
                "answers": {n: a.model_dump() for n, a in merged.items()},
                "temperature": temp,
                "lastAskedField": decision.asked,
                "vagueStreak": vague,
                "updatedAt": now,
            }
        )
        if learned:
            changes.set["language"] = learned
            changes.set["languageInGhl"] = learned
        nurture = self._nurture(key, lead, answers, merged, handoff, effect_id)
        if nurture is not None:
            changes.set["tags"] = nurture
        if intent:
            changes.set["intent"] = intent
            changes.set["intentConfidence"] = max(
                extraction.intent_confidence, float(lead.get("intentConfidence") or 0)
            )
        if sent:
            changes.set["lastOutboundAt"] = now
            changes.set_if_absent["firstOutboundAt"] = now
        if qualified:
            changes.set_if_absent["qualifiedAt"] = now
            if not lead.get("qualifiedAt") and not handoff:
                self._request_matches(key, intent, now)
        if handoff:
            changes.set["handedOff"] = True
            changes.set["handedOffAt"] = now
        self._leads.apply(key, changes)
        if sent:
            self._record(key, effect_id, claim, decision.reply, now)
        action = "handed_off" if handoff else ("replied" if sent else "skipped")
        extra: dict[str, Any] = {}
        if decision.sources:
            extra["sources"] = list(decision.sources)
        if decision.question and not handoff:
            extra["question_for_agent"] = True
        return Outcome(
            action,
            "" if sent else "reply not sent",
            reply=decision.reply if sent else None,
            temperature=temp,
            source=decision.source,
            extra=extra,
        )

    def _references(self, key: LeadKey, text: str | None) -> tuple[Reference, ...]:
        """The passages of the location's documents that answer the lead's question (none
        without a knowledge base, or when they do not answer it)."""
        if self._knowledge is None or not text:
            return ()
        found = references(self._knowledge.lookup(key.location_id, text))
        if found:
            logger.info(
                "the agent's documents answer the lead's question",
                extra={"location_id": key.location_id, "passages": [r.id for r in found]},
            )
        return found

    def _ask_agent(
        self, key: LeadKey, lead: dict[str, Any], effect_id: str, question: str, now: datetime
    ) -> None:
        """A question the documents do not answer: the agent's task (once per message), with
        what to add so that the next lead who asks it is answered."""
        name = lead_name(lead) or "A lead"
        asked = shorten(question, 90)
        body = (
            f'{name} asked: "{question}". Your documents do not answer it, so the lead was told '
            "you would. Add a document that does (ghl-ai kb add FILE --location "
            f"{key.location_id}) and the next lead who asks is answered from it."
        )
        effects.create_task(
            self._outbox,
            self._ghl,
            "task:question:" + effect_id.removeprefix("reply:"),
            key,
            f'Answer {name}: "{asked}"',
            now + QUESTION_DUE,
            body,
            now,
        )

    def _nurture(
        self,
        key: LeadKey,
        lead: dict[str, Any],
        before: dict[str, Answer],
        after: dict[str, Answer],
        handoff: bool,
        effect_id: str,
    ) -> list[str] | None:
        """Hand a lead that just said it is browsing (no rush, curious about value) to long-term
        nurture: the tag, and the workflow it triggers; take a lead that turned out ready out
        of it. Returns the lead's tags when they changed, else None. Runs before the lead is
        saved, so a retry of the turn does it again (the start is idempotent on its cause)."""
        was, now = readiness(before), readiness(after)
        tags = [str(t).lower() for t in lead.get("tags") or []]
        if now is not None and was is None and not handoff:
            self._writeback.add_tags(key.contact_id, NURTURE_TAG)
            if self._workflows is not None:
                cause = f"{key.contact_id}:{NURTURE_TAG}:{effect_id}"
                self._workflows.fire(key, "tag_added", cause, tag=NURTURE_TAG)
            return sorted({*tags, NURTURE_TAG})
        if now is None and was is not None:
            self._writeback.remove_tags(key.contact_id, NURTURE_TAG)
            self._writeback.clear_fields(key.location_id, key.contact_id, "readiness")
            return [t for t in tags if t != NURTURE_TAG]
        return None

    def _known_language(self, key: LeadKey, lead: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The lead, with its language from GHL the first time we work it (the *Preferred
        Language* field, else the contact's language / locale), when it has none yet."""
        if lead.get("language") or lead.get("languageSyncedAt") or lead.get("ghlMissing"):
            return lead
        field, contact = self._writeback.contact_language(key.location_id, key.contact_id)
        changes = LeadChanges(set={"languageSyncedAt": now})
        if field or contact:
            changes.set["language"] = field or contact
        if field:
            changes.set["languageInGhl"] = field
        self._leads.apply(key, changes)
        return {**lead, **changes.set}

    def _request_matches(self, key: LeadKey, intent: str | None, now: datetime) -> None:
        """A buyer just qualified: text its top listing matches a little after our last reply
        (the RecommendationsFunction; nothing when no listing fits)."""
        if self._matches is None or intent not in ("buy", "both", "invest"):
            return
        job = MatchesJob(
            id=f"qualified:{key.contact_id}",
            received_at=now,
            location_id=key.location_id,
            contact_id=key.contact_id,
            reason="qualified",
        )
        self._matches.send(job.model_dump_json(), delay_seconds=MATCHES_DELAY_SECONDS)

    def _decide(self, turn: Turn) -> Decision:
        if self._claude is not None:
            # ModelFallback / ModelDecisions is the alarmed fallback rate (template.yaml).
            metrics.add_metric(name="ModelDecisions", unit=MetricUnit.Count, value=1)
            try:
                return self._claude.decide(turn)
            except Exception as exc:  # any failure: the rule-based path answers
                metrics.add_metric(name="ModelFallback", unit=MetricUnit.Count, value=1)
                logger.warning(
                    "Claude failed; the rule-based qualifier answers",
                    extra={"error_type": type(exc).__name__},
                )
        return self._rules.decide(turn)

    def _write_back(
        self,
        key: LeadKey,
        lead: dict[str, Any],
        profile: TenantProfile,
        intent: str | None,
        answers: dict[str, Answer],
        temp: str,
        qualified: bool,
        handoff: bool,
        now: datetime,
        language: str | None = None,
    ) -> None:
        loc, contact = key.location_id, key.contact_id
        wb = self._writeback
        before = stored_answers(lead.get("answers"))
        changed = {n: a for n, a in answers.items() if before.get(n) != a}
        extra: dict[str, Any] = {}
        if intent and intent != lead.get("intent"):
            extra["intent"] = intent
        if language and language != lead.get("languageInGhl"):
            extra["language"] = language
        if changed or extra:
            wb.write_fields(loc, contact, changed, extra)
        name = lead_name(lead) or "Lead"
        title = f"{name} ({intent})" if intent else name
        if not lead.get("firstOutboundAt"):
            wb.move_opportunity(loc, contact, profile.pipeline_name, profile.stage_contacted, title)
        if qualified and not lead.get("qualifiedAt"):
            summary = summarise(intent, answers)
            wb.write_fields(loc, contact, {}, {"summary": summary})
            effects.add_note(
                self._outbox, self._ghl, f"note:qualified:{loc}:{contact}", key, summary, now
            )
            wb.move_opportunity(loc, contact, profile.pipeline_name, profile.stage_qualified, title)
        if temp == "hot" and lead.get("temperature") != "hot":
            effects.create_task(
                self._outbox,
                self._ghl,
                f"task:hot:{loc}:{contact}",
                key,
                f"Call {name}: hot lead",
                now + timedelta(hours=1),
                summarise(intent, answers),
                now,
            )
        if handoff and not lead.get("handedOff"):
            wb.add_tags(contact, HANDOFF_TAG)
            effects.create_task(
                self._outbox,
                self._ghl,
                f"task:handoff:{loc}:{contact}",
                key,
                f"Call {name}: asked to talk to a person",
                now + timedelta(minutes=15),
                summarise(intent, answers),
                now,
            )

    # -- compliance --------------------------------------------------------------------------

    def _opt_out(
        self,
        key: LeadKey,
        lead: dict[str, Any],
        message: Message,
        language: Language,
        *,
        confirm: bool,
    ) -> Outcome:
        now = self._clock()
        reply = None
        if confirm and not (lead.get("ghlMissing") or lead.get("optedOut") or sms_blocked(lead)):
            # Before the DND: GHL refuses texts to a DND contact.
            profile = self._tenants.profile(key.location_id)
            text = fill(OPT_OUT_CONFIRMATIONS[language], brokerage=profile.persona.brokerage)
            reply = self._send_fixed(key, f"reply:{key.location_id}:{message.message_id}", text)
        if not lead.get("ghlMissing"):
            self._ghl.update_contact(key.contact_id, {"dndSettings": {"SMS": {"status": "active"}}})
            self._ghl.add_tags(key.contact_id, [OPTED_OUT_TAG])
        changes = LeadChanges(set={"optedOut": True, "optedOutAt": now})
        if language == "es":
            changes.set["language"] = "es"  # ALTO is Spanish: so is the lead
        self._leads.apply(key, changes)
        return Outcome("opted_out", "carrier keyword", reply=reply)

    def _send_fixed(self, key: LeadKey, effect_id: str, text: str) -> str | None:
        """Claim, send exactly once and record a fixed text (no brain, no intro). Returns the
        text sent, or None when GHL refused it."""
        now = self._clock()
        claim = self._outbox.claim(
            effect_id,
            {
                "kind": "sms",
                "locationId": key.location_id,
                "contactId": key.contact_id,
                "decision": _decision_to(_fixed(text)),
            },
            now,
        )
        reply = _decision_from(claim["decision"]).reply  # a retry sends what was claimed
        if not self._outbound.send(key, effect_id, claim, reply):
            return None
        self._leads.apply(
            key, LeadChanges(set={"lastOutboundAt": now}, set_if_absent={"firstOutboundAt": now})
        )
        self._record(key, effect_id, claim, reply, now)
        return reply

    def _opt_in(
        self, key: LeadKey, lead: dict[str, Any], message: Message, language: Language
    ) -> Outcome:
        if lead.get("ghlMissing"):
            return Outcome("skipped", "contact not found in GHL")
        now = self._clock()
        lead = self._known_language(key, lead, now)
        # INICIO is Spanish; START from a lead who writes Spanish gets Spanish too.
        spoken: Language = "es" if language == "es" else (lead.get("language") or "en")
        self._ghl.update_contact(key.contact_id, {"dndSettings": {"SMS": {"status": "inactive"}}})
        self._ghl.remove_tags(key.contact_id, [OPTED_OUT_TAG])
        channels = dict(lead.get("dndChannels") or {})
        channels["SMS"] = "inactive"
        changes = LeadChanges(set={"optedOut": False, "optedInAt": now, "dndChannels": channels})
        if language == "es" and lead.get("languageInGhl") != "es":
            self._writeback.write_fields(key.location_id, key.contact_id, {}, {"language": "es"})
            changes.set["language"] = changes.set["languageInGhl"] = "es"
        self._leads.apply(key, changes)
        effect_id = f"reply:{key.location_id}:{message.message_id}"
        confirmation = _fixed(OPT_IN_REPLIES[spoken])
        if not lead.get("firstOutboundAt") and not lead.get("lastOutboundAt"):
            # The lead opted out before we ever wrote: this is our first text to it.
            profile = self._tenants.profile(key.location_id)
            confirmation = _introduced(confirmation, profile, spoken)
        claim = self._outbox.claim(
            effect_id,
            {
                "kind": "sms",
                "locationId": key.location_id,
                "contactId": key.contact_id,
                "decision": _decision_to(confirmation),
            },
            now,
        )
        reply = _decision_from(claim["decision"]).reply  # a retry sends what was claimed
        sent = self._outbound.send(key, effect_id, claim, reply)
        if sent:
            self._leads.apply(
                key,
                LeadChanges(set={"lastOutboundAt": now}, set_if_absent={"firstOutboundAt": now}),
            )
            self._record(key, effect_id, claim, reply, now)
        return Outcome("opted_in", reply=reply if sent else None)

    def _record(
        self, key: LeadKey, effect_id: str, claim: dict[str, Any], body: str, now: datetime
    ) -> None:
        """Put a message we sent into the lead's history. The item's key is the send time kept
        in the claim and GHL's message id, so a retry of the same turn rewrites the same item."""
        self._messages.put(
            Message(
                lead=key,
                message_id=str(claim.get("messageId") or effect_id),
                direction="outbound",
                channel="SMS",
                body=body,
                sent_at=_sent_at(claim, now),
                source="ai",
            )
        )

    # -- state -------------------------------------------------------------------------------

    def _history(self, key: LeadKey, lead: dict[str, Any], exclude: str) -> list[HistoryLine]:
        recent = self._messages.recent(key, 20, ("messageId", "direction", "body"))
        rows = [r for r in recent if r.get("messageId") != exclude]
        if not rows and not lead.get("historySyncedAt"):
            rows = self._ghl_history(key, exclude)
            self._leads.apply(key, LeadChanges(set={"historySyncedAt": self._clock()}))
        lines: list[HistoryLine] = []
        for row in rows:
            line = HistoryLine(
                direction="outbound" if row.get("direction") == "outbound" else "inbound",
                body=str(row.get("body") or ""),
            )
            if line.body and not (lines and lines[-1] == line):  # GHL echoes our replies
                lines.append(line)
        return lines[-12:]

    def _ghl_history(self, key: LeadKey, exclude: str) -> list[dict[str, Any]]:
        """Earlier messages from GHL, for a lead we have no history of (oldest first)."""
        conversations = self._ghl.search_conversations(key.location_id, key.contact_id)
        if not conversations:
            return []
        found = self._ghl.get_conversation_messages(str(conversations[0]["id"]), limit=20)
        found = sorted(found, key=lambda m: str(m.get("dateAdded") or ""))  # oldest first
        return [
            {"direction": m.get("direction"), "body": m.get("body"), "messageId": m.get("id")}
            for m in found
            if m.get("id") != exclude
        ]


# -- helpers ---------------------------------------------------------------------------------


def summarise(intent: str | None, answers: dict[str, Answer]) -> str:
    parts = [f"Intent: {intent or 'unknown'}"]
    for name, answer in answers.items():
        parts.append(f"{name.replace('_', ' ').capitalize()}: {describe(name, answer.value)}")  # type: ignore[arg-type]
    return "AI qualification summary. " + "; ".join(parts) + "."


def _fixed(reply: str) -> Decision:
    return Decision(reply=reply, extraction=Extraction(), asked=None, source="rules")


def _introduced(decision: Decision, profile: TenantProfile, language: Language = "en") -> Decision:
    """The decision with a reply fit for a first message (who, which brokerage, how to opt
    out, in the lead's language); unchanged when the brain already wrote one."""
    persona = profile.persona
    reply = with_intro(
        decision.reply, persona, allow_emojis=persona.allow_emojis, language=language
    )
    return decision if reply == decision.reply else replace(decision, reply=reply)


def _sent_at(claim: dict[str, Any], default: datetime) -> datetime:
    """When the claimed message was sent (or, its outcome uncertain, claimed)."""
    for name in ("sentAt", "claimedAt"):
        value = claim.get(name)
        if isinstance(value, datetime):
            return value
        if isinstance(value, str) and value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
    return default


def _decision_to(decision: Decision) -> dict[str, Any]:
    stored: dict[str, Any] = {
        "reply": decision.reply,
        "asked": decision.asked,
        "source": decision.source,
        "extraction": decision.extraction.model_dump_json(),
    }
    if decision.sources:
        stored["sources"] = list(decision.sources)
    if decision.question:
        stored["question"] = decision.question  # a retry gives the agent the same task
    return stored


def _decision_from(stored: dict[str, Any]) -> Decision:
    asked: FieldName | None = stored.get("asked")
    return Decision(
        reply=str(stored["reply"]),
        extraction=Extraction.model_validate_json(stored["extraction"]),
        asked=asked,
        source=stored.get("source", "rules"),
        sources=tuple(str(s) for s in stored.get("sources") or ()),
        question=stored.get("question") or None,
    )
