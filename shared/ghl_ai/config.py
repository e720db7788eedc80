"""Configuration models, one per function, validated once at init (fail fast with a clear
message). Domain code never reads ``os.environ``; handlers build these and pass values in."""

from __future__ import annotations

from functools import lru_cache
from typing import Self

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from ghl_ai.conversation.model import PersonaTemplateName

#: GHL's published Ed25519 key for X-GHL-Signature (reference/ghl.md). It may rotate: override
#: with GHL_WEBHOOK_PUBLIC_KEY.
GHL_PUBLIC_KEY_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=\n"
    "-----END PUBLIC KEY-----\n"
)

GHL_API_BASE_URL = "https://services.leadconnectorhq.com"

#: Secret settings a deployed function gets as the ARN of a Secrets Manager secret instead of
#: the value (template.yaml keeps NoEcho parameters out of the environment): setting ← the
#: setting naming its secret. A value in the environment itself (a local or single-location
#: install) wins. GHL_API_TOKEN_SECRET_ARN is read by ghl_ai.credentials instead, per request.
SECRET_ARN_SETTINGS = (
    ("ghl_workflow_secret", "ghl_workflow_secret_arn"),
    ("api_key", "api_key_secret_arn"),
    ("lyrio_site_key", "lyrio_site_key_secret_arn"),
    ("anthropic_api_key", "anthropic_api_key_secret_arn"),
)
#: How long a container keeps a secret it read (Powertools parameters cache).
SECRETS_MAX_AGE_SECONDS = 300


class ConfigurationError(RuntimeError):
    """The function's environment is incomplete or invalid."""


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True, env_ignore_empty=True)

    @classmethod
    def load(cls) -> _Settings:
        try:
            settings = cls()
        except ValidationError as exc:
            fields = ", ".join(str(err["loc"][0]).upper() for err in exc.errors())
            raise ConfigurationError(
                f"{cls.__name__}: missing or invalid environment variables: {fields}"
            ) from None
        return settings.with_secrets()

    def with_secrets(self) -> Self:
        """These settings with each secret named by its ``*_ARN`` setting read from Secrets
        Manager (through Powertools parameters, cached ``SECRETS_MAX_AGE_SECONDS``)."""
        wanted = {
            (name, arn_name): getattr(self, arn_name)
            for name, arn_name in SECRET_ARN_SETTINGS
            if name in type(self).model_fields
            and getattr(self, name) is None
            and getattr(self, arn_name, None)
        }
        if not wanted:
            return self
        import boto3  # deployed (and the local stack, which creates the template's secrets)
        from aws_lambda_powertools.utilities.parameters import GetParameterError, SecretsProvider

        secrets = SecretsProvider(boto3_client=boto3.client("secretsmanager"))
        values = {}
        for (name, arn_name), arn in wanted.items():
            try:
                value = secrets.get(arn, max_age=SECRETS_MAX_AGE_SECONDS)
            except GetParameterError:
                raise ConfigurationError(
                    f"{type(self).__name__}: cannot read the secret named by {arn_name.upper()}"
                ) from None
            if isinstance(value, bytes):
                value = value.decode()
            if not isinstance(value, str) or not value:
                raise ConfigurationError(
                    f"{type(self).__name__}: the secret named by {arn_name.upper()} is empty"
                )
            values[name] = SecretStr(value)
        return self.model_copy(update=values)


class GhlCredentialSettings(_Settings):
    """Where the GHL tokens of each location come from (ghl_ai.credentials): the environment's
    token for the single location, and the Marketplace app's OAuth tokens, one secret per
    location, ``{GHL_TOKEN_SECRET_PREFIX}/ghl/{locationId}``."""

    ghl_api_base_url: str = GHL_API_BASE_URL
    #: Single-location install: a Private Integration Token for GHL_LOCATION_ID (deployed: the
    #: secret named by GHL_API_TOKEN_SECRET_ARN).
    ghl_api_token: SecretStr | None = None
    ghl_api_token_secret_arn: str | None = None
    #: The Marketplace app (OAuth client): its id and secret, or a secret holding both as JSON
    #: ``{"client_id", "client_secret"}``. Absent: no location uses OAuth tokens.
    ghl_app_client_id: str | None = None
    ghl_app_client_secret: SecretStr | None = None
    ghl_app_secret_arn: str | None = None
    #: The app's redirect URI (sent with a code exchange when set; GHL checks it).
    ghl_app_redirect_uri: str | None = None
    #: The first part of the name of each location's token secret (deployed: the stack name).
    ghl_token_secret_prefix: str = Field(default="ghl-real-estate-ai", pattern=r"^[\w/+=.@-]+$")

    @property
    def has_app(self) -> bool:
        return bool(
            self.ghl_app_secret_arn or (self.ghl_app_client_id and self.ghl_app_client_secret)
        )


@lru_cache(maxsize=1)
def ghl_credential_settings() -> GhlCredentialSettings:
    """The install routes' and the CLI's view (the OAuth callback, ``tenants connect``)."""
    return GhlCredentialSettings.load()  # type: ignore[return-value]


