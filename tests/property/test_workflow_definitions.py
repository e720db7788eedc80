"""Workflow definitions, generated: every valid definition loads (from data and from YAML),
round-trips to the same workflow and renders its templates for any lead; a definition broken in
one place is refused with a WorkflowError naming the workflow, the step and the field; nothing
else ever escapes :func:`parse`."""

from __future__ import annotations

from typing import Any

import hypothesis
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from ghl_ai.workflows.catalogue import load_text
from ghl_ai.workflows.definition import (
    GOALS,
    STEP_TYPES,
    TEMPLATE_FIELDS,
    Workflow,
    WorkflowError,
    parse,
    render,
)
from tests.property.strategies import field_values, json_values

step_ids = st.from_regex(r"\A[a-z][a-z0-9_]{0,12}\Z")
names = st.from_regex(r"\A[a-z0-9][a-z0-9_]{0,20}\Z")
durations = st.builds(
    lambda n, unit: f"{n}{unit}",
    st.integers(1, 12),
    st.sampled_from(["m", "min", "h", "d", "w", "mo"]),
)
#: Text YAML round-trips: PyYAML's dumper writes line breaks such as NEL (U+0085) bare inside
#: quoted scalars, which its loader then folds into spaces.
_YAML_CHARS = st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"])
yaml_text = st.text(_YAML_CHARS, max_size=40)
#: Template text: words (braces escaped as GHL users rarely but really write them) and fields.
plain = st.text(
    st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"], exclude_characters="{}"),
    min_size=1,
    max_size=20,
)
templates = st.lists(
    st.one_of(plain, st.sampled_from(sorted(TEMPLATE_FIELDS)).map("{{{}}}".format), st.just("{{")),
    min_size=1,
    max_size=6,
).map("".join)


def conditions() -> st.SearchStrategy[dict[str, Any]]:
    tests = st.one_of(
        st.builds(
            lambda n, v: {"name": n, "equals": v},
            names,
            st.text(_YAML_CHARS, max_size=8) | st.integers(),
        ),
        st.builds(lambda n, v: {"name": n, "present": v}, names, st.booleans()),
    )
    leaves = st.one_of(
        st.builds(lambda t: {"tag": t}, st.text(_YAML_CHARS, min_size=1, max_size=10)),
        st.builds(lambda t: {"field": t}, tests),
        st.builds(lambda t: {"answer": t}, tests),
        st.builds(lambda v: {"score_at_least": v}, st.integers(0, 100)),
        st.builds(lambda v: {"temperature": v}, st.sampled_from(["hot", "warm", "cold"])),
        st.builds(lambda v: {"churn_risk_at_least": v}, st.floats(0, 1)),
        st.builds(lambda v: {"replied_since_start": v}, st.booleans()),
        st.builds(lambda v: {"appointment_booked": v}, st.booleans()),
        st.builds(lambda v: {"days_since_last_activity_at_least": v}, st.integers(0, 90)),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(lambda cs: {"all": cs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda cs: {"any": cs}, st.lists(inner, min_size=1, max_size=3)),
            st.builds(lambda c: {"not": c}, inner),
        ),
        max_leaves=6,
    )


def step_of(draw: st.DrawFn, kind: str, step_id: str, ids: list[str]) -> dict[str, Any]:
    target = st.sampled_from(ids)
    step: dict[str, Any] = {"id": step_id, "type": kind}
    if kind == "send_sms":
        step["text"] = draw(templates)
    elif kind == "send_email":
        step.update(subject=draw(templates), body=draw(templates))
    elif kind == "wait":
        which = draw(st.sampled_from(["for", "until", "before_appointment"]))
        step[which] = draw(
            st.from_regex(r"\A([01][0-9]|2[0-3]):[0-5][0-9]\Z") if which == "until" else durations
        )
    elif kind == "branch":
        step.update({"if": draw(conditions()), "then": draw(target), "else": draw(target)})
    elif kind in ("add_tag", "remove_tag"):
        step["tag"] = draw(st.text(_YAML_CHARS, min_size=1, max_size=30).filter(str.strip))
    elif kind == "update_field":
        step.update(
            field=draw(st.text(_YAML_CHARS, min_size=1, max_size=30)), value=draw(templates)
        )
    elif kind == "create_task":
        step.update(title=draw(templates), body=draw(templates), due_in=draw(durations))
    elif kind == "notify_agent":
        step["text"] = draw(templates)
    elif kind == "send_matches":
        step["k"] = draw(st.integers(1, 5))
    elif kind == "ab_split":
        variants = draw(st.lists(names, min_size=2, max_size=4, unique=True))
        step.update(
            experiment=draw(names),
            variants=[
                {"name": v, "weight": draw(st.floats(0.1, 10)), "goto": draw(target)}
                for v in variants
            ],
        )
    elif kind == "start_workflow":
        step["workflow"] = draw(names)
    if kind not in ("branch", "ab_split", "end") and draw(st.booleans()):
        step["next"] = draw(target)
    return step


