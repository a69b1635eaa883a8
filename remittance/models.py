"""Remittance tables: the periods of each trust and what their closes paid.

`TrustPeriod` is workflow state, not a read model: the close's own record,
written by the closing service. Its status moves OPEN, CLOSING, CLOSED, and
(trust, period) is unique, so there is one close per trust and period in the
database itself. What it holds besides "closed" (a close begun and not
finished, the attempts, who asked, the last error) is in no event, so the
log cannot rebuild it and `rebuild_projections` leaves it alone; where the
log does describe it (a CLOSED row has its PeriodClosed, and the reverse),
`verify_ledger` checks the two agree (remittance.period_reconciliation).

The other tables are projections of the close's events, emptied and rebuilt
by replay (remittance.projections): `PeriodResult` (the figures a period
closed on), `ClassPeriod` (each class's distribution, balance and factor),
`Distribution` (each holder's payment).
"""
from django.conf import settings
from django.db import models
from django.db.models import Q

from remittance.events import PeriodClosed
from trusts.domain.factors import FACTOR_DECIMALS

PERIOD_FORMAT = r"^\d{4}-(0[1-9]|1[0-2])$"


class PeriodStatus(models.TextChoices):
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class TrustPeriod(models.Model):
    """One collection period (calendar month) of a trust and where its close stands (workflow state: see above)."""

    trust = models.ForeignKey("trusts.Trust", on_delete=models.PROTECT, related_name="periods")
    period = models.CharField(max_length=7, help_text="YYYY-MM")
    status = models.CharField(max_length=10, choices=PeriodStatus.choices, default=PeriodStatus.OPEN,
                              db_index=True)
    record_date = models.DateField()
    payment_date = models.DateField()
    attempts = models.PositiveIntegerField(default=0, help_text="closes started; more than one means a retry")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    closing_started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The log position the close read up to: collections recorded later belong to the next period.
    through_position = models.BigIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["trust", "period"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "period"], name="one_close_per_trust_period"),
            models.CheckConstraint(condition=Q(period__regex=PERIOD_FORMAT), name="period_is_a_month"),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(through_position__isnull=False, closed_at__isnull=False),
                name="closed_period_has_its_window"),
        ]

    def __str__(self):
        return f"{self.trust.code} {self.period} {self.status}"


class PeriodResult(models.Model):
    """The figures one trust's period closed on (projection of PeriodClosed)."""

    trust = models.ForeignKey("trusts.Trust", on_delete=models.DO_NOTHING, related_name="period_results",
                              db_constraint=False)
    period = models.CharField(max_length=7)
    record_date = models.DateField()
    payment_date = models.DateField()
    through_position = models.BigIntegerField()
    interest_collected_cents = models.BigIntegerField()
    principal_collected_cents = models.BigIntegerField()
    realized_loss_cents = models.BigIntegerField()
    servicing_fee_cents = models.BigIntegerField()
    issuer_spread_cents = models.BigIntegerField()
    paid_to_holders_cents = models.BigIntegerField()
    excess_cents = models.BigIntegerField()
    retained_cents = models.BigIntegerField(help_text="cash kept in the trust for the next period")
    prior_period_cents = models.BigIntegerField(help_text="collections dated in earlier, closed periods")
    pool_balance_begin_cents = models.BigIntegerField()
    pool_balance_end_cents = models.BigIntegerField()
    pool_factor = models.DecimalField(max_digits=11, decimal_places=FACTOR_DECIMALS)
    # The PeriodClosed payload as recorded (any schema version); read it through `period_closed`.
    figures = models.JSONField(help_text="the whole report the period closed on")
    event_position = models.BigIntegerField()

    class Meta:
        ordering = ["trust", "period"]
        constraints = [models.UniqueConstraint(fields=["trust", "period"], name="one_result_per_trust_period")]

    @property
    def period_closed(self) -> PeriodClosed:
        """The PeriodClosed this row projects, typed (a row written before the current schema is upcast)."""
        return PeriodClosed.from_payload(self.figures)

    def __str__(self):
        return f"{self.trust_id} {self.period}"


class ClassPeriod(models.Model):
    """One class's distribution for one period, its balance and factor after it (projection)."""

    security_class = models.ForeignKey("trusts.SecurityClass", on_delete=models.DO_NOTHING,
                                       related_name="periods", db_constraint=False)
    period = models.CharField(max_length=7)
    payment_date = models.DateField()
    balance_begin_cents = models.BigIntegerField()
    interest_due_cents = models.BigIntegerField()
    interest_paid_cents = models.BigIntegerField()
    interest_shortfall_cents = models.BigIntegerField(help_text="owed at the end of the period, carried")
    principal_paid_cents = models.BigIntegerField()
    loss_written_off_cents = models.BigIntegerField()
    balance_end_cents = models.BigIntegerField(help_text="an accrual class's includes the interest accrued to it")
    factor = models.DecimalField(max_digits=11, decimal_places=FACTOR_DECIMALS)
    event_position = models.BigIntegerField()
    # An accrual (Z) class's interest added to its balance instead of paid; the class's kind (an IO's
    # balances are its notional): trusts.domain.deal_structure.CLASS_KINDS.
    interest_accrued_cents = models.BigIntegerField(default=0)
    kind = models.CharField(max_length=10, default="standard")

    class Meta:
        ordering = ["security_class", "period"]
        constraints = [models.UniqueConstraint(fields=["security_class", "period"], name="one_row_per_class_period")]

    def __str__(self):
        return f"{self.security_class_id} {self.period}"


class Distribution(models.Model):
    """One holder's payment on one class for one period (projection of DistributionPaid)."""

    holder = models.ForeignKey("trusts.Holder", on_delete=models.DO_NOTHING, related_name="distributions",
                               db_constraint=False)
    security_class = models.ForeignKey("trusts.SecurityClass", on_delete=models.DO_NOTHING,
                                       related_name="distributions", db_constraint=False)
    period = models.CharField(max_length=7)
    record_date = models.DateField()
    payment_date = models.DateField()
    face_held_cents = models.BigIntegerField()
    interest_cents = models.BigIntegerField()
    principal_cents = models.BigIntegerField()
    event_position = models.BigIntegerField(unique=True)

    class Meta:
        ordering = ["holder", "period", "security_class"]
        indexes = [models.Index(fields=["holder", "payment_date"], name="distribution_holder_paid"),
                   models.Index(fields=["security_class", "period"], name="distribution_class_period"),
                   # An investor's list (the API's /me/distributions/): their rows, newest period first.
                   models.Index(fields=["holder", "period"], name="distribution_holder_period")]
        constraints = [models.UniqueConstraint(fields=["holder", "security_class", "period"],
                                               name="one_payment_per_holder_class_period")]

    @property
    def total_cents(self) -> int:
        return self.interest_cents + self.principal_cents

    def __str__(self):
        return f"{self.holder_id} {self.security_class_id} {self.period}"
