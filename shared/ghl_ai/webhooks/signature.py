"""X-GHL-Signature verification: Ed25519 over the raw body bytes, signature in base64.

Fail closed: a missing header, GHL's placeholder value ``N/A``, a value that is not base64 of
64 bytes, or a signature that does not verify all raise :class:`InvalidSignature`.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ghl_ai.errors import InvalidSignature

_ED25519_SIGNATURE_BYTES = 64


class WebhookVerifier:
    """Verifies Marketplace webhook signatures with one configured public key (PEM)."""

    def __init__(self, public_key_pem: str) -> None:
        key = load_pem_public_key(public_key_pem.replace("\\n", "\n").encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("GHL_WEBHOOK_PUBLIC_KEY must be an Ed25519 public key in PEM format")
        self._key = key

    def verify(self, raw_body: bytes, signature_header: str | None) -> None:
        value = (signature_header or "").strip()
        if not value or value.upper() == "N/A":
            raise InvalidSignature("missing X-GHL-Signature header")
        try:
            signature = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSignature("X-GHL-Signature is not valid base64") from None
        if len(signature) != _ED25519_SIGNATURE_BYTES:
            raise InvalidSignature("X-GHL-Signature has the wrong length for Ed25519")
        try:
            self._key.verify(signature, raw_body)
        except _CryptoInvalidSignature:
            raise InvalidSignature("X-GHL-Signature does not match the body") from None
