"""Throttles: logins per client address, writes per user, projection work per user (rates in
settings.REST_FRAMEWORK), and one projection at a time per user."""
from contextlib import contextmanager

from django.core.cache import cache
from rest_framework import exceptions, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle


class LoginThrottle(SimpleRateThrottle):
    """Token requests per client address: slows password guessing."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class WriteThrottle(SimpleRateThrottle):
    """Writes (POST and friends) per user; reads are not counted."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ProjectionThrottle(SimpleRateThrottle):
    """Projection work per user, each request weighed by its cost (the scenarios it asks for).

    A projection is seconds of CPU in a web worker per scenario, so counting
    requests would let a grid of ten speeds cost as little as one: the rate
    ("analytics" in the settings) is in scenarios, and a request asking for N
    speeds uses N of them (a request never costs more than the whole budget,
    or it could never pass). Together with one projection at a time per user
    (`one_at_a_time`), one investor cannot keep every worker busy.
    """

    scope = "analytics"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        cost = min(max(int(view.throttle_cost(request)), 1), self.num_requests)
        if len(self.history) + cost > self.num_requests:
            return self.throttle_failure()
        self.history[:0] = [self.now] * cost
        self.cache.set(self.key, self.history, self.duration)
        return True

    def get_cache_key(self, request, view):
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


BUSY_SECONDS = 120  # a request killed mid-way (a worker timeout) frees its user after this long


class Busy(exceptions.APIException):
    """429 busy: the caller's previous request of the kind is still running."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "busy"


@contextmanager
def one_at_a_time(request, what: str):
    """Run the block only if this user has no other `what` running; else a 429 saying so."""
    key = f"throttle_running_{what}_{request.user.pk}"
    if not cache.add(key, 1, BUSY_SECONDS):
        raise Busy(f"A {what} of yours is still running; ask again when it has finished.")
    try:
        yield
    finally:
        cache.delete(key)
