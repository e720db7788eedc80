"""Per-location credentials: the GHL token each location's requests carry.

Where a location's token comes from, in this order:

1. A single-location install's environment: ``GHL_API_TOKEN`` (a Private Integration Token;
   deployed, the secret named by ``GHL_API_TOKEN_SECRET_ARN``) serves ``GHL_LOCATION_ID``
   and no other location. It is never refreshed; a 401 re-reads its secret once, in case an
   operator rotated it.
2. The Marketplace app's OAuth tokens for the location: one Secrets Manager secret per
   location, ``{GHL_TOKEN_SECRET_PREFIX}/ghl/{locationId}``, JSON ``{access_token,
   refresh_token, expires_at (epoch seconds), scope, user_type, location_id}``, stored when the
   app is installed (``GET /oauth/callback`` or ``ghl-ai tenants connect``: :class:`Installer`).
3. Neither: no client. The functions keep tracking the location's leads and send nothing.

Reads go through Powertools Parameters (``SecretsProvider``, cached ``max_age`` seconds) and
are forced (``force_fetch``) when the cached tokens are about to expire or GHL refused them.
An access token lasts about a day: it is refreshed ``REFRESH_MARGIN_SECONDS`` before it
expires and when GHL answers 401 (``POST {GHL_API_BASE_URL}/oauth/token``, form-encoded,
``grant_type=refresh_token``, ``user_type=Location``), and the new pair is written back with
``PutSecretValue`` at once. GHL rotates the refresh token on every refresh, so two containers
refreshing together race: the loser's refresh token is refused (already used), and it re-reads
the secret, a few times over a couple of seconds, for the pair the winner stored, before it
gives up with a 401 ``GhlApiError`` (the location must be reconnected). A refresh whose answer
is lost in transit loses the rotated pair the same way; nothing can recover that but a new
install.

Nothing here logs or returns a token, a code or the client secret.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

import httpx

from ghl_ai.adapters.ghl import GhlClient, MetricSink, StaticToken, TokenProvider
from ghl_ai.errors import DomainError, GhlApiError
from ghl_ai.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    from ghl_ai.config import GhlCredentialSettings

#: GHL's OAuth token endpoint (a path, not a secret).
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a URL path  # nosec B105
#: Refresh an access token this long before it expires (GHL's last about 24 hours).
REFRESH_MARGIN_SECONDS = 600
#: How long a container keeps a secret it read, and how long a location found without
#: credentials stays so before the secret is looked up again (a new install is seen then).
CACHE_SECONDS = 300
#: After a refused refresh: waits before each re-read of the secret (another container's
#: refresh may be between GHL's answer and its PutSecretValue).
REREAD_WAITS = (0.0, 0.5, 1.5)
#: What a location id must look like to name a secret (GHL's are 20 letters and digits).
_LOCATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
#: What an authorization code may look like (GHL's are 40 hexadecimal characters).
_CODE = re.compile(r"^[A-Za-z0-9._~-]{1,512}$")
_DETAIL_MAX = 200


class GrantRejected(DomainError):
    """GHL's token endpoint refused the grant: an authorization code or refresh token that is
    invalid, expired or already used (a 4xx answer)."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"GHL refused the grant (status {status}): {reason}")


class InvalidInstall(DomainError):
    """An install that cannot be stored: a malformed code, or tokens GHL issued for another
    location or for an agency (Company) instead of a sub-account."""


