"""Spanish-speaking leads through the whole system (signed webhooks, the worker, moto, the GHL
and Anthropic stand-ins): complete buyer and seller conversations on the rule-based path with
every reply in Spanish and the answers in GHL; ALTO and INICIO; the lead's language from GHL
(the *Preferred Language* field, the contact's locale), kept through short messages; the
Claude path told the language and its Spanish reply sent as written.

The two complete conversations need the extractor to read Spanish (intent, "450 mil",
recámaras, baños ...): they wait on that work (``conversation/extract.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from local.anthropic_standin import AnthropicStandIn, status, tool
from local.ghl_standin import GhlStandIn
from tests.conftest import Stack
from tests.conversation.driver import configure, dnd_updates, new_lead, one_reply

IE_AREAS = "Fontana,Rialto,Ontario,Riverside,Rancho Cucamonga,San Bernardino,Eastvale,Redlands"
SPANISH_NOTICE = "Responda ALTO para no recibir más mensajes."
#: Words no Spanish reply of ours contains (the English templates all do some).
_ENGLISH = re.compile(
    r"\b(?:the|you|your|what|when|which|thanks|thank|reply|how|are|got it|noted|great)\b", re.I
)
_SPANISH = re.compile(r"[¿¡áéíóúñ]|\b(?:usted|le|su|gracias|casa|Jorge)\b", re.I)


def spanish(reply: str) -> bool:
    return not _ENGLISH.search(reply) and bool(_SPANISH.search(reply))


@pytest.fixture
def ghl(monkeypatch: pytest.MonkeyPatch) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        configure(monkeypatch, standin, MARKET_AREAS=IE_AREAS, MARKET_AREA="the Inland Empire")
        yield standin


def language_writes(ghl: GhlStandIn, contact_id: str) -> list[Any]:
    """The values written to the contact's *Preferred Language* field, in order."""
    return [
        cf.get("field_value", cf.get("value"))
        for call in ghl.calls_to("PUT", f"/contacts/{contact_id}")
        for cf in call.json.get("customFields") or []
        if cf.get("id") == "cf-language"
    ]


# -- the rule-based path, whole conversations (wait on the Spanish extractor) -------------------

SPANISH_BUYER = [
    "Hola, buenas tardes. Queremos comprar una casa",
    "en unos dos meses",
    "Fontana o Rialto",
    "como 450 mil",
    "sí, ya estamos pre aprobados",
    "3 recámaras y 2 baños, con alberca si se puede",
    "casa sola",
    "muchas gracias!",
    "¿me puede llamar Jorge mañana?",
]


def test_a_spanish_buyer_is_qualified_in_spanish_by_the_rule_based_path(
    stack: Stack, ghl: GhlStandIn
) -> None:
    c = new_lead(stack, ghl)
    replies = [one_reply(c, text) for text in SPANISH_BUYER]
    assert replies[0] == (
        "Hola, le escribe Jorge de Sunbelt Realty. ¿Para cuándo le gustaría mudarse? "
        + SPANISH_NOTICE
    )
    assert replies[1] == (
        "Muy bien, en unos 2 meses. ¿En qué ciudades o vecindarios está buscando?"
    )
    assert replies[2].endswith("muy buena opción. ¿Qué presupuesto tiene en mente, más o menos?")
    assert replies[3] == (
        "Entendido, hasta $450,000. ¿Ya tiene la preaprobación de un préstamo, o va a pagar "
        "de contado?"
    )
    assert replies[4] == (
        "Perfecto, eso ayuda mucho. ¿Cuántas recámaras y baños necesita, y hay algo que no le "
        "puede faltar?"
    )
    assert replies[5] == "Anotado. ¿Busca una casa, un condominio o un townhouse?"
    assert replies[6] == (
        "De acuerdo. Es todo lo que necesito. Jorge le contactará pronto para hablar."
    )
    assert replies[7].startswith("¡Con gusto! Jorge se pondrá en contacto pronto")
    assert replies[8] == "Claro que sí. Le pido a Jorge que le llame en breve."
    assert all(spanish(r) for r in replies), [r for r in replies if not spanish(r)]

    fields = c.custom_fields()
    assert fields["Preferred Language"] == "Spanish"
    assert fields["Buy/Sell Intent"] == "Buy"
    assert fields["Timeline"] == "1-3 months"
    assert "Fontana" in fields["Preferred Area"]
    assert fields["Budget"] == 450000
    assert fields["Pre-Approval"] == "Pre-approved"
    assert fields["Bedrooms"] == 3
    assert fields["Bathrooms"] == 2
    assert fields["Must-Haves"] == "pool"
    assert fields["Property Type"] == "Single family"
    assert fields["Lead Temperature"] == "Hot"
    assert language_writes(ghl, c.contact_id) == ["Spanish"]  # once, when it was learned
    assert "hot-lead" in c.tags() and "ai-handoff" in c.tags()
    assert c.lead()["language"] == "es"