@st.composite
def definitions(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.lists(step_ids, min_size=1, max_size=8, unique=True))
    steps = [step_of(draw, draw(st.sampled_from(sorted(STEP_TYPES))), i, ids) for i in ids]
    data: dict[str, Any] = {"name": draw(names), "steps": steps}
    if draw(st.booleans()):
        data["description"] = draw(yaml_text)
    if draw(st.booleans()):
        data["goals"] = draw(st.lists(st.sampled_from(GOALS), unique=True))
    if draw(st.booleans()):
        data["settings"] = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "stop_on_reply": st.booleans(),
                    "allow_concurrent": st.booleans(),
                    "behaviour_triggered": st.booleans(),
                },
            )
        )
    if draw(st.booleans()):
        data["trigger"] = {
            "event": draw(st.sampled_from(["contact_created", "tag_added", "manual"]))
        }
    return data


def _templates(workflow: Workflow) -> list[str]:
    """The template texts of a workflow (``update_field``'s ``field`` is a name, not one)."""
    return [
        value
        for step in workflow.steps
        for field in ("text", "subject", "body", "value", "title")
        if isinstance(value := getattr(step, field, None), str)
    ]


lead_values = st.dictionaries(
    st.sampled_from(sorted(TEMPLATE_FIELDS)),
    st.one_of(st.none(), st.text(max_size=20), st.integers(), st.floats()),
)


@given(data=definitions(), values=lead_values)
def test_a_valid_definition_loads_round_trips_and_renders(
    data: dict[str, Any], values: dict[str, Any]
) -> None:
    workflow = parse(data)
    assert workflow.name == data["name"]
    assert [s.id for s in workflow.steps] == [s["id"] for s in data["steps"]]
    dumped = workflow.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert parse(dumped) == workflow
    [from_yaml] = load_text(yaml.safe_dump(data, allow_unicode=True), "generated.yaml")
    assert from_yaml == workflow
    for template in _templates(workflow):
        assert isinstance(render(template, values), str)
    # Every step the run can reach is a step of the workflow.
    ids = {s.id for s in workflow.steps}
    for step in workflow.steps:
        following = workflow.after(step.id)
        assert following is None or following in ids
        assert set(step.targets()) <= ids


BREAKAGES = (
    "unknown_type",
    "duplicate_id",
    "dangling_next",
    "bad_duration",
    "unknown_template_field",
    "wrong_type",
    "extra_field",
    "not_a_mapping",
)


