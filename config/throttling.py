"""Login throttling: who is logging in from where, and the lockout backend.

The client address both login throttles count by:

The admin's lockout (django-axes) and the API's token throttle (DRF's
LoginThrottle) must agree on the client's address, and neither may believe
an X-Forwarded-For header that the client wrote itself. TRUSTED_PROXY_COUNT
says how many proxies in front of the app append to that header (0 when
gunicorn faces the clients, as in docker-compose.yml; 1 behind one load
balancer). The address is then the one the outermost trusted proxy saw,
exactly as DRF reads it with NUM_PROXIES set to the same number.
"""
from axes.backends import AxesStandaloneBackend
from django.conf import settings


def client_address(request) -> str | None:
    """The client's address as the outermost trusted proxy saw it (REMOTE_ADDR with no proxy)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies == 0 or not forwarded:
        return request.META.get("REMOTE_ADDR")
    addresses = [address.strip() for address in forwarded.split(",")]
    # Each trusted proxy appended one address; the ones to their left are the client's own claim.
    return addresses[-min(proxies, len(addresses))]


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout for every login that comes with a request; none for one that does not.

    The admin's login form and the token endpoint always pass the request, so
    every login over the network is counted and can be locked out. A login with
    no request is not one over the network (the test client's login(), a shell),
    and there is no client address to count it by: django-axes would refuse it
    outright, here it is left to the password check alone.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
