"""The signature a receiver checks: HMAC-SHA256 of the timestamp, a dot and the body, with the subscription's secret.

Signing the timestamp with the body lets a receiver refuse an old message
replayed by whoever saw it (it compares X-MBS-Timestamp with its clock); the
body is signed as the exact bytes sent. README ("Webhooks") gives the
receiver's five lines, which `signature_verifies` mirrors.
"""
from __future__ import annotations

import hashlib
import hmac

SCHEME = "sha256"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-MBS-Signature header's value: "sha256=" and the hex HMAC of `timestamp.body`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return f"{SCHEME}=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_verifies(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does: the same HMAC, compared in constant time."""
    if not timestamp.isdigit():
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), header)
