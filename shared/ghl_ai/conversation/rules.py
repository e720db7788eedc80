"""The rule-based qualifier: answers every lead when no Anthropic key is configured, and
whenever Claude fails. Deterministic: the same turn always gets the same reply.

A reply is composed of parts (an answer to "are you a bot?", an acknowledgement of what the
lead just told us, the next question or the wrap-up); at most one acknowledgement leads it:
"Thanks, about 3 months works. Thank you, that's everything" reads like a form letter, so a
part that follows an acknowledgement loses its own opening thanks (:func:`compose`).
"""

from __future__ import annotations

import re

from ghl_ai.conversation.extract import extract
from ghl_ai.conversation.model import Decision, Extraction, FieldName, Turn
from ghl_ai.conversation.qualification import (
    INTENT_QUESTION,
    QUESTIONS,
    describe,
    merge,
    missing_fields,
    updated_intent,
)
from ghl_ai.conversation.sms import sms_safe, with_intro

_ACK: dict[str, str] = {
    "budget": "Got it, {text}.",
    "area": "{text}, great choice.",
    "timeline": "Thanks, {text} works.",
    "pre_approval": "Perfect, that helps.",
    "bedrooms": "Noted.",
    "property_type": "Good to know.",
    "address": "Thanks for the address.",
    "motivation": "Thanks for sharing that.",
    "condition": "Understood.",
    # The seller's hoped-for price, said so: a budget reads "up to $600,000".
    "price": "Got it, {text} for your home.",
}
#: A sentence that only acknowledges ("Thanks.", "Got it, up to $450,000.", "Westlake, great
#: choice.", "Thanks for reaching out!").
_ACKNOWLEDGEMENT = re.compile(
    r"^(?:thanks|thank you|got it|perfect|noted|good to know|understood|no problem|of course|"
    r"anytime|great)\b|\bgreat choice[.!]?$",
    re.IGNORECASE,
)
#: The opening thanks of a part that can go when an acknowledgement came just before it.
_LEADING_ACKNOWLEDGEMENT = re.compile(
    r"^(?:thank you|thanks|no problem|of course|perfect|got it|great)\s*[,.!]\s+(?=\S)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def bot_answer(agent_name: str, brokerage: str) -> str:
    return (
        f"I'm an AI assistant helping {agent_name} with {brokerage}. "
        f"{agent_name} is a real person and can call you anytime."
    )


def handoff_reply(agent_name: str) -> str:
    return f"Of course. I'll have {agent_name} give you a call shortly."


def closing_reply(agent_name: str) -> str:
    return f"Anytime! {agent_name} will be in touch shortly to talk through next steps."


def done_reply(agent_name: str) -> str:
    return (
        f"Thank you, that's everything I need for now. {agent_name} will reach out "
        "shortly to set up a time to talk."
    )


def is_acknowledgement(sentence: str) -> bool:
    return bool(_ACKNOWLEDGEMENT.search(sentence.strip()))


def compose(parts: list[str]) -> str:
    """The parts as one message, each capitalised; a part following one that ends with an
    acknowledgement drops its own leading thanks, so at most one acknowledgement leads."""
    out: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if out and is_acknowledgement(_SENTENCE_END.split(out[-1])[-1]):
            part = _LEADING_ACKNOWLEDGEMENT.sub("", part, count=1)
        out.append(part[0].upper() + part[1:])
    return " ".join(out)


class RuleBrain:
    def decide(self, turn: Turn) -> Decision:
        persona = turn.persona
        extraction = (
            extract(
                turn.inbound,
                today=turn.now.date(),
                expecting=turn.last_asked,
                areas=persona.areas,
                lead_intent=turn.intent,
            )
            if turn.inbound
            else Extraction()
        )
        intent = updated_intent(turn.intent, extraction.intent, extraction.intent_confidence)
        answers = merge(turn.answers, extraction.answers)
        missing = missing_fields(intent, answers)
        asked: FieldName | None = missing[0] if missing else None

        parts: list[str] = []
        if extraction.asked_if_bot:
            parts.append(bot_answer(persona.agent_name, persona.brokerage))
        if extraction.handoff_requested:
            parts.append(handoff_reply(persona.agent_name))
            asked = None
        else:
            new = [n for n in extraction.answers if n in answers and n not in turn.answers]
            if new and not extraction.asked_if_bot:
                name = new[0]
                parts.append(
                    _ACK.get(name, "Thanks.").format(text=describe(name, answers[name].value))
                )
            elif extraction.vague and turn.inbound:
                parts.append("No problem.")
            if intent is None:
                parts.append(INTENT_QUESTION)
            elif asked is not None:
                parts.append(QUESTIONS[asked])
            elif turn.inbound and turn.intent and not turn.missing and not new:
                # Qualified earlier: close politely instead of repeating the wrap-up (after the
                # answer to "are you a bot?", which says the agent will call).
                if not extraction.asked_if_bot:
                    parts = [closing_reply(persona.agent_name)]
            else:
                parts.append(done_reply(persona.agent_name))
        if turn.inbound is None and turn.first_contact:
            first = turn.context.get("first_name")
            greeting = f"Hi {first}, this is" if first else "Hi, this is"
            thanks = "Thanks for reaching out"
            listing = turn.context.get("listing")
            if listing:
                thanks += f" about {listing}"
            parts.insert(0, f"{greeting} {persona.agent_name} with {persona.brokerage}. {thanks}!")
        reply = sms_safe(compose(parts), allow_emojis=persona.allow_emojis)
        if turn.first_contact:
            reply = with_intro(reply, persona, allow_emojis=persona.allow_emojis)
        return Decision(reply=reply, extraction=extraction, asked=asked, source="rules")