SPANISH_SELLER = [
    "Buenas tardes, estoy pensando en vender mi casa",
    "la casa está en 8421 Sierra Ave, Fontana",
    "nos vamos a mudar a Texas por el trabajo de mi esposo",
    "en unos 3 meses",
    "necesita algunos arreglos, la cocina ya está vieja",
    "esperamos sacar unos 550 mil",
    "gracias",
    "¿me puede llamar Jorge?",
]


def test_a_spanish_seller_is_qualified_in_spanish_by_the_rule_based_path(
    stack: Stack, ghl: GhlStandIn
) -> None:
    c = new_lead(stack, ghl, firstName="Rosa", lastName="Medina", phone="+19095550123")
    replies = [one_reply(c, text) for text in SPANISH_SELLER]
    assert replies[0] == (
        "Hola, le escribe Jorge de Sunbelt Realty. ¿Cuál es la dirección de la casa que piensa "
        "vender? " + SPANISH_NOTICE
    )
    assert replies[1] == "Gracias por la dirección. ¿Y qué motiva la mudanza?"
    assert replies[2] == "Gracias por contarme. ¿Para cuándo le gustaría mudarse?"
    assert replies[3] == (
        "Muy bien, en unos 3 meses. ¿En qué condiciones está la casa: lista para mudarse o "
        "necesita algunos arreglos?"
    )
    assert replies[4] == "Entendido. ¿Tiene en mente un precio de venta?"
    assert replies[5] == (
        "Entendido, $550,000 por su casa. Es todo lo que necesito. Jorge le contactará pronto "
        "para hablar."
    )
    assert replies[6].startswith("¡Con gusto!")
    assert replies[7] == "Claro que sí. Le pido a Jorge que le llame en breve."
    assert all(spanish(r) for r in replies), [r for r in replies if not spanish(r)]

    fields = c.custom_fields()
    assert fields["Preferred Language"] == "Spanish"
    assert fields["Buy/Sell Intent"] == "Sell"
    assert fields["Property Address"].startswith("8421 Sierra Ave")
    assert fields["Seller Motivation"] == "relocating"
    assert fields["Timeline"] == "1-3 months"
    assert fields["Property Condition"] == "Needs work"
    assert fields["Price Expectation"] == 550000
    assert fields["Lead Temperature"] == "Hot"
    assert "Budget" not in fields
    assert [t["title"] for t in ghl.tasks] == [
        "Call Rosa Medina: hot lead",
        "Call Rosa Medina: asked to talk to a person",
    ]


# -- carrier keywords in Spanish ------------------------------------------------------------------


