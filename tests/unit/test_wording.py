"""Languages, readiness and persona templates below the whole system: Spanish carrier keywords,
SMS segments (GSM-7 / UCS-2), the Spanish introduction, the templates' wording (usted, no
stacked acknowledgements, length in segments), the temperature cap and the end of a
readiness, the write-back values and a location's template choice."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from ghl_ai.config import TenantSettings
from ghl_ai.conversation.compliance import (
    carrier_confirms,
    is_opt_out,
    opt_in_language,
    opt_out_language,
)
from ghl_ai.conversation.model import Answer, Persona, Turn
from ghl_ai.conversation.personas import TEMPLATES, flows, persona_template, question
from ghl_ai.conversation.qualification import (
    READY_WITHIN_DAYS,
    flow,
    merge,
    missing_fields,
    readiness,
    temperature,
)
from ghl_ai.conversation.rules import RuleBrain, compose, is_acknowledgement
from ghl_ai.conversation.sms import OPT_OUT_NOTICES, segments, with_intro
from ghl_ai.conversation.wording import NURTURE, OPT_IN_REPLIES, OPT_OUT_CONFIRMATIONS
from ghl_ai.conversation.writeback import field_value, language_of
from ghl_ai.tenants import TenantProfile

PERSONA = Persona(agent_name="Jorge", brokerage="Sunbelt Realty", market_area="Inland Empire")
ES_NOTICE = OPT_OUT_NOTICES["es"]


# -- carrier keywords -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["ALTO", "alto", " Alto. ", "PARAR", "detener", "Cancelar!", "BAJA", "Bája", "baja."],
)
def test_spanish_carrier_words_opt_out_in_spanish(text: str) -> None:
    assert opt_out_language(text) == "es"
    assert not carrier_confirms(text)  # nobody else confirms them: we do


@pytest.mark.parametrize(
    "text",
    [
        "ya no me escriba más",
        "No me manden mas mensajes",
        "por favor deje de escribirme",
        "quiero darme de baja",
        "Denme de baja por favor",
    ],
)
def test_unambiguous_spanish_phrases_opt_out(text: str) -> None:
    assert opt_out_language(text) == "es"


@pytest.mark.parametrize(
    "text",
    [
        "el techo es muy alto",
        "¿podemos cancelar la cita del viernes?",
        "si baja de precio me avisa",
        "no me escribió nadie",
        "alto desierto, cerca de Victorville",
        "hay que parar en la casa del vecino",
    ],
)
def test_the_spanish_words_inside_a_sentence_do_not_opt_out(text: str) -> None:
    assert not is_opt_out(text)


def test_english_keywords_are_the_carriers_to_confirm_and_phrases_ours() -> None:
    assert opt_out_language("STOP") == "en" and carrier_confirms("STOP")
    assert opt_out_language("stop texting me") == "en" and not carrier_confirms("stop texting me")


def test_spanish_opt_in_words_and_si_only_after_an_opt_out() -> None:
    for word in ("INICIO", "iniciar", "Comenzar", "REANUDAR"):
        assert opt_in_language(word, opted_out=False) == "es"
    assert opt_in_language("sí", opted_out=True) == "es"
    assert opt_in_language("Si", opted_out=False) is None
    assert opt_in_language("START", opted_out=True) == "en"
    assert opt_in_language("comenzar a buscar en marzo", opted_out=True) is None


# -- segments and the introduction ------------------------------------------------------------


def test_segments_count_gsm7_and_ucs2_as_carriers_do() -> None:
    assert segments("") == 0
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("a" * 306) == 2 and segments("a" * 307) == 3
    assert segments("[" * 80) == 1 and segments("[" * 81) == 2  # extension chars take two
    # ñ, é, ¿ and ¡ are GSM-7; á, í, ó, ú are not.
    assert segments("¿Señora? ¡Él es!" + "a" * 144) == 1
    assert segments("¿Señora? ¡Él está!" + "a" * 60) == 2  # 78 UCS-2 characters
    assert segments("¿Cuántas?") == 1
    assert segments("á" * 70) == 1 and segments("á" * 71) == 2 and segments("á" * 135) == 3
    assert segments("😀" * 35) == 1 and segments("😀" * 36) == 2  # surrogate pairs


def test_the_spanish_introduction_names_the_agent_and_ends_with_alto() -> None:
    out = with_intro("¿Para cuándo le gustaría mudarse?", PERSONA, language="es")
    assert out == (
        "Hola, le escribe Jorge de Sunbelt Realty. ¿Para cuándo le gustaría mudarse? " + ES_NOTICE
    )
    assert with_intro(out, PERSONA, language="es") == out  # idempotent
    greeted = with_intro("Hola María, ¿busca comprar o vender?", PERSONA, language="es")
    assert greeted.startswith("¡Hola María! Le escribe Jorge de Sunbelt Realty. ¿Busca comprar")
    # A Spanish reply that says "Responda STOP ..." gets one notice, the Spanish one, last.
    moved = with_intro(
        "Le escribe Jorge de Sunbelt Realty. Responda STOP para cancelar. ¿Compra o vende?",
        PERSONA,
        language="es",
    )
    assert moved == f"Le escribe Jorge de Sunbelt Realty. ¿Compra o vende? {ES_NOTICE}"
    assert "STOP" not in moved
    long = with_intro("¿Qué presupuesto tiene? " + "Muy bien. " * 60, PERSONA, language="es")
    assert len(long) <= 320 and long.endswith(ES_NOTICE)


# -- the templates' wording -------------------------------------------------------------------

#: Informal (tú) forms: the Spanish templates speak usted throughout.
_TU = re.compile(
    r"\b(?:tú|tu|tus|te|ti|contigo|tienes|quieres|necesitas|buscas|puedes|piensas|prefieres|"
    r"gustas|gustaría\s+a\s+ti|dime|cuéntame|avísame|escríbeme|responde)\b",
    re.IGNORECASE,
)


def spanish_texts() -> list[str]:
    found: list[str] = []
    for template in TEMPLATES.values():
        texts = template.wording("es")
        found += (
            list(texts.questions.values()) + list(texts.acks.values()) + list(texts.pairs.values())
        )
        found += [texts.intent_question, texts.default_ack, texts.no_problem, texts.bot_answer]
        found += [texts.handoff, texts.closing, texts.done, texts.greeting_named, texts.greeting]
        found += [texts.thanks, texts.thanks_listing]
    words = NURTURE["es"]
    found += [*words.openers.values(), words.homes_ask_area, words.homes_in_area]
    found += [words.value_ask_address, words.value_for_address, words.noted]
    found += [words.estimate_coming, words.anytime]
    found += [OPT_IN_REPLIES["es"], ES_NOTICE]
    found += [OPT_OUT_CONFIRMATIONS["es"]]
    return found


def test_the_spanish_templates_say_usted_and_each_fits_two_ucs2_segments() -> None:
    texts = spanish_texts()
    assert len(texts) > 150
    for text in texts:
        assert not _TU.search(text), text
        filled = text.format(
            agent="Jorge",
            brokerage="Sunbelt Realty",
            text="hasta $450,000",
            first="María",
            listing="10245 Cedar Ave",
            area="Rancho Cucamonga",
            address="10245 Cedar Ave",
        )
        assert segments(filled) <= 2, (segments(filled), filled)
    # The opt-out confirmations are one GSM-7 segment in both languages.
    for confirmation in OPT_OUT_CONFIRMATIONS.values():
        assert segments(confirmation.format(brokerage="Sunbelt Realty")) == 1


def test_every_template_has_a_question_for_every_field_of_its_flows_in_both_languages() -> None:
    for template in TEMPLATES.values():
        for language in ("en", "es"):
            texts = template.wording(language)
            for intent in ("buy", "sell", "both"):
                for name in flow(intent, flows(template)):
                    assert name in texts.questions, (template.name, language, name)
            for first, _second in texts.pairs:
                assert template.max_questions >= 2 and first in texts.questions
    assert persona_template(None) is TEMPLATES["consultative"]
    assert persona_template("no_such_template") is TEMPLATES["consultative"]


def test_a_speed_qualifier_pairs_questions_only_where_they_pair() -> None:
    speed = TEMPLATES["speed_qualifier"]
    assert question(speed, "en", ["timeline", "area", "budget"]) == (
        "When do you want to move, and which areas?"
    )
    assert question(speed, "en", ["area", "budget"]) == "Which areas?"
    assert question(speed, "es", ["budget", "pre_approval"]).startswith("¿Qué presupuesto")
    assert question(TEMPLATES["consultative"], "en", ["timeline", "area"]) == (
        "When are you hoping to make a move?"
    )


_ES_ACK = re.compile(
    r"^¡?(?:gracias|muchas gracias|perfecto|entendido|anotado|de acuerdo|muy bien|claro|"
    r"con gusto|excelente|listo|no se preocupe|por supuesto|es un placer)\b"
    r"|\b(?:muy buena opción|excelente elección)[.!]?$",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_INTRO = re.compile(r"^(?:¡?hola\b[^.!?]*[.!?]|le escribe .*\.)$", re.IGNORECASE)

VALUES: dict[str, list[object]] = {
    "timeline": [30, 90, 200, 400],
    "area": ["Rancho Cucamonga", "Fontana"],
    "budget": [{"min": None, "max": 450000}, {"min": 400000, "max": 500000}],
    "pre_approval": ["yes", "cash", "no", "in_progress"],
    "bedrooms": [3, 4],
    "property_type": ["single_family", "condo"],
    "must_haves": [["pool"]],
    "address": ["10245 Cedar Ave, Rancho Cucamonga"],
    "motivation": ["relocating", "inherited"],
    "condition": ["good", "needs_work"],
    "price": [600000],
    "readiness": ["browsing", "unhurried", "value_curious"],
}
MESSAGES = [
    None,
    "3",
    "450 mil",
    "Fontana",
    "sí",
    "gracias",
    "¿eres un robot?",
    "¿me puede llamar alguien?",
    "no sé",
    "sin prisa",
    "la casa está en 10245 Cedar Ave",
]


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_generated_spanish_replies_read_well_and_stay_short(name: str) -> None:
    """Thousands of generated turns per template, replies in Spanish: never two
    acknowledgements in a row, never a "tú", at most 320 characters, and a reply that is
    neither a first message nor the answer to "are you a bot?" within three UCS-2 segments."""
    rng = random.Random(name)
    template = TEMPLATES[name]
    persona = Persona(
        agent_name="Jorge",
        brokerage="Sunbelt Realty",
        areas=("Fontana", "Rancho Cucamonga"),
        template=name,  # type: ignore[arg-type]
    )
    brain = RuleBrain()
    checked = 0
    for _ in range(800):
        intent = rng.choice([None, "buy", "sell", "both", "rent", "invest"])
        fields = [*flow(intent, flows(template)), *(["readiness"] if rng.random() < 0.2 else [])]
        known = rng.sample(fields, rng.randint(0, len(fields))) if fields else []
        answers = {n: Answer(value=rng.choice(VALUES[n]), confidence=0.9) for n in known}
        missing = missing_fields(intent, answers, flows(template))  # type: ignore[arg-type]
        inbound = rng.choice(MESSAGES)
        turn = Turn(
            persona=persona,
            now=datetime(2026, 12, 1, 17, tzinfo=UTC),
            intent=intent,  # type: ignore[arg-type]
            answers=answers,
            last_asked=missing[0] if missing else None,
            missing=missing,
            inbound=inbound,
            first_contact=inbound is None or rng.random() < 0.3,
            language="es",
            context={"first_name": rng.choice([None, "María"])},
        )
        decision = brain.decide(turn)
        reply = decision.reply
        if (decision.extraction.language or "es") != "es":
            continue
        checked += 1
        sentences = [s for s in _SENTENCES.split(reply) if s]
        while sentences and _INTRO.match(sentences[0]):
            sentences = sentences[1:]
        stacked = len(sentences) >= 2 and all(_ES_ACK.search(s) for s in sentences[:2])
        assert not stacked, reply
        assert not _TU.search(reply), reply
        assert len(reply) <= 320, reply
        if not turn.first_contact and not decision.extraction.asked_if_bot:
            assert segments(reply) <= 3, (segments(reply), reply)
        if turn.first_contact:
            assert reply.endswith(ES_NOTICE) and "Jorge" in reply and "Sunbelt Realty" in reply
    assert checked > 700  # the walk really wrote Spanish


def test_compose_keeps_one_acknowledgement_in_spanish() -> None:
    assert is_acknowledgement("Muy bien, en unos 3 meses.", "es")
    assert is_acknowledgement("Fontana, muy buena opción.", "es")
    assert compose(["Anotado.", "Muchas gracias, es todo lo que necesito."], "es") == (
        "Anotado. Es todo lo que necesito."
    )
    assert compose(["¿para cuándo?"], "es") == "¿Para cuándo?"


# -- readiness: the cap and its end -----------------------------------------------------------


def answers_of(**values: object) -> dict[str, Answer]:
    return {k: Answer(value=v, confidence=0.9) for k, v in values.items()}


HOT_BUYER = {
    "budget": {"min": None, "max": 450000},
    "area": "Fontana",
    "timeline": 60,
    "pre_approval": "yes",
}


def test_readiness_caps_the_temperature() -> None:
    assert temperature("buy", answers_of(**HOT_BUYER)) == "hot"
    assert temperature("buy", answers_of(**HOT_BUYER, readiness="browsing")) == "cold"
    assert temperature("buy", answers_of(**HOT_BUYER, readiness="unhurried")) == "warm"
    assert temperature("sell", answers_of(readiness="value_curious", address="1 Elm")) == "cold"
    seller = {"address": "1 Elm", "motivation": "other", "timeline": 60, "price": 600000}
    assert temperature("sell", answers_of(**seller, readiness="value_curious")) == "warm"
    assert readiness(answers_of(readiness="nonsense")) is None


def test_a_near_timeline_ends_the_readiness_a_far_one_does_not() -> None:
    browsing = answers_of(readiness="browsing", area="Fontana")
    near = merge(browsing, answers_of(timeline=READY_WITHIN_DAYS))
    assert "readiness" not in near and near["timeline"].value == READY_WITHIN_DAYS
    far = merge(browsing, answers_of(timeline=READY_WITHIN_DAYS + 1))
    assert far["readiness"].value == "browsing"
    # Both in one message ("no rush, maybe in 3 months"): the lead's words stand.
    both = merge({}, answers_of(readiness="unhurried", timeline=90))
    assert both["readiness"].value == "unhurried"
    unsure = merge(browsing, {"timeline": Answer(value=30, confidence=0.3)})
    assert unsure["readiness"].value == "browsing"


# -- write-back values and the location's template ------------------------------------------


def test_new_fields_are_written_in_ghls_words() -> None:
    assert field_value("readiness", "browsing") == "Just browsing"
    assert field_value("readiness", "unhurried") == "No rush"
    assert field_value("readiness", "value_curious") == "Curious about value"
    assert field_value("bathrooms", 2.5) == 2.5 and field_value("bathrooms", 3.0) == 3
    assert field_value("language", "es") == "Spanish" and field_value("language", "en") == "English"
    for text, expected in [
        ("Spanish", "es"),
        ("Español", "es"),
        ("es-MX", "es"),
        ("es_US", "es"),
        ("English", "en"),
        ("en-US", "en"),
        ("French", None),
        ("", None),
        (None, None),
    ]:
        assert language_of(text) == expected, text


def profile(**values: object) -> TenantProfile:
    return TenantProfile.build("loc-1", {**TenantSettings().model_dump(), **values})


def test_a_location_picks_its_persona_template_and_its_tone() -> None:
    assert profile().persona.template == "consultative"
    assert profile().persona.tone == "warm, concise, professional"  # today's default
    luxury = profile(persona_template="luxury_specialist").persona
    assert luxury.template == "luxury_specialist"
    assert luxury.tone == TEMPLATES["luxury_specialist"].tone
    own = profile(persona_template="speed_qualifier", agent_tone="dry and funny").persona
    assert own.template == "speed_qualifier" and own.tone == "dry and funny"
    # A tenants item with a name we do not know keeps the default.
    assert profile(persona_template="Pushy Closer").persona.template == "consultative"
    assert profile(persona_template="First_Time_Buyer_Helper").persona.template == (
        "first_time_buyer_helper"
    )
