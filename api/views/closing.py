"""The month-end close over the API: ask for a period's close (202), then poll its status and result.

Four eyes: the API asks, it does not close. A POST files an approval request
(approvals.services.close_request) under the caller's login; the close runs
(a Celery task) once another staff member with approval permission approves
it in the admin, and the period's status then moves to closing and closed.
Before asking, the request is checked against what the closing service would
refuse at once (a period already closed or not yet ended, an earlier period
still open), so the caller hears about it now instead of polling a close
that never starts; the service checks again when it runs.
"""
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import ApiError
from api.idempotency import idempotent
from api.permissions import IsOperations
from api.serializers.operations import CloseAcceptedSerializer, CloseRequestSerializer, PeriodStatusSerializer
from api.views.common import parse_period, visible_trust
from api.views.deals import CODE, PERIOD
from approvals.errors import ApprovalRefused, DuplicateRequest
from approvals.services import close_request
from ledger.business_time import today
from remittance.domain.trust_calendar import Period, payment_date, record_date
from remittance.errors import PeriodAlreadyClosed
from remittance.models import PeriodResult, PeriodStatus, TrustPeriod
from remittance.services.closing import close_request_check, first_period
from trusts.models import Trust


@extend_schema(parameters=[CODE, PERIOD])
class PeriodCloseView(APIView):
    """Ask for the close of a trust's period (an approval request); 202 with the URL to poll for its status."""

    permission_classes = [IsOperations]

    @extend_schema(request=CloseRequestSerializer, responses={202: CloseAcceptedSerializer})
    @idempotent
    def post(self, request, code: str, period: str):
        CloseRequestSerializer(data=request.data).is_valid(raise_exception=True)
        trust, month = visible_trust(request, code), parse_period(period)
        _refuse_early(trust, month)
        _ask(request.user, trust, month)
        status_url = reverse("api:period-detail", args=[trust.code, str(month)])
        body = {"trust": trust.code, "period": str(month), "status": "requested",
                "status_url": request.build_absolute_uri(status_url)}
        return Response(CloseAcceptedSerializer(body).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": status_url})


def _refuse_early(trust: Trust, month: Period) -> None:
    if PeriodResult.objects.filter(trust=trust, period=str(month)).exists():
        raise PeriodAlreadyClosed(trust.code, str(month))
    close_request_check(trust, month, today())  # CloseRefused answers 422 close_refused


def _ask(user, trust: Trust, month: Period) -> None:
    """File the approval request; the close runs once another staff member approves it."""
    try:
        close_request(trust_code=trust.code, period=str(month), requested_by=user)
    except DuplicateRequest as pending:  # someone already asked: that request is the one to approve
        raise ApiError(status.HTTP_409_CONFLICT, "close_already_requested", str(pending)) from None
    except ApprovalRefused as refused:
        raise ApiError(status.HTTP_422_UNPROCESSABLE_ENTITY, "close_refused", str(refused)) from None


@extend_schema(parameters=[CODE, PERIOD])
class PeriodStatusView(APIView):
    """Where a period's close stands (open, closing, closed), why it last failed, and its result once closed."""

    permission_classes = [IsOperations]

    @extend_schema(responses=PeriodStatusSerializer)
    def get(self, request, code: str, period: str):
        trust, month = visible_trust(request, code), parse_period(period)
        if month < first_period(trust):
            raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", "Not found.")
        # A period nobody asked to close yet has no row: it is open, with the calendar's dates.
        body = {"status": PeriodStatus.OPEN, "record_date": record_date(month),
                "payment_date": payment_date(month, payment_day=trust.payment_day), "attempts": 0,
                "closing_started_at": None, "closed_at": None, "last_error": ""}
        row = TrustPeriod.objects.filter(trust=trust, period=str(month)).first()
        if row is not None:
            body = {name: getattr(row, name) for name in body}
        result = PeriodResult.objects.filter(trust=trust, period=str(month)).first()
        report = reverse("api:trust-report", args=[trust.code, str(month)])
        body.update(trust=trust.code, period=str(month), result=result,
                    report_url=request.build_absolute_uri(report) if result else None)
        return Response(PeriodStatusSerializer(body).data)
