"""Persona templates: four ways of qualifying a lead the seed's agents liked, each a set of tone
and flow settings a location picks (``PERSONA_TEMPLATE``, tenants attribute
``personaTemplate``). Both brains apply them: the rule-based qualifier takes the flow order, the
number of questions per message and the wording from here; Claude's system prompt gets the
tone, the style notes, the flow order and the same wording as suggestions.

============================  ===================================================================
``consultative`` (default)    Today's behaviour: warm, one question per message, a short
                              acknowledgement of each answer.
``speed_qualifier``           Straight to the point: no acknowledgements or pleasantries, two
                              questions per message where they pair naturally (timeline + area,
                              budget + pre-approval, beds/baths + property type; address +
                              motivation, timeline + condition), terse wording.
``luxury_specialist``         Formal and gracious, "residence" rather than "house", asks about
                              the features that matter most (must-haves) right after the area.
``first_time_buyer_helper``   Patient and plain-spoken: asks about pre-approval before the budget
                              and explains what a pre-approval is; reassures a lead who has none
                              yet and offers the agent's help finding a lender.
============================  ===================================================================

Every template has English and Spanish wording (``wording.py`` for the conventions). The
location's ``AGENT_TONE``, when set, replaces the template's tone text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ghl_ai.conversation.qualification import BUYER_FLOW, SELLER_FLOW
from ghl_ai.conversation.wording import ENGLISH, SPANISH, Texts

if TYPE_CHECKING:
    from ghl_ai.conversation.model import FieldName, Language, PersonaTemplateName


@dataclass(frozen=True)
class PersonaTemplate:
    name: PersonaTemplateName
    #: One line for the README and ``ghl-ai``-style listings.
    summary: str
    #: The voice, for Claude's prompt ("Your voice: ...") and the persona's default tone.
    tone: str
    #: Extra guidance for Claude's prompt ({agent} is filled in); empty for the default.
    style: str
    buyer_flow: tuple[FieldName, ...]
    seller_flow: tuple[FieldName, ...]
    #: Questions one message may ask (2: pairs from ``Texts.pairs``).
    max_questions: int
    #: Acknowledge a new answer ("Got it, up to $450,000.") and a vague one ("No problem.").
    acknowledge: bool
    #: Thank the lead in our first message ("Thanks for reaching out!").
    thank_first: bool
    texts: Mapping[Language, Texts]

    def wording(self, language: Language) -> Texts:
        return self.texts.get(language) or self.texts["en"]


def _texts(base: Texts, **changes: object) -> Texts:
    """``base`` with some texts replaced and the mappings (questions, acks, pairs) merged."""
    merged: dict[str, object] = {}
    for name, value in changes.items():
        current = getattr(base, name)
        merged[name] = {**current, **value} if isinstance(current, Mapping) else value  # type: ignore[dict-item]
    return replace(base, **merged)  # type: ignore[arg-type]


CONSULTATIVE = PersonaTemplate(
    name="consultative",
    summary="Warm and consultative: one question per message, each answer acknowledged.",
    tone="warm, concise, professional",
    style="",
    buyer_flow=BUYER_FLOW,
    seller_flow=SELLER_FLOW,
    max_questions=1,
    acknowledge=True,
    thank_first=True,
    texts={"en": ENGLISH, "es": SPANISH},
)

SPEED_QUALIFIER = PersonaTemplate(
    name="speed_qualifier",
    summary="Fast: no pleasantries, two short questions per message where they pair.",
    tone="brisk, friendly and efficient; short sentences, no filler",
    style=(
        'Get to the point: skip pleasantries and acknowledgements (no "Thanks!", no "Great '
        'choice"). Ask two missing fields in one short question when they pair naturally '
        "(timeline + area, budget + pre_approval, bedrooms + property_type; address + "
        "motivation, timeline + condition), else one."
    ),
    buyer_flow=BUYER_FLOW,
    seller_flow=SELLER_FLOW,
    max_questions=2,
    acknowledge=False,
    thank_first=False,
    texts={
        "en": _texts(
            ENGLISH,
            questions={
                "timeline": "When do you want to move?",
                "area": "Which areas?",
                "budget": "What's your price range?",
                "pre_approval": "Pre-approved, or paying cash?",
                "bedrooms": "How many beds and baths?",
                "property_type": "House, condo or townhouse?",
                "must_haves": "Any must-haves?",
                "address": "What's the property address?",
                "motivation": "What's prompting the sale?",
                "condition": "Is it move-in ready, or does it need work?",
                "price": "Any price in mind?",
            },
            pairs={
                ("timeline", "area"): "When do you want to move, and which areas?",
                ("budget", "pre_approval"): (
                    "What's your price range, and are you pre-approved or paying cash?"
                ),
                ("bedrooms", "property_type"): (
                    "How many beds and baths, and house, condo or townhouse?"
                ),
                ("address", "motivation"): (
                    "What's the property address, and what's prompting the sale?"
                ),
                ("timeline", "condition"): (
                    "When do you want to sell, and is it move-in ready or does it need work?"
                ),
            },
            intent_question="Buying, selling, or both?",
            handoff="{agent} will call you shortly.",
            closing="{agent} will be in touch shortly.",
            done="That's all I need. {agent} will call you shortly to set a time.",
        ),
        "es": _texts(
            SPANISH,
            questions={
                "timeline": "¿Para cuándo quiere mudarse?",
                "area": "¿En qué zonas?",
                "budget": "¿Qué presupuesto tiene?",
                "pre_approval": "¿Tiene preaprobación o paga de contado?",
                "bedrooms": "¿Cuántas recámaras y baños?",
                "property_type": "¿Casa, condominio o townhouse?",
                "must_haves": "¿Algo indispensable?",
                "address": "¿Cuál es la dirección de la propiedad?",
                "motivation": "¿Qué motiva la venta?",
                "condition": "¿Está lista para mudarse o necesita arreglos?",
                "price": "¿Qué precio tiene en mente?",
            },
            pairs={
                ("timeline", "area"): "¿Para cuándo quiere mudarse y en qué zonas?",
                ("budget", "pre_approval"): (
                    "¿Qué presupuesto tiene, y ya tiene preaprobación o paga de contado?"
                ),
                ("bedrooms", "property_type"): (
                    "¿Cuántas recámaras y baños, y casa, condominio o townhouse?"
                ),
                ("address", "motivation"): "¿Cuál es la dirección y qué motiva la venta?",
                ("timeline", "condition"): (
                    "¿Para cuándo quiere vender, y la casa está lista o necesita arreglos?"
                ),
            },
            intent_question="¿Comprar, vender o ambos?",
            handoff="{agent} le llamará en breve.",
            closing="{agent} se pondrá en contacto pronto.",
            done="Es todo lo que necesito. {agent} le llamará pronto para coordinar.",
        ),
    },
)

LUXURY_SPECIALIST = PersonaTemplate(
    name="luxury_specialist",
    summary="Formal and discreet: 'residence' wording, must-haves asked right after the area.",
    tone="polished, discreet and gracious; formal courtesy, never pushy",
    style=(
        'Write formally and graciously: say "residence" (in Spanish "residencia") rather '
        'than "house" or "place", no slang, no exclamation marks. Right after the area, ask '
        "which features matter most (must_haves: a pool, a view, single-level living, a guest "
        "casita, acreage) and record them."
    ),
    buyer_flow=(
        "timeline",
        "area",
        "must_haves",
        "budget",
        "pre_approval",
        "bedrooms",
        "property_type",
    ),
    seller_flow=SELLER_FLOW,
    max_questions=1,
    acknowledge=True,
    thank_first=True,
    texts={
        "en": _texts(
            ENGLISH,
            questions={
                "timeline": "When would you ideally like to be settled in your new residence?",
                "area": "Which communities or neighborhoods appeal to you most?",
                "must_haves": (
                    "Which features matter most in your next residence: a pool, a view, "
                    "single-level living, a guest casita?"
                ),
                "budget": "What price range would you like me to focus on?",
                "pre_approval": (
                    "Will you be financing the purchase, and if so, are you pre-approved? Or "
                    "will it be a cash purchase?"
                ),
                "bedrooms": "How many bedrooms and baths should the residence have?",
                "property_type": (
                    "Do you prefer a single-family residence, a condominium or a townhome?"
                ),
                "address": "May I have the address of the residence you are considering selling?",
                "motivation": "May I ask what is prompting the move?",
                "condition": (
                    "How would you describe the residence's condition: move-in ready, or in need "
                    "of some updating?"
                ),
                "price": "Do you have a price in mind for the residence?",
            },
            acks={
                "budget": "Thank you, {text}.",
                "area": "{text}, a wonderful choice.",
                "timeline": "Thank you, {text} is very workable.",
                "pre_approval": "Excellent, thank you.",
                "bedrooms": "Noted, thank you.",
                "bathrooms": "Noted, thank you.",
                "must_haves": "Wonderful, noted.",
                "property_type": "Very good.",
                "address": "Thank you for the address.",
                "motivation": "Thank you for sharing that.",
                "condition": "Understood, thank you.",
                "price": "Thank you, {text} for the residence.",
            },
            default_ack="Thank you.",
            no_problem="Of course.",
            intent_question="Are you looking to purchase, to sell, or both?",
            handoff="Certainly. {agent} will call you personally shortly.",
            closing="My pleasure. {agent} will be in touch personally to discuss next steps.",
            done=(
                "Thank you, that is everything I need for now. {agent} will be in touch "
                "personally to arrange a time to speak."
            ),
            greeting_named="Hello {first}, this is {agent} with {brokerage}.",
            greeting="Hello, this is {agent} with {brokerage}.",
            thanks="Thank you for reaching out.",
            thanks_listing="Thank you for your interest in {listing}.",
        ),
        "es": _texts(
            SPANISH,
            questions={
                "timeline": "¿Para cuándo le gustaría mudarse a su nueva residencia?",
                "area": "¿Qué comunidades o vecindarios le atraen más?",
                "must_haves": (
                    "¿Qué no le puede faltar a su próxima residencia: alberca, vista, una sola "
                    "planta, casita para huéspedes?"
                ),
                "budget": "¿En qué rango de precio le gustaría que me enfoque?",
                "pre_approval": (
                    "¿Piensa financiar la compra? De ser así, ¿ya cuenta con preaprobación, o "
                    "será una compra de contado?"
                ),
                "bedrooms": "¿Cuántas recámaras y baños debe tener la residencia?",
                "property_type": (
                    "¿Prefiere una residencia unifamiliar, un condominio o un townhouse?"
                ),
                "address": "¿Me podría compartir la dirección de la residencia que piensa vender?",
                "motivation": "¿Me permite preguntarle qué motiva la venta?",
                "condition": (
                    "¿Cómo describiría el estado de la residencia: lista para habitar, o necesita "
                    "algunas actualizaciones?"
                ),
                "price": "¿Tiene en mente un precio para la residencia?",
            },
            acks={
                "budget": "Gracias, {text}.",
                "area": "{text}, excelente elección.",
                "timeline": "Gracias, {text} es muy razonable.",
                "pre_approval": "Excelente, muchas gracias.",
                "bedrooms": "Anotado, gracias.",
                "bathrooms": "Anotado, gracias.",
                "must_haves": "Excelente, lo tengo anotado.",
                "property_type": "Muy bien.",
                "address": "Gracias por la dirección.",
                "motivation": "Gracias por compartirlo.",
                "condition": "Entendido, gracias.",
                "price": "Gracias, {text} por la residencia.",
            },
            default_ack="Gracias.",
            no_problem="Por supuesto.",
            intent_question="¿Desea comprar, vender o ambas cosas?",
            handoff="Por supuesto. {agent} le llamará personalmente en breve.",
            closing="Es un placer. {agent} se comunicará personalmente para ver los siguientes "
            "pasos.",
            done=(
                "Muchas gracias, es todo lo que necesito. {agent} se comunicará personalmente "
                "para conversar."
            ),
            thanks="Gracias por comunicarse con nosotros.",
            thanks_listing="Gracias por su interés en {listing}.",
        ),
    },
)

FIRST_TIME_BUYER_HELPER = PersonaTemplate(
    name="first_time_buyer_helper",
    summary="Patient guide: pre-approval asked before the budget and explained in plain words.",
    tone="patient, encouraging and plain-spoken; explains each step in simple words",
    style=(
        "Many of these leads are buying their first home. Ask about pre-approval before the "
        "budget, and when you do, explain it in one short sentence (a lender's letter saying "
        "how much they can borrow; it makes an offer stronger). If they have none yet, "
        "reassure them that this is a normal first step and that {agent} can connect them "
        "with a lender. Explain any other term you use; no jargon."
    ),
    buyer_flow=("timeline", "area", "pre_approval", "budget", "bedrooms", "property_type"),
    seller_flow=SELLER_FLOW,
    max_questions=1,
    acknowledge=True,
    thank_first=True,
    texts={
        "en": _texts(
            ENGLISH,
            questions={
                "pre_approval": (
                    "Have you been pre-approved yet? That's a lender's letter saying how much "
                    "you can borrow, and it makes your offer stronger. No worries if not."
                ),
                "budget": "What price range feels comfortable for you? A rough idea is fine.",
                "bedrooms": "How many bedrooms and bathrooms would you like, and any must-haves?",
                "property_type": (
                    "Are you thinking a single-family home, a condo or a townhouse? All three "
                    "can be a great first home."
                ),
            },
            acks={
                "pre_approval": "Perfect, that puts you in a strong position.",
                "pre_approval:no": (
                    "No problem, most first-time buyers start there. {agent} can connect you "
                    "with a trusted lender."
                ),
                "pre_approval:in_progress": "Great, you're on the right track.",
            },
            closing="Anytime! {agent} is happy to answer any question along the way.",
            done=(
                "Thank you, that's everything I need for now. {agent} will reach out shortly "
                "to walk you through the next steps."
            ),
        ),
        "es": _texts(
            SPANISH,
            questions={
                "pre_approval": (
                    "¿Ya tiene su preaprobación? Es la carta del banco que dice cuánto le prestan, "
                    "y fortalece su oferta. Si aún no, no se preocupe."
                ),
                "budget": "¿Qué rango de precio le parece cómodo? Una idea aproximada está bien.",
                "bedrooms": (
                    "¿Cuántas recámaras y baños le gustaría tener, y hay algo que no le puede "
                    "faltar?"
                ),
                "property_type": (
                    "¿Piensa en una casa, un condominio o un townhouse? Los tres pueden ser una "
                    "excelente primera casa."
                ),
            },
            acks={
                "pre_approval": "Perfecto, eso le da una posición muy fuerte.",
                "pre_approval:no": (
                    "No se preocupe, así empiezan muchos. {agent} le puede recomendar un buen "
                    "prestamista."
                ),
                "pre_approval:in_progress": "Muy bien, va por buen camino.",
            },
            closing="¡Con gusto! {agent} le puede ayudar con cualquier duda en el camino.",
            done=(
                "Muchas gracias, es todo lo que necesito. {agent} le contactará pronto para "
                "explicarle los pasos."
            ),
        ),
    },
)

TEMPLATES: dict[str, PersonaTemplate] = {
    t.name: t for t in (CONSULTATIVE, SPEED_QUALIFIER, LUXURY_SPECIALIST, FIRST_TIME_BUYER_HELPER)
}


def persona_template(name: str | None) -> PersonaTemplate:
    """The template called ``name`` (the default, consultative, for None or an unknown name)."""
    return TEMPLATES.get(name or "", CONSULTATIVE)


def flows(template: PersonaTemplate) -> tuple[tuple[FieldName, ...], tuple[FieldName, ...]]:
    return template.buyer_flow, template.seller_flow


def question(template: PersonaTemplate, language: Language, missing: list[FieldName]) -> str | None:
    """The question for the next missing field, or for the next two when the template asks
    two at once and they pair; None when nothing is missing."""
    if not missing:
        return None
    texts = template.wording(language)
    if template.max_questions >= 2 and len(missing) >= 2:
        pair = texts.pairs.get((missing[0], missing[1]))
        if pair:
            return pair
    return texts.questions.get(missing[0]) or ENGLISH.questions.get(missing[0])