def test_alto_opts_out_with_a_spanish_confirmation_and_inicio_opts_back_in(
    stack: Stack, ghl: GhlStandIn
) -> None:
    c = new_lead(stack, ghl)
    assert c.lead_says("ALTO") == [
        "Listo, ya no le enviaremos mensajes de Sunbelt Realty. Para volver a recibirlos, "
        "responda INICIO."
    ]
    # The confirmation went before the DND (GHL refuses texts to a DND contact).
    sent = [i for i, call in enumerate(ghl.calls) if call.path == "/conversations/messages"]
    dnd = [i for i, call in enumerate(ghl.calls) if "dndSettings" in (call.json or {})]
    assert sent and dnd and sent[0] < dnd[0]
    assert dnd_updates(ghl, c.contact_id) == [{"SMS": {"status": "active"}}]
    assert "opted-out" in c.tags()
    assert c.lead()["optedOut"] is True
    # Nothing more, whatever the lead writes; a second ALTO is not confirmed twice.
    assert c.lead_says("hola?") == []
    assert c.lead_says("alto") == []

    assert c.lead_says("INICIO") == [
        "Listo, volverá a recibir nuestros mensajes. Responda ALTO cuando quiera dejar de "
        "recibirlos."
    ]
    assert dnd_updates(ghl, c.contact_id)[-1] == {"SMS": {"status": "inactive"}}
    assert "opted-out" not in c.tags()
    assert c.custom_fields()["Preferred Language"] == "Spanish"
    # A number-only message keeps the lead's language: still Spanish.
    (reply,) = c.lead_says("450k")
    assert reply.endswith("¿Busca comprar, vender o las dos cosas?"), reply
    assert spanish(reply), reply


@pytest.mark.parametrize("word", ["Baja", "ya no me escriba más"])
def test_the_other_spanish_opt_out_words_opt_out_too(
    stack: Stack, ghl: GhlStandIn, word: str
) -> None:
    c = new_lead(stack, ghl)
    (confirmation,) = c.lead_says(word)
    assert confirmation.endswith("responda INICIO.")
    assert c.lead()["optedOut"] is True
    assert dnd_updates(ghl, c.contact_id) == [{"SMS": {"status": "active"}}]
    assert c.lead_says("Queremos comprar una casa") == []


def test_stop_from_a_spanish_lead_still_opts_out_without_a_second_confirmation(
    stack: Stack, ghl: GhlStandIn
) -> None:
    """The carrier / GHL confirms STOP itself: nothing from us, in any language."""
    c = new_lead(stack, ghl, customFields=[{"id": "cf-language", "value": "Spanish"}])
    assert c.lead_says("STOP") == []
    assert c.lead()["optedOut"] is True
    # START from a Spanish lead: confirmed in Spanish, and (our first text) introduced.
    assert c.lead_says("START") == [
        "Hola, le escribe Jorge de Sunbelt Realty. Listo, volverá a recibir nuestros mensajes. "
        + SPANISH_NOTICE
    ]


# -- the lead's language from GHL -----------------------------------------------------------------


def test_a_contact_whose_preferred_language_is_spanish_is_greeted_in_spanish(
    stack: Stack, ghl: GhlStandIn
) -> None:
    c = new_lead(stack, ghl, customFields=[{"id": "cf-language", "value": "Spanish"}])
    (first,) = c.contact_created()
    assert first == (
        "Hola Maria, le escribe Jorge de Sunbelt Realty. ¡Gracias por comunicarse con nosotros! "
        "¿Busca comprar, vender o las dos cosas? " + SPANISH_NOTICE
    )
    # A short message says nothing about the language: the lead's stays Spanish.
    (reply,) = c.lead_says("ok")
    assert reply.endswith("¿Busca comprar, vender o las dos cosas?"), reply
    assert spanish(reply)
    assert language_writes(ghl, c.contact_id) == []  # GHL already had it
    assert c.lead()["language"] == "es"


