"""`make run`: the whole system on one machine.

- an embedded AWS (moto server on loopback) with the tables and queues of template.yaml;
- the intake function behind a local API Gateway on http://127.0.0.1:$PORT (default 3000);
- every SQS-triggered function fed by a local event source mapping (batches, visibility
  timeout, partial batch failures, redrive to the DLQ);
- GHL: the real API when GHL_API_TOKEN is set, else a loopback stand-in that prints each call;
- webhook signatures: GHL_WEBHOOK_PUBLIC_KEY when set, else the local development key pair.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".local" / "stack.json"
REGION = "us-east-1"
#: Locally, a failed job reappears after this many seconds (deployed: the queue's 540 s).
LOCAL_VISIBILITY_TIMEOUT = int(os.environ.get("LOCAL_VISIBILITY_TIMEOUT", "5"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _say(text: str = "") -> None:
    print(text, flush=True)


def _handler(template: dict[str, Any], function: str) -> Any:
    props = template["Resources"][function]["Properties"]
    module, name = props["Handler"].rsplit(".", 1)
    package = props["CodeUri"].strip("/").replace("/", ".")
    return getattr(importlib.import_module(f"{package}.{module}"), name)


class Scheduler:
    """An EventBridge schedule, locally: invokes a function with a ``Scheduled Event`` every
    ``every_seconds`` / ``time_scale`` seconds on a daemon thread."""

    def __init__(self, handler: Any, source: Any, time_scale: float, on_run: Any) -> None:
        self.handler, self.source = handler, source
        # At most once a second, however fast the clock runs.
        self._every = max(1.0, source.every_seconds / time_scale)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._say = on_run

    def start(self) -> Scheduler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        from local.apigw import LambdaContext

        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        while not self._stop.wait(self._every):
            try:
                result = self.handler(event, LambdaContext(self.source.function))
            except Exception as exc:  # a failing schedule run must not stop the stack
                self._say(f"[{self.source.function}] scheduled run failed: {type(exc).__name__}")
                continue
            if isinstance(result, dict) and result.get("queued"):
                self._say(f"[{self.source.function}] schedule: {result['queued']} due steps queued")
            elif isinstance(result, dict) and result.get("leads"):
                self._say(
                    f"[{self.source.function}] schedule: {result['leads']} leads queued for "
                    f"today's churn scoring ({result.get('already_scored', 0)} already scored)"
                )


def _routes(template: dict[str, Any]) -> list[Any]:
    """The HTTP routes of the functions besides the intake (which takes every other path)."""
    from local.apigw import Route

    routes = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function" or name == "IntakeFunction":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                routes.append(Route(props["Method"], props["Path"], _handler(template, name), name))
    return routes


def main() -> int:
    port = int(os.environ.get("PORT", "3000"))
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from local import devkeys  # creates no AWS client: safe before the environment is set

    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": devkeys.MOTO_SECRET_ACCESS_KEY,
            "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    log_level = os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request log

    moto_port = _free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{moto_port}"

    import boto3

    from local.apigw import ApiGateway
    from local.ghl_standin import GhlStandIn
    from local.sqs_runner import BatchResult, QueueConsumer
    from local.template import (
        create_resources,
        function_environment,
        load_template,
        schedule_sources,
        sqs_event_sources,
    )

    template = load_template()
    dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
    resources = create_resources(
        dynamodb, sqs, template, visibility_timeout=LOCAL_VISIBILITY_TIMEOUT
    )

    standin = None
    parameters: dict[str, str] = {}
    parameters["GhlLocationId"] = os.environ.get("GHL_LOCATION_ID") or _demo_location()
    if os.environ.get("GHL_API_TOKEN"):
        parameters["GhlApiToken"] = os.environ["GHL_API_TOKEN"]
        parameters["GhlApiBaseUrl"] = os.environ.get(
            "GHL_API_BASE_URL", "https://services.leadconnectorhq.com"
        )
        ghl_line = f"GHL API        {parameters['GhlApiBaseUrl']} (real, GHL_API_TOKEN is set)"
    else:
        # Knows the demo leads (local/demo_data.py) and, like GHL for a message from a new
        # number, creates a contact it does not know when asked for it.
        standin = GhlStandIn(
            echo=True,
            demo_contacts=True,
            autocreate_contacts=True,
            location_id=parameters["GhlLocationId"],
        ).start()
        parameters["GhlApiToken"] = "local-standin-token"
        parameters["GhlApiBaseUrl"] = standin.base_url
        ghl_line = (
            f"GHL API        {standin.base_url} "
            "(local stand-in: prints each call; set GHL_API_TOKEN for real GHL)\n"
            f"                 knows {len(standin.contacts)} demo leads (local/demo_data.py); "
            "creates a contact it does not know, as GHL does for a new number"
        )
    dev_key = not os.environ.get("GHL_WEBHOOK_PUBLIC_KEY")
    parameters["GhlWebhookPublicKey"] = (
        os.environ.get("GHL_WEBHOOK_PUBLIC_KEY") or devkeys.PUBLIC_KEY_PEM
    )
    parameters["GhlWorkflowSecret"] = (
        os.environ.get("GHL_WORKFLOW_SECRET") or devkeys.WORKFLOW_SECRET
    )
    parameters["ApiKey"] = os.environ.get("API_KEY") or devkeys.API_KEY
    parameters["LyrioSiteKey"] = os.environ.get("LYRIO_SITE_KEY") or devkeys.SITE_KEY
    parameters["AnthropicApiKey"] = os.environ.get("ANTHROPIC_API_KEY", "")
    parameters["AnthropicModel"] = os.environ.get("ANTHROPIC_MODEL", "claude-sonnet-5-5")
    # The demo persona (a location's own values come from its tenants-table item).
    parameters["AgentName"] = os.environ.get("AGENT_NAME", "Jorge")
    parameters["Brokerage"] = os.environ.get("BROKERAGE", "Sunbelt Realty")
    parameters["MarketArea"] = os.environ.get("MARKET_AREA", "the Inland Empire")
    parameters["MarketAreas"] = os.environ.get(
        "MARKET_AREAS",
        "Rancho Cucamonga,Ontario,Fontana,Upland,Chino Hills,Eastvale,Corona,Claremont",
    )
    parameters["LocationTimezone"] = os.environ.get("LOCATION_TIMEZONE", "America/Los_Angeles")
    # LOCAL_TIME_SCALE=N: workflow waits and the schedules run N times faster (for the demo).
    time_scale = float(os.environ.get("LOCAL_TIME_SCALE", "1") or 1)
    # Where "send top matches" links to (the demo website's listing pages).
    parameters["ListingUrlTemplate"] = os.environ.get(
        "LISTING_URL_TEMPLATE", "https://homes.example.com/listing/{listingKey}"
    )

    # All functions share this process; their variables must agree where names overlap.
    merged: dict[str, str] = {}
    for function in template["Resources"]:
        if template["Resources"][function]["Type"] != "AWS::Serverless::Function":
            continue
        for key, value in function_environment(template, function, resources, parameters).items():
            if merged.get(key, value) != value:
                raise SystemExit(
                    f"{function}: {key} differs between functions; cannot share one process"
                )
            merged[key] = value
    os.environ.update(merged)
    os.environ["WORKFLOW_TIME_SCALE"] = str(time_scale)
    # Deployed functions log at INFO (template.yaml); locally the terminal shows the GHL calls
    # and warnings unless POWERTOOLS_LOG_LEVEL says otherwise.
    os.environ["POWERTOOLS_LOG_LEVEL"] = log_level

    api = ApiGateway(
        _handler(template, "IntakeFunction"), port=port, routes=_routes(template)
    ).start()

    def report(function: str) -> Any:
        def on_batch(result: BatchResult) -> None:
            failed = (
                f", {result.failed} failed (retry in {LOCAL_VISIBILITY_TIMEOUT}s)"
                if result.failed
                else ""
            )
            _say(f"[{function}] batch of {result.received}: {result.succeeded} done{failed}")

        return on_batch

    consumers = [
        QueueConsumer(
            sqs,
            resources.queue_urls[source.queue],
            resources.queue_arns[source.queue],
            _handler(template, source.function),
            function_name=source.function,
            batch_size=source.batch_size,
            report_batch_item_failures=source.report_batch_item_failures,
            on_batch=report(source.function),
        ).start()
        for source in sqs_event_sources(template)
    ]

    schedules = [
        Scheduler(_handler(template, source.function), source, time_scale, on_run=_say).start()
        for source in schedule_sources(template, parameters)
    ]

    STATE.parent.mkdir(exist_ok=True)
    STATE.write_text(
        json.dumps(
            {
                "api_url": api.url,
                "aws_endpoint_url": os.environ["AWS_ENDPOINT_URL"],
                "region": os.environ["AWS_DEFAULT_REGION"],
                "tables": resources.tables,
                "queues": resources.queue_urls,
                "ghl_api_base_url": parameters["GhlApiBaseUrl"],
                "location_id": parameters["GhlLocationId"],
                "time_scale": time_scale,
            },
            indent=2,
        )
    )

    _say("GHL Real Estate AI — local stack")
    _say(
        f"  API          {api.url}  (GET /health, POST /webhooks/ghl, POST /webhooks/ghl/workflow,"
    )
    _say(
        f"               POST /forms/lyrio (site key {parameters['LyrioSiteKey']!r}), "
        f"GET /leads/{{contactId}} and /leads/{{contactId}}/recommendations"
    )
    _say(f"               (Bearer {parameters['ApiKey']!r}))")
    _say(f"  AWS (moto)   {os.environ['AWS_ENDPOINT_URL']}  tables: {', '.join(resources.tables)}")
    workers = ", ".join(f"{c.function_name} ← {c.queue_url.rsplit('/', 1)[-1]}" for c in consumers)
    _say(f"  workers      {workers}")
    for schedule in schedules:
        every = max(1.0, schedule.source.every_seconds / time_scale)
        name = schedule.source.function
        _say(f"  schedule     {name} every {every:g} s (LOCAL_TIME_SCALE {time_scale:g})")
    _say(f"  {ghl_line}")
    if parameters["AnthropicApiKey"]:
        _say(f"  replies      Claude ({parameters['AnthropicModel']})")
    else:
        _say("  replies      rule-based qualifier (set ANTHROPIC_API_KEY for Claude)")
    if dev_key:
        _say("  signatures   local development key (GHL_WEBHOOK_PUBLIC_KEY unset).")
        _say("               Sign a payload with:")
        _say(
            "               .venv/bin/python -m local.demo sign tests/fixtures/ghl/inbound_sms.json"
        )
        _say("               which prints the curl command that posts it.")
    secret, location = parameters["GhlWorkflowSecret"], parameters["GhlLocationId"]
    _say(f"  workflow     secret {secret!r} for location {location}")
    _say(
        f'  website      <script src="{api.url}/track.js" '
        f'data-site-key="{parameters["LyrioSiteKey"]}" async></script>  → POST /events'
    )
    _say(f"  models       lead score {_model_version()}")
    _say("               (layers/models; make models rebuilds them)")
    _say("  try          make demo    (in another terminal)   ·   Ctrl-C stops")
    _say()
    from datetime import UTC, datetime

    from local import demo_catalogue

    catalogue = demo_catalogue.load(
        dynamodb, resources.tables["ListingsTable"], parameters["GhlLocationId"], datetime.now(UTC)
    )
    _say(
        f"  listings     {catalogue.added + catalogue.updated + catalogue.unchanged} demo "
        "listings (RESO) in the catalogue; import yours: .venv/bin/ghl-ai listings import FILE"
    )
    documents = _demo_documents(
        dynamodb, resources.tables["KnowledgeTable"], parameters["GhlLocationId"]
    )
    _say(
        f"  knowledge    {documents} demo documents (data/kb/docs) in the knowledge base;"
        " ghl-ai kb search|add|list (KNOWLEDGE_TABLE: .local/stack.json)"
    )
    if standin:
        from local import demo_data

        # The demo leads' browsing histories, so scores, reasons and alerts show from the
        # start. Never stops the stack: a missing route or a refusal is one line.
        demo_data.seed(api.url, parameters["LyrioSiteKey"], parameters["GhlLocationId"], say=_say)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    _say("stopping…")
    for consumer in consumers:
        consumer.stop()
    for schedule in schedules:
        schedule.stop()
    api.stop()
    if standin:
        standin.stop()
    moto.stop()
    STATE.unlink(missing_ok=True)
    return 0


def _demo_documents(dynamodb: Any, table: str, location_id: str) -> int:
    """The demo agent's documents in the knowledge base (each file under its own name)."""
    from datetime import UTC, datetime

    from ghl_ai.knowledge.ingest import doc_id_for, ingest
    from ghl_ai.knowledge.model import EXTENSIONS
    from ghl_ai.knowledge.parse import title_from_filename
    from ghl_ai.knowledge.store import KnowledgeStore

    store = KnowledgeStore(dynamodb, table)
    paths = [p for p in sorted((ROOT / "data" / "kb" / "docs").iterdir()) if p.suffix in EXTENSIONS]
    for path in paths:
        ingest(
            store,
            location_id,
            path.read_bytes(),
            EXTENSIONS[path.suffix],
            datetime.now(UTC),
            fallback_title=title_from_filename(path),
            doc_id=doc_id_for(path.stem),
            source=path.name,
        )
    return len(paths)


def _model_version() -> str:
    from ghl_models import manifest

    models = manifest()["models"]
    text = str(models["lead_score"]["version"])
    if "recommend" in models:
        text += f", recommendations {models['recommend']['version']}"
    return text


def _demo_location() -> str:
    workflow = json.loads(
        (ROOT / "tests" / "fixtures" / "ghl" / "workflow_webhook_tag_trigger.json").read_text()
    )
    return str(workflow["location"]["id"])


if __name__ == "__main__":
    sys.exit(main())
