"""Workflow definitions: what a nurture sequence is, validated when it is loaded.

A definition (YAML, one per file; ``builtin/`` holds the built-ins)::

    name: no_reply_followup
    description: Three follow-ups a day apart while the lead stays silent.
    trigger: {event: first_outbound}
    goals: [replied, appointment_booked, opted_out, dnd, handed_off, opportunity_won,
            opportunity_lost]
    settings: {stop_on_reply: true, allow_concurrent: false}
    steps:
      - {id: wait_1d, type: wait, for: 24h}
      - {id: nudge_1, type: send_sms, text: "Hi {first_name}, just checking in ..."}
      - {id: hot, type: branch, if: {score_at_least: 70}, then: alert, else: end}
      - {id: alert, type: create_task, title: "Call {first_name}: hot and not replying"}
      - {id: end, type: end}

Each step has an ``id`` (unique, ``[a-z0-9_]``) and a ``type``; it goes on to the next step in
the list unless it names ``next`` (a branch names ``then`` / ``else``, an A/B split each
variant's ``goto``). Step types and their fields:

==================  ==========================================================================
``send_sms``        ``text`` (a template, below)
``send_email``      ``subject``, ``body`` (templates)
``wait``            ``for`` a duration (``15m``, ``2h``, ``3d``, ``2w``, ``1mo`` = 30 days, up to
                    a year), ``until`` a time of day in the lead's zone (``"09:00"``), or
                    ``before_appointment`` (a duration before the lead's next appointment)
``branch``          ``if`` a condition (below), ``then`` and ``else`` step ids
``add_tag``         ``tag``;   ``remove_tag``: ``tag``
``update_field``    ``field`` (the GHL custom field's name), ``value`` (a template)
``create_task``     ``title``, optional ``body`` (templates), ``due_in`` (a duration, 1h)
``notify_agent``    ``text``: a note on the contact, which GHL notifies the assigned user of
``send_matches``    ``k`` (1–5): the lead's top listing matches by SMS (ghl_ai.recommend)
``ab_split``        ``experiment``, ``variants``: ``[{name, weight, goto}]`` (assignment is a
                    hash of the experiment and the lead: stable, no state)
``start_workflow``  ``workflow``: the name of another workflow, started for the lead
``end``             the run ends (as does running past the last step)
==================  ==========================================================================

Conditions (``branch``'s ``if``), one key each, combined with ``all`` / ``any`` / ``not``:
``tag`` (the contact has it), ``field: {name, equals | present}``, ``answer: {name, equals |
present}`` (a qualification answer), ``score_at_least``, ``temperature`` (hot / warm / cold),
``churn_risk_at_least`` (0–1), ``replied_since_start``, ``appointment_booked``,
``days_since_last_activity_at_least``.

Exit goals, checked before every step (a run whose goal is met ends): ``replied``,
``appointment_booked``, ``opted_out``, ``dnd``, ``handed_off``, ``opportunity_won``,
``opportunity_lost``. Settings: ``stop_on_reply`` (default true: a reply cancels the run),
``allow_concurrent`` (default false: never two runs of the workflow for one lead),
``behaviour_triggered`` (default false: true makes the 3-day rule apply — no text within 3 days
of the last contact unless the lead wrote).

Templates use the lead's fields with safe defaults when one is missing
(:data:`TEMPLATE_FIELDS`): ``{first_name}`` → "there", ``{area}`` → the market, ``{budget}``
→ "your budget", ... An unknown ``{name}`` is an error at load, naming the step.

Loading never raises anything but :class:`WorkflowError`, whose message names the workflow,
the step and the problem (``workflow 'broken', step 'first': unknown step type
'no_such_step' ...``), one problem per line.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

Goal = Literal[
    "replied",
    "appointment_booked",
    "opted_out",
    "dnd",
    "handed_off",
    "opportunity_won",
    "opportunity_lost",
]
GOALS: tuple[Goal, ...] = get_args(Goal)

#: Template fields and the words used when the lead has no value for one.
TEMPLATE_FIELDS: dict[str, str] = {
    "first_name": "there",
    "last_name": "",
    "agent_name": "your agent",
    "brokerage": "our team",
    "market_area": "the area",
    "area": "the area",
    "budget": "your budget",
    "bedrooms": "the bedrooms you need",
    "property_type": "home",
    "timeline": "your timeline",
    "appointment_time": "your appointment",
    "alert": "their recent activity",
    "score": "",
    "listing_address": "the home",
}

_ID = r"^[a-z0-9][a-z0-9_]*$"
# At most 12 digits: a longer count is no duration a year holds (and would overflow timedelta).
_DURATION = re.compile(r"^\s*(\d{1,12})\s*(m|min|h|d|w|mo)\s*$")
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mo": 30 * 86400}
MAX_WAIT = timedelta(days=366)


class WorkflowError(ValueError):
    """A definition that does not validate: one problem per line, each naming the workflow
    and, where there is one, the step."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def parse_duration(text: str) -> timedelta:
    """``15m``, ``2h``, ``3d``, ``2w``, ``1mo`` (30 days) → a timedelta (at most a year)."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"not a duration: {text!r} (use 15m, 2h, 3d, 2w or 1mo)")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if not 0 < seconds <= MAX_WAIT.total_seconds():
        raise ValueError(f"duration {text!r} must be more than 0 and at most a year")
    return timedelta(seconds=seconds)


def template_fields(text: str) -> list[str]:
    """The ``{names}`` a template uses (raises ValueError for a malformed one)."""
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValueError(f"malformed template: {exc}") from None


def _template(text: str) -> str:
    # A format spec or conversion ({first_name:>9}, {first_name!r}) would fail or misbehave
    # when the text is rendered, long after loading: refuse it here.
    try:
        shaped = [n for _, n, spec, conv in string.Formatter().parse(text) if spec or conv]
    except ValueError:
        shaped = []  # malformed: template_fields says so below
    if shaped:
        raise ValueError(f"template field {{{shaped[0]}}} takes no format or conversion")
    unknown = [n for n in template_fields(text) if n not in TEMPLATE_FIELDS]
    if unknown:
        raise ValueError(
            f"unknown template field {{{unknown[0]}}} (known: "
            f"{', '.join('{' + n + '}' for n in TEMPLATE_FIELDS)})"
        )
    return text


def render(text: str, values: Mapping[str, Any]) -> str:
    """A template with the lead's values, the safe default for each one missing."""
    filled = {
        name: str(values[name]) if values.get(name) not in (None, "") else default
        for name, default in TEMPLATE_FIELDS.items()
    }
    return " ".join(text.format_map(filled).split())


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# -- conditions --------------------------------------------------------------------------------


