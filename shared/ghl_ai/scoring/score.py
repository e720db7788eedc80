"""The lead score the agent sees: a 0–100 number, its temperature and its top reasons.

**How the score is made.** The model (the model layer's ``lead_score``) gives ``p``: the
calibrated probability that the lead books an appointment or becomes an opportunity within the
model's horizon (30 days), from its behaviour. The qualification answers the conversation
collected give ``q``: the conversation's own evidence, by its temperature
(``conversation/qualification.py``) — ``q = 0.7`` for a hot qualification, ``0.4`` for warm,
else ``0.1 ×`` the share of core answers known. The two are combined as independent evidence
(a noisy OR: the lead is likely to act if its behaviour *or* its answers say so)::

    score = round(100 × (1 − (1 − p) × (1 − q)))

so a lead qualified hot in conversation never shows below 70 and a warm one never below 40,
and behaviour alone can make any lead hot.

**Temperature** from the score: hot ≥ 70, warm ≥ 40, else cold.

**Reasons** come from the model's own response: the catalogue's features are grouped by what
they say about the lead (:data:`REASON_GROUPS`: browsing this week, tours, replies, ...), and a
group's contribution is how many score points the lead would lose (or gain) if that group's
features were at their typical values (the training medians), everything else equal. Grouping
keeps correlated features (views, visits, events) from cancelling each other out in the
explanation. The qualification's contribution is what ``q`` adds. The three largest (by size)
are put in words, signed: "viewed 6 homes in Rancho Cucamonga this week", "pre-approved",
"no reply for 9 days".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np

from ghl_ai.behaviour.features import (
    INDEX,
    NAMES,
    RECENCY_CAP_DAYS,
    Context,
    catalogue_hash,
    model_input,
)
from ghl_ai.conversation.model import Answer
from ghl_ai.conversation.qualification import core, temperature

Temperature = Literal["hot", "warm", "cold"]
HOT, WARM = 70, 40
QUALIFICATION_EVIDENCE: dict[str, float] = {"hot": 0.7, "warm": 0.4}
REASONS = 3


#: What each feature says about the lead: reasons are given per group.
REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "recency": (
        "days_since_last_event",
        "days_since_first_event",
        "events_1d",
        "active_days_7d",
        "active_days_30d",
        "events_per_active_day_30d",
        "velocity_7d",
    ),
    "browsing_week": (
        "events_7d",
        "sessions_7d",
        "property_views_7d",
        "distinct_properties_7d",
        "searches_7d",
    ),
    "browsing_month": (
        "events_30d",
        "events_90d",
        "sessions_30d",
        "sessions_total",
        "events_per_session_30d",
        "session_minutes_30d",
        "property_views_30d",
        "distinct_properties_30d",
        "searches_30d",
    ),
    "return": ("gap_before_last_session_days", "longest_gap_days_90d", "returned_after_absence"),
    "focus": ("max_views_one_property_30d", "top_city_share_30d", "distinct_cities_30d"),
    "dwell": ("dwell_mean_seconds_30d", "dwell_total_minutes_30d", "long_views_30d"),
    "saves": ("saves_30d", "unsaves_30d", "save_rate_30d", "shares_30d", "share_rate_30d"),
    "tours": (
        "tour_requests_7d",
        "tour_requests_90d",
        "days_since_tour_request",
        "tour_rate_90d",
        "days_since_high_intent",
    ),
    "valuation": ("valuation_requests_90d",),
    "forms": ("form_submissions_90d",),
    "preferences": (
        "price_median_viewed_30d",
        "price_spread_viewed_30d",
        "beds_mean_viewed_30d",
        "beds_std_viewed_30d",
    ),
    "email": ("email_opens_30d", "email_clicks_30d"),
    "replies": (
        "messages_in_30d",
        "reply_ratio_30d",
        "response_hours_median",
        "days_since_last_reply",
    ),
    "unanswered": ("messages_out_30d", "unanswered_messages"),
    "value": ("value_sum_30d", "value_sum_total"),
}
_GROUP_INDEX = {g: np.array([INDEX[n] for n in names]) for g, names in REASON_GROUPS.items()}


class ModelMismatch(RuntimeError):
    """The model layer's model was trained on other features than this code computes."""


