"""Where a webhook may be sent: https to a public address; never to the servers' own networks (SSRF).

A subscriber names a URL and the servers POST to it, so a URL is hostile
input: pointed at 127.0.0.1, 10.x, 169.254.169.254 (a cloud's metadata) or
an internal name, it would make the back office call its own network for
whoever registered it. The rules, checked when a subscription is made and
again at every attempt against the addresses the name resolves to then (a
name can be re-pointed after it was registered):
- https only; http only to a loopback address, and loopback only at all,
  when settings.WEBHOOKS_ALLOW_LOOPBACK_HTTP says so (the tests and the
  demo; production refuses to start with it);
- no user or password in the URL; a host with a dot (a bare name resolves
  through the servers' search domains), not `localhost` or a `.localhost`,
  `.local`, `.internal` name;
- every address the host resolves to is public (`ipaddress.is_global`: no
  private, loopback, link-local, shared, multicast, reserved or unspecified
  address; an IPv4 address mapped into IPv6 is judged as IPv4).
The attempt connects to the address that was checked, not to the name again
(webhooks.sending), so the name cannot change between the check and the call.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from webhooks.errors import TargetRefused

INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain")
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Target:
    """A URL taken apart: what to connect to and what to ask for."""

    scheme: str
    host: str  # as written (the TLS server name and the Host header)
    port: int
    path: str  # with its query


def loopback_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_LOOPBACK_HTTP", False))


def target_of(url: str) -> Target:
    """The URL, taken apart, if it may be registered; TargetRefused naming the problem otherwise (no network)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise TargetRefused(f"{url!r} is not a URL: {error}") from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise TargetRefused(f"{url!r} is not an https URL")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("a webhook URL may not carry a user name or password")
    if parts.fragment:
        raise TargetRefused("a webhook URL may not have a fragment (#...)")
    literal = _address(host)
    loopback = (literal.is_loopback if literal is not None
                else host.lower() == "localhost" or host.lower().endswith(".localhost"))
    if loopback and loopback_allowed():
        pass  # the tests' and the demo's receiver, on this machine, http or https
    elif parts.scheme != "https":
        raise TargetRefused(f"{url!r}: webhooks are sent over https only")
    elif literal is not None:
        address_check(literal, host)
    elif "." not in host or host.lower() == "localhost" or host.lower().endswith(INTERNAL_SUFFIXES):
        raise TargetRefused(f"{host!r} is not a public host name")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port or (443 if parts.scheme == "https" else 80), path=path)


def address_check(address: IpAddress, host: str) -> None:
    """Refuse an address that is not public (loopback too, unless the setting allows it)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback and loopback_allowed():
        return
    if not address.is_global or address.is_multicast:
        raise TargetRefused(f"{host!r} is not a public address ({address}): webhooks are never sent to "
                            f"private, loopback, link-local or reserved networks")


def resolved_address(target: Target) -> str:
    """The address to connect to: the host's first, once every address it resolves to is checked public."""
    literal = _address(target.host)
    if literal is not None:
        address_check(literal, target.host)
        return str(literal)
    try:
        found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(f"{target.host!r} does not resolve: {error}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in found]
    if not addresses:
        raise TargetRefused(f"{target.host!r} does not resolve")
    for address in addresses:
        address_check(address, target.host)
    return str(addresses[0])


def _address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
