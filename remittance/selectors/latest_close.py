"""The close's figures that trusts' pages and holdings show, lent to trusts from this side.

Trusts sits below remittance and never imports it: a holding's value on a date
(trusts.selectors.holdings_valued_as_of) takes `class_factor_paid_by` through
trusts.selectors.register_paid_factor (RemittanceConfig.ready), and the trust
admin's class and trust lists take `with_latest_close` and `with_last_closed_period`
through trusts.admin.extensions (remittance.admin).
"""
from __future__ import annotations

from datetime import date

from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from remittance.models import ClassPeriod, PeriodStatus, TrustPeriod


def class_factor_paid_by(security_class: OuterRef, day: date, column: str = "factor") -> Subquery:
    """The factor (or the period, or the payment date) of the class's latest period paid on or before `day`
    (NULL before its first payment)."""
    return Subquery(ClassPeriod.objects.filter(security_class=security_class, payment_date__lte=day)
                    .order_by("-period").values(column)[:1])


def with_latest_close(classes):
    """Classes with the balance, factor and period of their latest close (`balance_cents`, `latest_factor`,
    `latest_period`); the original face, no factor and no period before any close."""
    latest = ClassPeriod.objects.filter(security_class=OuterRef("pk")).order_by("-period")
    return classes.annotate(
        balance_cents=Coalesce(Subquery(latest.values("balance_end_cents")[:1]), F("original_face_cents")),
        latest_factor=Subquery(latest.values("factor")[:1]),
        latest_period=Subquery(latest.values("period")[:1]),
    )


def with_last_closed_period(trusts):
    """Trusts with the latest period they closed (`last_closed_period`, NULL before any)."""
    closed = (TrustPeriod.objects.filter(trust=OuterRef("pk"), status=PeriodStatus.CLOSED)
              .order_by("-period").values("period")[:1])
    return trusts.annotate(last_closed_period=Subquery(closed))
