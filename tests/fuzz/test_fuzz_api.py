"""Every operation of the API's OpenAPI document, fuzzed with schemathesis against the real
handlers (the intake through Mangum, the RecommendationsFunction's resolver) on moto, invoked
with the HTTP API v2 events API Gateway sends: no 5xx, and every answer's status, content type
and body as documented.

Schemathesis generates the parameters, headers and bodies (valid and, half the time, invalid
for the schema); for most cases the harness then presents valid credentials — signing the body
exactly as sent for X-GHL-Signature — so the cases get past 401 and reach the parsers, and for
the others it keeps the generated ones or sends none. Each case comes from its own client
address, so the bad-credentials limit does not turn the run into 429s.

``FUZZ_EXAMPLES`` cases per operation (``make test``: a few dozen; ``make fuzz``: 1,000+).
``FUZZ_COLLECT=1`` records every contradiction and carries on (the smallest request of each
kind is reported at the end) instead of stopping at the first and shrinking it.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from functions.intake import app as intake_app
from functions.recommendations import app as recommendations_app
from ghl_ai.adapters.dynamo import LeadStore
from ghl_ai.leads.models import LeadChanges, LeadKey
from local import devkeys
from local.apigw import LambdaContext, http_event
from tests.conftest import LOCATION_ID, Stack
from tests.fuzz.conftest import COUNTS
from tests.fuzz.schema import api_document

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
COLLECT = os.environ.get("FUZZ_COLLECT") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: Routes whose documented answer here is a 5xx: the Marketplace app is not configured in this
#: stack (no OAuth stand-in), so the install route answers its documented 503.
DOCUMENTED_5XX = {"GET /oauth/callback"}
#: The lead the path-parameter examples name, seeded so reads get past 404 too.
KNOWN_LEAD = "fuzzLead0001"

SCHEMA = schemathesis.openapi.from_dict(api_document())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
#: This harness's limits are the fuzzing's, not the abuse limits' (tested on their own).
UNLIMITED = {
    "AUTH_FAILURE_LIMIT_PER_HOUR": "1000000",
    "FORM_RATE_LIMIT_PER_HOUR": "1000000",
    "LOCATION_FORM_RATE_LIMIT_PER_HOUR": "1000000",
    "LOCATION_EVENTS_RATE_LIMIT_PER_MINUTE": "1000000",
    "EVENTS_RATE_LIMIT_PER_MINUTE": "1000000",
    "WEBHOOK_RATE_LIMIT_PER_MINUTE": "1000000",
    "READ_RATE_LIMIT_PER_MINUTE": "1000000",
    "ALLOWED_ORIGINS": "https://www.example-realty.com",
}


def _route(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


# -- one request -----------------------------------------------------------------------------


def _body_bytes(case: Any) -> bytes | None:
    """The body as a client sends it for the case's media type."""
    if case.media_type is None or case.body is NOT_SET:
        return None
    body = case.body
    if isinstance(body, bytes):  # negative cases: bytes that are not the media type
        return body
    if case.media_type == "application/x-www-form-urlencoded":
        pairs = body.items() if isinstance(body, dict) else []
        return urlencode(
            [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in pairs]
        ).encode()
    if case.media_type.startswith("text/"):
        return (body if isinstance(body, str) else json.dumps(body)).encode(
            "utf-8", "surrogatepass"
        )
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _drop(mapping: dict[str, Any] | None, *names: str) -> dict[str, Any]:
    lowered = {n.lower() for n in names}
    return {k: v for k, v in (mapping or {}).items() if k.lower() not in lowered}


def _present(case: Any, route: str, how: str, raw: bytes | None) -> None:
    """Give the case valid credentials (``valid``), none (``none``), or leave the generated
    ones (``generated``; the read routes' key is no parameter: a wrong one is sent)."""
    headers, query = dict(case.headers or {}), dict(case.query or {})
    bearer = route.startswith("GET /leads/") or " /kb/" in route
    if how == "generated" and not bearer:
        return
    if route == "POST /webhooks/ghl":
        headers = _drop(headers, "x-ghl-signature")
        if how == "valid":
            headers["X-GHL-Signature"] = devkeys.sign(raw or b"")
    elif route == "POST /webhooks/ghl/workflow":
        headers, query = _drop(headers, "x-webhook-secret"), _drop(query, "token")
        if how == "valid":
            headers["X-Webhook-Secret"] = devkeys.WORKFLOW_SECRET
    elif route in ("POST /forms/lyrio", "POST /events"):
        headers, query = _drop(headers, "x-site-key"), _drop(query, "siteKey")
        if how == "valid":
            headers["X-Site-Key"] = devkeys.SITE_KEY
    elif bearer:
        headers = _drop(headers, "authorization")
        if how == "valid":
            headers["Authorization"] = f"Bearer {devkeys.API_KEY}"
        elif how == "generated":
            headers["Authorization"] = "Bearer not-the-key"
    case.headers, case.query = headers, query


