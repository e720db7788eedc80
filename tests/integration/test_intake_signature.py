"""X-GHL-Signature through the deployed path: API Gateway event → Mangum → FastAPI → verifier."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from functions.intake import app as intake_app
from ghl_ai import config
from local import devkeys
from local.apigw import http_event
from tests.conftest import Response, Stack, fixture_bytes

BODY = fixture_bytes("inbound_sms.json")
PHONE = "+15551234567"  # the lead's number in the fixture


def assert_rejected(stack: Stack, response: Response) -> None:
    """A 401 that says only "invalid signature", and nothing was recorded or enqueued."""
    assert response.status == 401
    assert response.json == {"error": "invalid signature"}
    assert stack.scan("WebhooksTable") == []
    assert stack.queue_depth() == 0


def test_a_valid_signature_is_accepted(stack: Stack) -> None:
    response = stack.post_webhook(BODY)
    assert response.status == 200
    assert response.json["status"] == "queued"
    assert stack.queue_depth() == 1


def test_a_body_with_one_byte_changed_is_rejected(stack: Stack) -> None:
    signature = devkeys.sign(BODY)
    tampered = bytearray(BODY)
    tampered[BODY.index(b"test message")] ^= 0x20  # "test" → "Test"
    response = stack.post_webhook(bytes(tampered), signature=signature)
    assert_rejected(stack, response)
    text = json.dumps(response.json)
    assert signature not in text
    assert "test message" not in text.lower() and PHONE not in text


def test_a_missing_signature_is_rejected(stack: Stack) -> None:
    assert_rejected(stack, stack.post_webhook(BODY, signature=None))


def test_ghls_placeholder_signature_is_rejected(stack: Stack) -> None:
    assert_rejected(stack, stack.post_webhook(BODY, signature="N/A"))


@pytest.mark.parametrize(
    "signature",
    [
        "%%%not-base64%%%",
        base64.b64encode(b"\x01" * 32).decode(),
        base64.b64encode(base64.b64decode(devkeys.sign(BODY)) + b"\x00").decode(),
    ],
    ids=["not-base64", "too-short", "too-long"],
)
def test_a_malformed_signature_is_rejected(stack: Stack, signature: str) -> None:
    assert_rejected(stack, stack.post_webhook(BODY, signature=signature))


def test_a_signature_made_with_another_key_is_rejected(stack: Stack) -> None:
    wrong = devkeys.sign(BODY, Ed25519PrivateKey.generate())
    assert_rejected(stack, stack.post_webhook(BODY, signature=wrong))


def test_a_base64_encoded_body_is_verified_on_its_decoded_bytes(stack: Stack) -> None:
    response = stack.post_webhook(BODY, base64_body=True)
    assert response.status == 200
    assert response.json["status"] == "queued"


def test_a_base64_encoded_body_with_a_bad_signature_is_still_rejected(stack: Stack) -> None:
    signature = devkeys.sign(BODY + b" ")
    assert_rejected(stack, stack.post_webhook(BODY, signature=signature, base64_body=True))


@pytest.mark.parametrize("header", ["X-Ghl-Signature", "X-GHL-SIGNATURE", "x-ghl-signature"])
def test_header_names_are_case_insensitive_as_api_gateway_delivers_them(
    stack: Stack, header: str
) -> None:
    # http_event lower-cases header names the way an HTTP API does.
    response = stack.post_webhook(BODY, signature=None, headers={header: devkeys.sign(BODY)})
    assert response.status == 200


@pytest.mark.parametrize("header", ["X-Ghl-Signature", "X-GHL-SIGNATURE"])
def test_header_names_keep_working_when_the_event_keeps_their_casing(
    stack: Stack, header: str
) -> None:
    # A REST API or a proxy may pass the original casing through: build that event by hand.
    event = http_event("POST", "/webhooks/ghl", BODY)
    event["headers"] = {"Content-Type": "application/json", header: devkeys.sign(BODY)}
    response = stack.invoke_intake(event)
    assert response.status == 200
    assert response.json["status"] == "queued"


def test_with_ghls_published_key_configured_a_dev_signature_is_rejected(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deployed without GhlWebhookPublicKey, the intake trusts GHL's key and nothing else."""
    monkeypatch.delenv("GHL_WEBHOOK_PUBLIC_KEY")
    config.intake_settings.cache_clear()
    intake_app.deps.cache_clear()
    assert config.intake_settings().ghl_webhook_public_key == config.GHL_PUBLIC_KEY_PEM
    assert_rejected(stack, stack.post_webhook(BODY))