class TenantSettings(_Settings):
    """Single-location install: the tenant configured through the environment. Multi-location
    installs keep one item per location in the tenants table instead (see tenants.py)."""

    ghl_location_id: str | None = None
    ghl_workflow_secret: SecretStr | None = None
    api_key: SecretStr | None = None
    #: Public key the agent's website (Lyrio) sends with form posts.
    lyrio_site_key: SecretStr | None = None
    #: Deployed: the secrets holding the three values above (see SECRET_ARN_SETTINGS).
    ghl_workflow_secret_arn: str | None = None
    api_key_secret_arn: str | None = None
    lyrio_site_key_secret_arn: str | None = None
    tenants_table: str | None = None
    # The location's persona and business rules (single-location install).
    agent_name: str = "your agent"
    brokerage: str = "our team"
    market_area: str = "the area"
    #: Comma-separated neighbourhoods / cities the extractor recognises as an area.
    market_areas: str = ""
    #: The location's own spellings of its places, ``alias=Canonical;alias2=Canonical2``
    #: (e.g. ``VG=Victoria Gardens;North Fontana=Fontana``), over the market's defaults.
    market_area_aliases: str = ""
    #: The voice in Claude's prompt; empty: the persona template's own tone.
    agent_tone: str = ""
    allow_emojis: bool = False
    #: consultative | speed_qualifier | luxury_specialist | first_time_buyer_helper
    #: (ghl_ai/conversation/personas.py): tone and flow of both brains.
    persona_template: PersonaTemplateName = "consultative"
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


class KnowledgeSettings(_Settings):
    """The knowledge base (ghl_ai.knowledge): its table and how long a container trusts its
    index of a location before checking the manifest's version again."""

    #: Absent: no location has documents (``knowledge.lookup`` answers nothing).
    knowledge_table: str | None = None
    knowledge_cache_seconds: float = Field(default=60.0, ge=0)


@lru_cache(maxsize=1)
def knowledge_settings() -> KnowledgeSettings:
    return KnowledgeSettings.load()  # type: ignore[return-value]


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
    #: The agents' documents (``/kb/documents``; ghl_ai.knowledge).
    knowledge_table: str
    #: Lyrio form posts allowed per client (IP address) and location per hour.
    form_rate_limit_per_hour: int = Field(default=10, ge=1)
    #: Abuse limits (fixed windows in the rate-limits table). Per location: form posts an
    #: hour, behaviour-event batches, webhook deliveries and lead reads a minute.
    location_form_rate_limit_per_hour: int = Field(default=500, ge=1)
    location_events_rate_limit_per_minute: int = Field(default=3000, ge=1)
    webhook_rate_limit_per_minute: int = Field(default=1200, ge=1)
    read_rate_limit_per_minute: int = Field(default=300, ge=1)
    #: Per client (IP address): behaviour-event batches a minute, and requests refused for bad
    #: credentials an hour before the client is answered 429 without its credentials checked.
    events_rate_limit_per_minute: int = Field(default=120, ge=1)
    auth_failure_limit_per_hour: int = Field(default=30, ge=1)
    ghl_webhook_public_key: str = Field(default=GHL_PUBLIC_KEY_PEM)
    #: How long a delivery id is remembered. GHL retries for hours; keep it generous.
    dedupe_ttl_hours: int = Field(default=72, ge=1)
    #: How long the raw webhook is kept for audit and replay.
    inbox_ttl_days: int = Field(default=30, ge=1)


class WorkerSettings(TenantSettings, GhlCredentialSettings):
    leads_table: str
    messages_table: str
    events_table: str
    idempotency_table: str
    outbox_table: str
    #: The other tables a ContactDelete erases the lead from (ghl_ai.leads.erase); the template
    #: sets them all. Absent: the erasure skips that table and logs it.
    webhooks_table: str | None = None
    visitors_table: str | None = None
    runs_table: str | None = None
    jobs_queue_url: str
    #: Where the worker asks for a lead to be rescored (after a message, a form, a GHL event).
    scoring_queue_url: str | None = None
    #: Where the worker asks for a lead's top listing matches to be texted (the matches tag,
    #: a buyer just qualified); absent: never.
    matches_queue_url: str | None = None
    #: Where the worker starts workflows (after the first text, on an appointment) and tells
    #: them a lead replied; absent: no workflows.
    workflow_queue_url: str | None = None
    #: The agents' documents a lead's question may be answered from (ghl_ai.knowledge);
    #: absent: none.
    knowledge_table: str | None = None
    #: Absent (and no ANTHROPIC_API_KEY_SECRET_ARN): the rule-based qualifier answers every lead.
    anthropic_api_key: SecretStr | None = None
    anthropic_api_key_secret_arn: str | None = None
    anthropic_model: str = "claude-sonnet-5-5"
    anthropic_timeout_seconds: float = Field(default=8.0, gt=0)


class ScoringSettings(TenantSettings, GhlCredentialSettings):
    leads_table: str
    events_table: str
    visitors_table: str
    outbox_table: str
    #: Where a hot score or a behaviour alert starts its workflow; absent: none.
    workflow_queue_url: str | None = None


class WorkflowSettings(TenantSettings, GhlCredentialSettings):
    leads_table: str
    events_table: str
    messages_table: str
    outbox_table: str
    runs_table: str
    workflow_queue_url: str
    #: Where a ``send_matches`` step asks for the lead's top matches to be texted.
    matches_queue_url: str | None = None
    #: Waits run this many times faster (the local stack's LOCAL_TIME_SCALE; 1 deployed).
    workflow_time_scale: float = Field(default=1.0, gt=0)


@lru_cache(maxsize=1)
def workflow_settings() -> WorkflowSettings:
    return WorkflowSettings.load()  # type: ignore[return-value]


class RecommendationsSettings(TenantSettings, GhlCredentialSettings):
    leads_table: str
    events_table: str
    listings_table: str
    messages_table: str
    outbox_table: str
    #: Where "send top matches" jobs wait (their held retries during quiet hours too).
    matches_queue_url: str
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


class ChurnSettings(ChurnSweepSettings, GhlCredentialSettings):
    events_table: str
    #: Where a lead whose churn risk rose starts its re-engagement play; absent: none.
    workflow_queue_url: str | None = None


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