def _valid_body(case: Any, route: str) -> None:
    """Bodies that can pass the checks past the parsers: a workflow body for the signed-in
    location (the secret's), website events stamped now (else all are refused as stale)."""
    body = case.body
    if route == "POST /webhooks/ghl/workflow" and isinstance(body, dict):
        location = body.get("location")
        if isinstance(location, dict):
            case.body = {**body, "location": {**location, "id": LOCATION_ID}}
    if route == "POST /events" and isinstance(body, dict) and isinstance(body.get("events"), list):
        now = datetime.now(UTC).isoformat()
        events = [{**e, "timestamp": now} if isinstance(e, dict) else e for e in body["events"]]
        case.body = {**body, "events": events}


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _header_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@dataclass
class Api:
    """Sends a case to the handler that serves its route, as API Gateway would."""

    client: int = 0

    def send(self, case: Any, raw: bytes | None, route: str) -> httpx.Response:
        self.client += 1
        headers = [(k, _header_value(v)) for k, v in (case.headers or {}).items()]
        if case.media_type and raw is not None:
            headers = [h for h in headers if h[0].lower() != "content-type"]
            headers.append(("content-type", case.media_type))
        query = [(k, _header_value(v)) for k, v in (case.query or {}).items()]
        path = case.formatted_path
        recommendations = route == "GET /leads/{contactId}/recommendations"
        event = http_event(
            case.method.upper(),
            path,
            raw,
            headers,
            query,
            route_key=route,
            path_parameters={k: str(v) for k, v in (case.path_parameters or {}).items()} or None,
            source_ip=f"198.51.{self.client // 250 % 250}.{self.client % 250 + 1}",
            base64_body=raw is not None and not _is_utf8(raw),
        )
        started = time.perf_counter()
        if recommendations:
            result = recommendations_app.handler(event, LambdaContext("RecommendationsFunction"))
        else:
            result = intake_app.handler(event, LambdaContext("IntakeFunction"))
        elapsed = timedelta(seconds=time.perf_counter() - started)
        body = result.get("body") or ""
        content = (
            base64.b64decode(body)
            if result.get("isBase64Encoded")
            else body.encode("utf-8", "surrogatepass")
        )
        response_headers = dict(result.get("headers") or {})
        for cookie in result.get("cookies") or []:
            response_headers.setdefault("set-cookie", cookie)
        url = httpx.URL("http://127.0.0.1:3000" + path, params=query)
        request = httpx.Request(case.method.upper(), url, headers=headers, content=raw or b"")
        response = httpx.Response(
            result["statusCode"], headers=response_headers, content=content, request=request
        )
        response.elapsed = elapsed
        return response


@dataclass
class Findings:
    """Contradictions by kind, each with the smallest request that showed it."""

    by_kind: dict[str, tuple[int, str]] = field(default_factory=dict)

    def add(self, route: str, status: int, error: Exception, request: str) -> None:
        checks = sorted({type(f).__name__ for f in getattr(error, "exceptions", [error])})
        kind = f"{route} -> {status}: {', '.join(checks)}"
        known = self.by_kind.get(kind)
        if known is None or len(request) < known[0]:
            self.by_kind[kind] = (len(request), f"{request}\n{str(error)[:1500]}")


def _describe(case: Any, raw: bytes | None) -> str:
    shown = (raw or b"")[:600]
    return (
        f"{case.method.upper()} {case.formatted_path} query={case.query!r} "
        f"headers={case.headers!r} media_type={case.media_type!r} body={shown!r}"
        + (f" (+{len(raw) - 600} bytes)" if raw and len(raw) > 600 else "")
    )


def _seed(stack: Stack) -> None:
    LeadStore(stack.dynamodb, stack.resources.tables["LeadsTable"]).apply(
        LeadKey(LOCATION_ID, KNOWN_LEAD),
        LeadChanges(set={"firstName": "Fuzz", "intent": "buy", "temperature": "warm"}),
    )


CREDENTIALS = st.sampled_from(["valid", "valid", "valid", "generated", "none"])


@pytest.mark.integration
@pytest.mark.parametrize("operation", OPERATIONS, ids=_route)
def test_every_answer_is_as_documented(
    operation: Any, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in UNLIMITED.items():
        monkeypatch.setenv(name, value)
    _seed(stack)
    route = _route(operation)
    api, findings = Api(), Findings()
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(case=strategy, how=CREDENTIALS, noise=st.text(max_size=8))
    def run(case: Any, how: str, noise: str) -> None:
        # A header no route reads: cases that differ only in it still count (GET /health).
        case.headers = {**(case.headers or {}), "X-Fuzz-Case": noise.encode().hex()}
        if how == "valid":
            _valid_body(case, route)
        raw = _body_bytes(case)
        _present(case, route, how, raw)
        response = api.send(case, raw, route)
        COUNTS[route][response.status_code] += 1
        try:
            checks = [
                c for c in CHECKS if c is not not_a_server_error or route not in DOCUMENTED_5XX
            ]
            case.validate_response(response, checks=checks)
        except Exception as error:
            if not COLLECT:
                raise
            findings.add(route, response.status_code, error, _describe(case, raw))

    run()
    if findings.by_kind:
        report = "\n\n".join(f"{kind}\n  {text}" for kind, (_, text) in findings.by_kind.items())
        pytest.fail(f"{len(findings.by_kind)} kinds of contradiction:\n\n{report}", pytrace=False)


@pytest.mark.integration
def test_the_harness_fails_an_answer_the_document_does_not_allow(stack: Stack) -> None:
    """The checks bite: with 401 left out of the document, an unsigned delivery fails them."""
    doc = api_document()
    del doc["paths"]["/webhooks/ghl"]["post"]["responses"]["401"]
    operation = schemathesis.openapi.from_dict(doc)["/webhooks/ghl"]["POST"]
    case = operation.Case(body={"type": "ContactCreate"}, media_type="application/json")
    raw = _body_bytes(case)
    response = Api().send(case, raw, "POST /webhooks/ghl")
    assert response.status_code == 401
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        case.validate_response(response, checks=CHECKS)
