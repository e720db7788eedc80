"""Lambda's SQS event source mapping, locally: receive a batch, invoke the handler with an
SQS-shaped event, delete what succeeded, leave failures to reappear after the visibility
timeout, and let the queue's redrive policy move a message to the DLQ after maxReceiveCount."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.apigw import LambdaContext

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class BatchResult:
    received: int
    failed: int

    @property
    def succeeded(self) -> int:
        return self.received - self.failed


class QueueConsumer:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: Handler,
        *,
        function_name: str,
        batch_size: int = 10,
        report_batch_item_failures: bool = True,
        wait_seconds: int = 1,
        on_batch: Callable[[BatchResult], None] | None = None,
    ) -> None:
        self._sqs = sqs
        self.queue_url = queue_url
        self._queue_arn = queue_arn
        self._handler = handler
        self.function_name = function_name
        self._batch_size = min(batch_size, 10)
        self._report_failures = report_batch_item_failures
        self._wait = wait_seconds
        self._on_batch = on_batch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        region = self._queue_arn.split(":")[3]
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    "messageAttributes": m.get("MessageAttributes", {}),
                    # SQS's own checksum of the body, not a security hash.
                    "md5OfBody": hashlib.md5(m["Body"].encode(), usedforsecurity=False).hexdigest(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self._queue_arn,
                    "awsRegion": region,
                }
                for m in messages
            ]
        }

    def poll_once(self, wait_seconds: int | None = None) -> BatchResult:
        """Receive one batch and run it through the handler, as Lambda would."""
        response = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self._batch_size,
            WaitTimeSeconds=self._wait if wait_seconds is None else wait_seconds,
            MessageSystemAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return BatchResult(0, 0)
        try:
            result = self._handler(self._event(messages), LambdaContext(self.function_name))
        except Exception:  # the whole batch failed: every message will be received again
            failed_ids = {m["MessageId"] for m in messages}
        else:
            failed_ids = set()
            if self._report_failures and isinstance(result, dict):
                failed_ids = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        outcome = BatchResult(len(messages), len(failed_ids))
        if self._on_batch:
            self._on_batch(outcome)
        return outcome

    def drain(self, max_batches: int = 100) -> list[BatchResult]:
        """Poll until the queue yields nothing (tests)."""
        results = []
        for _ in range(max_batches):
            outcome = self.poll_once(wait_seconds=0)
            if outcome.received == 0:
                break
            results.append(outcome)
        return results

    def start(self) -> QueueConsumer:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.poll_once()
                except Exception as exc:  # keep polling, as the service does
                    print(f"[{self.function_name}] poll failed: {type(exc).__name__}", flush=True)
                    self._stop.wait(1)

        self._thread = threading.Thread(target=loop, name=f"sqs-{self.function_name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
