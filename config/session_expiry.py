"""Admin sessions end after SESSION_IDLE_TIMEOUT without a request and SESSION_ABSOLUTE_AGE after login.

Django alone gives one of the two: SESSION_COOKIE_AGE counts from the last
time the session was saved, so it is neither an idle limit (a quiet session
is not saved) nor a hard limit (a busy one keeps moving it). Operations staff
expect both: a desk left for half an hour is logged out, and nobody stays
logged in past a working day. An ended session is logged out; the admin then
sends the browser to its login page with ?next= back to where it was.
"""
import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

LOGGED_IN_AT = "mbs_logged_in_at"
LAST_SEEN_AT = "mbs_last_seen_at"
# The last-seen time is written at most once a minute, so a page of requests is not a page of
# session writes; the idle limit is therefore exact to within this many seconds.
SEEN_GRANULARITY_SECONDS = 60


def session_ended(session, now: float) -> bool:
    """True when the logged-in session is past its idle or its absolute limit."""
    logged_in_at = session.get(LOGGED_IN_AT, now)
    last_seen_at = session.get(LAST_SEEN_AT, now)
    return (now - last_seen_at > settings.SESSION_IDLE_TIMEOUT
            or now - logged_in_at > settings.SESSION_ABSOLUTE_AGE)


def note_activity(session, now: float) -> None:
    """Stamp the login time once and the last request time (at most once a minute)."""
    session.setdefault(LOGGED_IN_AT, now)
    if now - session.get(LAST_SEEN_AT, 0) >= SEEN_GRANULARITY_SECONDS:
        session[LAST_SEEN_AT] = now


@receiver(user_logged_in, dispatch_uid="mbs-session-expiry-stamp")
def stamp_login(sender, request, user, **kwargs):
    """A new login starts both clocks afresh, even in a session that outlived an earlier login."""
    if request is not None and hasattr(request, "session"):
        now = time.time()
        request.session[LOGGED_IN_AT] = now
        request.session[LAST_SEEN_AT] = now


class SessionExpiryMiddleware:
    """Logs out a session that has been idle too long or is older than the working day allows."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        # Only logged-in sessions: a token-authenticated API call has no session and costs no query.
        if SESSION_KEY in session:
            now = time.time()
            if session_ended(session, now):
                logout(request)
            else:
                note_activity(session, now)
        return self.get_response(request)
