"""Per-location configuration and credentials.

A single-location install configures its one location through the environment
(GHL_LOCATION_ID, GHL_WORKFLOW_SECRET, API_KEY, LYRIO_SITE_KEY, AGENT_NAME, ...). A
multi-location install keeps one item per location in the tenants table; secrets are stored
there only as SHA-256 digests (``workflowSecretSha256``, ``apiKeySha256``, ``siteKeySha256``,
the last two also indexed to find the location a key belongs to) and compared in constant time.
The persona and business rules of a location are its :class:`TenantProfile`.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from ghl_ai.config import TenantSettings
from ghl_ai.conversation.model import PERSONA_TEMPLATES, Persona
from ghl_ai.conversation.personas import persona_template
from ghl_ai.conversation.places import parse_aliases
from ghl_ai.observability import logger

_PROFILE_ATTRIBUTES = {
    # tenants-table attribute: TenantSettings field
    "agentName": "agent_name",
    "brokerage": "brokerage",
    "marketArea": "market_area",
    "marketAreas": "market_areas",
    "marketAreaAliases": "market_area_aliases",
    "agentTone": "agent_tone",
    "allowEmojis": "allow_emojis",
    "personaTemplate": "persona_template",
    "timezone": "location_timezone",
    "quietHoursStart": "quiet_hours_start",
    "quietHoursEnd": "quiet_hours_end",
    "humanPauseMinutes": "human_pause_minutes",
    "maxVagueAnswers": "max_vague_answers",
    "pipelineName": "pipeline_name",
    "stageContacted": "stage_contacted",
    "stageQualified": "stage_qualified",
    "activationTag": "activation_tag",
    "botOffTag": "bot_off_tag",
    "alertRules": "alert_rules",
    "listingUrlTemplate": "listing_url_template",
    "recommendComingSoon": "recommend_coming_soon",
    "matchesTag": "matches_tag",
    "workflowDailyCap": "workflow_daily_cap",
    "workflowWeeklyCap": "workflow_weekly_cap",
    "workflows": "workflows",
}


@dataclass(frozen=True)
class TenantProfile:
    """A location's persona and business rules."""

    location_id: str
    persona: Persona
    timezone: str
    quiet_hours_start: int
    quiet_hours_end: int
    human_pause_minutes: int
    max_vague_answers: int
    pipeline_name: str
    stage_contacted: str
    stage_qualified: str
    activation_tag: str
    bot_off_tag: str
    #: Behaviour-alert overrides (a mapping, or its JSON text): see ghl_ai.scoring.alerts.
    alert_rules: Any = ""
    #: Recommendations: the listing-page URL template, Coming Soon listings, the matches tag.
    listing_url_template: str = ""
    recommend_coming_soon: bool = False
    matches_tag: str = "send matches"
    #: Workflows: proactive messages per lead per day / week, the location's own definitions.
    workflow_daily_cap: int = 2
    workflow_weekly_cap: int = 6
    workflows: str = ""

    @classmethod
    def build(cls, location_id: str, values: dict[str, Any]) -> TenantProfile:
        areas = tuple(a.strip() for a in str(values["market_areas"]).split(",") if a.strip())
        template = str(values.get("persona_template") or "consultative").strip().lower()
        if template not in PERSONA_TEMPLATES:
            # A tenants item is not validated like the environment: keep the default.
            logger.warning(
                "unknown persona template; the default (consultative) is used",
                extra={"location_id": location_id, "template": template[:40]},
            )
            template = "consultative"
        return cls(
            location_id=location_id,
            persona=Persona(
                agent_name=str(values["agent_name"]),
                brokerage=str(values["brokerage"]),
                market_area=str(values["market_area"]),
                tone=str(values.get("agent_tone") or "") or persona_template(template).tone,
                allow_emojis=bool(values["allow_emojis"]),
                areas=areas,
                area_aliases=parse_aliases(values.get("market_area_aliases")),
                template=template,  # type: ignore[arg-type]
            ),
            timezone=str(values["location_timezone"]),
            quiet_hours_start=int(values["quiet_hours_start"]),
            quiet_hours_end=int(values["quiet_hours_end"]),
            human_pause_minutes=int(values["human_pause_minutes"]),
            max_vague_answers=int(values["max_vague_answers"]),
            pipeline_name=str(values["pipeline_name"]),
            stage_contacted=str(values["stage_contacted"]),
            stage_qualified=str(values["stage_qualified"]),
            activation_tag=str(values["activation_tag"]).lower(),
            bot_off_tag=str(values["bot_off_tag"]).lower(),
            alert_rules=values.get("alert_rules") or "",
            listing_url_template=str(values.get("listing_url_template") or ""),
            recommend_coming_soon=_flag(values.get("recommend_coming_soon")),
            matches_tag=str(values.get("matches_tag") or "send matches").lower(),
            workflow_daily_cap=int(values.get("workflow_daily_cap", 2)),
            workflow_weekly_cap=int(values.get("workflow_weekly_cap", 6)),
            workflows=str(values.get("workflows") or ""),
        )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class TenantDirectory:
    def __init__(
        self, settings: TenantSettings, dynamodb: Any | None = None, cache_seconds: float = 300
    ) -> None:
        self._settings = settings
        self._dynamodb = dynamodb
        self._cache: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._profiles: dict[str, tuple[float, TenantProfile]] = {}
        self._cache_seconds = cache_seconds

    def _tenant(self, location_id: str) -> dict[str, Any] | None:
        s = self._settings
        if s.ghl_location_id and location_id == s.ghl_location_id:
            return {
                "locationId": location_id,
                "workflowSecretSha256": _digest_of(s.ghl_workflow_secret),
                "apiKeySha256": _digest_of(s.api_key),
                "siteKeySha256": _digest_of(s.lyrio_site_key),
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

    def location_for_workflow_secret(self, presented: str | None) -> str | None:
        """The location a workflow secret belongs to (workflow deliveries), or None."""
        return self._location_for("workflowSecretSha256", "byWorkflowSecret", presented)

    def serves(self, location_id: str) -> bool:
        """Whether this install serves the location: the environment's one, or a tenants item."""
        return self._tenant(location_id) is not None

    def location_for_api_key(self, presented: str | None) -> str | None:
        """The location an API key belongs to (read routes), or None."""
        return self._location_for("apiKeySha256", "byApiKey", presented)

    def location_for_site_key(self, presented: str | None) -> str | None:
        """The location a Lyrio site key belongs to (form posts), or None."""
        return self._location_for("siteKeySha256", "bySiteKey", presented)

    def _location_for(self, attribute: str, index: str, presented: str | None) -> str | None:
        if not presented:
            return None
        s = self._settings
        if s.ghl_location_id and self._matches(s.ghl_location_id, attribute, presented):
            return s.ghl_location_id
        if not (s.tenants_table and self._dynamodb):
            return None
        response = self._dynamodb.query(
            TableName=s.tenants_table,
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": attribute},
            ExpressionAttributeValues={":v": {"S": digest(presented)}},
            Limit=1,
        )
        items = response.get("Items", [])
        return items[0]["locationId"]["S"] if items else None

    def locations(self) -> list[str]:
        """Every location this install serves: the environment's and the tenants table's."""
        s = self._settings
        found = {s.ghl_location_id} if s.ghl_location_id else set()
        if s.tenants_table and self._dynamodb:
            paginator = self._dynamodb.get_paginator("scan")
            for page in paginator.paginate(
                TableName=s.tenants_table, ProjectionExpression="locationId"
            ):
                found.update(item["locationId"]["S"] for item in page.get("Items", []))
        return sorted(found)

    def profile(self, location_id: str) -> TenantProfile:
        """The location's persona and rules: the tenants-table item's attributes where set,
        else the environment's values (TenantSettings defaults). Cached like the tenant items."""
        cached = self._profiles.get(location_id)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        values = self._settings.model_dump()
        s = self._settings
        if not (s.ghl_location_id and location_id == s.ghl_location_id):
            item = self._tenant(location_id) or {}
            for attribute, name in _PROFILE_ATTRIBUTES.items():
                if item.get(attribute) not in (None, ""):
                    values[name] = item[attribute]
        profile = TenantProfile.build(location_id, values)
        self._profiles[location_id] = (time.monotonic() + self._cache_seconds, profile)
        return profile


def _digest_of(secret: Any) -> str | None:
    return digest(secret.get_secret_value()) if secret else None
