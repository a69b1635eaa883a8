"""Deals: trusts with their classes, factor history, payment dates and remittance reports; forming a trust.

Reads are scoped by api.access.visible_trusts: operations staff see every
trust, an investor the trusts they hold or held, and a trust outside that
answers 404 on every endpoint under it. Forming a trust is for operations.
"""
import json
from datetime import date

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger import business_time
from api.access import visible_trusts
from api.errors import ApiError
from api.filters import FactorFilter
from api.idempotency import idempotent
from api.parsers import StrictJSONParser
from api.permissions import IsOperations, ReadOrOperations
from api.renderers import CSVRenderer
from api.serializers.deals import (
    ClassPeriodSerializer,
    DealUploadSerializer,
    PaymentDateSerializer,
    SecurityClassSerializer,
    TrustSerializer,
)
from api.views.common import DOCUMENT_RENDERERS, csv_or_json, is_schema_generation, parse_period, visible_trust
from remittance.domain.trust_calendar import Period, payment_date, record_date
from remittance.selectors.latest_close import with_latest_close
from remittance.models import ClassPeriod, PeriodResult, PeriodStatus, TrustPeriod
from remittance.domain.report_formats import loan_level_csv, report_csv, report_json, to_json
from remittance.selectors.distribution_statement import distribution_statement
from remittance.selectors.loan_level import loan_level_file, loan_level_rows
from remittance.selectors.reports import remittance_report
from remittance.services.closing import first_period
from remittance.statement_pdf import statement_pdf
from trusts.models import SecurityClass, Trust
from trusts.services.forming import deal_file_form

CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="trust code",
                        examples=[OpenApiExample("the seed's trust", value="XYZ-2026-1")])
PERIOD = OpenApiParameter("period", str, OpenApiParameter.PATH, description="collection period, YYYY-MM",
                          examples=[OpenApiExample("February 2026", value="2026-02")])
# Payment dates are listed this many months past the current period.
MONTHS_AHEAD = 12


def _with_latest_result(trusts):
    latest = PeriodResult.objects.filter(trust=OuterRef("pk")).order_by("-period")
    return trusts.annotate(
        latest_closed_period=Subquery(latest.values("period")[:1]),
        pool_balance_cents=Subquery(latest.values("pool_balance_end_cents")[:1]),
        pool_factor=Subquery(latest.values("pool_factor")[:1]),
    ).order_by("code")


@extend_schema(parameters=[CODE])
class TrustDetailView(generics.RetrieveAPIView):
    """A trust the caller may see, with its pool balance and factor after the latest close."""

    serializer_class = TrustSerializer
    lookup_field = "code"

    def get_queryset(self):
        return _with_latest_result(visible_trusts(self.request.user))


class TrustListView(generics.ListAPIView):
    """GET: the trusts the caller may see. POST (operations): form a trust from a deal file."""

    serializer_class = TrustSerializer
    permission_classes = [ReadOrOperations]
    parser_classes = [StrictJSONParser, MultiPartParser]

    def get_queryset(self):
        return _with_latest_result(visible_trusts(self.request.user))

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT, "multipart/form-data": DealUploadSerializer},
        responses={201: TrustSerializer},
        description="Form a trust from a deal file (the README's deal-file format), sent as the JSON body or "
                    "uploaded as `file`. Every problem is reported together (422) and nothing is formed.",
    )
    @idempotent
    def post(self, request):
        trust = deal_file_form(raw=self._deal_bytes(request), acting_user=request.user)
        body = TrustSerializer(_with_latest_result(Trust.objects.filter(pk=trust.pk)).get()).data
        location = reverse("api:trust-detail", args=[trust.code])
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    @staticmethod
    def _deal_bytes(request) -> bytes:
        if request.content_type.startswith("multipart/"):
            upload = DealUploadSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            raw = upload.raw()
            data = _json_or_none(raw)  # not JSON at all: the forming service says so, with the reason
        else:
            data = request.data
            raw = json.dumps(data).encode()
        if _holds_nul(data):
            raise ApiError(status.HTTP_400_BAD_REQUEST, "invalid", "The deal file contains NUL characters.")
        return raw


def _json_or_none(raw: bytes):
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        return None


def _holds_nul(value) -> bool:
    # A NUL could not be stored in any text column; the deal's own checks do not look for it.
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return isinstance(value, str) and "\x00" in value


class _TrustChildList(generics.ListAPIView):
    """A list under /trusts/{code}/: the trust is looked up among the caller's first (404 if not theirs)."""

    def trust(self) -> Trust:
        return visible_trust(self.request, self.kwargs["code"])


