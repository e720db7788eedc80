"""The OpenAPI document is complete: every route template.yaml deploys is in it with its method,
nothing else is, every operation documents its answers with a JSON body schema (or its media
type), and every status code the handlers can answer is documented."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import schemathesis

from ghl_ai.openapi import OPERATIONS
from tests.conftest import ROOT, TEMPLATE
from tests.fuzz.schema import api_document

#: CORS preflights (OPTIONS) are answered by API Gateway itself (the template's
#: CorsConfiguration), never routed to a function: they are not part of the document.
HANDLERS = {
    "IntakeFunction": ROOT / "functions" / "intake" / "app.py",
    "RecommendationsFunction": ROOT / "functions" / "recommendations" / "app.py",
}
#: How the handlers spell a status they answer.
_STATUS = re.compile(
    r"(?:_error\(|status_code=|_install_page\(request, |\"statusCode\": )([1-5][0-9]{2})\b"
)


def _routes() -> dict[tuple[str, str], str]:
    """(method, path) → the function template.yaml routes it to."""
    routes = {}
    for name, resource in TEMPLATE["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") == "HttpApi":
                props = event["Properties"]
                routes[(props["Method"].upper(), props["Path"])] = name
    return routes


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in doc["paths"].items()
        for method, operation in item.items()
    }


def test_every_deployed_route_is_documented_and_nothing_else() -> None:
    documented = set(_operations(api_document()))
    deployed = set(_routes())
    assert deployed - documented == set(), "deployed but not documented"
    assert documented - deployed == set(), "documented but not deployed"
    # Every route's part of the document is used by a route of the app.
    assert {tuple(key.split(" ", 1)) for key in OPERATIONS} <= documented


def test_every_operation_documents_its_parameters_and_answers() -> None:
    doc = api_document()
    for (method, path), operation in _operations(doc).items():
        where = f"{method} {path}"
        assert operation.get("summary"), where
        answers = operation["responses"]
        assert answers, where
        for status, answer in answers.items():
            assert answer.get("description"), (where, status)
            for media, content in (answer.get("content") or {}).items():
                assert content.get("schema"), (where, status, media)
        path_names = set(re.findall(r"{(\w+)}", path))
        parameters = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert parameters == path_names, where
        if method == "POST":
            assert operation["requestBody"]["content"], where
    # The document loads: every $ref resolves, every operation can be generated for.
    schema = schemathesis.openapi.from_dict(doc)
    assert len([op.ok() for op in schema.get_all_operations()]) == len(_operations(doc))


def _answered(handler: Path) -> set[str]:
    return set(_STATUS.findall(handler.read_text()))


def test_every_status_a_handler_can_answer_is_documented() -> None:
    doc = api_document()
    routes = _routes()
    for function, handler in HANDLERS.items():
        documented = {
            status
            for key, operation in _operations(doc).items()
            if routes.get(key, "IntakeFunction") == function
            for status in operation["responses"]
        }
        answered = _answered(handler)
        assert answered, f"no status found in {handler}: the pattern is out of date"
        # Exception handlers answer through _error(...) with the status first: covered above.
        assert answered - documented == set(), f"{function}: answered but never documented"
