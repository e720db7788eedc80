"""Per-location configuration and credentials.

A single-location install configures its one location through the environment
(GHL_LOCATION_ID, GHL_WORKFLOW_SECRET, API_KEY). A multi-location install keeps one item per
location in the tenants table; secrets are stored there only as SHA-256 digests
(``workflowSecretSha256``, ``apiKeySha256``) and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from ghl_ai.config import TenantSettings


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TenantDirectory:
    def __init__(
        self, settings: TenantSettings, dynamodb: Any | None = None, cache_seconds: float = 300
    ) -> None:
        self._settings = settings
        self._dynamodb = dynamodb
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._cache_seconds = cache_seconds

    def _tenant(self, location_id: str) -> dict[str, Any] | None:
        s = self._settings
        if s.ghl_location_id and location_id == s.ghl_location_id:
            return {
                "locationId": location_id,
                "workflowSecretSha256": digest(s.ghl_workflow_secret.get_secret_value())
                if s.ghl_workflow_secret
                else None,
                "apiKeySha256": digest(s.api_key.get_secret_value()) if s.api_key else None,
            }
        if not (s.tenants_table and self._dynamodb):
            return None
        cached = self._cache.get(location_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        response = self._dynamodb.get_item(
            TableName=s.tenants_table, Key={"locationId": {"S": location_id}}
        )
        item = {k: next(iter(v.values())) for k, v in response.get("Item", {}).items()} or None
        self._cache[location_id] = (time.monotonic() + self._cache_seconds, item)
        return item

    def _matches(self, location_id: str, attribute: str, presented: str | None) -> bool:
        if not presented:
            return False
        tenant = self._tenant(location_id)
        expected = (tenant or {}).get(attribute)
        # Compare even when nothing is configured, so timing does not reveal which locations exist.
        return hmac.compare_digest(digest(presented), expected or "0" * 64) and bool(expected)

    def workflow_secret_matches(self, location_id: str, presented: str | None) -> bool:
        return self._matches(location_id, "workflowSecretSha256", presented)

    def api_key_matches(self, location_id: str, presented: str | None) -> bool:
        return self._matches(location_id, "apiKeySha256", presented)
