"""What the rule-based qualifier and the engine say, per language: questions, acknowledgements,
the bot answer, the hand-off, the wrap-up, the first-contact greeting, the nurture replies, the
opt-in and opt-out confirmations. The persona templates (``personas.py``) start from these and
override some of them.

**Spanish.** Written as a bilingual agent in Southern California texts a lead he does not know
yet: *usted* throughout (respectful with a stranger about a large purchase, and what most
Spanish-speaking buyers and sellers here expect from a professional; never mixed with *tú*),
warm and short, no word-for-word calques ("Bueno saberlo"), and words used locally: recámaras,
enganche, de contado, preaprobación, alberca, townhouse, vecindarios. Sentences avoid
adjectives that agree with the lead's gender ("interesado/a", "listo/a"). Prices keep the US
format ($450,000).

**Length.** Spanish needs á, í, ó, ú, which GSM-7 lacks: such a text is sent as UCS-2, 70
characters a segment (67 when split) instead of 160. Each template is short enough that a
whole reply stays within three UCS-2 segments (``tests/unit/test_wording.py`` measures them
with :func:`ghl_ai.conversation.sms.segments`). Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ghl_ai.conversation.qualification import INTENT_QUESTION, QUESTIONS
from ghl_ai.conversation.qualification import describe as describe_en

if TYPE_CHECKING:
    from ghl_ai.conversation.model import FieldName, Language


@dataclass(frozen=True)
class Texts:
    """One language's wording of the conversation (of one persona template).

    ``acks`` are keyed by field, or ``field:value`` for a value-specific one (tried first);
    ``{text}`` is the answer in words. Any text may use ``{agent}`` and ``{brokerage}``.
    ``pairs`` are the combined questions a template that asks two at once uses."""

    questions: Mapping[FieldName, str]
    intent_question: str
    acks: Mapping[str, str]
    default_ack: str
    no_problem: str
    bot_answer: str
    handoff: str
    closing: str
    done: str
    greeting_named: str
    greeting: str
    thanks: str
    thanks_listing: str
    pairs: Mapping[tuple[FieldName, FieldName], str] = field(default_factory=dict)


ENGLISH = Texts(
    questions=QUESTIONS,
    intent_question=INTENT_QUESTION,
    acks={
        "budget": "Got it, {text}.",
        "area": "{text}, great choice.",
        "timeline": "Thanks, {text} works.",
        "pre_approval": "Perfect, that helps.",
        "bedrooms": "Noted.",
        "bathrooms": "Noted.",
        "property_type": "Good to know.",
        "address": "Thanks for the address.",
        "motivation": "Thanks for sharing that.",
        "condition": "Understood.",
        # The seller's hoped-for price, said so: a budget reads "up to $600,000".
        "price": "Got it, {text} for your home.",
    },
    default_ack="Thanks.",
    no_problem="No problem.",
    bot_answer=(
        "I'm an AI assistant helping {agent} with {brokerage}. "
        "{agent} is a real person and can call you anytime."
    ),
    handoff="Of course. I'll have {agent} give you a call shortly.",
    closing="Anytime! {agent} will be in touch shortly to talk through next steps.",
    done=(
        "Thank you, that's everything I need for now. {agent} will reach out "
        "shortly to set up a time to talk."
    ),
    greeting_named="Hi {first}, this is {agent} with {brokerage}.",
    greeting="Hi, this is {agent} with {brokerage}.",
    thanks="Thanks for reaching out!",
    thanks_listing="Thanks for reaching out about {listing}!",
)

SPANISH = Texts(
    questions={
        "timeline": "¿Para cuándo le gustaría mudarse?",
        "area": "¿En qué ciudades o vecindarios está buscando?",
        "budget": "¿Qué presupuesto tiene en mente, más o menos?",
        "pre_approval": "¿Ya tiene la preaprobación de un préstamo, o va a pagar de contado?",
        "bedrooms": "¿Cuántas recámaras y baños necesita, y hay algo que no le puede faltar?",
        "property_type": "¿Busca una casa, un condominio o un townhouse?",
        "must_haves": "¿Hay algo que no le puede faltar, como garaje, patio o una oficina?",
        "address": "¿Cuál es la dirección de la casa que piensa vender?",
        "motivation": "¿Y qué motiva la mudanza?",
        "condition": (
            "¿En qué condiciones está la casa: lista para mudarse o necesita algunos arreglos?"
        ),
        "price": "¿Tiene en mente un precio de venta?",
    },
    intent_question="¿Busca comprar, vender o las dos cosas?",
    acks={
        "budget": "Entendido, {text}.",
        "area": "{text}, muy buena opción.",
        "timeline": "Muy bien, {text}.",
        "pre_approval": "Perfecto, eso ayuda mucho.",
        "bedrooms": "Anotado.",
        "bathrooms": "Anotado.",
        "property_type": "De acuerdo.",
        "address": "Gracias por la dirección.",
        "motivation": "Gracias por contarme.",
        "condition": "Entendido.",
        "price": "Entendido, {text} por su casa.",
    },
    default_ack="Gracias.",
    no_problem="No se preocupe.",
    bot_answer=(
        "Soy un asistente de IA que ayuda a {agent}, de {brokerage}. {agent} es una persona "
        "real y le puede llamar cuando guste."
    ),
    handoff="Claro que sí. Le pido a {agent} que le llame en breve.",
    closing="¡Con gusto! {agent} se pondrá en contacto pronto para ver los siguientes pasos.",
    done="Muchas gracias, es todo lo que necesito. {agent} le contactará pronto para hablar.",
    greeting_named="Hola {first}, le escribe {agent} de {brokerage}.",
    greeting="Hola, le escribe {agent} de {brokerage}.",
    thanks="¡Gracias por comunicarse con nosotros!",
    thanks_listing="¡Gracias por su interés en {listing}!",
)

BASE: dict[Language, Texts] = {"en": ENGLISH, "es": SPANISH}


# -- nurture: browsing, no rush, curious about value ------------------------------------------


@dataclass(frozen=True)
class NurtureTexts:
    """The replies of a lead handed to long-term nurture instead of the questionnaire: a warm
    opener for its readiness, then an offer (homes now and then, or a value estimate) that asks
    at most for the one thing the offer needs (the area, the address)."""

    openers: Mapping[str, str]
    homes_ask_area: str
    homes_in_area: str
    value_ask_address: str
    value_for_address: str
    noted: str
    estimate_coming: str
    #: To anything else ("thanks!", "idk", "ok"): we asked nothing, so nothing is pressed.
    anytime: str


NURTURE: dict[Language, NurtureTexts] = {
    "en": NurtureTexts(
        openers={
            "browsing": "No pressure at all, just looking is a great way to start.",
            "unhurried": "No rush at all, it's smart to get a feel for the market early.",
            "value_curious": "Happy to help, no strings attached.",
        },
        homes_ask_area=(
            "If you'd like, I can send you a few homes now and then. Which area should I keep "
            "an eye on?"
        ),
        homes_in_area=(
            "I'll send you a few homes in {area} now and then, and {agent} is here whenever "
            "you're ready."
        ),
        value_ask_address=(
            "{agent} can put together a free estimate of what your home would sell for. "
            "What's the address?"
        ),
        value_for_address="{agent} will put together a free estimate for {address} and send it.",
        noted="I'll keep that in mind for what I send you.",
        estimate_coming="{agent} will put together your free estimate and send it over.",
        anytime="I'm here whenever you're ready, no rush at all.",
    ),
    "es": NurtureTexts(
        openers={
            "browsing": "Sin ninguna presión, ver opciones es un excelente primer paso.",
            "unhurried": "Sin prisa, es bueno conocer el mercado con tiempo.",
            "value_curious": "Con gusto le ayudo, sin ningún compromiso.",
        },
        homes_ask_area="Si gusta, le envío algunas casas de vez en cuando. ¿Qué zona le interesa?",
        homes_in_area=(
            "Le enviaré algunas casas en {area} de vez en cuando, y {agent} está a sus órdenes "
            "cuando guste."
        ),
        value_ask_address=(
            "{agent} le puede preparar un estimado gratis del valor de su casa. ¿Cuál es la "
            "dirección?"
        ),
        value_for_address="{agent} le preparará un estimado gratis para {address} y se lo enviará.",
        noted="Lo tomaré en cuenta para lo que le envíe.",
        estimate_coming="{agent} le preparará su estimado gratis y se lo enviará.",
        anytime="Aquí estoy para cuando guste, sin ninguna prisa.",
    ),
}

# -- answers from the agent's documents (grounding.py) -----------------------------------------


@dataclass(frozen=True)
class KnowledgeTexts:
    """What the rule-based path says about a lead's question: the quote of the agent's document
    that answers it, or that the agent will answer it (the documents do not)."""

    #: ``{source}``: the document's short title; ``{quote}``: its own words.
    quoted: str
    #: The question goes to the agent as a task; no fact is given.
    for_agent: str


KNOWLEDGE: dict[Language, KnowledgeTexts] = {
    "en": KnowledgeTexts(
        quoted='From {source}: "{quote}"',
        for_agent="Good question. I'll have {agent} get back to you on that.",
    ),
    "es": KnowledgeTexts(
        quoted='Según {source}: "{quote}"',
        for_agent="Buena pregunta. Le pido a {agent} que le responda eso.",
    ),
}

# -- compliance confirmations -------------------------------------------------------------------

#: Sent when a lead opts back in (START / INICIO ...).
OPT_IN_REPLIES: dict[Language, str] = {
    "en": "You're opted back in. Reply STOP at any time to opt out.",
    "es": "Listo, volverá a recibir nuestros mensajes. Responda ALTO cuando quiera dejar de "
    "recibirlos.",
}
#: Sent once when a lead opts out in words the carrier does not handle itself (ALTO, BAJA,
#: "ya no me escriba", "stop texting me" ...): nobody else confirms those. STOP and the other
#: English carrier keywords are confirmed by the carrier / GHL, so the AI sends nothing for
#: them. Both fit one GSM-7 segment.
OPT_OUT_CONFIRMATIONS: dict[Language, str] = {
    "en": "Done, you won't get more texts from {brokerage}. Reply START to opt back in.",
    "es": "Listo, ya no le enviaremos mensajes de {brokerage}. Para volver a recibirlos, "
    "responda INICIO.",
}


# -- answers in words ---------------------------------------------------------------------------


def describe(language: Language, name: FieldName, value: Any) -> str:
    """An answer in words, in the lead's language (for acknowledgements)."""
    if language == "en":
        return describe_en(name, value)
    if value is None:
        return ""
    if name == "budget" and isinstance(value, Mapping):
        low, high = value.get("min"), value.get("max")
        if low and high:
            return f"de ${low:,} a ${high:,}"
        if high:
            return f"hasta ${high:,}"
        if low:
            return f"desde ${low:,}"
        return ""
    if name == "timeline":
        days = int(value)
        if days <= 31:
            return "dentro de un mes"
        months = round(days / 30)
        return "en un mes y algo" if months == 1 else f"en unos {months} meses"
    if name in ("price", "budget"):
        return f"${int(value):,}"
    return describe_en(name, value)


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def fill(template: str, /, **values: Any) -> str:
    """A template with ``values``; a name not given (or None) reads as nothing."""
    return template.format_map(_Values({k: v for k, v in values.items() if v is not None}))
