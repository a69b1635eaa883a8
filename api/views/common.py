"""Helpers the views share: periods in paths, the caller's trusts, CSV or JSON answers."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from api.access import visible_trusts
from api.errors import ApiError
from api.renderers import CSVRenderer, PDFRenderer
from remittance.domain.trust_calendar import FIRST_CALENDAR_YEAR, Period
from trusts.models import Trust

# The reports that are also posted as documents: the distribution statement and the investor's statement.
DOCUMENT_RENDERERS = [JSONRenderer, CSVRenderer, PDFRenderer, BrowsableAPIRenderer]
LAST_YEAR = 9999  # the payment date of 9999-12 would fall in a year dates cannot hold


def is_schema_generation(view) -> bool:
    """drf-spectacular calls views with a fake request that has no user to scope by."""
    return getattr(view, "swagger_fake_view", False)


def parse_period(text: str) -> Period:
    """A YYYY-MM period from a path, within the years the bank-holiday calendar covers; 400 otherwise."""
    try:
        period = Period.parse(text)
    except ValueError as error:
        raise _bad_period(str(error)) from None
    if not FIRST_CALENDAR_YEAR <= period.year < LAST_YEAR:
        raise _bad_period(f"periods run from {FIRST_CALENDAR_YEAR}-01 to {LAST_YEAR - 1}-12")
    return period


def _bad_period(reason: str) -> ApiError:
    return ApiError(status.HTTP_400_BAD_REQUEST, "invalid", "The request has invalid fields; see fields.",
                    {"period": [reason]})


def visible_trust(request, code: str) -> Trust:
    """The trust, if the caller may see it; 404 otherwise, the same as for a trust that does not exist."""
    return get_object_or_404(visible_trusts(request.user), code=code)


def csv_or_json(request, data: dict, to_csv, filename: str, to_pdf=None) -> Response:
    """The report as JSON, or as CSV (?format=csv or Accept: text/csv) or PDF (?format=pdf, where the view has one)
    when asked for."""
    if to_pdf is not None and request.accepted_renderer.format == "pdf":
        return Response(to_pdf(), headers={"Content-Disposition": f'attachment; filename="{filename}.pdf"'})
    if request.accepted_renderer.format == "csv":
        return Response(to_csv(), headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    return Response(data)