def temperature_of(score: int) -> Temperature:
    if score >= HOT:
        return "hot"
    if score >= WARM:
        return "warm"
    return "cold"


def qualification_evidence(intent: str | None, answers: Mapping[str, Answer]) -> float:
    """``q``: what the conversation's answers say on their own (see the module docstring)."""
    band = temperature(intent, answers)  # type: ignore[arg-type]
    if band in QUALIFICATION_EVIDENCE:
        return QUALIFICATION_EVIDENCE[band]
    needed = core(intent)  # type: ignore[arg-type]
    known = sum(1 for f in needed if f in answers)
    return 0.1 * known / len(needed) if needed else 0.0


def combine(p: float | np.ndarray, q: float) -> Any:
    return 100.0 * (1.0 - (1.0 - p) * (1.0 - q))


@dataclass(frozen=True)
class Contribution:
    name: str  # a group of REASON_GROUPS, or "qualification"
    points: float  # score points this moved the lead by (signed)


@dataclass(frozen=True)
class LeadScore:
    value: int
    probability: float
    temperature: Temperature
    reasons: list[str]
    model_version: str
    scored_at: datetime
    contributions: list[Contribution]

    def as_state(self) -> dict[str, Any]:
        """What the lead record keeps (and ``GET /leads`` shows)."""
        return {
            "value": self.value,
            "probability": round(self.probability, 6),
            "temperature": self.temperature,
            "reasons": self.reasons,
            "modelVersion": self.model_version,
            "scoredAt": self.scored_at,
        }


