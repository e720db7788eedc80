"""What travels on the job queue from the intake to the worker."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ghl_ai.webhooks.events import GhlWebhook


class Job(BaseModel):
    """One unit of work. ``id`` is the delivery's dedupe key: the worker's idempotency key."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: Literal["ghl_event"] = "ghl_event"
    received_at: datetime
    event: GhlWebhook
