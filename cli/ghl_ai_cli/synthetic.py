"""The documented synthetic generator: the leads a fresh install's lead-score model is trained
on, before a tenant has outcomes of its own. Seeded: the same seed gives the same log.

The generative story (one simulated day at a time, all leads at once):

1. **Leads.** Each lead arrives on a uniformly random day of the simulated span. It has a
   hidden *readiness* ``r ~ Beta(1.3, 3.5)`` (most leads are early, a few are ready to move),
   an intent (80 % buyers, 20 % sellers), a home city drawn from the market's cities by
   popularity, a budget ``~ LogNormal(log 650k, 0.35)`` and a bedroom count (2–5).
2. **Engagement comes and goes.** A lead's daily chance of visiting the website is
   ``sigmoid(-3.6 + 3.6 r + m_t)``, where the momentum ``m_t = 0.85 m_{t-1} + N(0, 0.35)``
   makes leads go quiet for weeks and come back; interest also fades with the lead's age
   (``-0.012`` per day since arrival).
3. **A visit** views ``1 + Poisson(1 + 4 r)`` listings: in the home city with probability
   ``0.45 + 0.45 r`` (ready leads focus), priced ``budget × LogNormal(0, 0.35 - 0.2 r)``, with
   ``beds ± 1``; dwell ``LogNormal(log(25 + 80 r), 0.7)`` seconds; ready leads view the same
   listing again (``0.1 + 0.5 r``). Per view: a save ``0.04 + 0.25 r``, a share
   ``0.01 + 0.08 r``; per visit: a search ``0.5``, a tour request ``0.01 + 0.22 r²``, a
   seller's valuation request ``0.05 + 0.3 r``.
4. **Email and texts.** The agent emails every lead weekly (opened ``0.15 + 0.5 r``, clicked
   ``0.3`` of opens) and texts new leads on arrival and every ~10 days; a lead answers a text
   with probability ``0.15 + 0.6 r``, after ``LogNormal(log(6 − 5 r), 1)`` hours.
5. **Conversion** (an appointment booked). A tour request is often answered with a showing:
   with probability ``0.3 + 0.4 r`` the lead books within ``1 + Poisson(3)`` days of it (a
   seller's valuation request likewise, ``0.2 + 0.3 r``, for a listing appointment). Besides,
   conversion has a daily hazard
   ``sigmoid(-8.6 + 4.5 r + 1.0·tours_7d + 0.3·saves_7d + 0.7·visited_today
   + 0.6·replied_7d)``: behaviour, not readiness alone, predicts it — and readiness is never
   observed, so the model must infer it from behaviour. A lead that converted keeps browsing
   a little (a week at half the rate), then stops.

The same log trains the fresh install's churn models (``ghl-ai train churn``): its leads' visits
come and go with the momentum of step 2, fade with age and stop after a conversion, so some go
quiet for good and some come back.

The log covers ``days`` days ending at ``end`` (default: midnight UTC of today); events are
in the same vocabulary the website, GHL and the conversation produce.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ghl_ai_cli.datasets import Event, EventLog

DAY = 86400.0

#: The demo market (Inland Empire, California): city, popularity, ZIP.
CITIES: tuple[tuple[str, float, str], ...] = (
    ("Rancho Cucamonga", 0.22, "91737"),
    ("Ontario", 0.16, "91761"),
    ("Fontana", 0.15, "92336"),
    ("Upland", 0.11, "91786"),
    ("Chino Hills", 0.1, "91709"),
    ("Eastvale", 0.09, "92880"),
    ("Corona", 0.1, "92882"),
    ("Claremont", 0.07, "91711"),
)
CONVERSION_TYPES: tuple[str, ...] = ("appointment_booked",)
#: The end of the simulated span for the shipped model and ``eval`` without ``--events``: fixed,
#: so ``make models`` gives the same artifact on any day (features are relative to the cutoff).
FIXED_END = datetime(2026, 11, 30, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Config:
    leads: int = 4000
    days: int = 240
    seed: int = 42
    end: float | None = None  # epoch seconds; default midnight UTC today
    listings: int = 1500


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def generate(config: Config = Config()) -> EventLog:
    rng = np.random.default_rng(config.seed)
    ids = np.random.default_rng(config.seed + 1)
    n, days = config.leads, config.days
    end = config.end
    if end is None:
        now = datetime.now(UTC)
        end = datetime(now.year, now.month, now.day, tzinfo=UTC).timestamp()
    start = end - days * DAY

    names = [c[0] for c in CITIES]
    weights = np.array([c[1] for c in CITIES])
    weights /= weights.sum()
    zips = {c[0]: c[2] for c in CITIES}
    # the listings of the market
    listing_city = rng.choice(len(names), size=config.listings, p=weights)
    listing_price = np.round(rng.lognormal(np.log(650_000), 0.4, config.listings), -3)
    listing_beds = rng.choice([2, 3, 4, 5], size=config.listings, p=[0.15, 0.4, 0.33, 0.12])
    by_city = [np.flatnonzero(listing_city == c) for c in range(len(names))]

    readiness = rng.beta(1.3, 3.5, n)
    seller = rng.random(n) < 0.2
    home = rng.choice(len(names), size=n, p=weights)
    budget = rng.lognormal(np.log(650_000), 0.35, n)
    arrival = rng.integers(0, days, n)
    momentum = np.zeros(n)
    converted_on = np.full(n, -1)
    recent_tours = np.zeros((7, n))
    recent_saves = np.zeros((7, n))
    recent_replies = np.zeros((7, n))
    last_text = np.full(n, -1000)
    booking_day = np.full(n, -1)  # a showing / listing appointment the agent will book
    events: list[Event] = []
    lead_ids = [f"lead-{i:05d}" for i in range(n)]

    def add(i: Any, kind: str, t: float, **kw: Any) -> None:
        events.append(Event(lead_ids[int(i)], kind, float(t), **kw))

    for day in range(days):
        alive = arrival <= day
        age = day - arrival
        day_t = start + day * DAY
        momentum = 0.85 * momentum + rng.normal(0, 0.35, n)
        for i in np.flatnonzero(arrival == day):
            add(i, "lead_created", day_t + rng.uniform(8, 20) * 3600)
        after = (converted_on >= 0) & (day - converted_on > 7)
        logit = -3.6 + 3.6 * readiness + momentum - 0.012 * np.maximum(age, 0)
        p_visit = _sigmoid(logit) * np.where(converted_on >= 0, 0.5, 1.0)
        visits = alive & ~after & (rng.random(n) < p_visit)
        tours_today = np.zeros(n)
        saves_today = np.zeros(n)
        replies_today = np.zeros(n)
        for i in np.flatnonzero(visits):
            r = readiness[i]
            t = day_t + rng.uniform(7, 23) * 3600
            add(i, "page_view", t, data={"path": "/"})
            n_views = 1 + rng.poisson(1 + 4 * r)
            previous: int | None = None
            for _ in range(n_views):
                t += rng.uniform(20, 240)
                if previous is not None and rng.random() < 0.1 + 0.5 * r:
                    listing = previous
                else:
                    city = home[i] if rng.random() < 0.45 + 0.45 * r else rng.choice(len(names))
                    pool = by_city[city]
                    target = budget[i] * rng.lognormal(0, 0.35 - 0.2 * r)
                    near = pool[np.argsort(np.abs(listing_price[pool] - target))[:12]]
                    listing = int(rng.choice(near))
                previous = listing
                dwell = float(np.round(rng.lognormal(np.log(25 + 80 * r), 0.7), 1))
                data = {
                    "price": float(listing_price[listing]),
                    "beds": int(listing_beds[listing]),
                    "city": names[listing_city[listing]],
                    "zip": zips[names[listing_city[listing]]],
                    "dwellSeconds": dwell,
                }
                pid = f"L{listing:05d}"
                add(i, "property_view", t, property_id=pid, data=data)
                t += dwell
                if rng.random() < 0.04 + 0.25 * r:
                    add(i, "property_save", t + 1, property_id=pid, data=data)
                    saves_today[i] += 1
                if rng.random() < 0.01 + 0.08 * r:
                    add(i, "property_share", t + 2, property_id=pid, data=data)
            if rng.random() < 0.5:
                filters = {"city": names[home[i]], "maxPrice": float(np.round(budget[i], -4))}
                add(i, "search", t + 5, data={"filters": filters})
            if rng.random() < 0.01 + 0.22 * r * r:
                add(i, "tour_request", t + 30, property_id=f"L{previous:05d}")
                tours_today[i] += 1
                if booking_day[i] < 0 and rng.random() < 0.3 + 0.4 * r:
                    booking_day[i] = day + 1 + rng.poisson(3)
            if seller[i] and rng.random() < 0.05 + 0.3 * r:
                add(i, "valuation_request", t + 40)
                if booking_day[i] < 0 and rng.random() < 0.2 + 0.3 * r:
                    booking_day[i] = day + 1 + rng.poisson(3)
        # weekly email
        for i in np.flatnonzero(alive & ~after & (age % 7 == 3)):
            t = day_t + 10 * 3600
            if rng.random() < 0.15 + 0.5 * readiness[i]:
                add(i, "email_open", t + rng.uniform(0, 36) * 3600)
                if rng.random() < 0.3:
                    add(i, "email_click", t + rng.uniform(0, 40) * 3600)
        # texts: on arrival, then every ~10 days while no conversion
        texting = alive & (converted_on < 0) & ((age == 0) | (day - last_text >= 10))
        for i in np.flatnonzero(texting & (rng.random(n) < np.where(age == 0, 1.0, 0.7))):
            t = day_t + rng.uniform(9, 18) * 3600
            add(i, "message_out", t, data={"channel": "SMS"})
            last_text[i] = day
            if rng.random() < 0.15 + 0.6 * readiness[i]:
                delay = rng.lognormal(np.log(6 - 5 * readiness[i]), 1.0) * 3600
                add(i, "message_in", t + delay, data={"channel": "SMS"})
                replies_today[i] += 1
        recent_tours = np.roll(recent_tours, 1, axis=0)
        recent_saves = np.roll(recent_saves, 1, axis=0)
        recent_replies = np.roll(recent_replies, 1, axis=0)
        recent_tours[0], recent_saves[0], recent_replies[0] = (
            tours_today,
            saves_today,
            replies_today,
        )
        hazard = _sigmoid(
            -8.6
            + 4.5 * readiness
            + 1.0 * recent_tours.sum(0)
            + 0.3 * recent_saves.sum(0)
            + 0.7 * visits
            + 0.6 * (recent_replies.sum(0) > 0)
        )
        booked = booking_day == day
        converting = alive & (converted_on < 0) & (booked | (rng.random(n) < hazard))
        for i in np.flatnonzero(converting):
            add(i, "appointment_booked", day_t + rng.uniform(9, 19) * 3600)
            converted_on[i] = day
    # ids are random-looking but seeded (the website's uuid4s)
    for e in events:
        if e.type in ("lead_created",):
            continue
        e.data = {**e.data, "eventId": str(uuid.UUID(bytes=ids.bytes(16), version=4))}
    events = [e for e in events if e.t <= end]  # the log ends where the simulation does
    events.sort(key=lambda e: (e.lead, e.t))
    return EventLog(events)
