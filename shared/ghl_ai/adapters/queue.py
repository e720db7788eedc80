"""SQS: the job queue between the intake and the worker."""

from __future__ import annotations

from typing import Any


class JobQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self.url = queue_url

    def send(self, body: str) -> str:
        """Enqueue one job; returns the SQS message id."""
        return self._client.send_message(QueueUrl=self.url, MessageBody=body)["MessageId"]
