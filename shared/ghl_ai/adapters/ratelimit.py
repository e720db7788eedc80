"""DynamoDB fixed-window rate limiting (the ``RateLimitsTable`` of template.yaml).

One item per (scope, window): ``bucket`` = ``{scope}#{window start, epoch seconds}``, counted
with an atomic ``UpdateItem ADD hits :1`` and removed by DynamoDB's TTL (``expiresAt``) once the
window is over. Fixed windows are cheap (one write per request, no read) and good enough for
abuse control; a client can at most double its allowance across a window boundary.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ghl_ai.errors import DomainError


class RateLimitUnavailable(DomainError):
    """The counter could not be read or written (throttling, outage)."""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    #: Requests counted in the current window, this one included.
    hits: int
    limit: int
    #: Seconds until the window ends (the ``Retry-After`` of a refused request), at least 1.
    retry_after: int


class FixedWindowLimiter:
    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        limit: int,
        window_seconds: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self.name = table_name
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock

    def hit(self, scope: str) -> RateDecision:
        """Count one request for ``scope`` in the current window and say whether it is allowed.

        Raises :class:`RateLimitUnavailable` when DynamoDB cannot be reached; the caller decides
        whether to fail open or closed.
        """
        now = self._clock()
        start = int(now // self.window_seconds) * self.window_seconds
        end = start + self.window_seconds
        try:
            response = self._client.update_item(
                TableName=self.name,
                Key={"bucket": {"S": f"{scope}#{start}"}},
                UpdateExpression="ADD hits :one SET expiresAt = if_not_exists(expiresAt, :exp)",
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    # Kept one extra window so a late TTL sweep never resets a live counter.
                    ":exp": {"N": str(end + self.window_seconds)},
                },
                ReturnValues="UPDATED_NEW",
            )
        except (ClientError, BotoCoreError) as exc:
            raise RateLimitUnavailable(type(exc).__name__) from exc
        hits = int(response["Attributes"]["hits"]["N"])
        return RateDecision(
            allowed=hits <= self.limit,
            hits=hits,
            limit=self.limit,
            retry_after=max(1, math.ceil(end - now)),
        )
