"""Requests refused before any view: a NUL character in the address.

PostgreSQL cannot store or even compare a text with a NUL (0x00) in it: a
lookup such as /admin/servicing/loan/%00/change/ or ?loan_number=%00 fails
in the database, after the view has started, as a 500. No loan number,
code, period or filter value ever holds one, so an address that does (in
its path or in its query, percent-encoded or not) is refused up front with
a 400 that says why: JSON in the API's shape under /api/, plain text
elsewhere.
"""
from django.http import HttpResponseBadRequest, JsonResponse

from api.errors import error_body

NUL = "\x00"
MESSAGE = "The address contains a NUL character (%00), which no page, filter or value here can hold."


def has_nul(request) -> bool:
    """True when the request's path or any query parameter's name or value holds a NUL."""
    if NUL in request.path or NUL in request.path_info:
        return True
    return any(NUL in name or any(NUL in value for value in values) for name, values in request.GET.lists())


class NulInAddressMiddleware:
    """Answers 400 to a request whose path or query holds a NUL, before any view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse(error_body("bad_request", MESSAGE), status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