def broken(data: dict[str, Any], how: str, draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """``data`` broken one way, and the words the error must contain."""
    steps = [dict(s) for s in data["steps"]]
    first = steps[0]
    where = [f"workflow {data['name']!r}"]
    if how == "unknown_type":
        first["type"] = draw(st.sampled_from(["no_such_step", "", "SEND_SMS"]) | json_values)
        return {**data, "steps": steps}, [*where, f"step {first['id']!r}", "unknown step type"]
    if how == "duplicate_id":
        steps.append({"id": first["id"], "type": "end"})
        return {**data, "steps": steps}, [*where, f"step {first['id']!r}", "used by another step"]
    if how == "dangling_next":
        steps.append({"id": "zz_last", "type": "end", "next": "nowhere_at_all"})
        return {**data, "steps": steps}, [*where, "step 'zz_last'", "'nowhere_at_all'"]
    if how == "bad_duration":
        bad = draw(st.sampled_from(["0m", "2y", "soon", "9" * 30 + "d", "400d", "-1h"]))
        steps.append({"id": "zz_wait", "type": "wait", "for": bad})
        return {**data, "steps": steps}, [*where, "step 'zz_wait'", "for:"]
    if how == "unknown_template_field":
        field = draw(st.sampled_from(["nope", "first name", "0", "first_name.x", "agent!"]))
        steps.append({"id": "zz_sms", "type": "send_sms", "text": "Hi {" + field + "}"})
        return {**data, "steps": steps}, [*where, "step 'zz_sms'", "text:"]
    if how == "wrong_type":
        steps.append(
            {
                "id": "zz_sms",
                "type": "send_sms",
                "text": draw(field_values.filter(lambda v: not isinstance(v, str))),
            }
        )
        return {**data, "steps": steps}, [*where, "step 'zz_sms'", "text"]
    if how == "extra_field":
        steps.append({"id": "zz_tag", "type": "add_tag", "tag": "x", "colour": "red"})
        return {**data, "steps": steps}, [*where, "step 'zz_tag'", "colour"]
    steps.append(draw(json_values.filter(lambda v: not isinstance(v, dict))))
    return {**data, "steps": steps}, [*where, f"step '#{len(steps)}'", "a step is a mapping"]


@given(data=definitions(), how=st.sampled_from(BREAKAGES), draw=st.data())
def test_a_definition_broken_in_one_place_is_refused_naming_the_place(
    data: dict[str, Any], how: str, draw: st.DataObject
) -> None:
    bad, words = broken(data, how, draw.draw)
    try:
        parse(bad)
    except WorkflowError as exc:
        message = str(exc)
        for word in words:
            assert word in message, (word, message)
        assert exc.problems and all(p.startswith("workflow ") for p in exc.problems)
    else:
        raise AssertionError(f"{how}: accepted")


@given(
    data=st.one_of(
        json_values,
        st.dictionaries(
            st.sampled_from(["name", "steps", "goals", "settings", "trigger"]), json_values
        ),
        definitions().flatmap(
            lambda d: st.builds(
                lambda k, v: {**d, "steps": [{**d["steps"][0], k: v}]},
                st.sampled_from(
                    ["type", "id", "next", "for", "until", "if", "text", "k", "variants", "then"]
                ),
                json_values,
            )
        ),
    )
)
@example(data={"name": "a", "steps": [{"id": "a", "type": ["send_sms"]}]})
@example(data={"name": "a", "steps": [{"id": "a", "type": {"x": 1}}]})
@example(data={"name": "a", "steps": [{"id": "a", "type": "wait", "for": "9" * 30 + "d"}]})
@example(
    data={
        "name": "a",
        "steps": [{"id": "a", "type": "create_task", "title": "t", "due_in": "9" * 20 + "w"}],
    }
)
@example(data={"name": "a", "steps": [{"id": "a", "type": "send_sms", "text": "{first_name:{x}}"}]})
@example(data={"name": "a", "steps": [{"id": "a", "type": "send_sms", "text": "{first_name!z}"}]})
@example(data={"name": "a", "steps": [{"id": "a", "type": "send_sms", "text": "{first_name:d}"}]})
def test_any_document_loads_or_is_refused_with_a_workflow_error(data: Any) -> None:
    try:
        workflow = parse(data)
    except WorkflowError as exc:
        assert exc.problems
        hypothesis.event("refused")
        return
    hypothesis.event("loaded")
    for template in _templates(workflow):
        render(template, {})  # a template that loads renders


@given(text=st.text(max_size=200) | definitions().map(yaml.safe_dump))
@example(text="a: &a [*a]\nsteps: *a\nname: x")
@example(text="[" * 5000)
@example(text="name: x\nsteps:\n- {id: a, type: wait, for: " + "9" * 5000 + "d}")
def test_any_yaml_text_loads_or_is_refused_with_a_workflow_error(text: str) -> None:
    try:
        load_text(text, "generated.yaml")
    except WorkflowError as exc:
        assert exc.problems