@dataclass(frozen=True)
class OAuthTokens:
    """A location's OAuth token pair as GHL issued it."""

    location_id: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    #: When the access token expires (epoch seconds).
    expires_at: float
    scope: str = ""
    user_type: str = "Location"

    def expires_within(self, seconds: float, now: float) -> bool:
        return self.expires_at - now <= seconds

    def as_secret(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": int(self.expires_at),
                "scope": self.scope,
                "user_type": self.user_type,
                "location_id": self.location_id,
            }
        )

    @classmethod
    def from_secret(cls, value: Any) -> Self:
        data = json.loads(value) if isinstance(value, str | bytes) else value
        if not isinstance(data, dict):
            raise ValueError("a token secret is a JSON object")
        try:
            return cls(
                location_id=str(data["location_id"]),
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]),
                expires_at=float(data["expires_at"]),
                scope=str(data.get("scope") or ""),
                user_type=str(data.get("user_type") or "Location"),
            )
        except (KeyError, TypeError, ValueError):
            raise ValueError("a token secret lacks a field or has a wrong one") from None

    @classmethod
    def from_grant(cls, answer: Mapping[str, Any], now: float, location_id: str | None) -> Self:
        """GHL's token answer (``access_token``, ``refresh_token``, ``expires_in`` seconds,
        ``scope``, ``userType``, ``locationId``, ...); ``location_id``: the location a refresh
        was for (the answer may omit it)."""
        access, refresh = answer.get("access_token"), answer.get("refresh_token")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise GhlApiError(502, "POST", TOKEN_PATH, "token answer without the token pair")
        user_type = str(answer.get("userType") or "Location")
        issued_for = answer.get("locationId") or location_id
        if user_type != "Location" or not isinstance(issued_for, str) or not issued_for:
            raise InvalidInstall(
                "GHL issued an agency (Company) token: install the app on a sub-account"
            )
        if location_id is not None and issued_for != location_id:
            raise InvalidInstall("GHL issued the tokens for another location")
        try:
            lifetime = float(answer.get("expires_in") or 0)
        except (TypeError, ValueError):
            lifetime = 0.0
        return cls(
            location_id=issued_for,
            access_token=access,
            refresh_token=refresh,
            # GHL documents ~24 h; an answer without a lifetime is refreshed at first use.
            expires_at=now + max(0.0, lifetime),
            scope=str(answer.get("scope") or ""),
            user_type=user_type,
        )


class OAuthApp:
    """The Marketplace app as an OAuth client of GHL's token endpoint."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (client_id and client_secret):
            raise ValueError("the app's client id and secret must not be empty")
        self.client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._http = httpx.Client(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def exchange_code(self, code: str, redirect_uri: str | None = None) -> OAuthTokens:
        """The tokens of the location the app was just installed on (``authorization_code``)."""
        form = {"grant_type": "authorization_code", "code": code, "user_type": "Location"}
        if redirect_uri:
            form["redirect_uri"] = redirect_uri
        return OAuthTokens.from_grant(self._grant(form, code), self._clock(), None)

    def refresh(self, tokens: OAuthTokens) -> OAuthTokens:
        """A new token pair for ``tokens`` (GHL rotates the refresh token: the old one is
        spent once this answers)."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": tokens.refresh_token,
            "user_type": "Location",
        }
        answer = self._grant(form, tokens.refresh_token)
        return OAuthTokens.from_grant(answer, self._clock(), tokens.location_id)

    def _grant(self, form: dict[str, str], credential: str) -> dict[str, Any]:
        body = {"client_id": self.client_id, "client_secret": self._client_secret, **form}
        try:
            response = self._http.post(TOKEN_PATH, data=body)
        except httpx.TransportError as exc:
            raise GhlApiError(0, "POST", TOKEN_PATH, type(exc).__name__) from exc
        status = response.status_code
        if 200 <= status < 300:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                raise GhlApiError(502, "POST", TOKEN_PATH, "token answer is not a JSON object")
            return answer
        reason = self._reason(response, (credential, self._client_secret))
        if status == 429 or status >= 500:
            raise GhlApiError(status, "POST", TOKEN_PATH, reason)
        raise GrantRejected(status, reason)

    @staticmethod
    def _reason(response: httpx.Response, secrets: tuple[str, ...]) -> str:
        """GHL's ``error`` / ``error_description`` / ``message``, cut, with no secret in it."""
        try:
            body = response.json()
        except ValueError:
            body = None
        parts = []
        if isinstance(body, dict):
            for key in ("error", "error_description", "message"):
                value = body.get(key)
                if isinstance(value, list):
                    value = "; ".join(str(v) for v in value)
                if isinstance(value, str) and value and value not in parts:
                    parts.append(value)
        text = ": ".join(parts) or response.reason_phrase or f"status {response.status_code}"
        for secret in secrets:
            if secret:
                text = text.replace(secret, "***")
        return text[:_DETAIL_MAX]


