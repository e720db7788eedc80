"""SQS: the job queues between the functions."""

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

    def send_many(self, bodies: list[str]) -> None:
        """Enqueue many jobs, ten per call (SQS's batch limit); raises if any is refused."""
        for start in range(0, len(bodies), 10):
            entries = [
                {"Id": str(i), "MessageBody": body}
                for i, body in enumerate(bodies[start : start + 10])
            ]
            response = self._client.send_message_batch(QueueUrl=self.url, Entries=entries)
            failed = response.get("Failed") or []
            if failed:
                codes = sorted({str(f.get("Code")) for f in failed})
                raise RuntimeError(f"SQS refused {len(failed)} of {len(entries)} jobs: {codes}")
