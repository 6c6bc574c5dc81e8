"""Random secrets (session cookies, API tokens) and the hashes stored in their place."""

from __future__ import annotations

import hashlib
import secrets


def new_secret(prefix: str) -> str:
    """A random secret with 256 bits of entropy, e.g. `pit_9Zk...`."""
    return prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    """SHA-256 of a secret. The secrets are random and long, so a fast hash is enough:
    nobody can guess one from its hash (unlike passwords, which get argon2)."""
    return hashlib.sha256(secret.encode()).hexdigest()
