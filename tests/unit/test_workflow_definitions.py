"""Workflow definitions: the built-ins validate, a bad definition is refused naming the
workflow, the step and the problem, templates fall back to safe words, overrides per location."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ghl_ai.workflows.catalogue import builtin, for_location, load_text
from ghl_ai.workflows.definition import WorkflowError, parse, parse_duration, render
from ghl_ai_cli.main import app


def test_the_builtins_cover_the_plays_agents_run() -> None:
    workflows = builtin()
    assert {
        "speed_to_lead",
        "no_reply_followup",
        "long_term_nurture",
        "hot_lead_alert",
        "behaviour_alert_followup",
        "appointment_reminder",
        "re_engage",
        "re_engage_checkin",
        "re_engage_matches",
        "re_engage_market_update",
        "re_engage_agent_call",
    } <= set(workflows)
    followup = workflows["no_reply_followup"]
    waits = [s.duration for s in followup.steps if s.type == "wait"]
    assert waits == [timedelta(hours=24)] * 3  # at 24, 48 and 72 hours
    assert followup.settings.stop_on_reply
    assert workflows["behaviour_alert_followup"].settings.behaviour_triggered


def test_long_term_nurture_touches_on_days_2_5_8_to_29_then_every_14_days() -> None:
    nurture = builtin()["long_term_nurture"]
    day, touches, step = 0.0, [], nurture.steps[0].id
    for _ in range(60):
        current = nurture.step(step)
        if current.type == "wait":
            day += current.duration.total_seconds() / 86400
        elif current.type in ("send_sms", "send_matches"):
            touches.append(day)
        elif current.type == "ab_split":
            step = current.variants[0].goto
            continue
        elif current.type == "branch":
            step = current.else_
            continue
        following = nurture.after(step)
        if following is None or day > 60:
            break
        step = following
    assert touches[:10] == [2, 5, 8, 14, 17, 20, 23, 26, 29, 43]
    assert touches[10] == 57  # every 14 days from then on


def refused(text: str) -> list[str]:
    with pytest.raises(WorkflowError) as caught:
        load_text(text, "test.yaml")
    return caught.value.problems


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (
            "name: broken\nsteps:\n  - {id: first, type: no_such_step}\n",
            "workflow 'broken', step 'first': unknown step type 'no_such_step'",
        ),
        (
            "name: w\nsteps:\n  - {id: pause, type: wait, for: 3 days}\n",
            "workflow 'w', step 'pause': for: not a duration: '3 days'",
        ),
        (
            "name: w\nsteps:\n  - {id: hi, type: send_sms, text: 'Hi {frist_name}'}\n",
            "workflow 'w', step 'hi': text: unknown template field {frist_name}",
        ),
        (
            "name: w\nsteps:\n  - {id: b, type: branch, if: {tag: vip}, then: b, else: gone}\n",
            "workflow 'w', step 'b': goes to 'gone', no such step",
        ),
        (
            "name: w\nsteps:\n  - {id: a, type: end}\n  - {id: a, type: end}\n",
            "workflow 'w', step 'a': the id is used by another step",
        ),
        (
            "name: w\nsteps:\n  - {id: b, type: branch, if: {tag: a, score_at_least: 70},"
            " then: b, else: b}\n",
            "workflow 'w', step 'b': if: a condition has exactly one of",
        ),
        (
            "name: w\nsteps:\n  - {id: s, type: ab_split, experiment: e,"
            " variants: [{name: a, goto: s}]}\n",
            "workflow 'w', step 's': variants: List should have at least 2 items",
        ),
        (
            "name: w\nsteps:\n  - {id: s, type: start_workflow, workflow: nowhere}\n",
            "workflow 'w', step 's': starts workflow 'nowhere', which does not exist",
        ),
        ("name: w\nsteps: [\n", "test.yaml: not valid YAML (line 3, column 1)"),
        ("name: w\nsteps: []\n", "workflow 'w': steps must be a non-empty list"),
    ],
)
def test_an_invalid_definition_is_refused_naming_the_workflow_step_and_problem(
    definition: str, expected: str
) -> None:
    if "start_workflow" in definition:
        with pytest.raises(WorkflowError) as caught:
            for_location(definition)
        problems = caught.value.problems
    else:
        problems = refused(definition)
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_of_a_definition_is_reported_at_once() -> None:
    problems = refused(
        "name: w\nsteps:\n  - {id: a, type: wait, for: soon}\n  - {id: b, type: teleport}\n"
    )
    assert [p.split(":")[0] for p in problems] == [
        "workflow 'w', step 'a'",
        "workflow 'w', step 'b'",
    ]


def test_templates_use_the_leads_fields_and_safe_words_when_one_is_missing() -> None:
    text = "Hi {first_name}, homes in {area} around {budget}? - {agent_name}"
    assert render(text, {"first_name": "Ana", "area": "Fontana", "budget": "$650k"}) == (
        "Hi Ana, homes in Fontana around $650k? - your agent"
    )
    assert render(text, {"first_name": None, "area": ""}) == (
        "Hi there, homes in the area around your budget? - your agent"
    )


def test_durations() -> None:
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("1mo") == timedelta(days=30)
    for bad in ("0d", "2y", "400d", "soon"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)


def test_a_location_overrides_a_builtin_by_name_and_adds_its_own() -> None:
    own = yaml.safe_dump(
        [
            {
                "name": "speed_to_lead",
                "steps": [{"id": "wait", "type": "wait", "for": "10m"}, {"id": "e", "type": "end"}],
            },
            {
                "name": "open_house_invite",
                "steps": [
                    {
                        "id": "invite",
                        "type": "send_sms",
                        "text": "Open house Sunday, {first_name}!",
                    },
                    {"id": "then", "type": "start_workflow", "workflow": "long_term_nurture"},
                ],
            },
        ]
    )
    workflows = for_location(own)
    assert workflows["speed_to_lead"].steps[0].duration == timedelta(minutes=10)
    assert "open_house_invite" in workflows and "no_reply_followup" in workflows
    assert builtin()["speed_to_lead"].steps[0].duration == timedelta(minutes=5)  # untouched


def test_the_cli_lists_shows_and_validates(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["workflows", "list", "--json"])
    assert listed.exit_code == 0
    names = [w["name"] for w in json.loads(listed.stdout)["workflows"]]
    assert len(names) >= 6 and "appointment_reminder" in names

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: broken\nsteps:\n  - id: first\n    type: no_such_step\n")
    result = runner.invoke(app, ["workflows", "validate", str(bad)])
    assert result.exit_code == 1
    assert "step 'first'" in result.output and "Traceback" not in result.output

    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(builtin()["speed_to_lead"].model_dump(by_alias=True)))
    assert runner.invoke(app, ["workflows", "validate", str(good)]).exit_code == 0
    shown = runner.invoke(app, ["workflows", "show", "no_reply_followup", "--json"])
    assert json.loads(shown.stdout)["steps"] == 8
    assert runner.invoke(app, ["workflows", "show", "nope"]).exit_code == 2


def test_a_definition_round_trips_through_its_dump() -> None:
    for workflow in builtin().values():
        assert parse(workflow.model_dump(by_alias=True)) == workflow