def test_a_contact_with_a_spanish_locale_is_answered_in_spanish_and_the_field_written(
    stack: Stack, ghl: GhlStandIn
) -> None:
    c = new_lead(stack, ghl, locale="es_MX")
    (reply,) = c.lead_says("hola")
    assert reply.startswith("Hola, le escribe Jorge de Sunbelt Realty.")
    assert reply.endswith(SPANISH_NOTICE)
    assert language_writes(ghl, c.contact_id) == ["Spanish"]
    assert c.custom_fields()["Preferred Language"] == "Spanish"


def test_an_english_contact_is_unchanged(stack: Stack, ghl: GhlStandIn) -> None:
    c = new_lead(stack, ghl)
    (first,) = c.contact_created()
    assert first.startswith("Hi Maria, this is Jorge with Sunbelt Realty.")
    assert first.endswith("Reply STOP to opt out.")


# -- the Claude path ------------------------------------------------------------------------------


def claude_turn(reply: str, language: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "reply": reply,
        "intent": extra.pop("intent", None),
        "intent_confidence": 0.9 if extra.get("answers") is not None else 0.0,
        "answers": {
            k: {"value": v, "confidence": 0.92} for k, v in (extra.pop("answers", {})).items()
        },
        "handoff_requested": False,
        "asked_if_bot": False,
        "vague": False,
        "language": language,
        "asked_field": extra.pop("asked", None),
    }


def test_claude_is_told_the_language_and_its_spanish_reply_is_sent_as_written(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = (
        "Hola Maria, le escribe Jorge de Sunbelt Realty. ¿Busca comprar, vender o ambas cosas? "
        + SPANISH_NOTICE
    )
    with AnthropicStandIn() as claude:
        configure(monkeypatch, ghl, claude, MARKET_AREAS=IE_AREAS)
        claude.script(
            tool(claude_turn(first, None)),
            tool(
                claude_turn(
                    "¡Qué bien! ¿Para cuándo le gustaría mudarse?",
                    "es",
                    intent="buy",
                    answers={"area": "Fontana"},
                    asked="timeline",
                )
            ),
            tool(
                claude_turn(
                    "Sure! When would you like to move?",
                    "en",
                    intent="buy",
                    asked="timeline",
                )
            ),
        )
        c = new_lead(stack, ghl, customFields=[{"id": "cf-language", "value": "Spanish"}])
        assert c.contact_created() == [first]  # kept: no English introduction or notice
        assert one_reply(c, "queremos comprar en Fontana") == (
            "¡Qué bien! ¿Para cuándo le gustaría mudarse?"
        )
        calls = claude.calls
        static, state = calls[0].system
        assert "usted" in static["text"] and "Responda ALTO" in static["text"]
        assert "- Language: Spanish" in state["text"]
        assert "- Language: Spanish" in calls[1].system[1]["text"]
        # The lead switches to English: the reply, and the field, follow.
        assert one_reply(c, "Actually English is easier for me, we want to buy soon") == (
            "Sure! When would you like to move?"
        )
        # Asked in the lead's language so far, with the next question in it.
        third = claude.calls[2].system[1]["text"]
        assert "- Language: Spanish" in third
        assert 'Next question: "¿Para cuándo le gustaría mudarse?"' in third
    assert language_writes(ghl, c.contact_id) == ["English"]
    assert c.lead()["language"] == "en"


def test_when_claude_fails_a_spanish_lead_gets_the_rule_based_reply_in_spanish(
    stack: Stack, ghl: GhlStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    with AnthropicStandIn() as claude:
        configure(monkeypatch, ghl, claude, MARKET_AREAS=IE_AREAS)
        claude.script(status(500), status(500), status(500))
        c = new_lead(stack, ghl, customFields=[{"id": "cf-language", "value": "Spanish"}])
        (reply,) = c.lead_says("hola")
    assert reply.startswith("Hola, le escribe Jorge de Sunbelt Realty.")
    assert reply.endswith("¿Busca comprar, vender o las dos cosas? " + SPANISH_NOTICE)
