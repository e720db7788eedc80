"""Behaviour alerts, the ones agents know from kvCORE / Real Geeks / Sierra: when a lead does
something worth a call, tag it and give the agent a task (or a notification), at most once per
rule and lead within the rule's cool-down.

=========================  ===========================================  ==========  =========
rule                       fires when (at the time of scoring)           threshold   cool-down
=========================  ===========================================  ==========  =========
``back_after_absence``     the latest visit (this week) came after       14 days     24 h
                           ``threshold`` days or more away
``frequent_visits``        ``threshold`` or more visits in 7 days        3           24 h
``repeat_listing_view``    one listing viewed ``threshold`` times or     3           24 h
                           more in 30 days
``binge_browsing``         ``threshold`` or more different listings in   5 (and 10   24 h
                           24 h, or twice that in 7 days                 in 7 days)
``property_saved``         a listing saved in the last 24 h              1           24 h
``tour_requested``         a tour requested in the last 24 h             1           24 h
``valuation_requested``    a home valuation requested in the last 24 h   1           24 h
``price_drop``             a listing the lead saved, or viewed twice or  -           12 h
                           more, dropped its price in the last 48 h
                           (``listings import`` records the drop in the
                           lead's stream: listings/price_drops.py)
=========================  ===========================================  ==========  =========

Each rule's ``enabled``, ``threshold``, ``cooldownHours``, ``tag`` and ``task`` (``"task"``: a GHL
task for the agent; ``"notify"``: a note on the contact, which GHL notifies the assigned user
of; ``"none"``: the tag only) can be set per location (tenants item ``alertRules``, or the
``ALERT_RULES`` environment variable as JSON for a single-location install).

Exactly once: firing an alert first claims it on the lead record with a conditional write
(the rule's last firing must be older than its cool-down, unless it is this same alert being
retried), then the task is claimed in the outbox under the alert's id. SQS redeliveries and
concurrent scoring jobs never give the agent two tasks for the same rule and lead within the
cool-down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from ghl_ai.behaviour.features import DAY, INDEX, KINDS, Context, EventStream

Action = Literal["task", "notify", "none"]


@dataclass(frozen=True)
class AlertRule:
    name: str
    title: str  # the task's title; {name} is the lead's name
    threshold: float
    cooldown_hours: float = 24.0
    tag: str = ""
    task: Action = "task"
    enabled: bool = True


DEFAULT_RULES: dict[str, AlertRule] = {
    rule.name: rule
    for rule in (
        AlertRule("back_after_absence", "{name} is back on the website after {detail}", 14),
        AlertRule("frequent_visits", "{name} visited the website {detail} this week", 3),
        AlertRule("repeat_listing_view", "{name} keeps coming back to one home: {detail}", 3),
        AlertRule("binge_browsing", "{name} is browsing hard: {detail}", 5),
        AlertRule("property_saved", "{name} saved a home {detail}", 1),
        AlertRule("tour_requested", "{name} asked for a tour {detail}", 1),
        AlertRule("valuation_requested", "{name} asked what their home is worth", 1),
        AlertRule("price_drop", "Price drop on a home {name} follows: {detail}", 1, 12.0),
    )
}
for _name, _rule in DEFAULT_RULES.items():
    DEFAULT_RULES[_name] = replace(_rule, tag="alert-" + _name.replace("_", "-"))


class InvalidAlertRules(ValueError):
    """A location's alert settings that do not parse (the message names the rule and key)."""


def rules_for(overrides: Any) -> dict[str, AlertRule]:
    """The default rules with a location's overrides (a mapping or its JSON text)."""
    if isinstance(overrides, str):
        if not overrides.strip():
            return dict(DEFAULT_RULES)
        try:
            overrides = json.loads(overrides)
        except ValueError:
            raise InvalidAlertRules("alert rules are not valid JSON") from None
    rules = dict(DEFAULT_RULES)
    if not isinstance(overrides, Mapping):
        return rules
    keys = {"enabled": "enabled", "threshold": "threshold", "cooldownHours": "cooldown_hours"}
    keys |= {"tag": "tag", "task": "task"}
    for name, settings in overrides.items():
        if name not in rules:
            raise InvalidAlertRules(f"unknown alert rule {name!r}")
        if not isinstance(settings, Mapping):
            raise InvalidAlertRules(f"alert rule {name!r}: settings must be an object")
        changes: dict[str, Any] = {}
        for key, value in settings.items():
            if key not in keys:
                raise InvalidAlertRules(f"alert rule {name!r}: unknown setting {key!r}")
            if key in ("threshold", "cooldownHours") and (
                isinstance(value, bool) or not isinstance(value, int | float) or value < 0
            ):
                raise InvalidAlertRules(f"alert rule {name!r}: {key} must be a number >= 0")
            if key == "task" and value not in ("task", "notify", "none"):
                raise InvalidAlertRules(f"alert rule {name!r}: task must be task, notify or none")
            changes[keys[key]] = value
        rules[name] = replace(rules[name], **changes)
    return rules


