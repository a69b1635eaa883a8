"""Four-eyes requests: one staff member asks for a sensitive act, another approves or rejects it.

An `ApprovalRequest` is an operational workflow record, not money history:
the money facts are the events the approved act records (PeriodClosed,
PaymentReturned), which name both people. The request's subject is a
trust's period (a close), one posted payment of a loan (a reversal) or a loan's
modification that forgives principal (a forgiveness, its terms kept with it). Its
state moves pending -> approved -> done | failed, or pending -> rejected,
written only by `approvals.services`. The database keeps the rules that
matter: one pending request per subject, a decided request names who
decided and when, and nobody decides their own request.
"""
from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from remittance.models import PERIOD_FORMAT


class Kind(models.TextChoices):
    PERIOD_CLOSE = "period_close", "period close"
    PAYMENT_REVERSAL = "payment_reversal", "payment reversal"
    PRINCIPAL_FORGIVENESS = "principal_forgiveness", "principal forgiveness"


class State(models.TextChoices):
    PENDING = "pending"
    APPROVED = "approved"  # a close enqueued, waiting for its outcome
    REJECTED = "rejected"
    DONE = "done"
    FAILED = "failed"


_CLOSE_SHAPE = Q(kind=Kind.PERIOD_CLOSE, trust__isnull=False, period__regex=PERIOD_FORMAT, loan_number="",
                 reference="", returned_on__isnull=True)
_REVERSAL_SHAPE = (Q(kind=Kind.PAYMENT_REVERSAL, trust__isnull=True, period="", returned_on__isnull=False)
                   & ~Q(loan_number="") & ~Q(reference="") & ~Q(reason=""))
_FORGIVENESS_SHAPE = (Q(kind=Kind.PRINCIPAL_FORGIVENESS, trust__isnull=True, period="", reference="",
                        returned_on__isnull=True, amount_cents__gt=0)
                      & ~Q(loan_number="") & ~Q(reason=""))
_UNDECIDED = Q(state=State.PENDING, decided_by__isnull=True, decided_at__isnull=True)
_DECIDED = ~Q(state=State.PENDING) & Q(decided_by__isnull=False, decided_at__isnull=False)


class ApprovalRequest(models.Model):
    """A sensitive act asked for by one staff member, waiting for (or decided by) another."""

    kind = models.CharField(max_length=30, choices=Kind.choices)
    # A close's subject: the trust and its period.
    trust = models.ForeignKey("trusts.Trust", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=7, blank=True, help_text="YYYY-MM")
    # A reversal's subject: the payment (its bank reference on the loan) and the day the bank returned it.
    loan_number = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=100, blank=True, help_text="the payment's bank reference")
    returned_on = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="why the act is asked for (the bank's reason for a return)")
    # A forgiveness's subject: the principal forgiven and the modification's terms (ISO dates, rate as text).
    amount_cents = models.BigIntegerField(null=True, blank=True)
    terms = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, help_text="what happened: the act's result, its error, or why rejected")

    class Meta:
        ordering = ["-requested_at"]
        default_permissions = ("add", "view")  # never changed or deleted except through the services
        permissions = [("approve_request", "Can approve requests of another staff member")]
        constraints = [
            models.CheckConstraint(condition=_CLOSE_SHAPE | _REVERSAL_SHAPE | _FORGIVENESS_SHAPE, name="approval_subject_matches_kind"),
            models.CheckConstraint(condition=_UNDECIDED | _DECIDED, name="approval_decision_named"),
            models.CheckConstraint(condition=~Q(decided_by=F("requested_by")), name="approval_by_another"),
            models.UniqueConstraint(fields=["trust", "period"], name="one_pending_close_request",
                                    condition=Q(kind=Kind.PERIOD_CLOSE, state=State.PENDING)),
            models.UniqueConstraint(fields=["loan_number", "reference"], name="one_pending_reversal_request",
                                    condition=Q(kind=Kind.PAYMENT_REVERSAL, state=State.PENDING)),
            models.UniqueConstraint(fields=["loan_number"], name="one_pending_forgiveness_request",
                                    condition=Q(kind=Kind.PRINCIPAL_FORGIVENESS, state=State.PENDING)),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} {self.subject} ({self.state})"

    @property
    def subject(self) -> str:
        """What the request is about, in words."""
        if self.kind == Kind.PERIOD_CLOSE:
            return f"{self.trust.code if self.trust_id else '?'} {self.period}"
        if self.kind == Kind.PRINCIPAL_FORGIVENESS:
            return f"loan {self.loan_number} modification forgiving {(self.amount_cents or 0) / 100:,.2f}"
        return f"loan {self.loan_number} payment {self.reference}"
