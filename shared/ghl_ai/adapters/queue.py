"""SQS: the job queue between the intake and the worker."""

from __future__ import annotations

from typing import Any


class JobQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self.url = queue_url

    def send(self, body: str, delay_seconds: int = 0) -> str:
        """Enqueue one job (visible after ``delay_seconds``, at most 900); returns the SQS
        message id."""
        extra = {"DelaySeconds": min(max(delay_seconds, 0), 900)} if delay_seconds else {}
        return self._client.send_message(QueueUrl=self.url, MessageBody=body, **extra)["MessageId"]
