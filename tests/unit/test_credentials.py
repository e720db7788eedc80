"""Per-location GHL credentials (ghl_ai.credentials) against moto's Secrets Manager in process,
GHL faked at the HTTP boundary (tests/ghl_oauth.py through httpx.MockTransport): tokens
refreshed before they expire and on a 401, the rotation race between two containers, each
location's own token, the single-location environment token, and the secret settings."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from moto import mock_aws

from ghl_ai.adapters.ghl import GhlClient
from ghl_ai.config import ConfigurationError, GhlCredentialSettings, WorkerSettings
from ghl_ai.credentials import (
    REFRESH_MARGIN_SECONDS,
    AppCredentials,
    GhlClients,
    OAuthToken,
    OAuthTokens,
    SecretToken,
    TokenStore,
)
from ghl_ai.errors import GhlApiError
from tests.ghl_oauth import CLIENT_ID, CLIENT_SECRET, FakeGhlOAuth, RecordingMetrics, secret_json

BASE_URL = "https://ghl.test"
PREFIX = "test-stack"
LOC_A, LOC_B, LOC_C = "LocAaaaaaaaaaaaaaaa1", "LocBbbbbbbbbbbbbbbb2", "LocCccccccccccccccc3"


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager")


@pytest.fixture
def ghl() -> FakeGhlOAuth:
    return FakeGhlOAuth()


def tokens_from(answer: dict[str, Any]) -> OAuthTokens:
    return OAuthTokens.from_grant(answer, time.time(), None)


def seed(secretsmanager: Any, ghl: FakeGhlOAuth, location: str, lifetime: float = 86399) -> str:
    """The location installed: its tokens in its secret. Returns its access token."""
    answer = ghl.issue(location, lifetime)
    secretsmanager.create_secret(
        Name=f"{PREFIX}/ghl/{location}", SecretString=tokens_from(answer).as_secret()
    )
    return str(answer["access_token"])


class Container:
    """What one Lambda container holds: its own Powertools cache, store and clients."""

    def __init__(self, secretsmanager: Any, ghl: FakeGhlOAuth, **options: Any) -> None:
        self.metrics = RecordingMetrics()
        self.store = TokenStore(SecretsProvider(boto3_client=secretsmanager), PREFIX)
        self.app = AppCredentials(
            BASE_URL, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, transport=ghl.transport()
        )
        self.clients = GhlClients(
            BASE_URL,
            store=self.store,
            app=self.app,
            metrics=self.metrics,
            client_options={"transport": ghl.transport(), "sleep": lambda _: None},
            sleep=lambda _: None,
            **options,
        )

    def provider(self, location: str, **options: Any) -> OAuthToken:
        return OAuthToken(location, self.store, self.app, metrics=self.metrics, **options)


# -- refresh before expiry and on 401 -----------------------------------------------------------


def test_a_token_about_to_expire_is_refreshed_before_the_request(
    secretsmanager: Any, ghl: FakeGhlOAuth
) -> None:
    old = seed(secretsmanager, ghl, LOC_A, lifetime=REFRESH_MARGIN_SECONDS - 60)
    container = Container(secretsmanager, ghl)
    client = container.clients.for_location(LOC_A)
    assert client is not None

    contact = client.get_contact("c-1")

    assert contact["locationId"] == LOC_A
    assert [(g.grant_type, g.user_type) for g in ghl.grants] == [("refresh_token", "Location")]
    [call] = ghl.calls  # refreshed first: the request went out once, with the new token
    assert call.token != old and call.location_id == LOC_A
    stored = secret_json(secretsmanager, f"{PREFIX}/ghl/{LOC_A}")
    assert stored["access_token"] == call.token
    assert stored["refresh_token"] in ghl.refresh  # the rotated one: the old one is spent
    assert stored["expires_at"] > time.time() + 86000
    assert container.metrics.totals == {"GhlTokenRefreshed": 1, "GhlApiRequests": 1}


def test_a_token_far_from_expiry_is_used_as_stored(secretsmanager: Any, ghl: FakeGhlOAuth) -> None:
    token = seed(secretsmanager, ghl, LOC_A)
    client = Container(secretsmanager, ghl).clients.for_location(LOC_A)
    assert client is not None

    client.get_contact("c-1")
    client.get_contact("c-2")

    assert ghl.grants == []
    assert [c.token for c in ghl.calls] == [token, token]


def test_a_refused_token_is_refreshed_and_the_request_sent_once_more(
    secretsmanager: Any, ghl: FakeGhlOAuth
) -> None:
    old = seed(secretsmanager, ghl, LOC_A)
    ghl.revoke_access(LOC_A)  # GHL stopped accepting it before it expired
    container = Container(secretsmanager, ghl)
    client = container.clients.for_location(LOC_A)
    assert client is not None

    assert client.get_contact("c-1")["id"] == "c-1"

    assert [(c.token == old, c.location_id) for c in ghl.calls] == [(True, None), (False, LOC_A)]
    assert len(ghl.granted()) == 1
    assert secret_json(secretsmanager, f"{PREFIX}/ghl/{LOC_A}")["access_token"] != old
    assert container.metrics.totals == {
        "GhlApiRequests": 2,
        "GhlApi4xx": 1,
        "GhlTokenRefreshed": 1,
    }


def test_a_second_refusal_is_not_refreshed_again(secretsmanager: Any, ghl: FakeGhlOAuth) -> None:
    seed(secretsmanager, ghl, LOC_A)
    ghl.revoke_access(LOC_A)
    ghl.lifetime = -1  # every token GHL issues is refused as well
    client = Container(secretsmanager, ghl).clients.for_location(LOC_A)
    assert client is not None

    with pytest.raises(GhlApiError) as excinfo:
        client.get_contact("c-1")

    assert excinfo.value.status == 401 and not excinfo.value.retryable
    assert len(ghl.calls) == 2  # the request, once more with the fresh token: no loop
    assert len(ghl.grants) == 1


def test_the_refresh_sends_what_ghl_documents(secretsmanager: Any, ghl: FakeGhlOAuth) -> None:
    seed(secretsmanager, ghl, LOC_A, lifetime=10)
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return ghl.handle(request)

    app = AppCredentials(
        BASE_URL,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        transport=httpx.MockTransport(recording),
    )
    store = TokenStore(SecretsProvider(boto3_client=secretsmanager), PREFIX)
    stored = store.read(LOC_A)
    assert stored is not None

    OAuthToken(LOC_A, store, app).token()

    [request] = seen
    assert (request.method, str(request.url)) == ("POST", f"{BASE_URL}/oauth/token")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert dict(httpx.QueryParams(request.content.decode())) == {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": stored.refresh_token,
        "user_type": "Location",
    }


# -- two containers refreshing at once ----------------------------------------------------------


def test_when_two_containers_refresh_together_the_loser_recovers_by_reading_the_secret(
    secretsmanager: Any, ghl: FakeGhlOAuth
) -> None:
    seed(secretsmanager, ghl, LOC_A, lifetime=30)  # both see it about to expire
    ghl.refresh_barrier = threading.Barrier(2)  # both refreshes in flight before GHL answers
    first, second = Container(secretsmanager, ghl), Container(secretsmanager, ghl)
    waits = (0.0, 0.2, 0.5, 1.0)
    providers = [c.provider(LOC_A, reread_waits=waits) for c in (first, second)]
    results: dict[int, str | BaseException] = {}

    def use(i: int) -> None:
        try:
            results[i] = providers[i].token()
        except BaseException as exc:  # reported below, not swallowed
            results[i] = exc

    threads = [threading.Thread(target=use, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)

    # GHL rotated the refresh token once: one refresh won, the other was refused ...
    assert sorted(g.outcome for g in ghl.grants) == ["invalid_grant", "issued"]
    # ... and both containers use the winner's pair, the one in the secret.
    stored = secret_json(secretsmanager, f"{PREFIX}/ghl/{LOC_A}")
    assert results == {0: stored["access_token"], 1: stored["access_token"]}
    assert stored["refresh_token"] in ghl.refresh
    refreshed = [c.metrics.totals.get("GhlTokenRefreshed", 0) for c in (first, second)]
    assert sorted(refreshed) == [0, 1]


def test_a_refused_refresh_token_with_nothing_newer_stored_is_a_401(
    secretsmanager: Any, ghl: FakeGhlOAuth, caplog: pytest.LogCaptureFixture
) -> None:
    seed(secretsmanager, ghl, LOC_A, lifetime=30)
    ghl.refresh.clear()  # the app was uninstalled: GHL refuses the refresh token
    provider = Container(secretsmanager, ghl).provider(LOC_A, sleep=lambda _: None)

    with pytest.raises(GhlApiError) as excinfo:
        provider.token()

    assert excinfo.value.status == 401
    assert "reconnect" in excinfo.value.detail
    assert [g.outcome for g in ghl.grants] == ["invalid_grant"]
    assert any(
        r.getMessage().startswith("GHL refused the location's refresh") for r in caplog.records
    )


def test_a_refresh_that_fails_in_transit_keeps_the_token_that_still_works(
    secretsmanager: Any, ghl: FakeGhlOAuth
) -> None:
    token = seed(secretsmanager, ghl, LOC_A, lifetime=60)

    def down(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(503, json={"message": "Service Unavailable"})
        return ghl.handle(request)

    store = TokenStore(SecretsProvider(boto3_client=secretsmanager), PREFIX)
    app = AppCredentials(
        BASE_URL,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        transport=httpx.MockTransport(down),
    )
    assert OAuthToken(LOC_A, store, app).token() == token


# -- each location its own token ------------------------------------------------------------------


def test_each_location_uses_its_own_token_and_one_without_gets_no_client(
    secretsmanager: Any, ghl: FakeGhlOAuth
) -> None:
    token_a, token_b = seed(secretsmanager, ghl, LOC_A), seed(secretsmanager, ghl, LOC_B)
    clients = Container(secretsmanager, ghl).clients

    for location in (LOC_A, LOC_B, LOC_A, LOC_B):
        client = clients.for_location(location)
        assert client is not None
        client.get_contact(f"contact-of-{location}")

    assert [(c.path.rsplit("-", 1)[-1], c.token) for c in ghl.calls] == [
        (LOC_A, token_a),
        (LOC_B, token_b),
        (LOC_A, token_a),
        (LOC_B, token_b),
    ]
    assert clients.for_location(LOC_C) is None  # never installed: tracked, not sent
    assert clients.for_location("../ghl/" + LOC_A) is None  # not an id: no other secret read


def test_a_location_installed_later_is_found_once_its_miss_expires(
    secretsmanager: Any, ghl: FakeGhlOAuth
) -> None:
    now = [1000.0]
    clients = Container(secretsmanager, ghl, miss_seconds=300, clock=lambda: now[0]).clients
    assert clients.for_location(LOC_C) is None

    seed(secretsmanager, ghl, LOC_C)
    now[0] += 100
    assert clients.for_location(LOC_C) is None  # remembered: no lookup per job
    now[0] += 201
    assert clients.for_location(LOC_C) is not None


def test_a_stored_secret_for_another_location_is_not_used(
    secretsmanager: Any, ghl: FakeGhlOAuth
) -> None:
    answer = ghl.issue(LOC_B)
    secretsmanager.create_secret(  # LOC_A's secret holding LOC_B's tokens: refused
        Name=f"{PREFIX}/ghl/{LOC_A}", SecretString=tokens_from(answer).as_secret()
    )
    assert Container(secretsmanager, ghl).clients.for_location(LOC_A) is None


# -- the single-location install's token -------------------------------------------------------


def test_the_environment_token_serves_its_location_only_and_needs_no_aws(
    monkeypatch: pytest.MonkeyPatch, ghl: FakeGhlOAuth
) -> None:
    monkeypatch.setenv("GHL_API_TOKEN", "pit-env-token")
    settings = GhlCredentialSettings()
    pit = f"Bearer {settings.ghl_api_token.get_secret_value()}"  # type: ignore[union-attr]
    clients = GhlClients.from_settings(settings, location_id=LOC_A, transport=ghl.transport())
    ghl.access["pit-env-token"] = (LOC_A, time.time() + 3600)

    client = clients.for_location(LOC_A)
    assert client is not None
    client.get_contact("c-1")

    assert [f"Bearer {c.token}" for c in ghl.calls] == [pit]
    assert clients.for_location(LOC_B) is None  # the PIT is never sent for another location
    assert clients.configured


def test_no_credentials_at_all_is_not_configured() -> None:
    clients = GhlClients.from_settings(GhlCredentialSettings(), location_id=LOC_A)
    assert not clients.configured
    assert clients.for_location(LOC_A) is None


def test_a_rotated_private_integration_token_is_read_again_after_a_401(
    secretsmanager: Any, ghl: FakeGhlOAuth
) -> None:
    arn = secretsmanager.create_secret(Name="pit", SecretString="pit-old")["ARN"]
    secrets = SecretsProvider(boto3_client=secretsmanager)
    client = GhlClient(BASE_URL, SecretToken(secrets, arn), transport=ghl.transport())
    ghl.access["pit-new"] = (LOC_A, time.time() + 3600)
    secrets.get(arn, max_age=300)  # cached: "pit-old"
    secretsmanager.put_secret_value(SecretId=arn, SecretString="pit-new")  # the operator rotated

    client.get_contact("c-1")

    assert [(c.token, c.location_id) for c in ghl.calls] == [("pit-old", None), ("pit-new", LOC_A)]


# -- what is recorded -----------------------------------------------------------------------------


def test_metrics_count_answers_by_class_and_transport_errors_as_5xx() -> None:
    answers = iter([httpx.Response(404), httpx.Response(502), httpx.Response(200, json={})])

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers, None)
        if answer is None:
            raise httpx.ConnectError("refused")
        return answer

    metrics = RecordingMetrics()
    client = GhlClient(
        BASE_URL,
        "pit-x",
        transport=httpx.MockTransport(handler),
        metrics=metrics,
        sleep=lambda _: None,
    )
    with pytest.raises(GhlApiError):
        client.get_contact("a")  # 404: not retried
    client.get_contact("b")  # 502, then 200
    with pytest.raises(GhlApiError):
        client.get_contact("c")  # connection refused, 4 times

    assert metrics.totals == {"GhlApiRequests": 7, "GhlApi4xx": 1, "GhlApi5xx": 5}


def test_no_token_code_or_client_secret_is_logged_or_in_an_error(
    secretsmanager: Any, ghl: FakeGhlOAuth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ghl-real-estate-ai")  # ours, at every level
    old = seed(secretsmanager, ghl, LOC_A, lifetime=30)
    stored = json.loads(
        secretsmanager.get_secret_value(SecretId=f"{PREFIX}/ghl/{LOC_A}")["SecretString"]
    )
    container = Container(secretsmanager, ghl)
    client = container.clients.for_location(LOC_A)
    assert client is not None
    client.get_contact("c-1")  # refreshed before the request
    ghl.revoke_access(LOC_A)
    ghl.refresh.clear()
    errors = []
    try:
        client.get_contact("c-2")  # refused, and the refresh refused too
    except GhlApiError as exc:
        errors.append(str(exc))
    assert errors

    new = secret_json(secretsmanager, f"{PREFIX}/ghl/{LOC_A}")
    secrets = {old, stored["refresh_token"], new["access_token"], new["refresh_token"]}
    secrets.add(CLIENT_SECRET)
    logged = " ".join(str(v) for r in caplog.records for v in vars(r).values()) + " ".join(errors)
    assert caplog.records
    assert not {s for s in secrets if s in logged}
    tokens = container.store.read(LOC_A)
    assert tokens is not None
    assert tokens.access_token not in repr(tokens) and tokens.refresh_token not in repr(tokens)


# -- secret settings ----------------------------------------------------------------------------


def test_secret_settings_are_read_by_arn_and_a_value_in_the_environment_wins(
    secretsmanager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_arn = secretsmanager.create_secret(Name="anthropic", SecretString="sk-ant-secret")["ARN"]
    secret_arn = secretsmanager.create_secret(Name="workflow", SecretString="wf-secret")["ARN"]
    for name, value in {
        "LEADS_TABLE": "l",
        "MESSAGES_TABLE": "m",
        "EVENTS_TABLE": "e",
        "IDEMPOTENCY_TABLE": "i",
        "OUTBOX_TABLE": "o",
        "JOBS_QUEUE_URL": "q",
        "ANTHROPIC_API_KEY_SECRET_ARN": key_arn,
        "GHL_WORKFLOW_SECRET_ARN": secret_arn,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)

    settings = WorkerSettings.load()
    assert isinstance(settings, WorkerSettings)
    assert settings.anthropic_api_key is not None
    assert settings.anthropic_api_key.get_secret_value() == "sk-ant-secret"
    assert settings.ghl_workflow_secret is not None
    assert settings.ghl_workflow_secret.get_secret_value() == "wf-secret"
    assert "sk-ant-secret" not in repr(settings)

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")  # a local install's own value
    settings = WorkerSettings.load()
    assert isinstance(settings, WorkerSettings)
    assert settings.anthropic_api_key is not None
    assert settings.anthropic_api_key.get_secret_value() == "sk-ant-env"

    monkeypatch.delenv("ANTHROPIC_API_KEY")
    monkeypatch.setenv("ANTHROPIC_API_KEY_SECRET_ARN", key_arn + "-gone")
    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY_SECRET_ARN") as excinfo:
        WorkerSettings.load()
    assert "sk-ant" not in str(excinfo.value)


def test_the_app_credentials_come_from_their_secret(secretsmanager: Any, ghl: FakeGhlOAuth) -> None:
    arn = secretsmanager.create_secret(
        Name="app",
        SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    )["ARN"]
    secrets = SecretsProvider(boto3_client=secretsmanager)
    app = AppCredentials(BASE_URL, secret_id=arn, secrets=secrets, transport=ghl.transport())

    tokens = app().exchange_code(ghl.new_code(LOC_A))

    assert tokens.location_id == LOC_A
    assert ghl.granted()[0].grant_type == "authorization_code"
