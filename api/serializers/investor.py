"""What an investor reads: their holdings, register lines, distributions and statements."""

from rest_framework import serializers

from api.fields import ClassKeyMixin, FactorField, FlatRowSerializer, MoneyField
from remittance.selectors.distribution_statement import holder_losses
from trusts.selectors import ValuedHolding


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    holder_code = serializers.CharField(allow_null=True)
    holder_name = serializers.CharField(allow_null=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=["investor", "operations"]))


class AsOfQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="ISO date; default today")


# Renderers of the computed fields, made once (they keep no state), not per row.
_FACTOR, _MONEY = FactorField(), MoneyField()


class HoldingSerializer(ClassKeyMixin, FlatRowSerializer):
    """One class held on a date: original face, the class factor paid by then, and the face outstanding."""

    # (Renders the rows of trusts.selectors.holdings_valued_as_of, valued by its ValuedHolding: dicts,
    # see FlatRowSerializer.)

    trust = serializers.CharField(source="security_class__trust__code")
    class_name = serializers.CharField(source="security_class__name")
    original_face = MoneyField(source="face")
    factor = serializers.SerializerMethodField()
    factor_period = serializers.CharField(
        allow_null=True, help_text="the period whose distribution the factor is from; null before the first")
    factor_payment_date = serializers.DateField(
        allow_null=True, help_text="the payment date of that distribution; null before the first")
    current_face = serializers.SerializerMethodField()

    def get_factor(self, row) -> str:
        return _FACTOR.to_representation(self._valued(row).factor)

    def get_current_face(self, row) -> str:
        return _MONEY.to_representation(self._valued(row).current_face_cents)

    def _valued(self, row) -> ValuedHolding:
        # Each row valued once, not once per computed field: both fields of a row ask in turn, so the
        # last row's value is the one kept (by identity: the row itself is held with it).
        last = self.__dict__.get("_last_valued")
        if last is None or last[0] is not row:
            last = self._last_valued = (row, ValuedHolding.from_row(row))
        return last[1]


class RegisterEntrySerializer(ClassKeyMixin, serializers.Serializer):
    """One line of the register: face in (positive) or out (negative) of a holding."""

    id = serializers.IntegerField()
    trust = serializers.CharField(source="security_class.trust.code")
    class_name = serializers.CharField(source="security_class.name")
    face = MoneyField(source="face_cents")
    trade_date = serializers.DateField()
    settlement_date = serializers.DateField()
    event_position = serializers.IntegerField()


class _DistributionList(serializers.ListSerializer):
    """A page of distributions, with the holder's share of each class's loss read once for the page."""

    def to_representation(self, data):
        rows = list(data)
        losses = holder_losses(rows)
        return [self.child.to_representation({**row, "loss_cents": losses[row["id"]]}) for row in rows]


class DistributionSerializer(ClassKeyMixin, FlatRowSerializer):
    """One payment to the holder on one class for one period: face held, interest, principal and total, and
    the holder's share of the loss written off the class in the period (by face held, split exactly)."""

    # Renders the rows DistributionViewSet selects (values(), dicts): the distribution's columns, its
    # class's and trust's names, and total_cents (interest plus principal, as Distribution.total_cents)
    # computed in the query; the loss is added per page (_DistributionList, or for the one row of a detail).
    COLUMNS = ("id", "security_class__trust__code", "security_class__name", "period", "record_date",
               "payment_date", "face_held_cents", "interest_cents", "principal_cents", "total_cents",
               "holder__code", "security_class_id")

    class Meta:
        list_serializer_class = _DistributionList

    def to_representation(self, row):
        if "loss_cents" not in row:
            row = {**row, "loss_cents": holder_losses([row])[row["id"]]}
        return super().to_representation(row)

    id = serializers.IntegerField()
    trust = serializers.CharField(source="security_class__trust__code")
    class_name = serializers.CharField(source="security_class__name")
    period = serializers.CharField()
    record_date = serializers.DateField()
    payment_date = serializers.DateField()
    face_held = MoneyField(source="face_held_cents")
    interest = MoneyField(source="interest_cents")
    principal = MoneyField(source="principal_cents")
    total = MoneyField(source="total_cents")
    loss = MoneyField(source="loss_cents", help_text="the holder's share of the loss written off the class")


# The statement as remittance.selectors.reports.investor_statement builds it and
# remittance.domain.report_formats.to_json renders it (documentation).

class _StatementHolder(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class _StatementPeriod(serializers.Serializer):
    period = serializers.CharField()
    record_date = serializers.DateField()


class _StatementLine(ClassKeyMixin, serializers.Serializer):
    trust = serializers.CharField()
    class_name = serializers.CharField()
    face_held = MoneyField()
    factor = serializers.CharField(help_text="8 decimals, empty when the class has no factor for the period")
    interest = MoneyField()
    principal = MoneyField()
    total = MoneyField()
    payment_date = serializers.DateField()


class _StatementTotals(serializers.Serializer):
    interest = MoneyField()
    principal = MoneyField()
    total = MoneyField()


class _StatementHolding(ClassKeyMixin, serializers.Serializer):
    trust = serializers.CharField()
    class_name = serializers.CharField()
    face_held = MoneyField()


class StatementSerializer(serializers.Serializer):
    holder = _StatementHolder()
    period = _StatementPeriod()
    distributions = _StatementLine(many=True)
    totals = _StatementTotals()
    holdings = _StatementHolding(many=True)
