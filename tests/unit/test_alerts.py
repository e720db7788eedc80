"""Alert settings per location: defaults, overrides, and clear errors for bad settings."""

from __future__ import annotations

import pytest

from ghl_ai.scoring.alerts import DEFAULT_RULES, InvalidAlertRules, rules_for


def test_the_defaults_cover_the_rules_agents_know() -> None:
    assert set(DEFAULT_RULES) == {
        "back_after_absence",
        "frequent_visits",
        "repeat_listing_view",
        "binge_browsing",
        "property_saved",
        "tour_requested",
        "valuation_requested",
        "price_drop",
    }
    assert rules_for("") == DEFAULT_RULES
    assert all(r.tag == "alert-" + r.name.replace("_", "-") for r in DEFAULT_RULES.values())
    assert all(r.task == "task" for r in DEFAULT_RULES.values())
    assert {r.name for r in DEFAULT_RULES.values() if r.cooldown_hours != 24} == {"price_drop"}


def test_overrides_change_only_what_they_name() -> None:
    rules = rules_for(
        '{"frequent_visits": {"threshold": 4, "cooldownHours": 48}, '
        '"property_saved": {"task": "notify", "tag": "saved-a-home"}, '
        '"tour_requested": {"enabled": false}}'
    )

    assert (rules["frequent_visits"].threshold, rules["frequent_visits"].cooldown_hours) == (4, 48)
    assert (rules["property_saved"].task, rules["property_saved"].tag) == ("notify", "saved-a-home")
    assert rules["tour_requested"].enabled is False
    assert rules["binge_browsing"] == DEFAULT_RULES["binge_browsing"]


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"coffee_break": {}}', "unknown alert rule 'coffee_break'"),
        ('{"frequent_visits": 3}', "'frequent_visits': settings must be an object"),
        ('{"frequent_visits": {"threshold": -1}}', "threshold must be a number >= 0"),
        ('{"frequent_visits": {"threshold": true}}', "threshold must be a number >= 0"),
        ('{"frequent_visits": {"task": "email"}}', "task must be task, notify or none"),
        ('{"frequent_visits": {"colour": "red"}}', "unknown setting 'colour'"),
    ],
)
def test_bad_settings_are_refused_naming_the_rule_and_the_key(settings: str, message: str) -> None:
    with pytest.raises(InvalidAlertRules, match=message):
        rules_for(settings)


def test_a_tenants_item_map_works_as_well_as_json() -> None:
    assert rules_for({"binge_browsing": {"threshold": 8}})["binge_browsing"].threshold == 8


def test_a_price_drop_in_the_stream_fires_for_48_hours_naming_the_listing_and_the_cut() -> None:
    from ghl_ai.behaviour.features import INDEX, StreamBuilder, compute
    from ghl_ai.scoring.alerts import evaluate

    now = 1_790_000_000.0
    builder = StreamBuilder()
    builder.add(now - 5 * 86400, "property_save", "CR-1", data={"price": 815_000})
    builder.add(now - 3600, "listing_price_drop", "CR-1", value=25_000, data={"price": 790_000})
    stream = builder.build()
    features, context = compute(stream, now)

    fired = [a for a in evaluate(DEFAULT_RULES, stream, features, context, now)]
    drops = [a for a in fired if a.rule.name == "price_drop"]
    assert len(drops) == 1
    assert drops[0].detail == "listing CR-1, now $790k ($25k less)"
    later = now + 3 * 86400
    features, context = compute(stream, later)
    assert not [
        a
        for a in evaluate(DEFAULT_RULES, stream, features, context, later)
        if a.rule.name == "price_drop"
    ]
    # The drop is the catalogue's news, not the lead doing something: recency is the save's.
    features, _ = compute(stream, now)
    assert features[INDEX["days_since_last_event"]] == pytest.approx(5.0)
