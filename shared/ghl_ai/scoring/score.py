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

**Reasons** come from the model's own response: each feature's contribution is how many score
points the lead would lose (or gain) if that feature were at its typical value (the training
median), everything else equal; the qualification's contribution is what ``q`` adds. The three
largest (by size) are put in words, signed: "viewed 6 homes in Rancho Cucamonga this week",
"pre-approved", "no reply for 9 days".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np

from ghl_ai.behaviour.features import (
    CATALOGUE,
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
    name: str  # a feature name, or "qualification"
    points: float  # score points this moved the lead by (signed)
    value: float  # the feature's value (raw, as in the catalogue)


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
        # the lead itself, then the lead with each feature at its typical value
        ablated = np.repeat(x[None, :], x.size + 1, axis=0)
        idx = np.arange(x.size)
        ablated[idx + 1, idx] = self._reference
        p_all = self._model.probability(ablated)
        p = float(p_all[0])
        q = qualification_evidence(intent, answers)
        total = combine(p, q)
        points = total - combine(p_all[1:], q)
        contributions = [
            Contribution(name, float(points[i]), float(features[i]))
            for i, name in enumerate(NAMES)
            if abs(points[i]) >= 0.5
        ]
        if q > 0:
            contributions.append(Contribution("qualification", total - 100.0 * p, q))
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
    up, v = c.points > 0, c.value

    def f(name: str) -> float:
        return float(features[INDEX[name]])

    city = f" in {context.top_city}" if context.top_city and f("top_city_share_30d") >= 0.5 else ""
    match c.name:
        case "property_views_7d" | "distinct_properties_7d" | "events_7d" | "sessions_7d":
            views = f("distinct_properties_7d") or f("property_views_7d")
            if views:
                return f"viewed {_n(views, 'home')}{city} this week"
            if c.name == "sessions_7d" and v:
                return f"visited the website {_n(v, 'time')} this week"
            return "no listing views this week" if not up else None
        case "property_views_30d" | "distinct_properties_30d" | "events_30d" | "sessions_30d":
            views = f("distinct_properties_30d") or f("property_views_30d")
            if views:
                return f"viewed {_n(views, 'home')}{city} this month"
            return "no website visits this month" if not up else None
        case "days_since_last_event":
            if v >= RECENCY_CAP_DAYS:
                return "no activity yet"
            return f"last active {_days(v)}" if up else f"no activity for {round(v)} days"
        case "days_since_last_reply":
            if v >= RECENCY_CAP_DAYS:
                return "has not replied to our messages" if not up else None
            return f"replied {_days(v)}" if up else f"no reply for {round(v)} days"
        case "unanswered_messages":
            return f"{_n(v, 'message')} unanswered" if v and not up else None
        case "response_hours_median":
            if v >= 168:
                return None
            return f"usually answers within {max(1, round(v))} h" if up else None
        case "max_views_one_property_30d":
            if v >= 2 and up:
                return f"viewed the same home {_n(v, 'time')}"
            return None
        case "saves_30d" | "save_rate_30d":
            saves = f("saves_30d")
            return f"saved {_n(saves, 'home')} this month" if saves else None
        case "shares_30d" | "share_rate_30d":
            shares = f("shares_30d")
            return f"shared {_n(shares, 'listing')} this month" if shares else None
        case "tour_requests_90d" | "tour_rate_90d":
            tours = f("tour_requests_90d")
            return f"requested {_n(tours, 'tour')}" if tours else None
        case "valuation_requests_90d":
            return "asked what their home is worth" if v else None
        case "days_since_high_intent":
            if v >= RECENCY_CAP_DAYS:
                return "no saves or tour requests yet" if not up else None
            return f"saved or asked about a home {_days(v)}" if up else None
        case "returned_after_absence" | "gap_before_last_session_days":
            gap = f("gap_before_last_session_days")
            if f("returned_after_absence"):
                return f"back after {round(gap)} days away"
            return None
        case "searches_7d" | "searches_30d":
            return f"ran {_n(v, 'search', 'searches')} recently" if v else None
        case "dwell_mean_seconds_30d" | "dwell_total_minutes_30d" | "long_views_30d":
            minutes = f("dwell_total_minutes_30d")
            return f"spent {round(minutes)} min on listings this month" if minutes >= 1 else None
        case "email_opens_30d" | "email_clicks_30d":
            clicks, opens = f("email_clicks_30d"), f("email_opens_30d")
            if clicks:
                return f"clicked {_n(clicks, 'email link')} this month"
            return f"opened {_n(opens, 'email')} this month" if opens else "not opening emails"
        case "messages_in_30d" | "reply_ratio_30d":
            n_in = f("messages_in_30d")
            return f"sent {_n(n_in, 'message')} this month" if n_in else "not texting back"
        case "form_submissions_90d":
            return "filled in a website form" if v else None
    feature = CATALOGUE[INDEX[c.name]] if c.name in INDEX else None
    if feature is None:
        return None
    return f"{feature.meaning}: {v:g}"
