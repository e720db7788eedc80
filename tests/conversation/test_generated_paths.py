"""Generated conversations on the rule-based path: many seeded random walks through the whole
system (signed webhooks, the worker, moto, the GHL stand-in), each lead answering what it was
asked most of the time and otherwise wandering (several facts at once, vague answers, thanks,
"are you a bot?", STOP and START, the agent's name). Over every path, what a lead would see:

* no reply leads with two acknowledgements ("Thanks. Thank you, that's everything ...");
* the first text names the agent and the brokerage and says how to opt out;
* every text GHL accepted from us is in the lead's history exactly once;
* every text fits two SMS segments.

A second, faster walk calls the rule-based brain directly on thousands of generated turns
(proactive first messages included, with every qualification state) for the same composition
rules."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ghl_ai.conversation.model import Answer, FieldName, Intent, Persona, Turn
from ghl_ai.conversation.qualification import flow, missing_fields
from ghl_ai.conversation.rules import RuleBrain
from local.ghl_standin import GhlStandIn
from tests.conftest import Stack
from tests.conversation.driver import Conversation, configure, new_lead

AGENT, BROKERAGE = "Jorge", "Sunbelt Realty"
STOP_NOTICE = "Reply STOP to opt out."

#: Sentences that only acknowledge, by how they open (or, for the area, how they close).
ACKNOWLEDGEMENT = re.compile(
    r"^(?:thanks|thank you|thx|got it|perfect|noted|good to know|understood|no problem|"
    r"no worries|of course|anytime|great|sounds good|ok(?:ay)?|awesome|wonderful|appreciate)\b"
    r"|\bgreat choice[.!]?$",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_INTRO = re.compile(
    rf"^(?:(?:hi|hello|hey)\b[^.!?]*[.!?]$|this is {AGENT} with {BROKERAGE}\.$)", re.I
)


def stacked_acknowledgements(reply: str) -> bool:
    """Does the reply (after its greeting and introduction) open with two acknowledgements?
    A greeting sentence that itself thanks ("Hi Maria, this is ... Thanks for reaching out!")
    counts as the first."""
    sentences = [s for s in _SENTENCES.split(reply.strip()) if s]
    # "Hi Maria, this is Jorge with Sunbelt Realty." / "Hi Maria! This is Jorge with ..."
    while sentences and _INTRO.match(sentences[0]):
        sentences = sentences[1:]
    return (
        len(sentences) >= 2
        and bool(ACKNOWLEDGEMENT.search(sentences[0]))
        and bool(ACKNOWLEDGEMENT.search(sentences[1]))
    )


def test_the_checker_sees_stacked_acknowledgements() -> None:
    assert stacked_acknowledgements("Thanks. Thank you, that's everything I need for now.")
    assert stacked_acknowledgements(
        "Hi Maria, this is Jorge with Sunbelt Realty. Thanks for reaching out! Thank you, "
        "that's everything I need for now. Reply STOP to opt out."
    )
    assert stacked_acknowledgements("Westlake, great choice. Thank you, that's everything.")
    assert not stacked_acknowledgements("Got it, up to $450,000. Are you pre-approved?")
    assert not stacked_acknowledgements("Understood. That's everything I need for now.")
    assert not stacked_acknowledgements(
        "Hi, this is Jorge with Sunbelt Realty. Good to know. When are you hoping to move?"
    )


# -- what generated leads say ------------------------------------------------------------------

ANSWERS: dict[str, list[str]] = {
    "timeline": ["in about 3 months", "ASAP", "probably next spring", "within 2 months", "by June"],
    "area": ["Westlake or Round Rock", "Cedar Park", "somewhere near Mueller", "Pflugerville"],
    "budget": ["around 450k", "up to $600,000", "between 400 and 500k", "no more than 380k"],
    "pre_approval": [
        "yes pre-approved with Chase",
        "not yet",
        "paying cash",
        "talking to a lender",
    ],
    "bedrooms": ["3 bedrooms", "4 bed, need a garage", "at least 2 bedrooms"],
    "property_type": ["single family", "a condo is fine", "townhouse"],
    "must_haves": ["a pool and a big yard", "garage and an office"],
    "address": [
        "1234 Oak Street, Round Rock",
        "it's 4100 Cherrywood Lane",
        "88 Elm Dr, Cedar Park",
    ],
    "motivation": ["we're relocating for work", "downsizing, kids moved out", "family is growing"],
    "condition": ["it needs some work", "move-in ready", "good shape", "it's a fixer upper"],
    "price": [
        "hoping for 600k",
        "want to get 550k",
        "would like at least $700,000 for it",
        "need to net 500k",
        "looking to list around 650",
    ],
}
OPENERS: dict[str, list[str]] = {
    "buy": ["Hi! We're looking to buy a home", "looking for a 3 bed house in Westlake"],
    "sell": ["thinking about selling my house", "want to sell my place"],
    "both": ["we need to sell our place and buy something bigger"],
    "rent": ["looking to rent an apartment"],
    "invest": ["interested in an investment property"],
    "unknown": ["hi", "saw your ad", "hello?"],
}
WANDERING = [
    "idk",
    "maybe",
    "thanks!",
    "ok sounds good",
    "are you a bot?",
    "is this automated?",
    "thank you so much",
    "hmm",
    "in 3 months, around 500k",
    "Westlake, 3 bedrooms",
    "hoping for 600k",
    "in 2 months, hoping for 600k",
    "it's in good shape and we want 575k for it",
]
ENDINGS = ["can I talk to a person?", "can Jorge call me?"]


def walk(c: Conversation, rng: random.Random) -> None:
    """One generated conversation: replies are collected in ``c.replies``."""
    intent = rng.choice(list(OPENERS))
    if rng.random() < 0.3:
        c.contact_created()  # we write first (speed to lead)
    opener = rng.choice(OPENERS[intent])
    if rng.random() < 0.3:
        opener = f"Hi {AGENT}, {opener}"
    c.lead_says(opener)
    for _ in range(rng.randint(4, 11)):
        lead = c.lead()
        if lead.get("handedOff"):
            return
        asked = lead.get("lastAskedField")
        roll = rng.random()
        if roll < 0.05 and not lead.get("optedOut"):
            c.lead_says("STOP")
            c.lead_says(rng.choice(["START", "UNSTOP", "YES"]))
        elif asked in ANSWERS and roll < 0.7:
            c.lead_says(rng.choice(ANSWERS[asked]))
        elif asked is None and not lead.get("intent") and roll < 0.7:
            c.lead_says(rng.choice(["buy", "sell", "both", "renting", "buying"]))
        else:
            c.lead_says(rng.choice(WANDERING))
    if rng.random() < 0.3:
        c.lead_says(rng.choice(ENDINGS))


def stored_outbound(stack: Stack, contact_id: str) -> Counter[str]:
    return Counter(
        str(m["body"])
        for m in stack.scan("MessagesTable")
        if m["contactId"] == contact_id and m["direction"] == "outbound"
    )


@pytest.fixture
def ghl(monkeypatch: pytest.MonkeyPatch) -> Iterator[GhlStandIn]:
    with GhlStandIn() as standin:
        configure(monkeypatch, standin)
        yield standin


PATHS_PER_CHUNK = 8


@pytest.mark.parametrize("chunk", range(3))
def test_generated_conversations_read_well_and_are_all_on_record(
    stack: Stack, ghl: GhlStandIn, chunk: int
) -> None:
    seen = 0
    for path in range(PATHS_PER_CHUNK):
        seed = chunk * PATHS_PER_CHUNK + path
        rng = random.Random(seed)
        c = new_lead(stack, ghl, firstName=rng.choice(["Maria", "Dan", "Priya", "Lee"]))
        walk(c, rng)
        assert c.replies, seed
        first = c.replies[0]
        assert AGENT in first and BROKERAGE in first and first.endswith(STOP_NOTICE), (seed, first)
        for reply in c.replies:
            assert not stacked_acknowledgements(reply), (seed, reply)
            assert len(reply) <= 320, (seed, reply)
        assert stored_outbound(stack, c.contact_id) == Counter(c.replies), seed
        seen += len(c.replies)
    assert seen >= PATHS_PER_CHUNK * 4  # the walks really talked


# -- the brain alone, on many more turns ---------------------------------------------------------

PERSONA = Persona(
    agent_name=AGENT,
    brokerage=BROKERAGE,
    market_area="Austin",
    areas=("Westlake", "Round Rock", "Cedar Park", "Mueller", "Pflugerville"),
)
VALUES: dict[str, list[object]] = {
    "timeline": [30, 90, 200],
    "area": ["Westlake", "Cedar Park"],
    "budget": [{"min": None, "max": 450000}, {"min": 400000, "max": 500000}],
    "pre_approval": ["yes", "cash", "no"],
    "bedrooms": [3, 4],
    "property_type": ["single_family", "condo"],
    "must_haves": [["pool"]],
    "address": ["1234 Oak Street"],
    "motivation": ["relocating", "downsizing"],
    "condition": ["good", "needs_work"],
    "price": [600000],
}
INTENTS: list[Intent | None] = [None, "buy", "sell", "both", "rent", "invest"]


def test_the_rule_based_brain_never_stacks_acknowledgements() -> None:
    rng = random.Random(20261123)
    brain = RuleBrain()
    everything = [m for pool in ANSWERS.values() for m in pool] + WANDERING + ENDINGS
    for _ in range(3000):
        intent = rng.choice(INTENTS)
        fields = list(flow(intent))
        known = rng.sample(fields, rng.randint(0, len(fields))) if fields else []
        answers = {
            name: Answer(value=rng.choice(VALUES[name]), confidence=0.9, source="rules")
            for name in known
        }
        missing: list[FieldName] = missing_fields(intent, answers)
        proactive = rng.random() < 0.2
        turn = Turn(
            persona=PERSONA,
            now=datetime(2026, 11, 23, 15, tzinfo=UTC),
            intent=intent,
            answers=answers,
            last_asked=missing[0] if missing and rng.random() < 0.8 else None,
            missing=missing,
            inbound=None if proactive else rng.choice([*everything, f"Hi {AGENT}"]),
            first_contact=proactive or rng.random() < 0.3,
            context={
                "first_name": rng.choice([None, "Maria"]),
                "listing": rng.choice([None, "12 Elm St"]),
            },
        )
        reply = brain.decide(turn).reply
        assert not stacked_acknowledgements(reply), (turn, reply)
        assert len(reply) <= 320
        if turn.first_contact:
            assert AGENT in reply and BROKERAGE in reply and reply.endswith(STOP_NOTICE), reply
