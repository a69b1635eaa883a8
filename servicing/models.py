"""Servicing's tables: who borrowed, against what, on which terms, and where each loan stands.

`Borrower`, `Property`, `Loan` and `EscrowItem` are read models: the
projection `servicing.projections.loans` writes them from `LoanBoarded` and
`EscrowItemAdded` (which carry every term) in the append's transaction, and a
rebuild writes them again. `LoanPosition` is the fold of the loan's stream and
`CollectionLine` a copy of each event's collections: rebuilt by replay too.
"""
import builtins

from django.db import models
from django.db.models import Q

from servicing.domain.delinquency_status import CURRENT


class Borrower(models.Model):
    name = models.CharField(max_length=200, db_index=True)

    def __str__(self):
        return self.name


class Property(models.Model):
    class Type(models.TextChoices):
        RESIDENTIAL = "residential"
        COMMERCIAL = "commercial"

    address = models.CharField(max_length=300)
    property_type = models.CharField(max_length=20, choices=Type.choices)
    value_cents = models.BigIntegerField()

    class Meta:
        verbose_name_plural = "properties"
        constraints = [models.CheckConstraint(condition=Q(value_cents__gte=0), name="property_value_not_negative")]

    def __str__(self):
        return self.address


class Loan(models.Model):
    """A loan's identity and the terms it was boarded on (also in its LoanBoarded event)."""

    loan_number = models.CharField(max_length=40, primary_key=True)
    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="loans")
    property = models.ForeignKey(Property, on_delete=models.PROTECT, related_name="loans")
    original_balance_cents = models.BigIntegerField()
    boarded_balance_cents = models.BigIntegerField(help_text="unpaid principal when boarded")
    note_rate = models.DecimalField(max_digits=7, decimal_places=4, help_text="annual percent")
    term_months = models.PositiveIntegerField()
    first_payment_date = models.DateField()
    servicing_fee_rate = models.DecimalField(max_digits=7, decimal_places=4, help_text="annual percent")
    payment_pi_cents = models.BigIntegerField(help_text="level monthly principal and interest")
    autopay = models.BooleanField(default=False)
    boarded_on = models.DateField()
    # Loan products (issue 20): the rest of the terms snapshot is on the LoanBoarded event.
    product = models.CharField(max_length=10, default="fixed")
    interest_only_months = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(original_balance_cents__gt=0), name="loan_original_balance_positive"),
            models.CheckConstraint(
                condition=Q(boarded_balance_cents__gte=0, boarded_balance_cents__lte=models.F("original_balance_cents")),
                name="loan_boarded_balance_within_original",
            ),
        ]

    def __str__(self):
        return self.loan_number

    @builtins.property  # the `property` field shadows the builtin in this class body
    def stream(self) -> str:
        return loan_stream(self.loan_number)


def loan_stream(loan_number: str) -> str:
    return f"loan:{loan_number}"


class EscrowItem(models.Model):
    """A bill the servicer pays from escrow: tax, hazard, flood or mortgage insurance."""

    class Kind(models.TextChoices):
        PROPERTY_TAX = "property_tax"
        HAZARD_INSURANCE = "hazard_insurance"
        FLOOD_INSURANCE = "flood_insurance"
        MORTGAGE_INSURANCE = "mortgage_insurance"

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="escrow_items")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    payee = models.CharField(max_length=200)
    annual_amount_cents = models.BigIntegerField()
    # ISO dates of the disbursements in the coming year, e.g. ["2026-04-01", "2026-10-01"].
    due_dates = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["loan", "kind"], name="escrow_item_one_per_kind"),
            models.CheckConstraint(condition=Q(annual_amount_cents__gt=0), name="escrow_item_amount_positive"),
        ]

    def __str__(self):
        return f"{self.loan_id} {self.kind}"


class LoanStatus(models.TextChoices):
    ACTIVE = "active"
    PAID_OFF = "paid_off"
    FORECLOSURE = "foreclosure"
    REO = "reo"
    LIQUIDATED = "liquidated"
    CHARGED_OFF = "charged_off"


CLOSED_STATUSES = (LoanStatus.PAID_OFF, LoanStatus.LIQUIDATED, LoanStatus.CHARGED_OFF)


