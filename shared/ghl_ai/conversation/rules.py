"""The rule-based qualifier: answers every lead when no Anthropic key is configured, and
whenever Claude fails. Deterministic: the same turn always gets the same reply.

A reply is composed of parts (an answer to "are you a bot?", an acknowledgement of what the
lead just told us, the next question or the wrap-up); at most one acknowledgement leads it:
"Thanks, about 3 months works. Thank you, that's everything" reads like a form letter, so a
part that follows an acknowledgement loses its own opening thanks (:func:`compose`).

The reply is in the language of the lead's message when the extractor is sure of it, else in
the lead's language so far (``Turn.language``), with the wording of the location's persona
template (``personas.py``, ``wording.py``). A lead who is only browsing, in no rush or curious
about its home's value gets no questionnaire: a warm acknowledgement and an offer (homes now
and then, or a value estimate) instead; the engine hands it to long-term nurture.
"""

from __future__ import annotations

import re
from typing import Any

from ghl_ai.conversation.extract import extract
from ghl_ai.conversation.grounding import best, quote, short_title
from ghl_ai.conversation.model import Answer, Decision, Extraction, FieldName, Language, Turn
from ghl_ai.conversation.personas import PersonaTemplate, flows, persona_template, question
from ghl_ai.conversation.qualification import (
    merge,
    missing_fields,
    readiness,
    updated_intent,
)
from ghl_ai.conversation.sms import capitalised, sms_safe, with_intro
from ghl_ai.conversation.wording import KNOWLEDGE, NURTURE, Texts, describe, fill

#: A sentence that only acknowledges ("Thanks.", "Got it, up to $450,000.", "Westlake, great
#: choice.", "Thanks for reaching out!", "Perfecto, eso ayuda mucho.").
_ACKNOWLEDGEMENT: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"^(?:thanks|thank you|got it|perfect|noted|good to know|understood|no problem|of course|"
        r"anytime|great|excellent|wonderful|very good|my pleasure|certainly)\b"
        r"|\b(?:great|wonderful) choice[.!]?$",
        re.IGNORECASE,
    ),
    "es": re.compile(
        r"^¡?(?:muchas gracias|gracias|perfecto|entendido|anotado|de acuerdo|muy bien|claro|"
        r"con gusto|excelente|listo|no se preocupe|por supuesto|es un placer)\b"
        r"|\b(?:muy buena opción|excelente elección)[.!]?$",
        re.IGNORECASE,
    ),
}
#: The opening thanks of a part that can go when an acknowledgement came just before it.
_LEADING_ACKNOWLEDGEMENT: dict[str, re.Pattern[str]] = {
    "en": re.compile(
        r"^(?:thank you|thanks|no problem|of course|perfect|got it|great)\s*[,.!]\s+(?=\S)",
        re.IGNORECASE,
    ),
    "es": re.compile(
        r"^¡?(?:muchas gracias|gracias|perfecto|entendido|claro que sí|claro|con gusto|"
        r"muy bien|por supuesto|es un placer)\s*[,.!]\s+(?=\S)",
        re.IGNORECASE,
    ),
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _texts(language: Language = "en", template: str | None = None) -> Texts:
    return persona_template(template).wording(language)


def bot_answer(
    agent_name: str, brokerage: str, language: Language = "en", template: str | None = None
) -> str:
    return fill(_texts(language, template).bot_answer, agent=agent_name, brokerage=brokerage)


def handoff_reply(agent_name: str, language: Language = "en", template: str | None = None) -> str:
    return fill(_texts(language, template).handoff, agent=agent_name)


def closing_reply(agent_name: str, language: Language = "en", template: str | None = None) -> str:
    return fill(_texts(language, template).closing, agent=agent_name)


def done_reply(agent_name: str, language: Language = "en", template: str | None = None) -> str:
    return fill(_texts(language, template).done, agent=agent_name)


def is_acknowledgement(sentence: str, language: Language = "en") -> bool:
    return bool(_ACKNOWLEDGEMENT[language].search(sentence.strip()))


def compose(parts: list[str], language: Language = "en") -> str:
    """The parts as one message, each capitalised; a part following one that ends with an
    acknowledgement drops its own leading thanks, so at most one acknowledgement leads."""
    out: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if out and is_acknowledgement(_SENTENCE_END.split(out[-1])[-1], language):
            part = _LEADING_ACKNOWLEDGEMENT[language].sub("", part, count=1)
        out.append(capitalised(part))
    return " ".join(out)


def acknowledgement(texts: Texts, language: Language, name: str, value: Any, **names: str) -> str:
    """The acknowledgement of a new answer: a value-specific one ("pre_approval:no") first."""
    ack = texts.acks.get(f"{name}:{value}") if isinstance(value, str) else None
    ack = ack or texts.acks.get(name, texts.default_ack)
    return fill(ack, text=describe(language, name, value), **names)  # type: ignore[arg-type]


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
                aliases=dict(persona.area_aliases),
            )
            if turn.inbound
            else Extraction()
        )
        template = persona_template(persona.template)
        language: Language = extraction.language or turn.language
        texts = template.wording(language)
        names = {"agent": persona.agent_name, "brokerage": persona.brokerage}
        intent = updated_intent(turn.intent, extraction.intent, extraction.intent_confidence)
        answers = merge(turn.answers, extraction.answers)
        missing = missing_fields(intent, answers, flows(template))
        asked: FieldName | None = missing[0] if missing else None
        new = [n for n in extraction.answers if n in answers and n not in turn.answers]
        ready = readiness(answers)
        answer, sources, for_agent = _answer(turn, extraction, language, names, ready)

        parts: list[str] = []
        if extraction.asked_if_bot:
            parts.append(fill(texts.bot_answer, **names))
        if answer:
            parts.append(answer)
        if extraction.handoff_requested:
            parts.append(fill(texts.handoff, **names))
            asked = None
        elif ready is not None:
            more, asked = _nurture(turn, template, language, answers, new, ready, names, extraction)
            parts += more
        else:
            if new and not extraction.asked_if_bot and not answer and template.acknowledge:
                name = new[0]
                parts.append(acknowledgement(texts, language, name, answers[name].value, **names))
            elif extraction.vague and turn.inbound and not answer and template.acknowledge:
                parts.append(texts.no_problem)
            if intent is None:
                parts.append(texts.intent_question)
            elif asked is not None:
                parts.append(question(template, language, missing) or "")
            elif turn.inbound and turn.intent and not turn.missing and not new:
                # Qualified earlier: close politely instead of repeating the wrap-up (after the
                # answer to "are you a bot?", which says the agent will call, or to a question).
                if not extraction.asked_if_bot and not answer:
                    parts = [fill(texts.closing, **names)]
            else:
                parts.append(fill(texts.done, **names))
        if turn.inbound is None and turn.first_contact:
            first = turn.context.get("first_name")
            listing = turn.context.get("listing")
            opening = fill(texts.greeting_named if first else texts.greeting, first=first, **names)
            if template.thank_first:
                thanks = fill(texts.thanks_listing if listing else texts.thanks, listing=listing)
                opening = f"{opening} {thanks}"
            parts.insert(0, opening)
        reply = sms_safe(compose(parts, language), allow_emojis=persona.allow_emojis)
        if turn.first_contact:
            reply = with_intro(reply, persona, allow_emojis=persona.allow_emojis, language=language)
        return Decision(
            reply=reply,
            extraction=extraction,
            asked=asked,
            source="rules",
            sources=sources,
            question=for_agent,
        )


