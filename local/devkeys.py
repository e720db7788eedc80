"""The local development key pair for X-GHL-Signature.

Derived from a public seed, so it is the same on every machine: `make run`, `make demo`, the
samples in events/ and the tests all sign with it. It protects nothing — a deployed stack uses
GHL's published key (or GHL_WEBHOOK_PUBLIC_KEY) and never this one.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

_SEED = hashlib.sha256(b"ghl-real-estate-ai local development key; not a secret").digest()
PRIVATE_KEY = Ed25519PrivateKey.from_private_bytes(_SEED)
PUBLIC_KEY_PEM = (
    PRIVATE_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
)

#: Workflow Webhook secret used by the local stack and the samples (single-location install).
WORKFLOW_SECRET = "local-dev-workflow-secret"  # noqa: S105 - documented local-only value  # nosec B105
#: What boto3 signs with against the embedded moto: any key works there; loopback only.
MOTO_SECRET_ACCESS_KEY = "local"  # noqa: S105 - a placeholder, no AWS account  # nosec B105
#: Read-route key used by the local stack.
API_KEY = "local-dev-api-key"
#: Lyrio site key (X-Site-Key / siteKey) the local stack and the form samples use.
SITE_KEY = "local-dev-lyrio-site-key"


def sign(body: bytes, key: Ed25519PrivateKey = PRIVATE_KEY) -> str:
    """The X-GHL-Signature value GHL would send for ``body``."""
    return base64.b64encode(key.sign(body)).decode()
