"""The month-end close in the admin: periods and their status, results, class factors, payments.

All of it is the close's own record or a projection of its events, so it is
read-only here; closing a period runs through the closing service (command,
task or, later, an admin action), never by editing a row.
"""
from django.contrib import admin

from ledger.admin import ReadOnlyAdmin
from ledger.money import dollars_grouped
from remittance.models import ClassPeriod, Distribution, PeriodResult, TrustPeriod


def _money(field: str, description: str):
    """A list column showing a *_cents field in dollars, sortable by the field."""
    @admin.display(description=description, ordering=field)
    def column(self, row):
        return dollars_grouped(getattr(row, field))

    return column


@admin.register(TrustPeriod)
class TrustPeriodAdmin(ReadOnlyAdmin):
    list_display = ("trust", "period", "status", "record_date", "payment_date", "attempts", "closed_at",
                    "last_error")
    list_filter = ("status", "trust")
    search_fields = ("trust__code", "period")


@admin.register(PeriodResult)
class PeriodResultAdmin(ReadOnlyAdmin):
    list_display = ("trust", "period", "payment_date", "interest", "principal", "fee", "spread", "to_holders",
                    "excess", "loss", "prior_period", "pool_factor")
    list_filter = ("trust",)
    search_fields = ("trust__code", "period")
    interest = _money("interest_collected_cents", "interest")
    principal = _money("principal_collected_cents", "principal")
    fee = _money("servicing_fee_cents", "servicing fee")
    spread = _money("issuer_spread_cents", "issuer spread")
    to_holders = _money("paid_to_holders_cents", "paid to holders")
    excess = _money("excess_cents", "excess")
    loss = _money("realized_loss_cents", "loss")
    prior_period = _money("prior_period_cents", "prior-period items")


@admin.register(ClassPeriod)
class ClassPeriodAdmin(ReadOnlyAdmin):
    list_display = ("security_class", "period", "interest_due", "interest_paid", "shortfall", "principal_paid",
                    "loss", "balance_end", "factor")
    list_filter = ("security_class__trust",)
    search_fields = ("security_class__trust__code", "security_class__name", "period")
    list_select_related = ("security_class__trust",)
    interest_due = _money("interest_due_cents", "interest due")
    interest_paid = _money("interest_paid_cents", "interest paid")
    shortfall = _money("interest_shortfall_cents", "shortfall carried")
    principal_paid = _money("principal_paid_cents", "principal paid")
    loss = _money("loss_written_off_cents", "loss written off")
    balance_end = _money("balance_end_cents", "balance")


@admin.register(Distribution)
class DistributionAdmin(ReadOnlyAdmin):
    list_display = ("holder", "security_class", "period", "payment_date", "face_held", "interest", "principal",
                    "total")
    list_filter = ("security_class__trust", "period")
    search_fields = ("holder__code", "holder__name", "security_class__trust__code")
    list_select_related = ("holder", "security_class__trust")
    face_held = _money("face_held_cents", "face held")
    interest = _money("interest_cents", "interest")
    principal = _money("principal_cents", "principal")

    @admin.display(description="paid")
    def total(self, distribution):
        return dollars_grouped(distribution.total_cents)
