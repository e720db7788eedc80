"""The qualification flows: which questions each intent needs, in which order, how answers merge,
and the lead's temperature.

Temperature rules (documented in the README, asserted in tests):

* **hot**  — every *core* answer of the intent is known, the timeline is within 90 days and, for
  a buyer, financing is settled (pre-approved or cash).
* **warm** — at least two core answers are known and the timeline (if known) is within a year.
* **cold** — anything else, including a timeline more than a year out.

**Readiness caps the temperature.** A lead who says it is only browsing is at most **cold**; one
in no rush, or curious about its home's value without selling, at most **warm**: a browser has
nothing to act on yet, while an unhurried lead has a real plan and a value-curious homeowner a
concrete ask (a valuation), worth a follow-up but never an urgent call. Such a lead is not given
the questionnaire; it is handed to long-term nurture. The readiness stands until a later
message names a move within :data:`READY_WITHIN_DAYS` (then the lead is qualified as usual).

Core answers: buyer — budget, area, timeline, pre-approval; seller — address, motivation,
timeline, price. "both" needs the buyer's and the seller's; "rent" and "invest" use the buyer's.

Bathrooms are not a question of their own: the bedrooms question asks for both, and a
bathroom count given at any time is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ghl_ai.conversation.model import Answer, FieldName, Intent

Temperature = Literal["hot", "warm", "cold"]

BUYER_FLOW: tuple[FieldName, ...] = (
    "timeline",
    "area",
    "budget",
    "pre_approval",
    "bedrooms",
    "property_type",
)
SELLER_FLOW: tuple[FieldName, ...] = ("address", "motivation", "timeline", "condition", "price")
BUYER_CORE: tuple[FieldName, ...] = ("budget", "area", "timeline", "pre_approval")
SELLER_CORE: tuple[FieldName, ...] = ("address", "motivation", "timeline", "price")

HOT_WITHIN_DAYS = 90
WARM_WITHIN_DAYS = 365
#: A later timeline this close ends a readiness answer: the lead is ready after all.
READY_WITHIN_DAYS = 180
#: The highest temperature of a lead with each readiness.
READINESS_CAP: dict[str, Temperature] = {
    "browsing": "cold",
    "unhurried": "warm",
    "value_curious": "warm",
}
_ORDER: dict[str, int] = {"cold": 0, "warm": 1, "hot": 2}

#: One question per field, in the agent's voice. ``{name}`` is the lead's first name or "".
QUESTIONS: dict[FieldName, str] = {
    "timeline": "When are you hoping to make a move?",
    "area": "Which areas or neighborhoods are you looking in?",
    "budget": "What price range are you comfortable with?",
    "pre_approval": "Are you pre-approved for a mortgage yet, or paying cash?",
    "bedrooms": "How many bedrooms and bathrooms do you need, and any must-haves?",
    "property_type": "Are you after a single-family home, a condo or a townhouse?",
    "must_haves": "Any must-haves, like a garage, a yard or a home office?",
    "address": "What's the address of the home you're thinking of selling?",
    "motivation": "What's prompting the move?",
    "condition": (
        "How would you describe the home's condition: move-in ready, or needing some work?"
    ),
    "price": "Do you have a price in mind for it?",
}
INTENT_QUESTION = "Are you looking to buy, sell, or both?"
#: A readiness in words (notes, the *Readiness* custom field).
READINESS_WORDS = {
    "browsing": "Just browsing",
    "unhurried": "No rush",
    "value_curious": "Curious about value",
}


#: A buyer's and a seller's question order (a persona template may reorder them).
Flows = tuple[tuple[FieldName, ...], tuple[FieldName, ...]]


def flow(intent: Intent | None, flows: Flows | None = None) -> tuple[FieldName, ...]:
    buyer, seller = flows or (BUYER_FLOW, SELLER_FLOW)
    if intent == "sell":
        return seller
    if intent == "both":
        # Sellers who also buy: the sale usually sets the timeline, so ask about it first.
        return seller + tuple(f for f in buyer if f not in seller)
    if intent in ("buy", "rent", "invest"):
        return buyer
    return ()


def core(intent: Intent | None) -> tuple[FieldName, ...]:
    if intent == "sell":
        return SELLER_CORE
    if intent == "both":
        return SELLER_CORE + tuple(f for f in BUYER_CORE if f not in SELLER_CORE)
    if intent in ("buy", "rent", "invest"):
        return BUYER_CORE
    return ()


#: Below this an extracted intent only fills an unknown one; from ``SURE_INTENT`` on it also
#: narrows "both" to one side ("just buying, actually").
INTENT_SWITCH_CONFIDENCE = 0.6
SURE_INTENT = 0.9


def updated_intent(
    current: Intent | None, found: Intent | None, confidence: float
) -> Intent | None:
    """The lead's intent after a message that suggests ``found``. A lead who both sells and
    buys and then talks about one side ("we can spend 800k on the next one") still does both."""
    if found is None or found == current:
        return current
    if current is None:
        return found
    if confidence < INTENT_SWITCH_CONFIDENCE:
        return current
    if current == "both" and found in ("buy", "sell") and confidence < SURE_INTENT:
        return current
    return found


def missing_fields(
    intent: Intent | None, answers: Mapping[str, Any], flows: Flows | None = None
) -> list[FieldName]:
    """The flow's unanswered fields, next question first."""
    return [f for f in flow(intent, flows) if f not in answers]


