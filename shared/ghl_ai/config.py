"""Configuration models, one per function, validated once at init (fail fast with a clear
message). Domain code never reads ``os.environ``; handlers build these and pass values in."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

#: GHL's published Ed25519 key for X-GHL-Signature (reference/ghl.md). It may rotate: override
#: with GHL_WEBHOOK_PUBLIC_KEY.
GHL_PUBLIC_KEY_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=\n"
    "-----END PUBLIC KEY-----\n"
)

GHL_API_BASE_URL = "https://services.leadconnectorhq.com"


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete or invalid."""


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True, env_ignore_empty=True)

    @classmethod
    def load(cls) -> _Settings:
        try:
            return cls()
        except ValidationError as exc:
            fields = ", ".join(str(err["loc"][0]).upper() for err in exc.errors())
            raise ConfigurationError(
                f"{cls.__name__}: missing or invalid environment variables: {fields}"
            ) from None


class TenantSettings(_Settings):
    """Single-location install: the tenant configured through the environment. Multi-location
    installs keep one item per location in the tenants table instead (see tenants.py)."""

    ghl_location_id: str | None = None
    ghl_workflow_secret: SecretStr | None = None
    api_key: SecretStr | None = None
    #: Public key the agent's website (Lyrio) sends with form posts.
    lyrio_site_key: SecretStr | None = None
    tenants_table: str | None = None
    # The location's persona and business rules (single-location install).
    agent_name: str = "your agent"
    brokerage: str = "our team"
    market_area: str = "the area"
    #: Comma-separated neighbourhoods / cities the extractor recognises as an area.
    market_areas: str = ""
    agent_tone: str = "warm, concise, professional"
    allow_emojis: bool = False
    #: IANA zone used for quiet hours when the contact has none.
    location_timezone: str = "America/Chicago"
    quiet_hours_start: int = Field(default=8, ge=0, le=23)
    quiet_hours_end: int = Field(default=21, ge=1, le=24)
    #: A human wrote to the lead in GHL: the AI stays quiet for this long.
    human_pause_minutes: int = Field(default=120, ge=0)
    #: Vague answers in a row before the AI hands the lead to the agent.
    max_vague_answers: int = Field(default=3, ge=1)
    #: Behaviour alert rules: JSON ``{"rule": {"enabled", "threshold", "cooldownHours", "tag",
    #: "task"}}`` overriding the defaults of ghl_ai.scoring.alerts (tenants item: alertRules).
    alert_rules: str = ""
    pipeline_name: str = "Buyer/Seller Leads"
    stage_contacted: str = "Contacted"
    stage_qualified: str = "Qualified"
    activation_tag: str = "needs qualifying"
    bot_off_tag: str = "ai-off"
    #: The agent's listing page, for the links "send top matches" texts: ``{listingKey}``
    #: (and ``{city}``, ``{postalCode}``) are filled in, e.g.
    #: ``https://www.example-realty.com/homes/{listingKey}``. Empty: addresses without links.
    listing_url_template: str = ""
    #: Recommend ``Coming Soon`` listings besides ``Active`` ones.
    recommend_coming_soon: bool = False
    #: Tag that makes the system text the lead its top listing matches (a GHL workflow adds it).
    matches_tag: str = "send matches"
    #: Proactive workflow messages a lead gets at most per day and per week (all workflows).
    workflow_daily_cap: int = Field(default=2, ge=0)
    workflow_weekly_cap: int = Field(default=6, ge=0)
    #: The location's own workflow definitions (YAML / JSON list), over the built-ins.
    workflows: str = ""


class IntakeSettings(TenantSettings):
    webhooks_table: str
    events_table: str
    idempotency_table: str
    jobs_queue_url: str
    scoring_queue_url: str
    leads_table: str
    messages_table: str
    rate_limits_table: str
    #: The workflow runs table: a lead read lists the lead's live runs (absent: none listed).
    runs_table: str | None = None
    #: Origins allowed to call the website routes from a browser (CORS): comma-separated, or *.
    allowed_origins: str = "*"
    #: Lyrio form posts allowed per client (IP address) and location per hour.
    form_rate_limit_per_hour: int = Field(default=10, ge=1)
    ghl_webhook_public_key: str = Field(default=GHL_PUBLIC_KEY_PEM)
    #: How long a delivery id is remembered. GHL retries for hours; keep it generous.
    dedupe_ttl_hours: int = Field(default=72, ge=1)
    #: How long the raw webhook is kept for audit and replay.
    inbox_ttl_days: int = Field(default=30, ge=1)


