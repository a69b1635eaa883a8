"""One shape for every error: {"error": {"code": ..., "message": ..., "fields": {...}}}.

DRF's own errors (validation, authentication, permission, not found,
throttling) and the services' refusals are all rendered here. A refusal is
the client's problem, so it is a 4xx: 409 when the state of things stands in
the way (already closed, busy, the reference used before), 422 when the
request is well-formed but the business rules say no, 404 for what does not
exist or is not the caller's. Anything else is a bug: logged, and answered
500 in the same shape without internals.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views.defaults import bad_request as django_bad_request
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ledger.errors import ConcurrencyConflict, IdempotencyConflict, LedgerError
from ledger.domain.money import MoneyFormatError
from remittance.errors import CloseInProgress, CloseRefused, PeriodAlreadyClosed
from remittance.selectors.reports import ReportUnavailable
from servicing.errors import FileRejected, LoanClosed, ServicingError, UnknownLoan
from servicing.services.payment_requests import DuplicateReference, LoanBusy
from trusts.errors import DealRejected, TrustError
from webhooks.errors import ReplayRefused, SubscriptionRefused, TargetRefused

log = logging.getLogger(__name__)

# The first matching class wins, so subclasses come before their bases.
REFUSALS: list[tuple[type[Exception], int, str]] = [
    (FileRejected, status.HTTP_422_UNPROCESSABLE_ENTITY, "file_rejected"),
    (UnknownLoan, status.HTTP_422_UNPROCESSABLE_ENTITY, "unknown_loan"),
    (LoanClosed, status.HTTP_409_CONFLICT, "loan_closed"),
    (DuplicateReference, status.HTTP_409_CONFLICT, "duplicate_reference"),
    (LoanBusy, status.HTTP_409_CONFLICT, "loan_busy"),
    (ServicingError, status.HTTP_422_UNPROCESSABLE_ENTITY, "refused"),
    (DealRejected, status.HTTP_422_UNPROCESSABLE_ENTITY, "deal_rejected"),
    (TrustError, status.HTTP_422_UNPROCESSABLE_ENTITY, "refused"),
    (PeriodAlreadyClosed, status.HTTP_409_CONFLICT, "period_already_closed"),
    (CloseInProgress, status.HTTP_409_CONFLICT, "close_in_progress"),
    (CloseRefused, status.HTTP_422_UNPROCESSABLE_ENTITY, "close_refused"),
    (ReportUnavailable, status.HTTP_404_NOT_FOUND, "report_unavailable"),
    (IdempotencyConflict, status.HTTP_409_CONFLICT, "idempotency_conflict"),
    (ConcurrencyConflict, status.HTTP_409_CONFLICT, "concurrency_conflict"),
    (LedgerError, status.HTTP_422_UNPROCESSABLE_ENTITY, "refused"),
    (MoneyFormatError, status.HTTP_400_BAD_REQUEST, "invalid"),
    (TargetRefused, status.HTTP_422_UNPROCESSABLE_ENTITY, "url_refused"),
    (SubscriptionRefused, status.HTTP_422_UNPROCESSABLE_ENTITY, "subscription_refused"),
    (ReplayRefused, status.HTTP_409_CONFLICT, "replay_refused"),
]

# Refusals that list problems: where the list goes in "fields".
PROBLEM_FIELDS = {FileRejected: "file", DealRejected: "deal"}


class ApiError(exceptions.APIException):
    """An error a view raises with its own code, status and field errors."""

    def __init__(self, status_code: int, code: str, message: str, fields: dict | None = None):
        super().__init__(message, code)
        self.status_code, self.error_code, self.fields = status_code, code, fields or {}


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error as one shape, never a stack trace."""
    _answer_errors_in_json(context.get("request"))
    if isinstance(exc, ApiError):
        return Response(error_body(exc.error_code, str(exc.detail), exc.fields), status=exc.status_code)
    if isinstance(exc, SuspiciousOperation):
        # Django refused to read the request (a body over the limit, too many fields): the client's doing.
        code, message, status_code = _unreadable(exc)
        return Response(error_body(code, message), status=status_code)
    refusal = _refusal(exc)
    if refusal is not None:
        return refusal
    exc = _as_drf(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        log.exception("unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(error_body("server_error", "Something went wrong on our side; it has been logged."),
                        status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    response.data = _drf_error(exc, response.data)
    return response


def _unreadable(exc: SuspiciousOperation) -> tuple[str, str, int]:
    """What to answer a request Django would not read: 413 for a body over the limit, else 400."""
    if isinstance(exc, RequestDataTooBig):
        return ("too_large", f"The request body is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes "
                             "the API accepts (files are uploaded as multipart/form-data).",
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return "bad_request", f"The request cannot be read: {exc}", status.HTTP_400_BAD_REQUEST


def _as_drf(exc):
    # One message for everything not found, whatever the model: nothing to tell "not yours" from "none".
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(exc.messages)
    return exc


def _refusal(exc) -> Response | None:
    for kind, status_code, code in REFUSALS:
        if isinstance(exc, kind):
            fields = {}
            for problem_kind, field in PROBLEM_FIELDS.items():
                if isinstance(exc, problem_kind):
                    fields = {field: [str(p) for p in exc.problems]}
            message = str(exc).split("\n", 1)[0]  # the problems are listed in fields, one each
            return Response(error_body(code, message, fields), status=status_code)
    return None


def _drf_error(exc, data) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        return error_body("invalid", "The request has invalid fields; see fields.", _strings(fields))
    code = exc.get_codes() if hasattr(exc, "get_codes") else "error"
    detail = data.get("detail", data) if isinstance(data, dict) else data
    return error_body(code if isinstance(code, str) else "error", str(detail))


def _strings(value):
    """Field errors as plain strings (DRF gives ErrorDetail objects, nested for nested fields)."""
    if isinstance(value, dict):
        return {str(k): _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    return str(value)


def _answer_errors_in_json(request) -> None:
    # A CSV or PDF download that fails answers the error in JSON: neither has a place for it.
    if request is not None and getattr(getattr(request, "accepted_renderer", None), "format", "json") in ("csv", "pdf"):
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"


# What an error status means, for an error answer under /api/ that did not come from a DRF view.
STATUS_CODES = {
    400: ("bad_request", "The request cannot be read."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("too_large", "The request is too large."),
    429: ("throttled", "Too many requests; wait and ask again."),
    500: ("server_error", "Something went wrong on our side; it has been logged."),
}
# Headers of the original answer that still hold for the JSON one.
KEPT_HEADERS = ("Allow", "Retry-After")


class ApiErrorShapeMiddleware:
    """Every error under /api/ in the one JSON shape, whoever answered it.

    DRF's views answer their errors through exception_handler above. Django
    answers the rest itself: an unknown URL, a method no view has, a crash
    outside a view, a request it would not read, and with DEBUG on its HTML
    debug pages instead of the handlers below. This middleware (the
    outermost) sees those answers last and turns any that is not already
    JSON into the shape; DRF's own answers, in whatever format the client
    negotiated (the browsable API's HTML too), are left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/api/") or response.status_code < 400 or isinstance(response, Response):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        return _json_error(response)


def _json_error(response):
    code, message = STATUS_CODES.get(response.status_code, ("error" if response.status_code < 500 else "server_error",
                                                             response.reason_phrase or "Error."))
    answer = JsonResponse(error_body(code, message), status=response.status_code)
    for header in KEPT_HEADERS:
        if header in response:
            answer[header] = response[header]
    return answer


def bad_request(request, exception=None):
    """handler400: JSON in the one shape under /api/ (413 for a body over the limit), Django's page elsewhere."""
    if request.path.startswith("/api/"):
        code, message, status_code = (_unreadable(exception) if isinstance(exception, SuspiciousOperation)
                                      else (*STATUS_CODES[400], 400))
        return JsonResponse(error_body(code, message), status=status_code)
    return django_bad_request(request, exception)


def not_found(request, exception=None):
    """handler404: JSON in the one shape under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    return page_not_found(request, exception)


def server_failure(request):
    """handler500: JSON in the one shape under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("server_error", "Something went wrong on our side; it has been logged."),
                            status=500)
    return server_error(request)
