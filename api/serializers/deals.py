"""Deal-level reads (trust, classes, factor history, payment dates) and forming a trust from a deal file."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.fields import ClassKeyMixin, FactorField, MoneyField, RateField
from api.serializers.common import UploadSerializer


class TrustSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    issuer = serializers.CharField()
    servicer = serializers.CharField()
    trustee = serializers.CharField()
    closing_date = serializers.DateField()
    cutoff_date = serializers.DateField()
    first_payment_date = serializers.DateField()
    payment_day = serializers.IntegerField()
    issuer_spread_rate = RateField()
    remittance_type = serializers.CharField()
    residual_holder = serializers.CharField()
    latest_closed_period = serializers.CharField(allow_null=True, help_text="YYYY-MM, null before the first close")
    pool_balance = MoneyField(source="pool_balance_cents", allow_null=True)
    pool_factor = FactorField(allow_null=True)


class SecurityClassSerializer(ClassKeyMixin, serializers.Serializer):
    """A class with its balance and factor after the latest closed period (its original face before any)."""

    class_name = serializers.CharField(source="name")
    original_face = MoneyField(source="original_face_cents")
    coupon = RateField(allow_null=True, help_text="annual percent; null for a net-WAC class")
    net_wac = serializers.BooleanField(source="is_net_wac")
    principal_rule = serializers.CharField()
    priority = serializers.IntegerField()
    denomination = MoneyField(source="denomination_cents")
    balance = serializers.SerializerMethodField()
    factor = serializers.SerializerMethodField()
    as_of_period = serializers.CharField(source="latest_period", allow_null=True)

    @extend_schema_field(MoneyField)
    def get_balance(self, c) -> str:
        return MoneyField().to_representation(c.balance_cents)  # remittance.selectors.latest_close.with_latest_close

    @extend_schema_field(FactorField)
    def get_factor(self, c) -> str:
        return FactorField().to_representation(1 if c.latest_factor is None else c.latest_factor)


class ClassPeriodSerializer(ClassKeyMixin, serializers.Serializer):
    """One class's distribution for one closed period: the factor history."""

    class_name = serializers.CharField(source="security_class.name")
    period = serializers.CharField()
    payment_date = serializers.DateField()
    balance_begin = MoneyField(source="balance_begin_cents")
    interest_due = MoneyField(source="interest_due_cents")
    interest_paid = MoneyField(source="interest_paid_cents")
    interest_shortfall = MoneyField(source="interest_shortfall_cents")
    principal_paid = MoneyField(source="principal_paid_cents")
    loss_written_off = MoneyField(source="loss_written_off_cents")
    balance_end = MoneyField(source="balance_end_cents")
    factor = FactorField()


class PaymentDateSerializer(serializers.Serializer):
    period = serializers.CharField()
    record_date = serializers.DateField()
    payment_date = serializers.DateField()
    status = serializers.ChoiceField(choices=["open", "closing", "closed"])


class DealUploadSerializer(UploadSerializer):
    """A deal file (JSON) as an upload; the same file may instead be sent as the JSON body."""