class Scorer:
    """Scores leads with a model of the layer (anything with ``probability``, ``features``,
    ``reference``, ``version``, ``catalogue_hash``)."""

    def __init__(self, model: Any) -> None:
        if list(model.features) != list(NAMES) or model.catalogue_hash != catalogue_hash():
            raise ModelMismatch(
                f"model {model.version} was trained on another feature catalogue; "
                "rebuild the model layer (make models)"
            )
        self._model = model
        self._reference = np.asarray(model.reference, dtype=np.float64)

    @property
    def version(self) -> str:
        return str(self._model.version)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Probabilities for many leads at once (rows of raw features)."""
        result: np.ndarray = self._model.probability(model_input(features))
        return result

    def score(
        self,
        features: np.ndarray,
        context: Context,
        intent: str | None,
        answers: Mapping[str, Answer],
        at: datetime,
    ) -> LeadScore:
        x = model_input(features)
        # the lead itself, then the lead with each group of features at its typical values
        ablated = np.repeat(x[None, :], len(_GROUP_INDEX) + 1, axis=0)
        for row, columns in enumerate(_GROUP_INDEX.values(), start=1):
            ablated[row, columns] = self._reference[columns]
        p_all = self._model.probability(ablated)
        p = float(p_all[0])
        q = qualification_evidence(intent, answers)
        total = combine(p, q)
        points = total - combine(p_all[1:], q)
        contributions = [
            Contribution(group, float(points[i]))
            for i, group in enumerate(_GROUP_INDEX)
            if abs(points[i]) >= 0.5
        ]
        if q > 0:
            contributions.append(Contribution("qualification", total - 100.0 * p))
        contributions.sort(key=lambda c: -abs(c.points))
        reasons: list[str] = []
        for contribution in contributions:
            text = reason(contribution, features, context, intent, answers)
            if text and text not in reasons:
                reasons.append(text)
            if len(reasons) == REASONS:
                break
        value = round(total)
        return LeadScore(
            value=value,
            probability=p,
            temperature=temperature_of(value),
            reasons=reasons,
            model_version=self.version,
            scored_at=at,
            contributions=contributions,
        )


# -- reasons in words ------------------------------------------------------------------------


def _n(value: float, one: str, many: str | None = None) -> str:
    count = round(value)
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _days(value: float) -> str:
    days = round(value)
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days} days ago"


def _qualification(intent: str | None, answers: Mapping[str, Answer]) -> str:
    band = temperature(intent, answers)  # type: ignore[arg-type]
    pre = answers.get("pre_approval")
    parts = []
    if pre is not None and pre.value == "yes":
        parts.append("pre-approved")
    elif pre is not None and pre.value == "cash":
        parts.append("cash buyer")
    timeline = answers.get("timeline")
    if timeline is not None and isinstance(timeline.value, int | float) and timeline.value <= 90:
        parts.append("wants to move within 3 months")
    if parts:
        return ", ".join(parts)
    if band in ("hot", "warm"):
        return f"qualified {band} in conversation"
    return "answered some qualifying questions"


def reason(
    c: Contribution,
    features: np.ndarray,
    context: Context,
    intent: str | None,
    answers: Mapping[str, Answer],
) -> str | None:
    """A contribution in plain words, or None when it says nothing a person would act on."""
    if c.name == "qualification":
        return _qualification(intent, answers)
    up = c.points > 0

    def f(name: str) -> float:
        return float(features[INDEX[name]])

    city = f" in {context.top_city}" if context.top_city and f("top_city_share_30d") >= 0.5 else ""
    match c.name:
        case "recency":
            last = f("days_since_last_event")
            if last >= RECENCY_CAP_DAYS:
                return "no activity yet"
            return f"last active {_days(last)}" if up else f"no activity for {round(last)} days"
        case "browsing_week":
            homes = f("distinct_properties_7d") or f("property_views_7d")
            if homes:
                return f"viewed {_n(homes, 'home')}{city} this week"
            if f("sessions_7d"):
                return f"visited the website {_n(f('sessions_7d'), 'time')} this week"
            return None if up else "no website visits this week"
        case "browsing_month":
            homes = f("distinct_properties_30d") or f("property_views_30d")
            if homes:
                return f"viewed {_n(homes, 'home')}{city} this month"
            return None if up else "no website visits this month"
        case "return":
            if f("returned_after_absence"):
                return f"back after {round(f('gap_before_last_session_days'))} days away"
            gap = f("longest_gap_days_90d")
            return f"went quiet for {round(gap)} days" if not up and gap >= 7 else None
        case "focus":
            if up and f("max_views_one_property_30d") >= 2:
                return f"viewed the same home {_n(f('max_views_one_property_30d'), 'time')}"
            if up and city:
                return f"keeps looking{city}"
            if not up and f("distinct_cities_30d") >= 3:
                return f"looking in {round(f('distinct_cities_30d'))} different cities"
            return None
        case "dwell":
            minutes = f("dwell_total_minutes_30d")
            if up and minutes >= 1:
                return f"spent {round(minutes)} min on listings this month"
            return "only quick looks at listings" if not up and f("property_views_30d") else None
        case "saves":
            if f("saves_30d"):
                return f"saved {_n(f('saves_30d'), 'home')} this month"
            if f("shares_30d"):
                return f"shared {_n(f('shares_30d'), 'listing')} this month"
            return None
        case "tours":
            if f("tour_requests_90d"):
                when = _days(f("days_since_tour_request"))
                return f"requested {_n(f('tour_requests_90d'), 'tour')} (last {when})"
            since = f("days_since_high_intent")
            return f"saved or asked about a home {_days(since)}" if up and since < 365 else None
        case "valuation":
            return "asked what their home is worth" if f("valuation_requests_90d") else None
        case "forms":
            return "filled in a website form" if f("form_submissions_90d") else None
        case "preferences":
            median, spread = f("price_median_viewed_30d"), f("price_spread_viewed_30d")
            if not median:
                return None
            if up and spread <= 0.25:
                return f"looking at homes around ${round(median)}k"
            return (
                f"prices viewed all over the place (around ${round(median)}k)" if not up else None
            )
        case "email":
            clicks, opens = f("email_clicks_30d"), f("email_opens_30d")
            if clicks:
                return f"clicked {_n(clicks, 'email link')} this month"
            if opens:
                return f"opened {_n(opens, 'email')} this month"
            return None if up else "not opening emails"
        case "replies":
            since = f("days_since_last_reply")
            if since >= RECENCY_CAP_DAYS:
                return None if up else "has not replied to our messages"
            if up:
                return f"replied {_days(since)}"
            return f"no reply for {round(since)} days"
        case "unanswered":
            count = f("unanswered_messages")
            return f"{_n(count, 'message')} unanswered" if count and not up else None
        case "value":
            total = f("value_sum_30d")
            return f"event value {total:g} this month" if total else None
    return None
