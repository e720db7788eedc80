"""The workflows a location runs: the built-ins (``builtin/*.yaml``), with the location's own
definitions overriding one of the same name or adding new ones.

A location's definitions live in its tenants item (``workflows``: a YAML or JSON list of
definitions), or in ``WORKFLOWS`` for a single-location install. An invalid override is
refused with the :class:`~ghl_ai.workflows.definition.WorkflowError` naming the workflow,
the step and the problem; the caller decides (the engine keeps the built-ins and logs it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ghl_ai.workflows.definition import Workflow, WorkflowError, check_references, parse

BUILTIN = Path(__file__).resolve().parent / "builtin"


def load_text(text: str, source: str) -> list[Workflow]:
    """The workflows of a YAML / JSON document: one definition, or a list of them."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise WorkflowError([f"{source}: not valid YAML{where}"]) from None
    except RecursionError:
        raise WorkflowError([f"{source}: nested too deeply to be a workflow"]) from None
    documents: list[Any] = data if isinstance(data, list) else [data]
    workflows, problems = [], []
    for document in documents:
        try:
            workflows.append(parse(document, source))
        except WorkflowError as exc:
            problems += exc.problems
    if problems:
        raise WorkflowError(problems)
    return workflows


def load_file(path: Path) -> list[Workflow]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkflowError([f"{path}: cannot be read ({type(exc).__name__})"]) from None
    return load_text(text, path.name)


@lru_cache(maxsize=1)
def builtin() -> dict[str, Workflow]:
    """The built-in workflows by name (validated; loaded once per container)."""
    found: dict[str, Workflow] = {}
    for path in sorted(BUILTIN.glob("*.yaml")):
        for workflow in load_file(path):
            found[workflow.name] = workflow
    check_references(found)
    return found


def for_location(overrides: str | None) -> dict[str, Workflow]:
    """The built-ins with a location's definitions (YAML / JSON text) laid over them."""
    workflows = dict(builtin())
    if overrides and overrides.strip():
        for workflow in load_text(overrides, "the location's workflows"):
            workflows[workflow.name] = workflow
        check_references(workflows)
    return workflows
