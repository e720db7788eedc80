"""One function of template.yaml in its own process, as one Lambda container runs it.

    python -m soak.container FUNCTION --http-port P                 (API Gateway → handler)
    python -m soak.container FUNCTION --queue-url U --queue-arn A   (SQS event source mapping)
    python -m soak.container FUNCTION --schedule-every S            (EventBridge schedule)

The environment (tables, queues, endpoints, secrets) comes from the parent. What the function
logs goes to stdout exactly as Lambda's JSON log format would ship it to CloudWatch: our
Powertools logger's own lines at ``POWERTOOLS_LOG_LEVEL``, and the libraries' records (boto3,
httpx, the Anthropic SDK) through the root logger at INFO as Lambda's JSON lines. The soak
harness's own notices go to stderr as ``@soak {json}`` lines.

An SQS container invokes one batch at a time with a Lambda context of ``--timeout`` seconds and,
like Lambda, ends the invocation (the whole process: a new container starts) when a batch runs
longer than that; the batch's messages reappear after the queue's visibility timeout.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from soak.aws import exit_with_parent

SERVICE = "ghl-real-estate-ai"
#: Loggers of the local harness (moto's server, the stand-ins): not part of a deployed function.
HARNESS_LOGGERS = ("werkzeug", "moto", "local.", "soak.")
#: Exit status of a container whose invocation ran past its timeout.
TIMED_OUT = 124


def notice(event: str, **fields: Any) -> None:
    print("@soak " + json.dumps({"event": event, **fields}), file=sys.stderr, flush=True)


class LambdaJsonLines(logging.Handler):
    """The root logger's records as Lambda's JSON log format writes them (our own logger
    writes its lines itself)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == SERVICE or record.name.startswith((SERVICE + ".", *HARNESS_LOGGERS)):
            return
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        if record.exc_info:
            line["stackTrace"] = logging.Formatter().formatException(record.exc_info)
        try:
            sys.stdout.write(json.dumps(line, default=str).replace("\n", "\\n") + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


def _handler(function: str) -> Any:
    import importlib

    from local.template import load_template

    props = load_template()["Resources"][function]["Properties"]
    module, name = props["Handler"].rsplit(".", 1)
    package = props["CodeUri"].strip("/").replace("/", ".")
    return getattr(importlib.import_module(f"{package}.{module}"), name)


class Invocation:
    """The batch in progress, watched: past its deadline the container ends (Lambda's timeout)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.started: float | None = None
        threading.Thread(target=self._watch, name="lambda-timeout", daemon=True).start()

    def _watch(self) -> None:
        while True:
            started = self.started
            if started is not None and time.monotonic() - started > self.timeout:
                notice("timeout", seconds=round(time.monotonic() - started, 1))
                os._exit(TIMED_OUT)
            time.sleep(0.05)


def run_queue(args: argparse.Namespace) -> None:
    import boto3

    from local.apigw import LambdaContext
    from local.sqs_runner import QueueConsumer

    handler = _handler(args.function)
    invocation = Invocation(args.timeout)

    def invoke(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        records = event["Records"]
        again = sum(
            1 for r in records if int(r["attributes"].get("ApproximateReceiveCount", "1")) > 1
        )
        notice("batch", records=len(records), redelivered=again)
        invocation.started = time.monotonic()
        try:
            context = LambdaContext(args.function, timeout_seconds=args.timeout)
            result: dict[str, Any] = handler(event, context)
        except Exception as exc:
            notice("batch-done", failed=len(records), error=type(exc).__name__)
            raise
        finally:
            invocation.started = None
        failed = len(result.get("batchItemFailures", [])) if isinstance(result, dict) else 0
        notice("batch-done", failed=failed)
        return result

    consumer = QueueConsumer(
        boto3.client("sqs"),
        args.queue_url,
        args.queue_arn,
        invoke,
        function_name=args.function,
        batch_size=args.batch_size,
        report_batch_item_failures=not args.no_batch_item_failures,
    )
    notice("ready")
    while True:
        try:
            # Short polls and a pause when the queue is empty: moto's long poll rescans the
            # queue for every waiting consumer on every message sent (most of its time).
            if consumer.poll_once(wait_seconds=0).received == 0:
                time.sleep(0.5)
        except Exception as exc:  # keep polling, as the event source mapping does
            notice("poll-failed", error=type(exc).__name__)
            time.sleep(0.5)


def run_schedule(args: argparse.Namespace) -> None:
    from local.apigw import LambdaContext

    handler = _handler(args.function)
    invocation = Invocation(args.timeout)
    event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
    notice("ready")
    while True:
        time.sleep(args.schedule_every)
        invocation.started = time.monotonic()
        try:
            result = handler(event, LambdaContext(args.function, timeout_seconds=args.timeout))
        except Exception as exc:
            notice("schedule-failed", error=type(exc).__name__)
        else:
            queued = result.get("queued", 0) if isinstance(result, dict) else 0
            notice("schedule", queued=queued)
        finally:
            invocation.started = None


def run_http(args: argparse.Namespace) -> None:
    from local.apigw import ApiGateway

    ApiGateway(_handler(args.function), port=args.http_port, function_name=args.function).start()
    notice("ready", port=args.http_port)
    threading.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("function")
    parser.add_argument("--http-port", type=int)
    parser.add_argument("--queue-url")
    parser.add_argument("--queue-arn")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--no-batch-item-failures", action="store_true")
    parser.add_argument("--schedule-every", type=float)
    parser.add_argument("--timeout", type=float, default=30.0, help="the Lambda timeout, seconds")
    args = parser.parse_args()
    exit_with_parent()
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(LambdaJsonLines())
    if args.http_port is not None:
        run_http(args)
    elif args.queue_url:
        run_queue(args)
    elif args.schedule_every:
        run_schedule(args)
    else:
        parser.error("one of --http-port, --queue-url, --schedule-every")


if __name__ == "__main__":
    main()