class FieldTest(_Model):
    name: str = Field(min_length=1)
    equals: str | int | float | bool | None = None
    present: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> FieldTest:
        if (self.equals is None) == (self.present is None):
            raise ValueError("give exactly one of equals or present")
        return self


class Condition(_Model):
    tag: str | None = None
    field: FieldTest | None = None
    answer: FieldTest | None = None
    score_at_least: float | None = Field(default=None, ge=0, le=100)
    temperature: Literal["hot", "warm", "cold"] | None = None
    churn_risk_at_least: float | None = Field(default=None, ge=0, le=1)
    replied_since_start: bool | None = None
    appointment_booked: bool | None = None
    days_since_last_activity_at_least: float | None = Field(default=None, ge=0)
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            keys = ", ".join(
                f.alias or n for n, f in type(self).model_fields.items() if n != "not_"
            )
            raise ValueError(f"a condition has exactly one of {keys} or not ({len(given)} given)")
        return self


# -- steps --------------------------------------------------------------------------------------


class _Step(_Model):
    id: str = Field(pattern=_ID, max_length=64)
    next: str | None = None

    def targets(self) -> list[str]:
        return [self.next] if self.next else []


class SendSms(_Step):
    type: Literal["send_sms"]
    text: str = Field(min_length=1, max_length=480)
    _check = field_validator("text")(_template)


