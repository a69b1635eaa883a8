"""What a request's act looks like right now, for the staff watching it (read only)."""
from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from approvals.models import ApprovalRequest, Kind
from remittance.models import PeriodStatus, TrustPeriod


def with_live_status(requests: QuerySet) -> QuerySet:
    """The requests with their period's status and last error, in the same query (for lists)."""
    periods = TrustPeriod.objects.filter(trust=OuterRef("trust"), period=OuterRef("period"))
    return requests.annotate(period_status=Subquery(periods.values("status")[:1]),
                             period_error=Subquery(periods.values("last_error")[:1]))


def live_status(request: ApprovalRequest) -> str:
    """A close's period as it stands (open, closing, closed, its last error); a reversal's outcome."""
    if request.kind != Kind.PERIOD_CLOSE:
        return request.outcome or "—"  # a reversal is recorded in the approval itself: nothing runs later
    if hasattr(request, "period_status"):
        status, error = request.period_status, request.period_error
    else:
        row = TrustPeriod.objects.filter(trust_id=request.trust_id, period=request.period).first()
        status, error = (row.status, row.last_error) if row else (None, "")
    text = f"period {status or PeriodStatus.OPEN}"  # no row yet: nobody started closing it
    if error and status != PeriodStatus.CLOSED:
        text += f"; last error: {error}"
    return text
