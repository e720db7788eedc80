"""Behavioural features of one lead at a time T, from its event stream, in one vectorised pass.

:data:`CATALOGUE` is the documented list (name, meaning, unit, window) that ``ghl-ai features``
prints; the model layer's manifest records its hash, so a model is never served on features it
was not trained on. :func:`compute` returns the features in catalogue order; it looks only at
events with ``timestamp <= T`` (a test proves it), so the same code serves live scoring and the
training rows of past cutoffs without leaking the future.

A stream is built once per lead (:func:`stream_from_items` for stored events,
:class:`StreamBuilder` for CSV rows); every feature is then a handful of numpy reductions over
masks of that stream.

Sessions: events of the website, email and forms less than :data:`SESSION_GAP` apart form one
visit. Conversation events (``message_in``/``message_out``) feed the responsiveness features.
Listing attributes (price, beds, city) come from the event's ``data`` (the tracking script reads
them from the listing page).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

DAY = 86400.0
SESSION_GAP = 30 * 60.0
#: Recency features are capped here (and take this value when the event never happened).
RECENCY_CAP_DAYS = 365.0

#: Event types with a meaning in the features; the code of a type is its index here.
KINDS: tuple[str, ...] = (
    "page_view",
    "property_view",
    "property_save",
    "property_unsave",
    "property_share",
    "search",
    "tour_request",
    "valuation_request",
    "email_open",
    "email_click",
    "form_submission",
    "message_in",
    "message_out",
    "appointment_booked",
    "opportunity_stage",
    "opportunity_status",
    "lead_created",
    "workflow_trigger",
    "listing_price_drop",
)
_K = {name: code for code, name in enumerate(KINDS)}
#: Types that are not the lead doing something: us writing to it, GHL's bookkeeping.
_NOT_ENGAGEMENT = (
    "message_out",
    "appointment_booked",
    "opportunity_stage",
    "opportunity_status",
    "lead_created",
    "workflow_trigger",
    # The catalogue's news about a listing the lead follows (ghl_ai/listings/price_drops.py).
    "listing_price_drop",
)
ENGAGEMENT = tuple(code for code, name in enumerate(KINDS) if name not in _NOT_ENGAGEMENT)
#: Types that make up a visit (sessions): the website, email clicks and forms.
VISIT = tuple(_K[k] for k in KINDS[: _K["form_submission"] + 1] if k != "email_open")
HIGH_INTENT = tuple(
    _K[k] for k in ("property_save", "property_share", "tour_request", "valuation_request")
)


@dataclass(frozen=True)
class Feature:
    name: str
    meaning: str
    unit: str
    window: str
    #: Counts and durations enter the model as log(1 + x).
    log: bool = False


def _f(name: str, meaning: str, unit: str, window: str, log: bool = False) -> Feature:
    return Feature(name, meaning, unit, window, log)


CATALOGUE: tuple[Feature, ...] = (
    # recency, frequency, velocity
    _f("days_since_last_event", "days since the lead's last engagement", "days", "all"),
    _f("days_since_first_event", "days since the lead's first engagement", "days", "all"),
    _f("events_1d", "engagement events in the last day", "count", "1d", True),
    _f("events_7d", "engagement events in the last 7 days", "count", "7d", True),
    _f("events_30d", "engagement events in the last 30 days", "count", "30d", True),
    _f("events_90d", "engagement events in the last 90 days", "count", "90d", True),
    _f("active_days_7d", "24-hour periods before T with any engagement, of 7", "days", "7d"),
    _f("active_days_30d", "24-hour periods before T with any engagement, of 30", "days", "30d"),
    _f(
        "velocity_7d",
        "events in the last 7 days relative to the weekly average of the 21 days before",
        "ratio",
        "28d",
        True,
    ),
    _f("events_per_active_day_30d", "events per active day, last 30 days", "ratio", "30d", True),
    # sessions
    _f("sessions_7d", "website visits in the last 7 days", "count", "7d", True),
    _f("sessions_30d", "website visits in the last 30 days", "count", "30d", True),
    _f("sessions_total", "website visits ever", "count", "all", True),
    _f("events_per_session_30d", "mean events per visit, last 30 days", "count", "30d", True),
    _f("session_minutes_30d", "mean visit length, last 30 days", "minutes", "30d", True),
    # return after absence
    _f("gap_before_last_session_days", "days away before the latest visit", "days", "all", True),
    _f("longest_gap_days_90d", "longest quiet spell in the last 90 days", "days", "90d", True),
    _f(
        "returned_after_absence",
        "1 if the latest visit (this week) came after 14+ days away",
        "flag",
        "all",
    ),
    # listings and dwell
    _f("property_views_7d", "listing views in the last 7 days", "count", "7d", True),
    _f("property_views_30d", "listing views in the last 30 days", "count", "30d", True),
    _f("distinct_properties_7d", "different listings viewed, last 7 days", "count", "7d", True),
    _f("distinct_properties_30d", "different listings viewed, last 30 days", "count", "30d", True),
    _f("max_views_one_property_30d", "most views of one listing, 30 days", "count", "30d", True),
    _f("dwell_mean_seconds_30d", "mean seconds on a listing, 30 days", "seconds", "30d", True),
    _f("dwell_total_minutes_30d", "minutes on listings, 30 days", "minutes", "30d", True),
    _f("long_views_30d", "listing views of a minute or more, 30 days", "count", "30d", True),
    # intent actions
    _f("saves_30d", "listings saved, last 30 days", "count", "30d", True),
    _f("unsaves_30d", "listings un-saved, last 30 days", "count", "30d", True),
    _f("shares_30d", "listings shared, last 30 days", "count", "30d", True),
    _f("searches_7d", "searches run, last 7 days", "count", "7d", True),
    _f("searches_30d", "searches run, last 30 days", "count", "30d", True),
    _f("tour_requests_7d", "tour requests, last 7 days", "count", "7d", True),
    _f("tour_requests_90d", "tour requests, last 90 days", "count", "90d", True),
    _f("days_since_tour_request", "days since the last tour request", "days", "all"),
    _f("valuation_requests_90d", "home valuation requests, last 90 days", "count", "90d", True),
    _f(
        "days_since_high_intent",
        "days since the last save, share, tour or valuation request",
        "days",
        "all",
    ),
    _f("form_submissions_90d", "website forms submitted, last 90 days", "count", "90d", True),
    # funnel ratios
    _f("save_rate_30d", "saves per listing view, 30 days", "ratio", "30d"),
    _f("share_rate_30d", "shares per listing view, 30 days", "ratio", "30d"),
    _f("tour_rate_90d", "tour requests per listing view, 90 days", "ratio", "90d"),
    # preferences and their spread
    _f("price_median_viewed_30d", "median price of listings viewed, 30 days", "$1000s", "30d"),
    _f("price_spread_viewed_30d", "spread (IQR / median) of prices viewed", "ratio", "30d"),
    _f("beds_mean_viewed_30d", "mean bedrooms of listings viewed, 30 days", "beds", "30d"),
    _f("beds_std_viewed_30d", "spread (std) of bedrooms viewed, 30 days", "beds", "30d"),
    _f("distinct_cities_30d", "different cities viewed, 30 days", "count", "30d", True),
    _f("top_city_share_30d", "share of views in the most viewed city", "ratio", "30d"),
    # email
    _f("email_opens_30d", "emails opened, last 30 days", "count", "30d", True),
    _f("email_clicks_30d", "email links clicked, last 30 days", "count", "30d", True),
    # conversation responsiveness
    _f("messages_in_30d", "messages from the lead, last 30 days", "count", "30d", True),
    _f("messages_out_30d", "messages to the lead, last 30 days", "count", "30d", True),
    _f("reply_ratio_30d", "lead messages per message we sent, 30 days", "ratio", "30d"),
    _f("response_hours_median", "median hours the lead takes to answer us", "hours", "90d", True),
    _f("days_since_last_reply", "days since the lead last wrote", "days", "all"),
    _f("unanswered_messages", "our messages since the lead last wrote", "count", "all", True),
    # value (amounts carried by events: e.g. a price searched, an order value)
    _f("value_sum_30d", "sum of event values, last 30 days", "value", "30d", True),
    _f("value_sum_total", "sum of event values ever", "value", "all", True),
)
NAMES: tuple[str, ...] = tuple(f.name for f in CATALOGUE)
INDEX = {name: i for i, name in enumerate(NAMES)}
LOG_MASK = np.array([f.log for f in CATALOGUE])


def catalogue_hash() -> str:
    """SHA-256 of the catalogue (names, units, windows, transforms): the model's contract."""
    text = json.dumps([[f.name, f.unit, f.window, f.log] for f in CATALOGUE])
    return hashlib.sha256(text.encode()).hexdigest()


