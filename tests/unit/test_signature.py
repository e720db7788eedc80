"""X-GHL-Signature verification (Ed25519 over the raw body) at the lowest layer."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ghl_ai.config import GHL_PUBLIC_KEY_PEM
from ghl_ai.errors import InvalidSignature
from ghl_ai.webhooks.signature import WebhookVerifier
from local import devkeys
from tests.conftest import fixture_bytes

BODY = fixture_bytes("inbound_sms.json")


@pytest.fixture
def verifier() -> WebhookVerifier:
    return WebhookVerifier(devkeys.PUBLIC_KEY_PEM)


def test_a_signature_over_the_raw_body_verifies(verifier: WebhookVerifier) -> None:
    verifier.verify(BODY, devkeys.sign(BODY))  # raises if rejected


def test_surrounding_whitespace_in_the_header_value_is_tolerated(verifier: WebhookVerifier) -> None:
    verifier.verify(BODY, f"  {devkeys.sign(BODY)}\n")


def test_a_body_with_one_byte_changed_is_rejected(verifier: WebhookVerifier) -> None:
    signature = devkeys.sign(BODY)
    tampered = BODY.replace(b"This is a test message", b"This is a test messagE")
    assert tampered != BODY and len(tampered) == len(BODY)
    with pytest.raises(InvalidSignature, match="does not match"):
        verifier.verify(tampered, signature)


def test_re_serialised_json_does_not_verify(verifier: WebhookVerifier) -> None:
    """The signature covers GHL's bytes; parsed-and-dumped JSON is different bytes."""
    reserialised = json.dumps(json.loads(BODY)).encode()
    with pytest.raises(InvalidSignature):
        verifier.verify(reserialised, devkeys.sign(BODY))


@pytest.mark.parametrize("header", [None, "", "   "], ids=["absent", "empty", "blank"])
def test_a_missing_signature_is_rejected(verifier: WebhookVerifier, header: str | None) -> None:
    with pytest.raises(InvalidSignature, match="missing"):
        verifier.verify(BODY, header)


@pytest.mark.parametrize("header", ["N/A", "n/a", " N/A "])
def test_ghls_placeholder_value_counts_as_missing(verifier: WebhookVerifier, header: str) -> None:
    with pytest.raises(InvalidSignature, match="missing"):
        verifier.verify(BODY, header)


def test_a_value_that_is_not_base64_is_rejected(verifier: WebhookVerifier) -> None:
    with pytest.raises(InvalidSignature, match="base64"):
        verifier.verify(BODY, "not base64 at all!")


@pytest.mark.parametrize("length", [32, 63, 65, 128])
def test_a_signature_of_the_wrong_length_is_rejected(
    verifier: WebhookVerifier, length: int
) -> None:
    # A real signature cut or padded: valid base64, but not 64 bytes.
    raw = (base64.b64decode(devkeys.sign(BODY)) * 2)[:length]
    with pytest.raises(InvalidSignature, match="wrong length"):
        verifier.verify(BODY, base64.b64encode(raw).decode())


def test_a_signature_made_with_another_key_is_rejected(verifier: WebhookVerifier) -> None:
    other_key = Ed25519PrivateKey.generate()
    with pytest.raises(InvalidSignature, match="does not match"):
        verifier.verify(BODY, devkeys.sign(BODY, other_key))


def test_ghls_published_key_rejects_a_development_key_signature() -> None:
    production = WebhookVerifier(GHL_PUBLIC_KEY_PEM)
    with pytest.raises(InvalidSignature, match="does not match"):
        production.verify(BODY, devkeys.sign(BODY))


def test_a_key_configured_with_escaped_newlines_works() -> None:
    """template.yaml documents GhlWebhookPublicKey as PEM with newlines written as \\n."""
    one_line = devkeys.PUBLIC_KEY_PEM.replace("\n", "\\n")
    assert "\n" not in one_line
    WebhookVerifier(one_line).verify(BODY, devkeys.sign(BODY))


def test_a_key_that_is_not_ed25519_is_refused_at_configuration() -> None:
    ec_key = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError, match="Ed25519"):
        WebhookVerifier(ec_key)
