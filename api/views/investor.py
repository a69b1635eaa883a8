"""An investor's own data: holdings as of a date, register lines, distributions, statements.

The holder is always the caller's (request.holder, set by IsInvestor); no
endpoint takes a holder from the request, so no id can reach another
investor's rows: they are simply not in the queryset, and answer 404.
"""
from django.db.models import F
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from ledger import business_time
from api.access import holder_of, is_operations
from api.authentication import INVESTOR_AUTHENTICATION
from api.filters import DistributionFilter, HoldingFilter, RegisterFilter
from api.permissions import IsInvestor
from api.read_cache import CachedInvestorList
from api.serializers.investor import (
    AsOfQuerySerializer,
    DistributionSerializer,
    HoldingSerializer,
    MeSerializer,
    RegisterEntrySerializer,
    StatementSerializer,
)
from api.views.common import DOCUMENT_RENDERERS, csv_or_json, is_schema_generation, parse_period
from api.views.deals import PERIOD
from remittance.models import Distribution
from remittance.domain.report_formats import statement_csv, to_json
from remittance.selectors.distribution_statement import investor_statement_with_shares
from remittance.statement_pdf import investor_statement_pdf
from trusts.models import HoldingMovement
from trusts.selectors import holdings_valued_as_of


class MeView(APIView):
    """Who the caller is: their login, the holder it is linked to (if any), and their roles."""

    authentication_classes = INVESTOR_AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        holder = holder_of(request.user)
        roles = (["investor"] if holder else []) + (["operations"] if is_operations(request.user) else [])
        return Response(MeSerializer({
            "username": request.user.get_username(), "holder_code": holder.code if holder else None,
            "holder_name": holder.name if holder else None, "roles": roles,
        }).data)


@extend_schema(parameters=[AsOfQuerySerializer])
class HoldingsView(CachedInvestorList, generics.ListAPIView):
    """The caller's holdings on a date (?as_of=, default today): original face, factor, face outstanding.

    Kept in the cache until a close or a register change (api.read_cache)."""

    authentication_classes = INVESTOR_AUTHENTICATION
    permission_classes = [IsInvestor]
    serializer_class = HoldingSerializer
    filterset_class = HoldingFilter

    def get_queryset(self):
        if is_schema_generation(self):
            return HoldingMovement.objects.none()
        # A query (the trust filter and the page apply to it); the serializer values each row.
        return holdings_valued_as_of(holder=self.request.holder, as_of=self._as_of())

    def _as_of(self):
        query = AsOfQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data.get("as_of") or business_time.today()


class RegisterViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's lines on the bondholder register: certificates issued, transfers in and out."""

    authentication_classes = INVESTOR_AUTHENTICATION
    permission_classes = [IsInvestor]
    serializer_class = RegisterEntrySerializer
    filterset_class = RegisterFilter

    def get_queryset(self):
        if is_schema_generation(self):
            return HoldingMovement.objects.none()
        return (HoldingMovement.objects.filter(holder=self.request.holder)
                .select_related("security_class__trust").order_by("settlement_date", "id"))


class DistributionViewSet(CachedInvestorList, viewsets.ReadOnlyModelViewSet):
    """The caller's distributions; filter by trust, class and period.

    The list is kept in the cache until a close or a register change (api.read_cache)."""

    authentication_classes = INVESTOR_AUTHENTICATION
    permission_classes = [IsInvestor]
    serializer_class = DistributionSerializer
    filterset_class = DistributionFilter

    def get_queryset(self):
        if is_schema_generation(self):
            return Distribution.objects.none()
        # Rows as dicts of exactly what the serializer shows, the class and trust joined in: one
        # query per page whatever its size, and no model instances to build. The index on
        # (holder, period) (remittance 0003) serves the filter, the period filters and the first
        # ordering key, so a page is read without sorting all of a long-standing holder's rows.
        return (Distribution.objects.filter(holder=self.request.holder)
                .order_by("-period", "security_class__trust__code", "security_class__priority", "id")
                .annotate(total_cents=F("interest_cents") + F("principal_cents"))
                .values(*DistributionSerializer.COLUMNS))


class StatementView(APIView):
    """The caller's statement for a period: every distribution, the totals, the holdings on the record date and
    their share of each class's lines (beginning and ending face, interest, principal by kind, loss), in dollars
    and per $1,000; ?format=pdf gives it as a PDF."""

    authentication_classes = INVESTOR_AUTHENTICATION
    permission_classes = [IsInvestor]
    renderer_classes = DOCUMENT_RENDERERS

    @extend_schema(
        parameters=[PERIOD],
        responses={(200, "application/json"): StatementSerializer, (200, "text/csv"): OpenApiTypes.STR,
                   (200, "application/pdf"): OpenApiTypes.BINARY},
    )
    def get(self, request, period: str):
        month = parse_period(period)
        statement = investor_statement_with_shares(request.holder.code, month)
        return csv_or_json(request, to_json(statement), lambda: statement_csv(statement),
                           f"statement-{request.holder.code}-{month}", to_pdf=lambda: investor_statement_pdf(statement))