class SendEmail(_Step):
    type: Literal["send_email"]
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)
    _check = field_validator("subject", "body")(_template)


class Wait(_Step):
    type: Literal["wait"]
    for_: str | None = Field(default=None, alias="for")
    until: str | None = None
    #: Until this long before the lead's next appointment (``AppointmentCreate``).
    before_appointment: str | None = None

    @field_validator("for_", "before_appointment")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @field_validator("until")
    @classmethod
    def _time_of_day(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", value):
            raise ValueError(f"until must be a time of day HH:MM, not {value!r}")
        return value

    @model_validator(mode="after")
    def _one(self) -> Wait:
        if sum(v is not None for v in (self.for_, self.until, self.before_appointment)) != 1:
            raise ValueError(
                "a wait has exactly one of for (a duration), until (HH:MM) or "
                "before_appointment (a duration)"
            )
        return self

    @property
    def duration(self) -> timedelta | None:
        return parse_duration(self.for_) if self.for_ else None


class Branch(_Step):
    type: Literal["branch"]
    if_: Condition = Field(alias="if")
    then: str
    else_: str = Field(alias="else")

    def targets(self) -> list[str]:
        return [self.then, self.else_]


class AddTag(_Step):
    type: Literal["add_tag"]
    tag: str = Field(min_length=1, max_length=100)


class RemoveTag(_Step):
    type: Literal["remove_tag"]
    tag: str = Field(min_length=1, max_length=100)


class UpdateField(_Step):
    type: Literal["update_field"]
    field: str = Field(min_length=1, max_length=100)
    value: str = Field(max_length=1000)
    _check = field_validator("value")(_template)


class CreateTask(_Step):
    type: Literal["create_task"]
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=2000)
    due_in: str = "1h"
    _check = field_validator("title", "body")(_template)

    @field_validator("due_in")
    @classmethod
    def _due(cls, value: str) -> str:
        parse_duration(value)
        return value


class NotifyAgent(_Step):
    type: Literal["notify_agent"]
    text: str = Field(min_length=1, max_length=2000)
    _check = field_validator("text")(_template)


class SendMatches(_Step):
    type: Literal["send_matches"]
    k: int = Field(default=3, ge=1, le=5)


class Variant(_Model):
    name: str = Field(pattern=_ID, max_length=64)
    weight: float = Field(default=1.0, gt=0)
    goto: str


class AbSplit(_Step):
    type: Literal["ab_split"]
    experiment: str = Field(pattern=_ID, max_length=64)
    variants: list[Variant] = Field(min_length=2, max_length=10)

    def targets(self) -> list[str]:
        return [v.goto for v in self.variants]

    @model_validator(mode="after")
    def _distinct(self) -> AbSplit:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("variant names must be distinct")
        return self


class StartWorkflow(_Step):
    type: Literal["start_workflow"]
    workflow: str = Field(pattern=_ID, max_length=64)


class End(_Step):
    type: Literal["end"]


Step = Annotated[
    SendSms
    | SendEmail
    | Wait
    | Branch
    | AddTag
    | RemoveTag
    | UpdateField
    | CreateTask
    | NotifyAgent
    | SendMatches
    | AbSplit
    | StartWorkflow
    | End,
    Field(discriminator="type"),
]
STEP_TYPES: dict[str, type[_Step]] = {
    model.model_fields["type"].annotation.__args__[0]: model  # type: ignore[union-attr]
    for model in (
        SendSms,
        SendEmail,
        Wait,
        Branch,
        AddTag,
        RemoveTag,
        UpdateField,
        CreateTask,
        NotifyAgent,
        SendMatches,
        AbSplit,
        StartWorkflow,
        End,
    )
}