# -- streams ---------------------------------------------------------------------------------


@dataclass
class EventStream:
    """One lead's events as parallel arrays, sorted by time (epoch seconds)."""

    t: np.ndarray
    kind: np.ndarray  # code in KINDS, -1 for other types
    prop: np.ndarray  # listing code (index in ``props``), -1 none
    dwell: np.ndarray  # seconds, nan when absent
    price: np.ndarray  # listing price, nan when absent
    beds: np.ndarray
    city: np.ndarray  # index in ``cities``, -1 none
    value: np.ndarray  # event value, 0 when absent
    props: list[str] = field(default_factory=list)
    cities: list[str] = field(default_factory=list)
    other_types: np.ndarray | None = None  # the raw type per event (only for generic evals)

    def __len__(self) -> int:
        return int(self.t.size)


def _num(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return np.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        return np.nan
    return number if np.isfinite(number) else np.nan


def epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


class StreamBuilder:
    """Collects events (in any order) and builds the :class:`EventStream`."""

    def __init__(self) -> None:
        self._rows: list[tuple[float, int, str | None, float, float, float, str | None, float]] = []
        self._types: list[str] = []

    def add(
        self,
        t: float,
        kind: str,
        property_id: str | None = None,
        value: float | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        d = data or {}
        city = d.get("city")
        self._rows.append(
            (
                t,
                _K.get(kind, -1),
                property_id or None,
                _num(d.get("dwellSeconds")),
                _num(d.get("price")),
                _num(d.get("beds")),
                str(city).strip().title() if city else None,
                0.0 if value is None or not np.isfinite(value) else float(value),
            )
        )
        self._types.append(kind)

    def build(self) -> EventStream:
        order = sorted(range(len(self._rows)), key=lambda i: self._rows[i][0])
        rows = [self._rows[i] for i in order]
        props: dict[str, int] = {}
        cities: dict[str, int] = {}
        prop = [props.setdefault(r[2], len(props)) if r[2] else -1 for r in rows]
        city = [cities.setdefault(r[6], len(cities)) if r[6] else -1 for r in rows]
        col = list(zip(*rows, strict=True)) if rows else [()] * 8
        return EventStream(
            t=np.asarray(col[0], dtype=np.float64),
            kind=np.asarray(col[1], dtype=np.int16),
            prop=np.asarray(prop, dtype=np.int32),
            dwell=np.asarray(col[3], dtype=np.float64),
            price=np.asarray(col[4], dtype=np.float64),
            beds=np.asarray(col[5], dtype=np.float64),
            city=np.asarray(city, dtype=np.int32),
            value=np.asarray(col[7], dtype=np.float64),
            props=list(props),
            cities=list(cities),
            other_types=np.asarray([self._types[i] for i in order], dtype=object),
        )


def stream_from_items(items: Iterable[Mapping[str, Any]]) -> EventStream:
    """The stream of stored behaviour events (as ``BehaviourEventStore`` returns them)."""
    builder = StreamBuilder()
    for item in items:
        value = item.get("value")
        builder.add(
            epoch(item["timestamp"]),
            str(item.get("type", "")),
            item.get("propertyId"),
            float(value) if isinstance(value, int | float) else None,
            item.get("data") or {},
        )
    return builder.build()


# -- features --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the reasons name besides numbers: the city and listing the lead looks at most."""

    top_city: str | None
    top_property: str | None
    top_property_views: int


def _count(mask: np.ndarray) -> float:
    return float(np.count_nonzero(mask))


def _sessions(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times of visits (events less than SESSION_GAP apart)."""
    if t.size == 0:
        return t, t
    breaks = np.flatnonzero(np.diff(t) > SESSION_GAP)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [t.size - 1]))
    return t[starts], t[ends]


def compute(stream: EventStream, at: float) -> tuple[np.ndarray, Context]:
    """The catalogue's features of ``stream`` at time ``at`` (epoch seconds), using only events
    with ``t <= at``, and the context its reasons name."""
    n = int(np.searchsorted(stream.t, at, side="right"))
    t, kind = stream.t[:n], stream.kind[:n]
    out = np.zeros(len(CATALOGUE), dtype=np.float64)
    age = (at - t) / DAY  # days before T, >= 0

    # Types the catalogue does not name (a site's own, any event log's) count as engagement.
    engaged = np.isin(kind, ENGAGEMENT) | (kind < 0)
    te, ae = t[engaged], age[engaged]
    w1, w7, w30, w90 = ae <= 1, ae <= 7, ae <= 30, ae <= 90

    def put(name: str, value: float) -> None:
        out[INDEX[name]] = value

    if te.size:
        put("days_since_last_event", min(ae[-1], RECENCY_CAP_DAYS))
        put("days_since_first_event", min(ae[0], RECENCY_CAP_DAYS))
    else:
        put("days_since_last_event", RECENCY_CAP_DAYS)
    e7, e30 = _count(w7), _count(w30)
    put("events_1d", _count(w1))
    put("events_7d", e7)
    put("events_30d", e30)
    put("events_90d", _count(w90))
    day = np.floor(ae).astype(np.int64)
    put("active_days_7d", float(np.unique(day[w7]).size))
    active30 = float(np.unique(day[w30]).size)
    put("active_days_30d", active30)
    prior = _count((ae > 7) & (ae <= 28))
    put("velocity_7d", e7 / (prior / 3.0 + 1.0))
    put("events_per_active_day_30d", e30 / active30 if active30 else 0.0)

    # sessions: website, email clicks and forms
    visit = np.isin(kind, VISIT) | (kind < 0)
    starts, ends = _sessions(t[visit])
    s_age = (at - starts) / DAY
    put("sessions_7d", _count(s_age <= 7))
    s30 = s_age <= 30
    put("sessions_30d", _count(s30))
    put("sessions_total", float(starts.size))
    if np.any(s30):
        visit_age = age[visit]
        put("events_per_session_30d", _count(visit_age <= 30) / _count(s30))
        put("session_minutes_30d", float(np.mean(ends[s30] - starts[s30])) / 60.0)
    if starts.size >= 2:
        gaps = (starts[1:] - ends[:-1]) / DAY
        put("gap_before_last_session_days", float(gaps[-1]))
        recent = s_age[1:] <= 90
        put("longest_gap_days_90d", float(gaps[recent].max()) if np.any(recent) else 0.0)
        put("returned_after_absence", float(gaps[-1] >= 14 and s_age[-1] <= 7))

    # listings
    views = kind == _K["property_view"]
    v30, v7 = views & (age <= 30), views & (age <= 7)
    n_v30 = _count(v30)
    put("property_views_7d", _count(v7))
    put("property_views_30d", n_v30)
    prop = stream.prop[:n]
    put("distinct_properties_7d", float(np.unique(prop[v7 & (prop >= 0)]).size))
    p30 = prop[v30 & (prop >= 0)]
    top_property, top_views = None, 0
    if p30.size:
        counts = np.bincount(p30)
        top_views = int(counts.max())
        top_property = stream.props[int(counts.argmax())]
        put("distinct_properties_30d", float(np.count_nonzero(counts)))
        put("max_views_one_property_30d", float(top_views))
    dwell = stream.dwell[:n][v30]
    dwell = dwell[~np.isnan(dwell)]
    if dwell.size:
        put("dwell_mean_seconds_30d", float(dwell.mean()))
        put("dwell_total_minutes_30d", float(dwell.sum()) / 60.0)
        put("long_views_30d", _count(dwell >= 60))

    def of(kind_name: str, days: float) -> float:
        return _count((kind == _K[kind_name]) & (age <= days))

    saves, shares = of("property_save", 30), of("property_share", 30)
    tours = of("tour_request", 90)
    put("saves_30d", saves)
    put("unsaves_30d", of("property_unsave", 30))
    put("shares_30d", shares)
    put("searches_7d", of("search", 7))
    put("searches_30d", of("search", 30))
    put("tour_requests_7d", of("tour_request", 7))
    put("tour_requests_90d", tours)
    tour_times = age[kind == _K["tour_request"]]
    put(
        "days_since_tour_request",
        min(float(tour_times[-1]), RECENCY_CAP_DAYS) if tour_times.size else RECENCY_CAP_DAYS,
    )
    put("valuation_requests_90d", of("valuation_request", 90))
    put("form_submissions_90d", of("form_submission", 90))
    intent = np.isin(kind, HIGH_INTENT)
    put(
        "days_since_high_intent",
        min(float(age[intent][-1]), RECENCY_CAP_DAYS) if np.any(intent) else RECENCY_CAP_DAYS,
    )
    put("save_rate_30d", saves / (n_v30 + 1.0))
    put("share_rate_30d", shares / (n_v30 + 1.0))
    put("tour_rate_90d", tours / (_count(views & (age <= 90)) + 1.0))

    # preferences: what the viewed and saved listings look like
    looked = (views | (kind == _K["property_save"])) & (age <= 30)
    price = stream.price[:n][looked]
    price = price[~np.isnan(price)]
    if price.size:
        q1, median, q3 = np.percentile(price, [25, 50, 75])
        put("price_median_viewed_30d", float(median) / 1000.0)
        put("price_spread_viewed_30d", float((q3 - q1) / median) if median > 0 else 0.0)
    beds = stream.beds[:n][looked]
    beds = beds[~np.isnan(beds)]
    if beds.size:
        put("beds_mean_viewed_30d", float(beds.mean()))
        put("beds_std_viewed_30d", float(beds.std()))
    city = stream.city[:n][looked]
    city = city[city >= 0]
    top_city = None
    if city.size:
        counts = np.bincount(city)
        top_city = stream.cities[int(counts.argmax())]
        put("distinct_cities_30d", float(np.count_nonzero(counts)))
        put("top_city_share_30d", float(counts.max()) / city.size)

    put("email_opens_30d", of("email_open", 30))
    put("email_clicks_30d", of("email_click", 30))

    # conversation
    inbound, outbound = kind == _K["message_in"], kind == _K["message_out"]
    m_in, m_out = of("message_in", 30), of("message_out", 30)
    put("messages_in_30d", m_in)
    put("messages_out_30d", m_out)
    put("reply_ratio_30d", m_in / m_out if m_out else 0.0)
    messages = inbound | outbound
    mt, m_is_in = t[messages], inbound[messages]
    response = 168.0
    if mt.size >= 2:
        # an answer: an inbound message right after an outbound one
        answered = m_is_in[1:] & ~m_is_in[:-1] & ((at - mt[1:]) / DAY <= 90)
        if np.any(answered):
            response = float(np.median(np.diff(mt)[answered])) / 3600.0
    put("response_hours_median", min(response, 168.0))
    if np.any(inbound):
        put("days_since_last_reply", min(float(age[inbound][-1]), RECENCY_CAP_DAYS))
        last_in = t[inbound][-1]
        put("unanswered_messages", _count(outbound & (t > last_in)))
    else:
        put("days_since_last_reply", RECENCY_CAP_DAYS)
        put("unanswered_messages", _count(outbound))

    value = stream.value[:n]
    put("value_sum_30d", float(value[age <= 30].sum()))
    put("value_sum_total", float(value.sum()))
    return out, Context(top_city, top_property, top_views)


def model_input(features: np.ndarray) -> np.ndarray:
    """Features as the models see them: counts and durations as log(1 + x). Works on one row
    or a matrix."""
    x = np.array(features, dtype=np.float64, copy=True)
    x[..., LOG_MASK] = np.log1p(np.maximum(x[..., LOG_MASK], 0.0))
    return x
