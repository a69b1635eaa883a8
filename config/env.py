"""Small, strict readers for settings that come from the environment."""
import ipaddress
import os
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A boolean from the environment; anything unrecognised is an error, not a guess."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list from the environment."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_float(name: str, default: float) -> float:
    """A non-negative number (seconds) from the environment; anything else is an error, not a guess."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number of seconds")
    return value


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def secret_key_is_strong(key: str) -> bool:
    """The same test Django's deploy check (security.W009) applies."""
    return len(key) >= 50 and len(set(key)) >= 5 and not key.startswith("django-insecure-")


# Passwords a scanner tries first; refused in production whatever their length.
_WELL_KNOWN_PASSWORDS = {"admin", "changeme", "change-me", "default", "mbs", "password", "postgres",
                         "redis", "root", "secret", "test", "example"}
MIN_SERVICE_PASSWORD_LENGTH = 12


def _is_loopback(host: str | None) -> bool:
    if not host:
        return True  # a Unix socket: reachable only on this machine
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def service_password_problem(url: str) -> str | None:
    """Why the password in a service URL (database, broker, cache) is unfit for production, or None.

    A server reached over the network needs a password, and a password must
    not be short or a well-known default. A server on loopback or a socket may
    rely on local trust (the benchmark's and CI's PostgreSQL do); SQLite has no password.
    """
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return None
    password = unquote(parts.password) if parts.password else ""
    if not password:
        if _is_loopback(parts.hostname):
            return None
        return f"names the server {parts.hostname} but carries no password"
    if (len(password) < MIN_SERVICE_PASSWORD_LENGTH or password.lower() in _WELL_KNOWN_PASSWORDS
            or password == unquote(parts.username or "")):
        return f"carries a weak password (use {MIN_SERVICE_PASSWORD_LENGTH}+ random characters)"
    return None


def require_service_passwords(urls: dict[str, str | None]) -> None:
    """Production refuses to start when any service URL's password is missing or weak (the first is named)."""
    for name, url in urls.items():
        problem = service_password_problem(url) if url else None
        if problem:
            raise ImproperlyConfigured(
                f"Production mode (DEBUG=false): {name} {problem}. Set it in the environment, "
                f"e.g. scheme://user:<password>@host/..., never in a file of the repository."
            )
