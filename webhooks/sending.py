"""One POST of a webhook: to the checked address, signed, with a timeout; what came back, never an exception.

The standard library's http.client, connected to the address
webhooks.targets checked (the name is not resolved a second time), with the
host's name as the TLS server name (its certificate is verified) and in the
Host header. Redirects are not followed (a 3xx is an answer like any other
that is not 2xx: an attacker's server could redirect into the private network).
Only the start of the answer is read (the excerpt kept): a receiver cannot
make a worker read a large body.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from webhooks.errors import TargetRefused
from webhooks.targets import Target, resolved_address, target_of

USER_AGENT = "MBS-Webhooks/1"


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: a status code or an error, how long it took, and the start of the body."""

    status_code: int | None
    error: str
    duration_ms: int
    excerpt: str

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, excerpt_chars: int) -> Answer:
    """POST `body` to `url` with `headers`; the answer, or the error (a refused target, a timeout, a reset...)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = target_of(url)
        address = resolved_address(target)
    except TargetRefused as refused:
        return Answer(None, f"refused: {refused}", took(), "")
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, address, timeout)
    try:
        connection.request("POST", target.path, body=body, headers={
            **headers, "Content-Type": "application/json", "User-Agent": USER_AGENT})
        response = connection.getresponse()
        excerpt = response.read(excerpt_chars).decode("utf-8", errors="replace")
        return Answer(response.status, "", took(), excerpt)
    except (OSError, http.client.HTTPException) as error:  # timeouts, refusals, resets, TLS, a bad status line
        return Answer(None, f"{type(error).__name__}: {error}"[:500], took(), "")
    finally:
        connection.close()