def _not_found(exc: BaseException) -> bool:
    """Whether a Powertools ``GetParameterError`` was Secrets Manager's ResourceNotFound (the
    original error is its context: Powertools raises without ``from``)."""
    cause = exc.__cause__ or exc.__context__
    code = getattr(cause, "response", {}).get("Error", {}).get("Code")
    return code == "ResourceNotFoundException"


class TokenStore:
    """The locations' token secrets in Secrets Manager (encrypted at rest with the account's
    Secrets Manager key), read through a Powertools ``SecretsProvider`` with caching."""

    def __init__(self, secrets: SecretsProvider, prefix: str, max_age: int = CACHE_SECONDS) -> None:
        self._secrets = secrets
        self._prefix = prefix.rstrip("/")
        self._max_age = max_age
        #: What this container wrote last, per location: newer than a cached read.
        self._written: dict[str, OAuthTokens] = {}

    def name_for(self, location_id: str) -> str:
        return self.name_in(self._prefix, location_id)

    @staticmethod
    def name_in(prefix: str, location_id: str) -> str:
        """The name of the location's token secret: ``{prefix}/ghl/{locationId}``."""
        if not _LOCATION_ID.match(location_id):
            raise ValueError("not a GHL location id")
        return f"{prefix.rstrip('/')}/ghl/{location_id}"

    def read(self, location_id: str, *, force: bool = False) -> OAuthTokens | None:
        """The location's tokens; None when it has no secret (or no valid id)."""
        from aws_lambda_powertools.utilities.parameters.exceptions import (
            GetParameterError,
            TransformParameterError,
        )

        try:
            name = self.name_for(location_id)
        except ValueError:
            return None
        try:
            value = self._secrets.get(
                name, max_age=self._max_age, transform="json", force_fetch=force
            )
        except GetParameterError as exc:
            if _not_found(exc):
                return None
            raise
        except TransformParameterError:
            value = None
        try:
            stored = OAuthTokens.from_secret(value)
        except ValueError:
            logger.error("token secret is malformed", extra={"location_id": location_id})
            return None
        if stored.location_id != location_id:
            logger.error("token secret names another location", extra={"location_id": location_id})
            return None
        written = self._written.get(location_id)
        return written if written and written.expires_at > stored.expires_at else stored

    def write(self, tokens: OAuthTokens) -> None:
        """Store the location's tokens: a new version of its secret, or the secret itself."""
        name = self.name_for(tokens.location_id)
        client = self._secrets.client
        try:
            client.put_secret_value(SecretId=name, SecretString=tokens.as_secret())
        except client.exceptions.ResourceNotFoundException:
            client.create_secret(
                Name=name,
                Description=f"GHL OAuth tokens of location {tokens.location_id}",
                SecretString=tokens.as_secret(),
            )
        self._written[tokens.location_id] = tokens


