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
    }
    assert rules_for("") == DEFAULT_RULES
    assert all(r.tag == "alert-" + r.name.replace("_", "-") for r in DEFAULT_RULES.values())
    assert all(r.cooldown_hours == 24 and r.task == "task" for r in DEFAULT_RULES.values())


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
