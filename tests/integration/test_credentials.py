"""Per-location credentials through the real handlers and the CLI, against moto (Secrets
Manager, tables from template.yaml) with GHL faked at the HTTP boundary: the install route and
``ghl-ai tenants connect`` store a location's exchanged tokens; the worker answers each location
with its own token (the single-location environment token for GHL_LOCATION_ID, stored OAuth
tokens for another, nothing for a location without either); tokens reach neither the tables
nor the logs; the Anthropic key is read from its secret; and the deployed environment names
secrets, never the NoEcho values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from functions.intake import app as intake_app
from ghl_ai import config
from ghl_ai.credentials import OAuthTokens
from ghl_ai_cli.main import app as cli
from local.anthropic_standin import AnthropicStandIn, tool
from local.apigw import LambdaContext, http_event, response_json
from local.ghl_standin import GhlStandIn
from local.template import function_environment
from tests.conftest import FIXTURE_LOCATIONS, LOCATION_ID, TEMPLATE, Stack
from tests.conversation.driver import Conversation, configure, record_turn
from tests.ghl_oauth import CLIENT_ID, CLIENT_SECRET, FakeGhlOAuth, secret_json

PREFIX = "test-stack"
OTHER, UNCONNECTED = sorted(FIXTURE_LOCATIONS - {LOCATION_ID})[:2]


@pytest.fixture
def secretsmanager(stack: Stack) -> Any:
    return boto3.client("secretsmanager")


@pytest.fixture
def oauth(stack: Stack, secretsmanager: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """GHL's token endpoint on loopback, and the Marketplace app configured as deployed: its
    client id and secret in a secret named by GHL_APP_SECRET_ARN."""
    app_secret = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    arn = secretsmanager.create_secret(Name="app", SecretString=json.dumps(app_secret))["ARN"]
    with FakeGhlOAuth().serve() as server:
        for name, value in {
            "GHL_API_BASE_URL": server.base_url,
            "GHL_APP_SECRET_ARN": arn,
            "GHL_TOKEN_SECRET_PREFIX": PREFIX,
        }.items():
            monkeypatch.setenv(name, value)
        reset()
        yield server
    reset()


def reset() -> None:
    config.ghl_credential_settings.cache_clear()
    intake_app._installer.cache_clear()


def callback(query: list[tuple[str, str]], accept: str = "application/json") -> dict[str, Any]:
    event = http_event("GET", "/oauth/callback", None, {"accept": accept}, query)
    result: dict[str, Any] = intake_app.handler(event, LambdaContext("IntakeFunction"))
    return result


def stored_tokens(secretsmanager: Any) -> list[str]:
    """The names of the location token secrets."""
    listed = secretsmanager.list_secrets()["SecretList"]
    return [s["Name"] for s in listed if s["Name"].startswith(f"{PREFIX}/ghl/")]


def tokens_everywhere(stack: Stack) -> str:
    """Every item of every table, as text."""
    return json.dumps([stack.scan(logical) for logical in stack.resources.tables], default=str)


# -- storing a location's first tokens ------------------------------------------------------------


def test_the_install_callback_stores_the_exchanged_tokens_and_echoes_none(
    stack: Stack, secretsmanager: Any, oauth: Any, powertools_logs: Any
) -> None:
    code = oauth.fake.new_code(OTHER)

    result = callback([("code", code)])

    assert result["statusCode"] == 200, result
    assert response_json(result) == {"status": "connected", "locationId": OTHER}
    assert result["headers"]["cache-control"] == "no-store"
    [grant] = oauth.fake.grants
    assert (grant.grant_type, grant.user_type, grant.outcome) == (
        "authorization_code",
        "Location",
        "issued",
    )
    stored = secret_json(secretsmanager, f"{PREFIX}/ghl/{OTHER}")
    assert stored["location_id"] == OTHER
    assert stored["access_token"] in oauth.fake.access
    assert stored["refresh_token"] in oauth.fake.refresh
    secrets = (code, stored["access_token"], stored["refresh_token"], CLIENT_SECRET)
    seen = result["body"] + powertools_logs.getvalue() + tokens_everywhere(stack)
    assert [s for s in secrets if s in seen] == []
    assert "GHL location connected" in powertools_logs.getvalue()  # logged by id, no token


def test_a_browser_gets_a_page_saying_the_location_is_connected(stack: Stack, oauth: Any) -> None:
    code = oauth.fake.new_code(OTHER)

    result = callback([("code", code)], accept="text/html,application/xhtml+xml")

    assert result["statusCode"] == 200
    assert result["headers"]["content-type"].startswith("text/html")
    assert f"Location {OTHER} is connected" in result["body"]
    assert code not in result["body"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ([], "missing code"),
        ([("code", "")], "missing code"),
        ([("code", "a" * 40), ("code", "b" * 40)], "missing code"),
        ([("code", "<script>alert(1)</script>")], "the authorization code is malformed"),
        ([("code", "f" * 40)], "GHL refused the code (expired or already used)"),
    ],
)
def test_a_missing_or_refused_code_is_a_400_that_says_why(
    stack: Stack, secretsmanager: Any, oauth: Any, query: list[tuple[str, str]], message: str
) -> None:
    result = callback(query)

    assert result["statusCode"] == 400
    body = response_json(result)
    assert body["error"].startswith(message)
    assert all(value not in result["body"] for _, value in query if value)
    assert stored_tokens(secretsmanager) == []  # nothing stored


def test_a_code_used_twice_is_refused_the_second_time(stack: Stack, oauth: Any) -> None:
    code = oauth.fake.new_code(OTHER)
    assert callback([("code", code)])["statusCode"] == 200

    again = callback([("code", code)])

    assert again["statusCode"] == 400
    assert "already used" in response_json(again)["error"]


def test_an_install_without_the_app_configured_says_so(
    stack: Stack, oauth: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GHL_APP_SECRET_ARN")
    reset()

    result = callback([("code", oauth.fake.new_code(OTHER))])

    assert result["statusCode"] == 503
    assert "not configured" in response_json(result)["error"]


def test_ghl_ai_tenants_connect_stores_the_exchanged_tokens(
    stack: Stack, secretsmanager: Any, oauth: Any
) -> None:
    code = oauth.fake.new_code(OTHER)

    result = CliRunner().invoke(
        cli, ["tenants", "connect", "--location", OTHER, "--code", code, "--json"]
    )

    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["locationId"] == OTHER and out["secret"] == f"{PREFIX}/ghl/{OTHER}"
    stored = secret_json(secretsmanager, out["secret"])
    assert stored["access_token"] in oauth.fake.access
    assert stored["access_token"] not in result.output and code not in result.output


def test_ghl_ai_tenants_connect_refuses_tokens_for_another_location(
    stack: Stack, secretsmanager: Any, oauth: Any
) -> None:
    code = oauth.fake.new_code(UNCONNECTED)

    result = CliRunner().invoke(cli, ["tenants", "connect", "--location", OTHER, "--code", code])

    assert result.exit_code == 2
    assert "another location" in result.output
    assert stored_tokens(secretsmanager) == []


# -- each location answered with its own token ---------------------------------------------------


def test_each_location_is_answered_with_its_own_token(
    stack: Stack, secretsmanager: Any, monkeypatch: pytest.MonkeyPatch, powertools_logs: Any
) -> None:
    with GhlStandIn() as ghl:
        # The single-location environment token for GHL_LOCATION_ID, and the Marketplace app
        # for the others: OTHER installed it (tokens in its secret), UNCONNECTED did not.
        configure(
            monkeypatch,
            ghl,
            GHL_API_TOKEN="pit-env-token",
            GHL_APP_CLIENT_ID=CLIENT_ID,
            GHL_APP_CLIENT_SECRET=CLIENT_SECRET,
            GHL_TOKEN_SECRET_PREFIX=PREFIX,
        )
        other = FakeGhlOAuth().issue(OTHER)
        tokens = OAuthTokens.from_grant(other, 0, None)
        tokens = OAuthTokens(**{**tokens.__dict__, "expires_at": 4_000_000_000})
        secretsmanager.create_secret(Name=f"{PREFIX}/ghl/{OTHER}", SecretString=tokens.as_secret())
        leads = {
            location: Conversation(
                stack,
                ghl,
                ghl.seed_contact(location, firstName="Ana", phone=phone)["id"],
                location_id=location,
            )
            for location, phone in (
                (LOCATION_ID, "+15125550101"),
                (OTHER, "+15125550102"),
                (UNCONNECTED, "+15125550103"),
            )
        }

        replies = {location: c.contact_created() for location, c in leads.items()}

        assert len(replies[LOCATION_ID]) == 1 and len(replies[OTHER]) == 1
        assert replies[UNCONNECTED] == []  # no credentials: tracked, nothing sent
        used: dict[str, set[str]] = {}
        for call in ghl.calls:
            about = json.dumps([call.path, call.json, call.query])
            for location, c in leads.items():
                if c.contact_id in about:
                    used.setdefault(location, set()).add(call.headers["authorization"])
        assert used == {
            LOCATION_ID: {"Bearer pit-env-token"},
            OTHER: {f"Bearer {other['access_token']}"},
        }
        assert stack.lead(UNCONNECTED, leads[UNCONNECTED].contact_id) is not None
        seen = tokens_everywhere(stack) + powertools_logs.getvalue()
        assert other["access_token"] not in seen and other["refresh_token"] not in seen
        assert "pit-env-token" not in seen


# -- the Anthropic key ---------------------------------------------------------------------------


def test_claude_answers_with_the_key_read_from_its_secret(
    stack: Stack, secretsmanager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-ant-from-the-secret"
    arn = secretsmanager.create_secret(Name="anthropic", SecretString=key)["ARN"]
    with GhlStandIn() as ghl, AnthropicStandIn(api_key=key) as claude:
        configure(
            monkeypatch,
            ghl,
            claude,
            ANTHROPIC_API_KEY="",  # as deployed: only the secret's ARN
            ANTHROPIC_API_KEY_SECRET_ARN=arn,
        )
        reply = (
            "Hi Ana, this is Jorge with Sunbelt Realty. Buying or selling? Reply STOP to opt out."
        )
        claude.script(tool(record_turn(reply)))
        contact = ghl.seed_contact(LOCATION_ID, firstName="Ana", phone="+15125550104")

        sent = Conversation(stack, ghl, contact["id"]).contact_created()

        assert claude.pending == 0 and len(claude.calls) == 1  # accepted the key: no 401
        assert sent == [reply]


# -- the deployed environment ----------------------------------------------------------------------

NO_ECHO = {
    name: f"value-of-{name}-0123456789"
    for name, spec in TEMPLATE["Parameters"].items()
    if spec.get("NoEcho")
}


def test_deployed_functions_get_secret_arns_never_the_no_echo_values(
    stack: Stack, secretsmanager: Any
) -> None:
    parameters = {**NO_ECHO, "GhlAppClientId": "client-1", "GhlLocationId": LOCATION_ID}
    functions = [
        name
        for name, res in TEMPLATE["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
    ]
    arns: dict[str, set[str]] = {}
    for function in functions:
        env = function_environment(TEMPLATE, function, stack.resources, parameters)
        leaked = [k for k, v in env.items() for value in NO_ECHO.values() if value in v]
        assert leaked == [], function
        arns[function] = {k for k in env if k.endswith("_ARN")}
        for variable in arns[function]:  # each names a secret holding its parameter's value
            value = secretsmanager.get_secret_value(SecretId=env[variable])["SecretString"]
            assert any(v in value for v in NO_ECHO.values()), variable
        policies = json.dumps(TEMPLATE["Resources"][function]["Properties"].get("Policies"))
        for variable in arns[function]:  # ... and the function may read it
            logical = TEMPLATE["Resources"][function]["Properties"]["Environment"]["Variables"][
                variable
            ]["Fn::If"][1]["Ref"]
            assert f'"SecretArn": {{"Ref": "{logical}"}}' in policies, (function, variable)
    assert arns["WorkerFunction"] == {
        "GHL_API_TOKEN_SECRET_ARN",
        "GHL_APP_SECRET_ARN",
        "ANTHROPIC_API_KEY_SECRET_ARN",
    }
    assert arns["IntakeFunction"] == {
        "GHL_WORKFLOW_SECRET_ARN",
        "API_KEY_SECRET_ARN",
        "LYRIO_SITE_KEY_SECRET_ARN",
        "GHL_APP_SECRET_ARN",
    }
    assert arns["ChurnSweepFunction"] == set()