class OAuthToken:
    """:class:`~ghl_ai.adapters.ghl.TokenProvider` of one location's OAuth tokens."""

    def __init__(
        self,
        location_id: str,
        store: TokenStore,
        app: Callable[[], OAuthApp],
        *,
        metrics: MetricSink | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        margin: float = REFRESH_MARGIN_SECONDS,
        reread_waits: tuple[float, ...] = REREAD_WAITS,
    ) -> None:
        self.location_id = location_id
        self._store = store
        self._app = app
        self._metrics = metrics
        self._clock = clock
        self._sleep = sleep
        self._margin = margin
        self._reread_waits = reread_waits
        self._lock = threading.Lock()  # one refresh at a time per location in this process

    def token(self) -> str:
        tokens = self._stored(force=False)
        if tokens.expires_within(self._margin, self._clock()):
            with self._lock:
                tokens = self._fresh()
        return tokens.access_token

    def refresh(self, rejected: str) -> str | None:
        with self._lock:
            latest = self._stored(force=True)
            if latest.access_token != rejected and not latest.expires_within(0, self._clock()):
                return latest.access_token  # another container refreshed it already
            return self._refresh(latest).access_token

    def _stored(self, *, force: bool) -> OAuthTokens:
        tokens = self._store.read(self.location_id, force=force)
        if tokens is None:  # its secret was deleted or spoilt since the client was made
            raise GhlApiError(401, "GET", "secret", "the location has no stored tokens")
        return tokens

    def _fresh(self) -> OAuthTokens:
        """Tokens that are not about to expire: re-read first (another container may have
        refreshed them), else refresh; a failed refresh keeps a token that still works."""
        latest = self._stored(force=True)
        if not latest.expires_within(self._margin, self._clock()):
            return latest
        try:
            return self._refresh(latest)
        except GhlApiError as exc:
            if not exc.retryable or latest.expires_within(0, self._clock()):
                raise
            logger.warning(
                "GHL token refresh failed; the current token is used until it expires",
                extra={"location_id": self.location_id, "status": exc.status},
            )
            return latest

    def _refresh(self, tokens: OAuthTokens) -> OAuthTokens:
        try:
            fresh = self._app().refresh(tokens)
        except GrantRejected as exc:
            recovered = self._refreshed_elsewhere(tokens)
            if recovered is not None:
                return recovered
            logger.error(
                "GHL refused the location's refresh token; reconnect the app",
                extra={"location_id": self.location_id, "status": exc.status},
            )
            raise GhlApiError(
                401,
                "POST",
                TOKEN_PATH,
                "GHL refused the location's refresh token; reconnect it (ghl-ai tenants connect)",
            ) from None
        self._store.write(fresh)
        if self._metrics is not None:
            self._metrics.add_metric(name="GhlTokenRefreshed", unit="Count", value=1)
        logger.info(
            "GHL token refreshed",
            extra={"location_id": self.location_id, "expires_at": int(fresh.expires_at)},
        )
        return fresh

    def _refreshed_elsewhere(self, spent: OAuthTokens) -> OAuthTokens | None:
        """The pair another container stored after using ``spent``'s refresh token."""
        for wait in self._reread_waits:
            if wait:
                self._sleep(wait)
            latest = self._store.read(self.location_id, force=True)
            if latest is not None and latest.refresh_token != spent.refresh_token:
                logger.info(
                    "GHL token was refreshed by another container",
                    extra={"location_id": self.location_id},
                )
                return latest
        return None


class SecretToken:
    """:class:`~ghl_ai.adapters.ghl.TokenProvider` of a fixed token kept in a secret (the
    single-location install's ``GHL_API_TOKEN_SECRET_ARN``): a 401 re-reads the secret."""

    def __init__(self, secrets: SecretsProvider, secret_id: str, max_age: int = CACHE_SECONDS):
        self._secrets = secrets
        self._secret_id = secret_id
        self._max_age = max_age

    def token(self) -> str:
        return self._read(force=False)

    def refresh(self, rejected: str) -> str | None:
        fresh = self._read(force=True)
        return fresh if fresh != rejected else None

    def _read(self, *, force: bool) -> str:
        value = self._secrets.get(self._secret_id, max_age=self._max_age, force_fetch=force)
        text = value.decode() if isinstance(value, bytes) else str(value)
        return text.strip()


def _secrets_provider() -> SecretsProvider:
    import boto3
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=boto3.client("secretsmanager"))