class WorkerSettings(TenantSettings):
    leads_table: str
    messages_table: str
    events_table: str
    idempotency_table: str
    outbox_table: str
    jobs_queue_url: str
    #: Where the worker asks for a lead to be rescored (after a message, a form, a GHL event).
    scoring_queue_url: str | None = None
    #: Where the worker asks for a lead's top listing matches to be texted (the matches tag,
    #: a buyer just qualified); absent: never.
    matches_queue_url: str | None = None
    #: Where the worker starts workflows (after the first text, on an appointment) and tells
    #: them a lead replied; absent: no workflows.
    workflow_queue_url: str | None = None
    ghl_api_base_url: str = GHL_API_BASE_URL
    ghl_api_token: SecretStr | None = None
    #: Absent: the rule-based qualifier answers every lead.
    anthropic_api_key: SecretStr | None = None
    anthropic_model: str = "claude-sonnet-5-5"
    anthropic_timeout_seconds: float = Field(default=8.0, gt=0)


class ScoringSettings(TenantSettings):
    leads_table: str
    events_table: str
    visitors_table: str
    outbox_table: str
    #: Where a hot score or a behaviour alert starts its workflow; absent: none.
    workflow_queue_url: str | None = None
    ghl_api_base_url: str = GHL_API_BASE_URL
    ghl_api_token: SecretStr | None = None


class WorkflowSettings(TenantSettings):
    leads_table: str
    events_table: str
    messages_table: str
    outbox_table: str
    runs_table: str
    workflow_queue_url: str
    #: Where a ``send_matches`` step asks for the lead's top matches to be texted.
    matches_queue_url: str | None = None
    ghl_api_base_url: str = GHL_API_BASE_URL
    ghl_api_token: SecretStr | None = None
    #: Waits run this many times faster (the local stack's LOCAL_TIME_SCALE; 1 deployed).
    workflow_time_scale: float = Field(default=1.0, gt=0)


@lru_cache(maxsize=1)
def workflow_settings() -> WorkflowSettings:
    return WorkflowSettings.load()  # type: ignore[return-value]


class RecommendationsSettings(TenantSettings):
    leads_table: str
    events_table: str
    listings_table: str
    messages_table: str
    outbox_table: str
    #: Where "send top matches" jobs wait (their held retries during quiet hours too).
    matches_queue_url: str
    ghl_api_base_url: str = GHL_API_BASE_URL
    ghl_api_token: SecretStr | None = None
    #: How long a container keeps a location's catalogue before reading it again.
    catalogue_ttl_seconds: int = Field(default=300, ge=0)


@lru_cache(maxsize=1)
def recommendations_settings() -> RecommendationsSettings:
    return RecommendationsSettings.load()  # type: ignore[return-value]


class ChurnSweepSettings(TenantSettings):
    leads_table: str
    #: Where the sweep queues its chunks (and the scorer reads them).
    churn_queue_url: str


@lru_cache(maxsize=1)
def churn_sweep_settings() -> ChurnSweepSettings:
    return ChurnSweepSettings.load()  # type: ignore[return-value]


class ChurnSettings(ChurnSweepSettings):
    events_table: str
    #: Where a lead whose churn risk rose starts its re-engagement play; absent: none.
    workflow_queue_url: str | None = None
    ghl_api_base_url: str = GHL_API_BASE_URL
    ghl_api_token: SecretStr | None = None


@lru_cache(maxsize=1)
def churn_settings() -> ChurnSettings:
    return ChurnSettings.load()  # type: ignore[return-value]


@lru_cache(maxsize=1)
def scoring_settings() -> ScoringSettings:
    return ScoringSettings.load()  # type: ignore[return-value]


@lru_cache(maxsize=1)
def intake_settings() -> IntakeSettings:
    return IntakeSettings.load()  # type: ignore[return-value]


@lru_cache(maxsize=1)
def worker_settings() -> WorkerSettings:
    return WorkerSettings.load()  # type: ignore[return-value]
