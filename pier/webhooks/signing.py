"""Standard Webhooks signatures, as Replicate sends them and both clients check them.

The secret is `whsec_<standard base64 of the key>`. The signature is
`v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>")>`, computed over the
exact bytes that are sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

SECRET_PREFIX = "whsec_"
_ALPHABET = string.ascii_letters + string.digits


def secret_key(secret: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(SECRET_PREFIX) :])


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def new_message_id() -> str:
    """`msg_` and 24 random letters and digits, like Replicate's webhook ids."""
    return "msg_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
