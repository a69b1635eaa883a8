"""Trusts' tables: the SPV trust, its classes, its pool and its bondholder register.

Every table here is a projection of trusts.events (trusts.projections), rebuilt
by replay: `Trust` and `SecurityClass` from TrustFormed, `Holder` from
HolderRegistered and HolderDetailsChanged, `PoolLoan` from the trust's stream,
`HoldingMovement` from the register's. Their ids are deterministic (taken from
log positions, see trusts.projections), so a rebuild gives every row its id back.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q

from trusts.domain import deal_structure, principal_rules


class Holder(models.Model):
    """A bondholder (investor), optionally linked to a portal login."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    contact = models.CharField(max_length=300, blank=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="holder")

    def __str__(self):
        return f"{self.code} {self.name}"


class Trust(models.Model):
    class RemittanceType(models.TextChoices):
        ACTUAL_ACTUAL = "actual/actual"
        SCHEDULED_SCHEDULED = "scheduled/scheduled"

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    issuer = models.CharField(max_length=200)
    servicer = models.CharField(max_length=200)
    trustee = models.CharField(max_length=200)
    closing_date = models.DateField()
    cutoff_date = models.DateField()
    first_payment_date = models.DateField()
    payment_day = models.PositiveSmallIntegerField(default=25)
    issuer_spread_rate = models.DecimalField(max_digits=7, decimal_places=4, help_text="annual percent")
    remittance_type = models.CharField(max_length=30, choices=RemittanceType.choices,
                                       default=RemittanceType.ACTUAL_ACTUAL)
    purchase_price_percent = models.DecimalField(max_digits=9, decimal_places=4)
    residual_holder = models.CharField(max_length=200, help_text="receives excess spread")
    overcollateralized = models.BooleanField(default=False)
    # The deal's structure as TrustFormed (v3) recorded it (trusts.domain.structure_json); {} is the
    # standard deal. Read it through trusts.selectors.deal_structure, never key by key.
    structure = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return self.code

    @property
    def stream(self) -> str:
        return trust_stream(self.code)


def trust_stream(code: str) -> str:
    return f"trust:{code}"


def register_stream(code: str) -> str:
    return f"register:{code}"


def holder_stream(code: str) -> str:
    return f"holder:{code}"


class SecurityClass(models.Model):
    """A class (tranche) of the trust's bonds."""

    class PrincipalRule(models.TextChoices):  # trusts.domain.principal_rules declares them
        PRO_RATA = principal_rules.PRO_RATA
        SEQUENTIAL = principal_rules.SEQUENTIAL

    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, related_name="classes")
    name = models.CharField(max_length=40)
    original_face_cents = models.BigIntegerField()
    coupon = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True,
                                 help_text="annual percent; empty means net-wac")
    principal_rule = models.CharField(max_length=20, choices=PrincipalRule.choices)
    priority = models.PositiveSmallIntegerField(default=1, help_text="1 is paid first; the highest takes losses first")
    denomination_cents = models.BigIntegerField()
    cusip = models.CharField(max_length=9, blank=True, default="", help_text="CUSIP; empty when the deal gave none")
    # The class's kind as the deal declared it (for lists and reports; the structure holds its features).
    kind = models.CharField(max_length=20, choices=[(k, k) for k in deal_structure.CLASS_KINDS],
                            default=deal_structure.STANDARD)

    class Meta:
        verbose_name_plural = "classes"
        ordering = ["trust", "priority", "name"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "name"], name="class_name_unique_in_trust"),
            models.CheckConstraint(condition=Q(original_face_cents__gt=0), name="class_face_positive"),
        ]

    def __str__(self):
        return f"{self.trust.code} {self.name}"

    @property
    def is_net_wac(self) -> bool:
        return self.coupon is None


class PoolLoan(models.Model):
    """A loan's membership of a trust's pool (projection): each loan in at most one trust on any day.

    The interval convention: a loan belongs to the trust from the day after the trust's cut-off
    (`transferred_on`, the cut-off date itself) through its removal date (`removed_on`, inclusive;
    empty while it is still in the pool), i.e. the date range (transferred_on, removed_on].
    Money dated on or before the cut-off is the seller's; money dated on the removal day is the
    trust's, and the buyer's from the day after. A loan removed on R may join another trust whose
    cut-off is R or later, so the two ranges never overlap. On PostgreSQL an exclusion constraint
    (migration 0002, btree_gist) refuses overlapping rows of one loan; on SQLite the services'
    checks are the guard. `covers(day)` answers whether money dated on a day is this trust's.
    """

    trust = models.ForeignKey(Trust, on_delete=models.DO_NOTHING, related_name="pool", db_constraint=False)
    loan = models.ForeignKey("servicing.Loan", on_delete=models.DO_NOTHING, related_name="pool_memberships",
                             db_constraint=False)
    cutoff_balance_cents = models.BigIntegerField()
    price_cents = models.BigIntegerField()
    transferred_on = models.DateField()
    removed_on = models.DateField(null=True, blank=True)
    removal_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["loan"], condition=Q(removed_on__isnull=True),
                                    name="loan_in_one_trust_at_a_time"),
        ]

    def covers(self, day) -> bool:
        """Whether money dated `day` belongs to this membership: transferred_on < day <= removed_on."""
        return membership_covers(self.transferred_on, self.removed_on, day)


def membership_covers(transferred_on, removed_on, day) -> bool:
    """The pool's interval rule, (transferred_on, removed_on]: whether money dated `day` is the trust's.

    The one home of the rule: PoolLoan.covers, the close's and the reports' members
    (trusts.selectors.PoolMember) all ask it. A loan is in the pool at the start of a period
    when it covers the period's first day, and at its end when it covers the day after.
    """
    return transferred_on < day and (removed_on is None or day <= removed_on)


class HoldingMovement(models.Model):
    """One line of the register (projection): face (original, in cents) into or out of a holding."""

    security_class = models.ForeignKey(SecurityClass, on_delete=models.DO_NOTHING, related_name="movements",
                                       db_constraint=False)
    holder = models.ForeignKey(Holder, on_delete=models.DO_NOTHING, related_name="movements", db_constraint=False)
    face_cents = models.BigIntegerField(help_text="positive in, negative out")
    trade_date = models.DateField()
    settlement_date = models.DateField()
    event_position = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["security_class", "settlement_date"], name="holding_class_settled")]
