"""Standard Webhooks signing: HMAC-SHA256 over "{id}.{timestamp}.{body}", base64, "v1,"."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
# Standard Webhooks wants 24 to 64 random bytes.
SECRET_BYTES = 32


def generate_secret() -> str:
    """A new signing secret: `whsec_` followed by random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_...` secret stands for."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign_payload(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """One `v1,<base64 HMAC-SHA256>` signature of a message."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: list[str], message_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` value: one signature per valid secret, space-separated."""
    return " ".join(sign_payload(s, message_id, timestamp, body) for s in secrets_)


def verify_signature(secret: str, message_id: str, timestamp: int, body: str, header: str) -> bool:
    """Whether any signature in a `webhook-signature` header was made with `secret`
    (what a receiver does; the tests and the README use it)."""
    expected = sign_payload(secret, message_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())