@extend_schema(parameters=[CODE])
class ClassListView(_TrustChildList):
    """The trust's classes with their balance and factor after the latest closed period."""

    serializer_class = SecurityClassSerializer

    def get_queryset(self):
        if is_schema_generation(self):
            return SecurityClass.objects.none()
        return with_latest_close(SecurityClass.objects.filter(trust=self.trust())).order_by("priority", "name")


@extend_schema(parameters=[CODE])
class FactorHistoryView(_TrustChildList):
    """Each class's distribution, balance and factor for every closed period (filter by class and period)."""

    serializer_class = ClassPeriodSerializer
    filterset_class = FactorFilter

    def get_queryset(self):
        if is_schema_generation(self):
            return ClassPeriod.objects.none()
        return (ClassPeriod.objects.filter(security_class__trust=self.trust()).select_related("security_class")
                .order_by("period", "security_class__priority", "security_class__name"))


@extend_schema(parameters=[CODE])
class PaymentDatesView(_TrustChildList):
    """Every collection period from the trust's first to a year ahead: record date, payment date, status."""

    serializer_class = PaymentDateSerializer
    filter_backends = []

    def get_queryset(self):
        if is_schema_generation(self):
            return []
        trust = self.trust()
        statuses = dict(TrustPeriod.objects.filter(trust=trust).values_list("period", "status"))
        return [{"period": str(p), "record_date": record_date(p), "payment_date": payment_date(
                    p, payment_day=trust.payment_day), "status": statuses.get(str(p), PeriodStatus.OPEN)}
                for p in _periods(first_period(trust), business_time.today())]


def _periods(first: Period, today: date) -> list[Period]:
    last = max(Period.containing(today), first)
    for _ in range(MONTHS_AHEAD):
        last = last.next()
    periods, period = [], first
    while period <= last:
        periods.append(period)
        period = period.next()
    return periods


class _TrustPeriodDocument(APIView):
    """A document of a trust's closed period, in JSON, CSV (?format=csv) or PDF (?format=pdf)."""

    renderer_classes = DOCUMENT_RENDERERS
    name = ""  # the file's name starts with it
    # Each subclass has document(trust_code, month) -> (the JSON, a function giving the CSV, one giving the PDF).

    @extend_schema(parameters=[CODE, PERIOD],
                   responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR,
                              (200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, code: str, period: str):
        trust = visible_trust(request, code)
        month = parse_period(period)
        data, to_csv, to_pdf = self.document(trust.code, month)
        return csv_or_json(request, data, to_csv, f"{self.name}-{trust.code}-{month}", to_pdf=to_pdf)


class RemittanceReportView(_TrustPeriodDocument):
    """The trust's remittance report for a closed period (JSON, or CSV with ?format=csv); ?format=pdf gives the
    distribution statement to certificateholders as a PDF (the report's figures and the statement's)."""

    name = "remittance"

    def document(self, trust_code: str, month: Period):
        report = remittance_report(trust_code, month)
        return (report_json(report), lambda: report_csv(report),
                lambda: statement_pdf(distribution_statement(trust_code, month)))


class DistributionStatementView(_TrustPeriodDocument):
    """The trust's distribution statement to certificateholders for a closed period: per class (CUSIP, rate and
    accrual dates, principal by kind, per $1,000), losses, collateral, delinquency, credit enhancement, speeds.
    JSON, CSV (?format=csv) or PDF (?format=pdf)."""

    name = "statement"

    def document(self, trust_code: str, month: Period):
        statement = distribution_statement(trust_code, month)
        return to_json(statement), lambda: report_csv(statement), lambda: statement_pdf(statement)


class LoanLevelView(APIView):
    """The loan-level investor reporting file of a closed period: a row per pool loan and the totals, reconciled
    to the close (operations only; JSON, or CSV with ?format=csv)."""

    renderer_classes = [JSONRenderer, CSVRenderer, BrowsableAPIRenderer]  # no PDF of a loan file
    permission_classes = [IsOperations]

    @extend_schema(parameters=[CODE, PERIOD],
                   responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, code: str, period: str):
        trust = visible_trust(request, code)
        rows = loan_level_rows(loan_level_file(trust.code, parse_period(period)))
        return csv_or_json(request, {"trust": trust.code, "period": period, "rows": to_json(rows)},
                           lambda: loan_level_csv(rows), f"loan-level-{trust.code}-{period}")