@dataclass(frozen=True)
class Alert:
    rule: AlertRule
    #: Identity of this firing (the triggering event's time, or the day of a count rule):
    #: the same situation scored again gives the same id.
    anchor: str
    detail: str

    def id(self, location_id: str, contact_id: str) -> str:
        return f"alert:{location_id}:{contact_id}:{self.rule.name}:{self.anchor}"


def _latest(stream: EventStream, at: float, kind: str) -> tuple[float, str | None] | None:
    """Time and listing of the stream's latest ``kind`` event up to ``at``."""
    n = int(np.searchsorted(stream.t, at, side="right"))
    found = np.flatnonzero(stream.kind[:n] == KINDS.index(kind))
    if not found.size:
        return None
    last = int(found[-1])
    code = int(stream.prop[last])
    return float(stream.t[last]), stream.props[code] if code >= 0 else None


def evaluate(
    rules: Mapping[str, AlertRule],
    stream: EventStream,
    features: np.ndarray,
    context: Context,
    at: float,
) -> list[Alert]:
    """The alerts whose condition holds for this lead at ``at`` (caps are applied on firing)."""

    def f(name: str) -> float:
        return float(features[INDEX[name]])

    day = str(int(at // DAY))
    found: list[Alert] = []

    def check(name: str, holds: bool, anchor: str, detail: str) -> None:
        rule = rules.get(name)
        if rule is not None and rule.enabled and holds:
            found.append(Alert(rule, anchor, detail))

    back = rules.get("back_after_absence")
    if back is not None:
        gap = f("gap_before_last_session_days")
        last = f("days_since_last_event")
        check(
            "back_after_absence",
            gap >= back.threshold and last <= 1,
            f"{int(at - last * DAY) // 3600}",
            f"{int(gap)} days away",
        )
    visits = rules.get("frequent_visits")
    if visits is not None:
        count = f("sessions_7d")
        check("frequent_visits", count >= visits.threshold, day, f"{int(count)} times")
    repeat = rules.get("repeat_listing_view")
    if repeat is not None:
        views = context.top_property_views
        check(
            "repeat_listing_view",
            views >= repeat.threshold and context.top_property is not None,
            f"{context.top_property}",
            f"listing {context.top_property} viewed {views} times",
        )
    binge = rules.get("binge_browsing")
    if binge is not None:
        n = int(np.searchsorted(stream.t, at, side="right"))
        views = (stream.kind[:n] == KINDS.index("property_view")) & (stream.prop[:n] >= 0)
        recent = views & (stream.t[:n] > at - DAY)
        day_count = int(np.unique(stream.prop[:n][recent]).size)
        week_count = f("distinct_properties_7d")
        holds = day_count >= binge.threshold or week_count >= 2 * binge.threshold
        detail = (
            f"{day_count} homes in 24 hours"
            if day_count >= binge.threshold
            else f"{int(week_count)} homes in 7 days"
        )
        check("binge_browsing", holds, day, detail)
    for name, kind in (
        ("property_saved", "property_save"),
        ("tour_requested", "tour_request"),
        ("valuation_requested", "valuation_request"),
    ):
        latest = _latest(stream, at, kind)
        if latest is None:
            continue
        when, listing = latest
        check(name, at - when <= DAY, str(int(when)), f"listing {listing}" if listing else "")
    drop = _latest(stream, at, "listing_price_drop")
    if drop is not None:
        when, listing = drop
        i = int(np.flatnonzero(stream.t == when)[-1])
        cut, price = float(stream.value[i]), float(stream.price[i])
        detail = f"listing {listing}" + (f", now {_money(price)}" if np.isfinite(price) else "")
        if cut > 0:
            detail += f" ({_money(cut)} less)"
        check("price_drop", at - when <= 2 * DAY, f"{listing}:{int(when)}", detail)
    return found


def _money(amount: float) -> str:
    return f"${round(amount / 1000):,}k" if amount >= 1000 else f"${round(amount):,}"