class AppCredentials:
    """The Marketplace app's client id and secret, from settings or from their secret (read
    when first needed, cached ``max_age``), as an :class:`OAuthApp`."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        secret_id: str | None = None,
        secrets: SecretsProvider | None = None,
        transport: httpx.BaseTransport | None = None,
        max_age: int = CACHE_SECONDS,
    ) -> None:
        self._base_url = base_url
        self._fixed = (client_id, client_secret) if client_id and client_secret else None
        self._secret_id = secret_id
        self._secrets = secrets
        self._transport = transport
        self._max_age = max_age
        self._app: OAuthApp | None = None
        self._pair: tuple[str, str] | None = None

    def __call__(self) -> OAuthApp:
        pair = self._fixed or self._from_secret()
        if self._app is None or pair != self._pair:
            if self._app is not None:
                self._app.close()
            self._app = OAuthApp(self._base_url, *pair, transport=self._transport)
            self._pair = pair
        return self._app

    def _from_secret(self) -> tuple[str, str]:
        if not self._secret_id:
            raise GhlApiError(401, "POST", TOKEN_PATH, "the Marketplace app is not configured")
        self._secrets = self._secrets or _secrets_provider()
        value = self._secrets.get(self._secret_id, max_age=self._max_age, transform="json")
        if not isinstance(value, dict):
            raise GhlApiError(401, "POST", TOKEN_PATH, "the app secret is not a JSON object")
        client_id, client_secret = value.get("client_id"), value.get("client_secret")
        if not (isinstance(client_id, str) and client_id and isinstance(client_secret, str)):
            raise GhlApiError(401, "POST", TOKEN_PATH, "the app secret lacks client_id/secret")
        return client_id, client_secret

    @classmethod
    def from_settings(
        cls,
        settings: GhlCredentialSettings,
        secrets: SecretsProvider | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Self:
        secret = settings.ghl_app_client_secret
        return cls(
            settings.ghl_api_base_url,
            client_id=settings.ghl_app_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            secret_id=settings.ghl_app_secret_arn,
            secrets=secrets,
            transport=transport,
        )


class GhlClients:
    """The GHL client of each location (see the module docstring for where its token comes
    from), built on first use and kept: one connection pool and token cache per location.

    :meth:`for_location` answers None for a location with no credentials (remembered for
    ``miss_seconds``, so a location without them costs one secret lookup per that long).
    """

    def __init__(
        self,
        base_url: str,
        *,
        env_location_id: str | None = None,
        env_token: TokenProvider | None = None,
        store: TokenStore | None = None,
        app: Callable[[], OAuthApp] | None = None,
        metrics: MetricSink | None = None,
        client_options: Mapping[str, Any] | None = None,
        miss_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base_url = base_url
        self._env_location_id = env_location_id
        self._env_token = env_token
        self._store = store if app is not None else None
        self._app = app
        self._metrics = metrics
        self._options = dict(client_options or {})
        self._miss_seconds = miss_seconds
        self._clock = clock
        self._sleep = sleep
        self._clients: dict[str, GhlClient] = {}
        self._misses: dict[str, float] = {}

    @property
    def configured(self) -> bool:
        """Whether any location can have a client (else the functions skip GHL entirely)."""
        return (self._env_token is not None and bool(self._env_location_id)) or (
            self._store is not None
        )

    def for_location(self, location_id: str) -> GhlClient | None:
        client = self._clients.get(location_id)
        if client is not None:
            return client
        provider = self._provider(location_id)
        if provider is None:
            return None
        client = GhlClient(self._base_url, provider, metrics=self._metrics, **self._options)
        self._clients[location_id] = client
        return client

    def _provider(self, location_id: str) -> TokenProvider | None:
        if self._env_token is not None and location_id == self._env_location_id:
            return self._env_token
        if self._store is None or self._app is None:
            return None
        missed = self._misses.get(location_id)
        if missed is not None and self._clock() - missed < self._miss_seconds:
            return None
        if self._store.read(location_id) is None:
            self._misses[location_id] = self._clock()
            return None
        self._misses.pop(location_id, None)
        return OAuthToken(
            location_id, self._store, self._app, metrics=self._metrics, sleep=self._sleep
        )

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    @classmethod
    def from_settings(
        cls,
        settings: GhlCredentialSettings,
        *,
        location_id: str | None,
        metrics: MetricSink | None = None,
        secrets: SecretsProvider | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Self:
        """From a function's settings; ``location_id``: the single-location install's
        ``GHL_LOCATION_ID`` (the one location the environment's token serves)."""
        needs_secrets = settings.ghl_api_token is None and bool(settings.ghl_api_token_secret_arn)
        if settings.has_app or needs_secrets:
            secrets = secrets or _secrets_provider()
        env_token: TokenProvider | None = None
        if settings.ghl_api_token is not None:
            env_token = StaticToken(settings.ghl_api_token.get_secret_value())
        elif settings.ghl_api_token_secret_arn and secrets is not None:
            env_token = SecretToken(secrets, settings.ghl_api_token_secret_arn)
        if env_token is not None and not location_id:
            logger.warning("GHL_API_TOKEN is set without GHL_LOCATION_ID: no location uses it")
        store = app = None
        if settings.has_app and secrets is not None:
            store = TokenStore(secrets, settings.ghl_token_secret_prefix)
            app = AppCredentials.from_settings(settings, secrets, transport)
        options = {"transport": transport} if transport is not None else {}
        return cls(
            settings.ghl_api_base_url,
            env_location_id=location_id,
            env_token=env_token,
            store=store,
            app=app,
            metrics=metrics,
            client_options=options,
        )


class Installer:
    """Stores a location's first tokens when the Marketplace app is installed on it: the
    authorization code GHL sent to the redirect URI, exchanged for the token pair."""

    def __init__(
        self, app: Callable[[], OAuthApp], store: TokenStore, redirect_uri: str | None = None
    ) -> None:
        self._app = app
        self._store = store
        self._redirect_uri = redirect_uri

    def connect(self, code: str, location_id: str | None = None) -> OAuthTokens:
        """Exchange ``code`` and store the tokens; ``location_id``: the location the operator
        expects (tokens for another one are refused, not stored).

        Raises :class:`InvalidInstall` (malformed code, wrong location, agency token),
        :class:`GrantRejected` (GHL refused the code) or a :class:`GhlApiError` (GHL
        unreachable, retryable)."""
        if not _CODE.match(code or ""):
            raise InvalidInstall("the authorization code is malformed")
        if location_id is not None and not _LOCATION_ID.match(location_id):
            raise InvalidInstall("not a GHL location id")
        tokens = self._app().exchange_code(code, self._redirect_uri)
        if location_id is not None and tokens.location_id != location_id:
            raise InvalidInstall("GHL issued the tokens for another location")
        if not _LOCATION_ID.match(tokens.location_id):
            raise InvalidInstall("GHL issued the tokens for an unexpected location id")
        self._store.write(tokens)
        logger.info(
            "GHL location connected",
            extra={"location_id": tokens.location_id, "expires_at": int(tokens.expires_at)},
        )
        return tokens

    @classmethod
    def from_settings(
        cls,
        settings: GhlCredentialSettings,
        secrets: SecretsProvider | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> Self:
        if not settings.has_app:
            from ghl_ai.config import ConfigurationError

            raise ConfigurationError(
                "the Marketplace app is not configured (GHL_APP_SECRET_ARN, or "
                "GHL_APP_CLIENT_ID and GHL_APP_CLIENT_SECRET)"
            )
        secrets = secrets or _secrets_provider()
        return cls(
            AppCredentials.from_settings(settings, secrets, transport),
            TokenStore(secrets, settings.ghl_token_secret_prefix),
            settings.ghl_app_redirect_uri,
        )