class LoanPosition(models.Model):
    """Where a loan stands now: a projection of its stream, rebuilt exactly by replay."""

    loan = models.OneToOneField(Loan, on_delete=models.DO_NOTHING, primary_key=True, related_name="position",
                                db_constraint=False)
    status = models.CharField(max_length=20, choices=LoanStatus.choices, default=LoanStatus.ACTIVE, db_index=True)
    principal_balance_cents = models.BigIntegerField()
    note_rate = models.DecimalField(max_digits=7, decimal_places=4)
    payment_pi_cents = models.BigIntegerField()
    escrow_monthly_cents = models.BigIntegerField()
    # No index: a payment moves the due date, and an index on it would make every position update
    # write every index of the row (no HOT update); the daily autopay scan and the staff's sort
    # by due date read the table instead (docs/SCHEMA.md).
    next_due_date = models.DateField()
    last_payment_date = models.DateField(null=True, blank=True)
    escrow_balance_cents = models.BigIntegerField(default=0)
    escrow_advance_cents = models.BigIntegerField(default=0, help_text="escrow the servicer advanced, to recover")
    suspense_cents = models.BigIntegerField(default=0)
    late_charges_due_cents = models.BigIntegerField(default=0)
    fees_due_cents = models.BigIntegerField(default=0)
    delinquency_bucket = models.CharField(max_length=10, default=CURRENT, db_index=True)
    realized_loss_cents = models.BigIntegerField(default=0)
    # Default servicing (issue 20). Principal set aside by a modification or a forbearance: it bears no
    # interest and is due at payoff, maturity or sale, so it is kept apart from the interest-bearing balance.
    deferred_principal_cents = models.BigIntegerField(default=0)
    # The loss-mitigation step the loan is in ("" for none): forbearance, repayment_plan, trial or modified.
    loss_mitigation = models.CharField(max_length=20, default="", blank=True)
    # An open bankruptcy case: its chapter (7 or 13) and filing date; None when there is none (or it ended).
    bankruptcy_chapter = models.PositiveSmallIntegerField(null=True, blank=True)
    bankruptcy_filed_on = models.DateField(null=True, blank=True)
    # Loan products (issue 20). A balloon loan's last due date (its installment is the whole balance; None when
    # fully amortizing), and the terms timeline: [first due date or None, note rate, P&I] from each change on
    # (servicing.domain.loan_terms.TermsStep; empty while the boarded terms never changed).
    balloon_due_date = models.DateField(null=True, blank=True)
    terms_changes = models.JSONField(default=list, blank=True)
    stream_version = models.PositiveIntegerField()
    last_position = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(principal_balance_cents__gte=0), name="position_upb_not_negative"),
            models.CheckConstraint(condition=Q(escrow_balance_cents__gte=0), name="position_escrow_not_negative"),
            models.CheckConstraint(condition=Q(suspense_cents__gte=0), name="position_suspense_not_negative"),
            models.CheckConstraint(condition=Q(deferred_principal_cents__gte=0),
                                   name="position_deferred_not_negative"),
        ]

    def __str__(self):
        return f"{self.loan_id}: {self.principal_balance_cents}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class CollectionLine(models.Model):
    """One money event of a loan's stream, as the month-end close sums it (projection).

    A row per event whose `collections` are not all zero: what it collected
    by kind, on its effective date, at its log position. The close of a
    trust's period adds up the rows of its pool's loans in a window of
    effective dates and log positions, so it never reads the payloads again.
    """

    event_position = models.BigIntegerField(primary_key=True)
    # No index of its own: collection_line_loan_date starts with the loan.
    loan = models.ForeignKey(Loan, on_delete=models.DO_NOTHING, related_name="collection_lines",
                             db_constraint=False, db_index=False)
    effective_date = models.DateField()
    interest_cents = models.BigIntegerField()
    scheduled_principal_cents = models.BigIntegerField()
    curtailment_cents = models.BigIntegerField()
    payoff_principal_cents = models.BigIntegerField()
    liquidation_principal_cents = models.BigIntegerField()
    realized_loss_cents = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["loan", "effective_date"], name="collection_line_loan_date")]

    def __str__(self):
        return f"{self.loan_id} {self.effective_date} @{self.event_position}"


class IndexValue(models.Model):
    """An ARM index's published value for a day (read model of IndexValueRecorded on the `index:<name>` stream)."""

    index = models.CharField(max_length=20)
    on = models.DateField()
    percent = models.DecimalField(max_digits=9, decimal_places=5)
    event_position = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["index", "on"], name="index_value_one_a_day")]

    def __str__(self):
        return f"{self.index} {self.on} {self.percent}%"


def index_stream(index: str) -> str:
    return f"index:{index}"
