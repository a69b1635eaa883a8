"""What operations staff read and write: loans, payments, files, the log and period closes."""
from django.urls import reverse
from rest_framework import serializers

from api.fields import FactorField, MoneyField, RateField, ReportField, StrictSerializer
from api.serializers.common import ProblemSerializer, UploadSerializer
from servicing.domain.default_states import default_servicing


class LoanListSerializer(serializers.Serializer):
    loan_number = serializers.CharField()
    borrower = serializers.CharField(source="borrower.name")
    status = serializers.CharField(source="position.status")
    delinquency_bucket = serializers.CharField(source="position.delinquency_bucket")
    default_states = serializers.SerializerMethodField(
        help_text="the loan's default-servicing states (servicing.domain.default_states), none when current")
    principal_balance = MoneyField(source="position.principal_balance_cents")
    note_rate = RateField(source="position.note_rate")
    next_due_date = serializers.DateField(source="position.next_due_date")
    escrow_balance = MoneyField(source="position.escrow_balance_cents")
    suspense = MoneyField(source="position.suspense_cents")
    autopay = serializers.BooleanField()

    def get_default_states(self, loan) -> list[str]:
        return list(default_servicing(loan.position).names)


class LoanPositionSerializer(serializers.Serializer):
    status = serializers.CharField()
    principal_balance = MoneyField(source="principal_balance_cents")
    note_rate = RateField()
    payment_pi = MoneyField(source="payment_pi_cents")
    escrow_monthly = MoneyField(source="escrow_monthly_cents")
    next_due_date = serializers.DateField()
    last_payment_date = serializers.DateField(allow_null=True)
    escrow_balance = MoneyField(source="escrow_balance_cents")
    escrow_advance = MoneyField(source="escrow_advance_cents")
    suspense = MoneyField(source="suspense_cents")
    late_charges_due = MoneyField(source="late_charges_due_cents")
    fees_due = MoneyField(source="fees_due_cents")
    delinquency_bucket = serializers.CharField()
    realized_loss = MoneyField(source="realized_loss_cents")
    stream_version = serializers.IntegerField()


class LoanDetailSerializer(serializers.Serializer):
    """A loan's terms at boarding and where it stands now; its history is at events_url."""

    loan_number = serializers.CharField()
    borrower = serializers.CharField(source="borrower.name")
    property_address = serializers.CharField(source="property.address")
    property_type = serializers.CharField(source="property.property_type")
    property_value = MoneyField(source="property.value_cents")
    original_balance = MoneyField(source="original_balance_cents")
    boarded_balance = MoneyField(source="boarded_balance_cents")
    note_rate = RateField()
    term_months = serializers.IntegerField()
    first_payment_date = serializers.DateField()
    servicing_fee_rate = RateField()
    payment_pi = MoneyField(source="payment_pi_cents")
    autopay = serializers.BooleanField()
    boarded_on = serializers.DateField()
    position = LoanPositionSerializer()
    events_url = serializers.SerializerMethodField()

    def get_events_url(self, loan) -> str:
        return self.context["request"].build_absolute_uri(reverse("api:loan-events", args=[loan.loan_number]))


class NewPaymentSerializer(StrictSerializer):
    loan_number = serializers.CharField(max_length=40)
    amount = MoneyField(positive=True)
    received_on = serializers.DateField()
    reference = serializers.CharField(max_length=120, help_text="the bank's reference; a payment posts once per "
                                                                "reference")
    principal_only = serializers.BooleanField(default=False, help_text="a curtailment: all of it to principal")


class PaymentResultSerializer(serializers.Serializer):
    loan_number = serializers.CharField()
    reference = serializers.CharField()
    already_posted = serializers.BooleanField(help_text="true: this reference was posted before; nothing new")
    paid_off = serializers.BooleanField()
    event_position = serializers.IntegerField(source="event.position")
    event_type = serializers.CharField(source="event.event_type")
    effective_date = serializers.DateField(source="event.effective_date")
    parts = ReportField(help_text="how the money was applied, as recorded in the event")
    refund_event_position = serializers.IntegerField(source="refund_event.position", default=None, allow_null=True)


class PaymentRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    loan_number = serializers.CharField()
    received_on = serializers.DateField()
    amount = MoneyField(source="amount_cents")
    reference = serializers.CharField()


class PaymentFilePreviewSerializer(serializers.Serializer):
    to_post = PaymentRowSerializer(many=True)
    already_posted = PaymentRowSerializer(many=True)
    problems = ProblemSerializer(many=True)


class PaymentFileResultSerializer(serializers.Serializer):
    posted = PaymentResultSerializer(many=True)
    already_posted = PaymentRowSerializer(many=True)


class TapeUploadSerializer(UploadSerializer):
    boarded_on = serializers.DateField(required=False, help_text="boarding date; default today")


class TapeRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    loan_number = serializers.CharField()
    borrower_name = serializers.CharField()
    current_balance = MoneyField(source="current_balance_cents")
    note_rate = RateField()
    payment_pi = MoneyField(source="payment_pi_cents")


class TapePreviewSerializer(serializers.Serializer):
    rows = TapeRowSerializer(many=True)
    problems = ProblemSerializer(many=True)


class BoardingResultSerializer(serializers.Serializer):
    boarded = serializers.ListField(child=serializers.CharField())
    already_boarded = serializers.ListField(child=serializers.CharField())


class CloseRequestSerializer(StrictSerializer):
    """A close takes no options: the trust and period are in the path."""


class CloseAcceptedSerializer(serializers.Serializer):
    trust = serializers.CharField()
    period = serializers.CharField()
    status = serializers.CharField(help_text="requested: the close runs once another staff member approves the request")
    status_url = serializers.URLField()


class PeriodResultSerializer(serializers.Serializer):
    interest_collected = MoneyField(source="interest_collected_cents")
    principal_collected = MoneyField(source="principal_collected_cents")
    realized_loss = MoneyField(source="realized_loss_cents")
    servicing_fee = MoneyField(source="servicing_fee_cents")
    issuer_spread = MoneyField(source="issuer_spread_cents")
    paid_to_holders = MoneyField(source="paid_to_holders_cents")
    excess = MoneyField(source="excess_cents")
    retained = MoneyField(source="retained_cents")
    prior_period = MoneyField(source="prior_period_cents")
    pool_balance_begin = MoneyField(source="pool_balance_begin_cents")
    pool_balance_end = MoneyField(source="pool_balance_end_cents")
    pool_factor = FactorField()
    event_position = serializers.IntegerField()


class PeriodStatusSerializer(serializers.Serializer):
    """Where a period's close stands; `result` once it closed."""

    trust = serializers.CharField()
    period = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "closing", "closed"])
    record_date = serializers.DateField()
    payment_date = serializers.DateField()
    attempts = serializers.IntegerField()
    closing_started_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField(allow_blank=True)
    result = PeriodResultSerializer(allow_null=True)
    report_url = serializers.URLField(allow_null=True)
