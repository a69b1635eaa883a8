"""Analytics for a deal the caller may see: projections under a grid of PSA speeds, and realized speeds.

Scoped as every endpoint under /trusts/{code}/ (api.access through
visible_trust): a trust the caller does not hold or never held answers 404,
before its query is even read. The figures are analytics': the trust as the
engine starts it (analytics.selectors.trust_deal, read once for the whole
grid), projected by analytics.domain.deal_projection.project per speed, and its measures
written by analytics.domain.render; realized speeds are
analytics.selectors.realized_speed_history (read once per request), with each period's windows over the periods
before it.

A projection is CPU work in the request (the trust's loans month by month to
the end of the longest, then the waterfall, for each speed), so a request
holds at most MAX_SPEEDS speeds and defaults to one, each speed counts
against the caller's "analytics" rate, and a caller runs one at a time.
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.domain.measures import MeasureError
from analytics.domain.deal_projection import DealProjection, project
from analytics.domain.render import measure_fields
from analytics.selectors import realized_speed_history, trust_deal
from api.errors import ApiError
from api.serializers.analytics import (
    MAX_SPEEDS,
    Grid,
    ProjectionQuerySerializer,
    ProjectionSerializer,
    RealizedSpeedSerializer,
)
from api.throttles import ProjectionThrottle, one_at_a_time
from api.views.common import is_schema_generation, visible_trust
from api.views.deals import CODE
from remittance.models import PeriodResult
from remittance.selectors.reports import speed_windows

WAL_PLACES = 5  # as analytics.domain.render writes every WAL


class ProjectionView(APIView):
    """The trust's current pool and classes projected under each PSA speed asked for: measures and balance paths.

    Throttled by its cost: each speed asked for uses one of the caller's
    scenarios per period (the "analytics" rate), and a caller runs one
    projection at a time; either limit answers 429.
    """

    throttle_classes = [*APIView.throttle_classes, ProjectionThrottle]

    @extend_schema(parameters=[CODE, ProjectionQuerySerializer], responses=ProjectionSerializer)
    def get(self, request, code: str):
        trust = visible_trust(request, code)
        grid = ProjectionQuerySerializer.grid(request)
        with one_at_a_time(request, "projection"):
            return Response(ProjectionSerializer(project_grid(trust.code, grid)).data)

    @staticmethod
    def throttle_cost(request) -> int:
        """The scenarios asked for, read before the query is checked (a bad one is refused after it is counted)."""
        return min(ProjectionQuerySerializer.speeds_asked(request), MAX_SPEEDS)


def project_grid(code: str, grid: Grid) -> dict:
    """The trust projected under every speed of the grid, from one reading of its pool and classes."""
    deal, period = trust_deal(code)
    try:
        projections = [project(deal, prepayment, grid.defaults, grid.pricing) for prepayment in grid.prepayments]
    except MeasureError as error:
        raise _unpriceable(grid, error) from None
    return {"trust": code, "first_period": str(period),
            "scenarios": [_scenario(speed, p) for speed, p in zip(grid.speeds, projections)]}


def _scenario(speed: str, projection: DealProjection) -> dict:
    wal = projection.collateral_wal_years
    return {
        "psa": speed,
        "collateral_wal_years": None if wal is None else f"{wal:.{WAL_PLACES}f}",
        "classes": [{"name": name, **measure_fields(projection.classes[name]), "balances": [
            {"period": m.period, "balance_end_cents": m.waterfall.for_class(name).balance_end_cents}
            for m in projection.months]} for name in projection.class_names],
    }


def _unpriceable(grid: Grid, error: MeasureError) -> ApiError:
    # Only a price (or yield) the caller asked for is refused; a class no yield brings to the default par is null.
    parameter = "yield" if grid.pricing.yield_percent is not None else "price"
    return ApiError(status.HTTP_400_BAD_REQUEST, "invalid", "The request has invalid fields; see fields.",
                    {parameter: [f"a class cannot be priced so under this scenario: {error}"]})


@extend_schema(parameters=[CODE])
class RealizedSpeedsView(generics.ListAPIView):
    """The SMM, CPR and PSA the trust's pool realized in every closed period, oldest first."""

    serializer_class = RealizedSpeedSerializer
    filter_backends = []

    def get_queryset(self):
        if is_schema_generation(self):
            return PeriodResult.objects.none()
        trust = visible_trust(self.request, self.kwargs["code"])
        return PeriodResult.objects.filter(trust=trust).select_related("trust").order_by("period")

    def list(self, request, *args, **kwargs):
        results = self.paginate_queryset(self.get_queryset())
        if not results:
            return self.get_paginated_response([])
        # The windows of a period look back over every closed period before it: the history is read once.
        history = realized_speed_history(results[0].trust.code)
        through = {r.period: history[:i + 1] for i, r in enumerate(history)}
        page = [through[r.period][-1] for r in results]
        context = {**self.get_serializer_context(), "windows": {r.period: speed_windows(through[r.period])
                                                                for r in page}}
        return self.get_paginated_response(RealizedSpeedSerializer(page, many=True, context=context).data)
