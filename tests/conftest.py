"""Shared fixtures: the real handlers against moto (tables and queues built from template.yaml),
GHL faked at the HTTP boundary by the loopback stand-in."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

# Before any boto3 client exists: a fake account in a fixed region, nothing reaches AWS.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # pytest -n 2 runs two workers on two cores: OpenMP / BLAS threads in both (boosted
        # trees, numpy) would oversubscribe them, and OpenMP's spin-waiting makes that slow.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import boto3
from moto import mock_aws

from functions.churn_score import app as churn_score_app
from functions.churn_sweep import app as churn_sweep_app
from functions.intake import app as intake_app
from functions.recommendations import app as recommendations_app
from functions.scoring import app as scoring_app
from functions.worker import app as worker_app
from functions.workflows import app as workflows_app
from ghl_ai import config
from ghl_ai.observability import logger
from local import devkeys
from local.apigw import LambdaContext, http_event, response_json
from local.sqs_runner import BatchResult, QueueConsumer
from local.template import (
    LocalResources,
    create_resources,
    function_environment,
    load_template,
)

#: Every log line of the run is checked for phones, emails, bodies and secrets (see the module).
pytest_plugins = ["tests.logcapture"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "ghl"
EVENTS = ROOT / "events"
TEMPLATE = load_template()
#: The location the single-location settings are configured for in tests (the workflow fixture's).
LOCATION_ID = "t9Ww7bY1xJJ6ThFHZVPC"


def _locations_of(payload: Any) -> set[str]:
    if isinstance(payload, dict):
        found = {v for k, v in payload.items() if k == "locationId" and isinstance(v, str)}
        location = payload.get("location")
        if isinstance(location, dict) and isinstance(location.get("id"), str):
            found.add(location["id"])
        return found.union(*(_locations_of(v) for v in payload.values()))
    return set()


#: Every location GHL's example payloads (tests/fixtures/ghl/) come from.
FIXTURE_LOCATIONS = frozenset().union(
    *(_locations_of(json.loads(p.read_bytes())) for p in FIXTURES.glob("*.json"))
)


_DELIVERY_TIME = re.compile(rb'^(  "timestamp": ")[^"]*(")', re.MULTILINE)


def fixture_bytes(name: str) -> bytes:
    """A fixture's bytes, delivered today: a delivery time (the envelope ``timestamp``) is set
    to this UTC midnight, as the intake refuses deliveries older than its replay window."""
    today = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00.000Z").encode()
    return _DELIVERY_TIME.sub(rb"\g<1>" + today + rb"\g<2>", (FIXTURES / name).read_bytes())


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads(fixture_bytes(name))


@dataclass
class Response:
    status: int
    json: Any


@dataclass
class Stack:
    """The deployed system, in process: handlers + moto + template resources."""

    dynamodb: Any
    sqs: Any
    resources: LocalResources

    # -- calling the API ----------------------------------------------------------------------
    def invoke_intake(self, event: dict[str, Any]) -> Response:
        result = intake_app.handler(event, LambdaContext("IntakeFunction"))
        return Response(result["statusCode"], response_json(result))

    def post_webhook(
        self,
        body: bytes | dict[str, Any],
        *,
        signature: str | None = "sign",
        headers: dict[str, str] | None = None,
        base64_body: bool = False,
    ) -> Response:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        all_headers = {"content-type": "application/json", **(headers or {})}
        if signature == "sign":
            all_headers["x-ghl-signature"] = devkeys.sign(raw)
        elif signature is not None:
            all_headers["x-ghl-signature"] = signature
        return self.invoke_intake(
            http_event("POST", "/webhooks/ghl", raw, all_headers, base64_body=base64_body)
        )

    def post_workflow(
        self,
        body: bytes | dict[str, Any],
        *,
        secret: str | None = devkeys.WORKFLOW_SECRET,
        via: str = "header",
    ) -> Response:
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        headers = {"content-type": "application/json"}
        query = None
        if secret is not None and via == "header":
            headers["X-Webhook-Secret"] = secret
        elif secret is not None:
            query = {"token": secret}
        return self.invoke_intake(http_event("POST", "/webhooks/ghl/workflow", raw, headers, query))

    def get_recommendations(
        self, contact_id: str, k: int | str | None = None, *, api_key: str | None = devkeys.API_KEY
    ) -> Response:
        """GET /leads/{contactId}/recommendations (the RecommendationsFunction's route)."""
        headers = {"authorization": f"Bearer {api_key}"} if api_key is not None else {}
        query = {"k": str(k)} if k is not None else None
        path = f"/leads/{contact_id}/recommendations"
        event = http_event(
            "GET", path, None, headers, query, route_key="GET /leads/{contactId}/recommendations"
        )
        result = recommendations_app.handler(event, LambdaContext("RecommendationsFunction"))
        return Response(result["statusCode"], response_json(result))

    def post_events(
        self,
        body: bytes | dict[str, Any],
        *,
        site_key: str | None = devkeys.SITE_KEY,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Response:
        """POST /events as the website's tracking script would (site key in the header)."""
        raw = json.dumps(body).encode() if isinstance(body, dict) else body
        all_headers = {"content-type": content_type, **(headers or {})}
        if site_key is not None:
            all_headers["x-site-key"] = site_key
        return self.invoke_intake(http_event("POST", "/events", raw, all_headers, query))

    # -- running the worker -------------------------------------------------------------------
    def consumer(self) -> QueueConsumer:
        return QueueConsumer(
            self.sqs,
            self.resources.queue_urls["JobsQueue"],
            self.resources.queue_arns["JobsQueue"],
            worker_app.handler,
            function_name="WorkerFunction",
        )

    def scoring_consumer(self) -> QueueConsumer:
        return QueueConsumer(
            self.sqs,
            self.resources.queue_urls["ScoringQueue"],
            self.resources.queue_arns["ScoringQueue"],
            scoring_app.handler,
            function_name="ScoringFunction",
        )

    def run_worker(self) -> list[BatchResult]:
        """Run the worker until its queue is empty, and the ScoringFunction on what that asks
        to rescore (as the deployed event source mappings would). Returns the worker's
        batches."""
        results: list[BatchResult] = []
        for _ in range(20):
            jobs = self.consumer().drain()
            results.extend(jobs)
            if not self.scoring_consumer().drain() and not jobs:
                break
        return results

    def run_scoring(self) -> list[BatchResult]:
        return self.scoring_consumer().drain()

    def run_matches(self) -> list[BatchResult]:
        """The RecommendationsFunction on the send-matches queue, until it is empty."""
        return QueueConsumer(
            self.sqs,
            self.resources.queue_urls["MatchesQueue"],
            self.resources.queue_arns["MatchesQueue"],
            recommendations_app.handler,
            function_name="RecommendationsFunction",
        ).drain()

    def run_churn_sweep(self) -> dict[str, Any]:
        """The ChurnSweepFunction, as its schedule invokes it."""
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        result: dict[str, Any] = churn_sweep_app.handler(event, LambdaContext("ChurnSweepFunction"))
        return result

    def run_churn_scoring(self) -> list[BatchResult]:
        """The ChurnScoreFunction on the churn queue, until it is empty."""
        return QueueConsumer(
            self.sqs,
            self.resources.queue_urls["ChurnQueue"],
            self.resources.queue_arns["ChurnQueue"],
            churn_score_app.handler,
            function_name="ChurnScoreFunction",
        ).drain()

    # -- looking at state ---------------------------------------------------------------------
    def queue_depth(self, logical: str = "JobsQueue") -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.resources.queue_urls[logical],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    def scan(self, logical: str) -> list[dict[str, Any]]:
        from ghl_ai.adapters.dynamo import from_item

        items = self.dynamodb.scan(TableName=self.resources.tables[logical])["Items"]
        return [from_item(item) for item in items]

    def lead(self, location_id: str, contact_id: str) -> dict[str, Any] | None:
        from ghl_ai.adapters.dynamo import LeadStore
        from ghl_ai.leads.models import LeadKey

        return LeadStore(self.dynamodb, self.resources.tables["LeadsTable"]).get(
            LeadKey(location_id, contact_id)
        )


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    with running_stack(monkeypatch) as running:
        yield running


@contextlib.contextmanager
def running_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """The ``stack`` fixture's system, for a fixture of a wider scope too (a module's
    ``pytest.MonkeyPatch()``): tests/integration/test_tenant_isolation.py builds its world once."""
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        sqs = boto3.client("sqs")
        # Visibility timeout 0: a failed message is received again at once (Lambda waits the
        # queue's timeout; the redrive-to-DLQ behaviour is the same).
        resources = create_resources(dynamodb, sqs, TEMPLATE, visibility_timeout=0)
        parameters = {
            "GhlWebhookPublicKey": devkeys.PUBLIC_KEY_PEM,
            "GhlWorkflowSecret": devkeys.WORKFLOW_SECRET,
            "GhlLocationId": LOCATION_ID,
            "ApiKey": devkeys.API_KEY,
            "LyrioSiteKey": devkeys.SITE_KEY,
        }
        for function in (
            "IntakeFunction",
            "WorkerFunction",
            "ScoringFunction",
            "RecommendationsFunction",
            "WorkflowFunction",
            "ChurnSweepFunction",
            "ChurnScoreFunction",
        ):
            for key, value in function_environment(
                TEMPLATE, function, resources, parameters
            ).items():
                monkeypatch.setenv(key, value)
        config.intake_settings.cache_clear()
        config.worker_settings.cache_clear()
        config.scoring_settings.cache_clear()
        config.recommendations_settings.cache_clear()
        config.workflow_settings.cache_clear()
        config.churn_settings.cache_clear()
        config.churn_sweep_settings.cache_clear()
        apps = (
            intake_app,
            worker_app,
            scoring_app,
            recommendations_app,
            workflows_app,
            churn_sweep_app,
            churn_score_app,
        )
        for app in apps:
            app.deps.cache_clear()
        for location_id in sorted(FIXTURE_LOCATIONS - {LOCATION_ID}):
            # The locations of GHL's example payloads are served by this install too.
            dynamodb.put_item(
                TableName=resources.tables["TenantsTable"],
                Item={"locationId": {"S": location_id}},
            )
        yield Stack(dynamodb, sqs, resources)
        for app in apps:
            app.deps.cache_clear()


@pytest.fixture
def powertools_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """The JSON lines the Powertools logger writes, at INFO as deployed (template.yaml).

    The logger's handler holds the stdout it found at import, before pytest's capture, so
    its stream is pointed at a buffer for the test instead of relying on capsys.
    """
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "INFO")
    previous_level = logger.log_level
    logger.setLevel("INFO")
    buffer = io.StringIO()
    handler = logger.registered_handler
    previous_stream = handler.setStream(buffer)  # type: ignore[attr-defined]
    try:
        yield buffer
    finally:
        handler.setStream(previous_stream)  # type: ignore[attr-defined]
        logger.setLevel(previous_level)