def merge(
    current: Mapping[str, Answer], new: Mapping[Any, Answer], *, min_confidence: float = 0.5
) -> dict[str, Answer]:
    """Newer answers win unless they are much less certain than what we have; answers below
    ``min_confidence`` are ignored (the question will be asked again). A new timeline within
    :data:`READY_WITHIN_DAYS`, without a readiness of its own, ends the readiness we had."""
    merged = dict(current)
    for name, answer in new.items():
        if answer.confidence < min_confidence:
            continue
        old = merged.get(name)
        if old is None or answer.confidence >= old.confidence - 0.2:
            merged[name] = answer
    soon = new.get("timeline")
    if (
        "readiness" in merged
        and "readiness" not in new
        and soon is not None
        and soon.confidence >= min_confidence
        and _days(soon.value) is not None
        and _days(soon.value) <= READY_WITHIN_DAYS  # type: ignore[operator]
    ):
        del merged["readiness"]
    return merged


def readiness(answers: Mapping[str, Answer]) -> str | None:
    """The lead's readiness ("browsing", "unhurried", "value_curious"), or None: it is ready,
    or said nothing about it."""
    answer = answers.get("readiness")
    value = answer.value if answer is not None else None
    return value if value in READINESS_CAP else None


def is_qualified(intent: Intent | None, answers: Mapping[str, Any]) -> bool:
    """All core answers of the intent are known."""
    needed = core(intent)
    return bool(needed) and all(f in answers for f in needed)


def temperature(intent: Intent | None, answers: Mapping[str, Answer]) -> Temperature:
    needed = core(intent)
    known = [f for f in needed if f in answers]
    days = _timeline_days(answers)
    financed = True
    if intent in ("buy", "both", "invest", "rent"):
        pre = answers.get("pre_approval")
        financed = intent == "rent" or (pre is not None and pre.value in ("yes", "cash"))
    complete = bool(needed) and len(known) == len(needed)
    found: Temperature = "cold"
    if complete and financed and days is not None and days <= HOT_WITHIN_DAYS:
        found = "hot"
    elif len(known) >= 2 and (days is None or days <= WARM_WITHIN_DAYS):
        found = "warm"
    cap = READINESS_CAP.get(readiness(answers) or "")
    if cap is not None and _ORDER[found] > _ORDER[cap]:
        return cap
    return found


def _timeline_days(answers: Mapping[str, Answer]) -> int | None:
    answer = answers.get("timeline")
    return None if answer is None else _days(answer.value)


def _days(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def normalise(name: str, value: Any) -> Any:
    """A stored value back in its contract shape (storage drops null members of maps)."""
    if name == "budget" and isinstance(value, Mapping):
        return {"min": value.get("min"), "max": value.get("max")}
    return value


def stored_answers(stored: Any) -> dict[str, Answer]:
    """The answers of a stored lead record (``lead["answers"]``), skipping what no longer
    validates."""
    if not isinstance(stored, Mapping):
        return {}
    answers: dict[str, Answer] = {}
    for name, raw in stored.items():
        if isinstance(raw, Mapping) and "value" in raw:
            try:
                answer = dict(raw)  # the stores already turned Decimals into numbers
                answer["value"] = normalise(name, answer["value"])
                answers[name] = Answer.model_validate(answer)
            except ValueError:
                continue
    return answers


def describe(name: FieldName, value: Any) -> str:
    """An answer in words, for notes, custom fields and the lead API."""
    if value is None:
        return ""
    if name == "budget" and isinstance(value, Mapping):
        low, high = value.get("min"), value.get("max")
        if low and high:
            return f"${low:,} to ${high:,}"
        if high:
            return f"up to ${high:,}"
        if low:
            return f"from ${low:,}"
        return ""
    if name == "price":
        return f"${int(value):,}"
    if name == "timeline":
        days = int(value)
        if days <= 31:
            return "within a month"
        months = round(days / 30)
        return "about a month" if months == 1 else f"about {months} months"
    if name == "bathrooms" and isinstance(value, int | float):
        return f"{value:g}"
    if name == "readiness":
        return READINESS_WORDS.get(str(value), str(value))
    if name == "must_haves" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str):
        return value.replace("_", " ")
    return str(value)
