"""DynamoDB fixed-window rate limiting (the ``RateLimitsTable`` of template.yaml).

One item per (scope, window): ``bucket`` = ``{scope}#{window start, epoch seconds}``, counted
with an atomic ``UpdateItem ADD hits :1`` and removed by DynamoDB's TTL (``expiresAt``) once the
window is over. Fixed windows are cheap (one write per request, no read) and good enough for
abuse control; a client can at most double its allowance across a window boundary.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ghl_ai.errors import DomainError
from ghl_ai.observability import logger


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


class RateLimited(DomainError):
    """A request over one of the intake's abuse limits (429 with ``Retry-After``)."""

    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__(what)
        self.retry_after = retry_after


def _hashed(client_ip: str) -> str:
    return hashlib.sha256(client_ip.encode()).hexdigest()[:16]


class IntakeLimits:
    """The intake's abuse limits, one fixed-window counter each: per location (webhook
    deliveries, event batches and lead reads a minute, forms an hour), per client (event
    batches a minute) and, per client, requests refused for bad credentials an hour.

    A client over the bad-credentials limit is answered 429 before its credentials are checked,
    by this container at once (remembered until the window ends) and by every container after
    its next refusal. Counters that cannot be reached let the request through: abuse control
    must not cost a real lead.
    """

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        per_location: dict[str, tuple[int, int]],
        per_client: dict[str, tuple[int, int]],
        auth_failures_per_hour: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        def limiter(limit: int, window: int) -> FixedWindowLimiter:
            return FixedWindowLimiter(
                client, table_name, limit=limit, window_seconds=window, clock=clock
            )

        self._locations = {kind: limiter(*spec) for kind, spec in per_location.items()}
        self._clients = {kind: limiter(*spec) for kind, spec in per_client.items()}
        self._failures = limiter(auth_failures_per_hour, 3600)
        self._blocked: dict[str, float] = {}
        self._clock = clock

    def _hit(self, limiter: FixedWindowLimiter, scope: str) -> RateDecision | None:
        try:
            return limiter.hit(scope)
        except RateLimitUnavailable as exc:
            logger.warning("rate limit unavailable; allowing", extra={"error_type": str(exc)})
            return None

    def per_location(self, kind: str, location_id: str) -> None:
        decision = self._hit(self._locations[kind], f"{kind}#{location_id}")
        if decision is not None and not decision.allowed:
            raise RateLimited(decision.retry_after, f"{kind} requests for this location")

    def per_client(self, kind: str, location_id: str, client_ip: str) -> None:
        decision = self._hit(self._clients[kind], f"{kind}#{location_id}#{_hashed(client_ip)}")
        if decision is not None and not decision.allowed:
            raise RateLimited(decision.retry_after, f"{kind} requests from this client")

    def blocked(self, client_ip: str) -> int | None:
        """Seconds this client stays blocked for bad credentials (this container knows), or None."""
        until = self._blocked.get(_hashed(client_ip))
        now = self._clock()
        if until is None or until <= now:
            return None
        return max(1, math.ceil(until - now))

    def auth_failure(self, client_ip: str) -> int | None:
        """Count a refused credential; past the limit, the seconds the client is blocked."""
        decision = self._hit(self._failures, f"authfail#{_hashed(client_ip)}")
        if decision is None or decision.allowed:
            return None
        self._blocked[_hashed(client_ip)] = self._clock() + decision.retry_after
        return decision.retry_after