class Trigger(_Model):
    event: Literal[
        "contact_created",
        "first_outbound",
        "appointment_created",
        "tag_added",
        "behaviour_alert",
        "score_hot",
        "churn_risk",
        "manual",
    ]
    #: ``tag_added``: the tag; ``behaviour_alert``: the alert rule (scoring/alerts.py).
    tag: str | None = None
    rule: str | None = None


class Settings(_Model):
    stop_on_reply: bool = True
    allow_concurrent: bool = False
    behaviour_triggered: bool = False


class Workflow(_Model):
    name: str = Field(pattern=_ID, max_length=64)
    description: str = ""
    trigger: Trigger | None = None
    goals: list[Goal] = Field(default_factory=lambda: list(GOALS))
    settings: Settings = Field(default_factory=Settings)
    steps: list[Step] = Field(min_length=1, max_length=200)

    def step(self, step_id: str) -> Any:
        return next(s for s in self.steps if s.id == step_id)

    def after(self, step_id: str) -> str | None:
        """The step that follows ``step_id`` when it names none (None: the run ends)."""
        ids = [s.id for s in self.steps]
        i = ids.index(step_id)
        current = self.steps[i]
        if current.next:
            return current.next
        if current.type == "end" or i + 1 == len(ids):
            return None
        return ids[i + 1]


# -- loading -----------------------------------------------------------------------------------


def _where(name: str, step: str | None) -> str:
    return f"workflow {name!r}" + (f", step {step!r}" if step else "")


def _messages(exc: ValidationError) -> list[str]:
    """Each error as ``field.path: message`` (the tagged union's tags left out)."""
    out = []
    for error in exc.errors():
        path = ".".join(str(p).rstrip("_") for p in error["loc"] if str(p) not in STEP_TYPES)
        message = error["msg"].removeprefix("Value error, ")
        out.append(f"{path}: {message}" if path else message)
    return out


def parse(data: Any, source: str = "definition") -> Workflow:
    """A workflow from its parsed YAML / JSON, or WorkflowError naming every problem."""
    if not isinstance(data, Mapping):
        raise WorkflowError([f"{source}: a workflow is a mapping with name and steps"])
    name = str(data.get("name") or source)
    problems: list[str] = []
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        problems.append(f"{_where(name, None)}: steps must be a non-empty list")
        steps = []
    seen: set[str] = set()
    for i, raw in enumerate(steps):
        if not isinstance(raw, Mapping):
            problems.append(f"{_where(name, f'#{i + 1}')}: a step is a mapping with id and type")
            continue
        step_id = str(raw.get("id") or f"#{i + 1}")
        kind = raw.get("type")
        if not isinstance(kind, str) or kind not in STEP_TYPES:
            problems.append(
                f"{_where(name, step_id)}: unknown step type {kind!r} (one of "
                f"{', '.join(STEP_TYPES)})"
            )
            continue
        if step_id in seen:
            problems.append(f"{_where(name, step_id)}: the id is used by another step")
        seen.add(step_id)
        try:
            STEP_TYPES[str(kind)].model_validate(raw)
        except ValidationError as exc:
            problems += [f"{_where(name, step_id)}: {m}" for m in _messages(exc)]
    if problems:
        raise WorkflowError(problems)
    try:
        workflow = Workflow.model_validate(data)
    except ValidationError as exc:
        raise WorkflowError([f"{_where(name, None)}: {m}" for m in _messages(exc)]) from None
    for step in workflow.steps:
        for target in step.targets():
            if target not in seen:
                problems.append(f"{_where(name, step.id)}: goes to {target!r}, no such step")
    if problems:
        raise WorkflowError(problems)
    return workflow


def check_references(workflows: Mapping[str, Workflow]) -> None:
    """Every ``start_workflow`` names a workflow of the set (WorkflowError otherwise)."""
    problems = [
        f"{_where(w.name, s.id)}: starts workflow {s.workflow!r}, which does not exist"
        for w in workflows.values()
        for s in w.steps
        if isinstance(s, StartWorkflow) and s.workflow not in workflows
    ]
    if problems:
        raise WorkflowError(problems)