def _answer(
    turn: Turn,
    extraction: Extraction,
    language: Language,
    names: dict[str, str],
    ready: str | None,
) -> tuple[str, tuple[str, ...], str | None]:
    """The lead's question answered from the agent's documents: the best passage quoted, in
    the document's words (``grounding.py``); or, when they do not answer it, that the agent will
    (the question is returned for his task). Nothing when the lead asked nothing, asked for a
    person (the agent calls anyway) or just said it is curious about its home's value (the
    nurture reply offers the estimate)."""
    question = turn.question
    if not question or extraction.handoff_requested:
        return "", (), None
    words = KNOWLEDGE[language]
    if turn.references:
        ref = best(turn.references, question, language)
        text = quote(ref, question)
        if text:
            return fill(words.quoted, source=short_title(ref.title), quote=text), (ref.id,), None
    if ready is not None and readiness(turn.answers) != ready:
        return "", (), None
    return fill(words.for_agent, **names), (), question


def _nurture(
    turn: Turn,
    template: PersonaTemplate,
    language: Language,
    answers: dict[str, Answer],
    new: list[FieldName],
    ready: str,
    names: dict[str, str],
    extraction: Extraction,
) -> tuple[list[str], FieldName | None]:
    """What a lead handed to nurture hears: on the message that says it is browsing (or in no
    rush, or curious about value), a warm opener and an offer that asks at most for what the
    offer needs; afterwards, an acknowledgement of what it tells us and no questions."""
    words = NURTURE[language]
    texts = template.wording(language)
    area = answers.get("area")
    address = answers.get("address")
    if readiness(turn.answers) != ready:  # the lead just told us
        parts = [words.openers[ready]]
        if ready == "value_curious":
            if address is None:
                parts.append(fill(words.value_ask_address, **names))
                return parts, "address"
            parts.append(fill(words.value_for_address, address=address.value, **names))
            return parts, None
        if area is None:
            parts.append(fill(words.homes_ask_area, **names))
            return parts, "area"
        area_words = describe(language, "area", area.value)
        parts.append(fill(words.homes_in_area, area=area_words, **names))
        return parts, None
    if ready == "value_curious" and "address" in new:
        ack = acknowledgement(texts, language, "address", address.value if address else "")
        return [ack, fill(words.estimate_coming, **names)], None
    if new:
        name = new[0]
        ack = acknowledgement(texts, language, name, answers[name].value, **names)
        return [ack, words.noted] if template.acknowledge else [words.noted], None
    if not turn.inbound or extraction.asked_if_bot:
        return [], None
    return [fill(words.anytime, **names)], None
