"""The conversation's vocabulary: intents, qualification fields and their value shapes, the
answers extracted from a message, a turn given to a "brain" and the decision it returns.

Two brains implement :class:`Brain`: the rule-based qualifier (``rules.py``, no API key needed)
and Claude (``claude.py``). The engine (``engine.py``) decides *whether* to answer and carries
out the decision; a brain only decides *what* to say and what it learned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict, Field

Intent = Literal["buy", "sell", "both", "rent", "invest"]
INTENTS: tuple[Intent, ...] = get_args(Intent)

#: Qualification fields and the shape of their values (all JSON-serialisable):
#:   budget         {"min": int | None, "max": int | None}  US dollars ("$450k" → max 450000;
#:                  "between 400 and 500k" → min 400000, max 500000; "at least 300k" → min)
#:   area           str   city / neighbourhood / zip as the lead said it ("Westlake", "78704")
#:   timeline       int   days from today until the lead wants to move/buy/sell
#:                  (ASAP / now → 30; "3 months" → 90; "next spring" → days to next 20 March)
#:   pre_approval   "yes" | "no" | "in_progress" | "cash"
#:   bedrooms       int   minimum bedrooms
#:   property_type  "single_family" | "condo" | "townhouse" | "multi_family" | "land" |
#:                  "manufactured"
#:   must_haves     list[str]  short lower-case features ("pool", "garage", "big yard", "office")
#:   address        str   the seller's property address as given
#:   motivation     "relocating" | "downsizing" | "upsizing" | "financial" | "divorce" |
#:                  "inherited" | "retiring" | "investment" | "other"
#:   condition      "move_in_ready" | "good" | "needs_work" | "fixer_upper"
#:   price          int   the seller's price expectation in US dollars
#:   bathrooms      float minimum bathrooms, halves allowed ("two and a half baths" → 2.5)
#:   readiness      "browsing" | "unhurried" | "value_curious": the lead is only looking, has
#:                  no rush (a move far off), or wants to know a home's value without selling
FieldName = Literal[
    "budget",
    "area",
    "timeline",
    "pre_approval",
    "bedrooms",
    "property_type",
    "must_haves",
    "address",
    "motivation",
    "condition",
    "price",
    "bathrooms",
    "readiness",
]
FIELD_NAMES: tuple[FieldName, ...] = get_args(FieldName)
PRE_APPROVAL = ("yes", "no", "in_progress", "cash")
PROPERTY_TYPES = ("single_family", "condo", "townhouse", "multi_family", "land", "manufactured")
MOTIVATIONS = (
    "relocating",
    "downsizing",
    "upsizing",
    "financial",
    "divorce",
    "inherited",
    "retiring",
    "investment",
    "other",
)
CONDITIONS = ("move_in_ready", "good", "needs_work", "fixer_upper")
READINESS = ("browsing", "unhurried", "value_curious")
#: The languages the conversation is held in (replies, questions, notices).
Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
#: The persona templates a location can pick (``personas.py`` documents each one).
PersonaTemplateName = Literal[
    "consultative", "speed_qualifier", "luxury_specialist", "first_time_buyer_helper"
]
PERSONA_TEMPLATES: tuple[PersonaTemplateName, ...] = get_args(PersonaTemplateName)


class Answer(BaseModel):
    """One extracted qualification answer."""

    model_config = ConfigDict(frozen=True)

    value: Any
    confidence: float = Field(ge=0.0, le=1.0)
    source: Literal["rules", "claude", "form", "ghl"] = "rules"


class Extraction(BaseModel):
    """What one inbound message told us."""

    intent: Intent | None = None
    intent_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    answers: dict[FieldName, Answer] = Field(default_factory=dict)
    #: The lead asked for a person ("can I talk to someone?", "call me").
    handoff_requested: bool = False
    #: The lead asked whether it is talking to a bot / AI / a real person.
    asked_if_bot: bool = False
    #: The message answered nothing we asked and carried no usable fact ("idk", "maybe", "lol").
    vague: bool = False
    #: The language the message is written in, when it is clear (Spanglish counts as "es").
    language: Language | None = None


@dataclass(frozen=True)
class Persona:
    """Who the messages come from, per location (tenant configuration)."""

    agent_name: str = "Jorge"
    brokerage: str = "our brokerage"
    market_area: str = "the area"
    tone: str = "warm, concise, professional"
    allow_emojis: bool = False
    #: Known neighbourhoods / cities of the market, used to recognise an area in free text.
    areas: tuple[str, ...] = ()
    #: The location's own spellings of its places, (alias, canonical name) pairs, over the
    #: market's defaults (``places.DEFAULT_ALIASES``): ("VG", "Victoria Gardens").
    area_aliases: tuple[tuple[str, str], ...] = ()
    #: The persona template: tone and flow settings of both brains (``personas.py``).
    template: PersonaTemplateName = "consultative"


@dataclass(frozen=True)
class HistoryLine:
    direction: Literal["inbound", "outbound"]
    body: str
    at: datetime | None = None


@dataclass(frozen=True)
class Reference:
    """A passage of the agent's own documents that answers the lead's question (the knowledge
    base, ``ghl_ai.knowledge``): what a brain may say about it, and nothing else."""

    #: The chunk's id (``<docId>#<n>``): what a decision cites in ``sources``.
    id: str
    #: The document's title and the section heading the passage is under.
    title: str
    section: str
    text: str
    #: Its retrieval score (BM25): only to compare references of one question.
    score: float = 0.0


@dataclass
class Turn:
    """Everything a brain may look at to decide one outbound message."""

    persona: Persona
    now: datetime
    intent: Intent | None
    answers: dict[str, Answer]
    #: The field our previous message asked about (helps read bare answers like "3" or "yes").
    last_asked: FieldName | None
    #: Fields the flow still needs, next one first (from ``qualification.missing_fields``).
    missing: list[FieldName]
    history: list[HistoryLine] = field(default_factory=list)
    #: The inbound message to answer; None for a proactive first message.
    inbound: str | None = None
    #: True when we have never written to this lead: the reply must introduce the agent and
    #: say how to opt out (the engine appends the opt-out notice if the brain forgot).
    first_contact: bool = False
    #: Consecutive vague answers so far (the engine hands off after a few).
    vague_streak: int = 0
    #: What a form or GHL told us about the lead (first name, listing of interest, ...).
    context: dict[str, Any] = field(default_factory=dict)
    #: The lead's language so far (its messages, else GHL's): replies are written in it unless
    #: the inbound message is clearly in the other one.
    language: Language = "en"
    #: The inbound message asks something: its question sentence(s), else None.
    question: str | None = None
    #: Passages of the agent's documents that answer ``question``, best first; empty when the
    #: documents do not answer it (the brain then answers it with no fact: the agent will).
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class Decision:
    """What to send and what was learned. ``asked`` is the field the reply asks about."""

    reply: str
    extraction: Extraction
    asked: FieldName | None
    source: Literal["rules", "claude"]
    #: Model usage for metrics (input/output/cache tokens); empty for rules.
    usage: dict[str, int] = field(default_factory=dict)
    #: The ids of the turn's references the reply answers from (``Reference.id``).
    sources: tuple[str, ...] = ()
    #: A question of the lead's the reply leaves to the agent (the documents do not answer
    #: it): the engine gives the agent a task with it.
    question: str | None = None


class Brain(Protocol):
    def decide(self, turn: Turn) -> Decision: ...
