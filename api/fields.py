"""Serializer fields for the house formats: money as dollar strings, factors and rates as decimal strings.

Inside, money is integer cents; in JSON it is a string of dollars with two
decimals ("4995.50"). Input is parsed strictly by ledger.domain.money (the one
parser of amounts: thousands separators only where they belong, no decimal
comma, no exponent; a refusal is a 400 naming the field): a number
(rather than a string) is refused, because 4995.5 as a float has already
lost the guarantee that it is exact, and fractions of a cent are refused
rather than rounded.
"""
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ledger.domain.money import MoneyFormatError, cents_from_dollars, dollars
from remittance.domain.report_formats import to_json
from trusts.domain.factors import factor_text

MONEY_PATTERN = r"^-?\d+\.\d{2}$"


@extend_schema_field({"type": "string", "pattern": MONEY_PATTERN, "example": "4995.50",
                      "description": "US dollars, two decimals"})
class MoneyField(serializers.Field):
    """Integer cents inside, "4995.50" outside."""

    default_error_messages = {"not_a_string": 'Write the amount as a string of dollars, e.g. "4995.50".'}

    def __init__(self, *, positive: bool = False, **kwargs):
        self.positive = positive
        super().__init__(**kwargs)

    def to_representation(self, cents: int) -> str:
        return dollars(int(cents))

    def to_internal_value(self, data) -> int:
        if not isinstance(data, str):
            self.fail("not_a_string")
        try:
            # A leading '-' only where the field takes negatives; "599,55" and "5.9955E+02" never.
            cents = cents_from_dollars(data, negative=not self.positive)
        except MoneyFormatError as error:
            raise serializers.ValidationError(str(error)) from None
        if self.positive and cents == 0:
            raise serializers.ValidationError("The amount must be more than 0.00.")
        return cents


@extend_schema_field({"type": "string", "pattern": r"^-?\d+\.\d{8}$", "example": "0.99900450",
                      "description": "balance over original face, 8 decimals"})
class FactorField(serializers.Field):
    def to_representation(self, value) -> str:
        # Fixed point: str() of a zero quantized to 8 places is "0E-8", which a portal cannot read.
        return factor_text(value)


@extend_schema_field({"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "example": "6.125",
                      "description": "annual percent"})
class RateField(serializers.Field):
    """An annual percentage as a decimal string without trailing zeros ("6.125")."""

    def to_representation(self, value) -> str:
        # (None never reaches here: serializers render a missing value as null themselves.)
        return format(Decimal(value).normalize(), "f")


@extend_schema_field(OpenApiTypes.OBJECT)
class ReportField(serializers.Field):
    """A report or payload as stored: `_cents` money rendered as dollar strings (remittance.domain.report_formats.to_json)."""

    def to_representation(self, value):
        return to_json(value)


class StrictSerializer(serializers.Serializer):
    """A request body that refuses fields it does not know, so nothing unexpected is silently dropped."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError({name: ["This field is not accepted here."] for name in unknown})
        return super().to_internal_value(data)


class ClassKeyMixin:
    """Serialize the field `class_name` under the key "class", as the reports do.

    ("class" is a Python keyword, so it cannot be a field attribute; the rename keeps the field's place.)
    """

    def get_fields(self):
        return {("class" if name == "class_name" else name): field for name, field in super().get_fields().items()}


class FlatRowSerializer(serializers.Serializer):
    """Read-only rendering of flat rows (dicts from QuerySet.values()), for the long lists.

    The same output as Serializer.to_representation (each field reads its
    source key, None stays None, else the field's to_representation), but
    the fields are resolved once per serializer instead of walked again for
    every row, which takes about 40% off rendering a page of distributions
    (DRF's per-field dispatch is most of it). Sources are values() keys
    ("security_class__name"), or "*" for the whole row (method fields).
    """

    def to_representation(self, row):
        plan = self.__dict__.get("_row_plan")
        if plan is None:
            plan = self._row_plan = [(f.field_name, self._row_key(f), f.to_representation)
                                     for f in self._readable_fields]
        out = {}
        for name, key, render in plan:
            value = row if key is None else row[key]
            out[name] = None if value is None else render(value)
        return out

    @staticmethod
    def _row_key(field) -> str | None:
        if len(field.source_attrs) > 1:
            raise ImproperlyConfigured(f"{field.field_name}: a flat row has no dotted source {field.source!r}; "
                                       "use the values() key, e.g. security_class__name")
        return field.source_attrs[0] if field.source_attrs else None
