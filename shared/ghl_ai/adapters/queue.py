"""SQS: the job queue between the intake and the worker."""

from __future__ import annotations

from typing import Any

#: SQS's DelaySeconds limit: longer waits are re-queued in hops or swept.
MAX_DELAY_SECONDS = 900


class JobQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self.url = queue_url

    def send(self, body: str, delay_seconds: int = 0) -> str:
        """Enqueue one job (visible after ``delay_seconds``, at most 900); returns the SQS
        message id."""
        delay = min(max(delay_seconds, 0), MAX_DELAY_SECONDS)
        extra = {"DelaySeconds": delay} if delay else {}
        return self._client.send_message(QueueUrl=self.url, MessageBody=body, **extra)["MessageId"]
