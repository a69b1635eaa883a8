"""Analytics over the API: the projection grid's query and answer, and a trust's realized speeds.

`ProjectionQuerySerializer` is an adapter, not a second set of rules: the
query is read by analytics.domain.scenarios' own parsers (those of the
project_cashflows command). `psa` is split into one scenario per speed, and
each group of parameters (a speed, the default scenario, the pricing) goes
through its parser; a ScenarioError becomes a 400 naming the parameters its
message names ("--severity" is the parameter `severity`). The grid's bounds
(speeds per request, the fastest speed) are analytics.domain.scenarios' own, shared
with the admin's scenario page; one rule is the API's: a yield at most
MAX_YIELD (the top of the range analytics.domain.measures solves in), so no measure
is taken at an infinite yield.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analytics.domain.defaults import DefaultScenario
from analytics.domain.prepayment import PrepaymentScenario
from analytics.domain.deal_projection import Pricing
from analytics.domain.scenarios import (
    MAX_GRID_PSA,
    MAX_GRID_SPEEDS,
    ScenarioError,
    parse_defaults,
    parse_pricing,
    parse_psa_grid,
    refusal_text,
    refused_options,
)
from api.fields import ClassKeyMixin, MoneyField
from remittance.selectors.reports import split_fields

MAX_SPEEDS = MAX_GRID_SPEEDS
MAX_YIELD = 1000
DEFAULT_PSA = "100"
DEFAULT_PARAMETERS = ("cdr", "mdr", "sda", "severity", "lag", "advance")
PRICING_PARAMETERS = ("price", "yield", "delay_days")
# The option names analytics.domain.scenarios reads, where they differ from the query's.
_OPTION = {"yield": "yield_percent"}


# ------------------------------------------------------------------ query


@dataclass(frozen=True, slots=True, kw_only=True)
class Grid:
    """What to project: one prepayment scenario per PSA speed, under one default scenario and one pricing."""

    speeds: tuple[str, ...]
    prepayments: tuple[PrepaymentScenario, ...]
    defaults: DefaultScenario
    pricing: Pricing


# The longest a parameter may be: a vector gives at most one rate per month of the longest term.
MAX_VECTOR_CHARS = 4000
MAX_NUMBER_CHARS = 40
MAX_PSA_CHARS = 200


def _text(help_text: str, max_length: int = MAX_NUMBER_CHARS) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, help_text=help_text, max_length=max_length)


class ProjectionQuerySerializer(serializers.Serializer):
    """The query of a projection; blank parameters count as not given."""

    psa = serializers.CharField(
        required=False, allow_blank=True, default=DEFAULT_PSA, max_length=MAX_PSA_CHARS,
        help_text=f"PSA speeds, comma-separated, one scenario each (at most {MAX_SPEEDS}, each 0 to {MAX_GRID_PSA}); "
                  f"default {DEFAULT_PSA}")
    cdr = _text("default rate, annual percent (or a comma-separated monthly vector); needs severity and lag",
                MAX_VECTOR_CHARS)
    mdr = _text("default rate, monthly percent (or a vector); needs severity and lag", MAX_VECTOR_CHARS)
    sda = _text("default speed, percent of the SDA curve (or a vector); needs severity and lag", MAX_VECTOR_CHARS)
    severity = _text("loss severity, percent of the balance at default (0 to 100)")
    lag = _text("months from default to liquidation (0 to 480)")
    advance = serializers.BooleanField(required=False, allow_null=True, default=None,
                                       help_text="whether the servicer advances defaulted loans' P&I (default true)")
    price = _text("price, percent of face (default 100 unless yield is given)")
    yield_percent = _text(f"bond-equivalent yield, percent (above -100, at most {MAX_YIELD})")
    delay_days = _text("actual payment delay in days, 0 to 365 (default 0)")

    def get_fields(self):
        # "yield" is a Python keyword: the field is declared as yield_percent and named yield in the query.
        return {("yield" if name == "yield_percent" else name): field for name, field in super().get_fields().items()}

    def validate(self, attrs):
        options = {_OPTION.get(name, name): value for name, value in attrs.items()}
        return {"grid": Grid(**_prepayments(options.get("psa") or DEFAULT_PSA), defaults=_defaults(options),
                             pricing=_pricing(options))}

    @staticmethod
    def speeds_asked(request) -> int:
        """How many speeds the query asks for (1 by default), as written: what the throttle counts."""
        return max(len(str(request.query_params.get("psa") or DEFAULT_PSA).split(",")), 1)

    @classmethod
    def grid(cls, request) -> Grid:
        query = cls(data=request.query_params)
        query.is_valid(raise_exception=True)
        return query.validated_data["grid"]


def _prepayments(text: str) -> dict:
    scenarios = _parsed(lambda options: parse_psa_grid(options["psa"]), {"psa": text}, ("psa",))
    return {"speeds": tuple(_speed(s.rates[0]) for s in scenarios), "prepayments": scenarios}


def _speed(rate: float) -> str:
    """The speed as a decimal string ("150", "87.5"), from the parsed float: never longer than a float is."""
    return format(Decimal(repr(abs(rate))).normalize(), "f")  # abs: "-0" is 0


def _defaults(options: Mapping[str, object]) -> DefaultScenario:
    return _parsed(parse_defaults, options, DEFAULT_PARAMETERS)


def _pricing(options: Mapping[str, object]) -> Pricing:
    pricing = _parsed(parse_pricing, options, PRICING_PARAMETERS)
    if pricing.yield_percent is not None and pricing.yield_percent > MAX_YIELD:
        raise _invalid("yield", f"yield {options.get('yield_percent')}: at most {MAX_YIELD} percent")
    return pricing


def _parsed(parse: Callable, options: Mapping[str, object], parameters: Sequence[str]):
    """What analytics.domain.scenarios makes of the options, or a 400 naming the parameters its refusal names."""
    try:
        return parse(options)
    except ScenarioError as error:
        named = [p for p in parameters if p in refused_options(error)]
        given = [p for p in named if options.get(_OPTION.get(p, p)) not in (None, "")]
        raise _invalid(given or named or list(parameters), refusal_text(error)) from None


def _invalid(parameters: str | Sequence[str], message: str) -> serializers.ValidationError:
    names = [parameters] if isinstance(parameters, str) else parameters
    return serializers.ValidationError({name: [message] for name in names})


# ----------------------------------------------------------------- answer


@extend_schema_field({"type": "string", "pattern": r"^-?\d+\.\d+$", "example": "5.43210",
                      "description": "a decimal string"})
class DecimalTextField(serializers.CharField):
    """A measure already written as a decimal string by analytics.domain.render (or null when there is none)."""


def _measure(help_text: str) -> DecimalTextField:
    return DecimalTextField(allow_null=True, help_text=help_text)


class BalancePointSerializer(serializers.Serializer):
    period = serializers.IntegerField(help_text="projected month, 1 = first_period")
    balance_end = MoneyField(source="balance_end_cents")


class ClassProjectionSerializer(ClassKeyMixin, serializers.Serializer):
    """A class under one scenario: its measures (null when it has none) and its balance at each month's end."""

    class_name = serializers.CharField(source="name")
    wal_years = _measure("weighted average life, years (5 decimals); null if no principal is paid")
    final_period = serializers.IntegerField(allow_null=True, help_text="last month principal is paid")
    yield_percent = _measure("bond-equivalent yield, percent (5 decimals)")
    price = _measure("percent of face (4 decimals)")
    modified_duration = _measure("years (5 decimals)")
    convexity = _measure("years squared (4 decimals)")
    balances = BalancePointSerializer(many=True)

    def get_fields(self):
        return {("yield" if name == "yield_percent" else name): field for name, field in super().get_fields().items()}


class ScenarioSerializer(serializers.Serializer):
    psa = serializers.CharField(help_text="the scenario's PSA speed, as asked")
    collateral_wal_years = _measure("the collateral's weighted average life, years (5 decimals)")
    classes = ClassProjectionSerializer(many=True)


class ProjectionSerializer(serializers.Serializer):
    trust = serializers.CharField()
    first_period = serializers.CharField(
        help_text="YYYY-MM: projected month 1, the trust's next open period; measures settle on its first day")
    scenarios = ScenarioSerializer(many=True)


# ----------------------------------------------------------------- speeds


@extend_schema_field({"type": "string", "pattern": r"^-?\d+\.\d{6}$", "example": "0.512345",
                      "description": "percent, 6 decimals"})
class PercentField(serializers.Field):
    def to_representation(self, value: float) -> str:
        return f"{value:.6f}"


class RealizedSpeedSerializer(serializers.Serializer):
    """The prepayment speed a closed period realized (negative when borrowers paid less than scheduled)."""

    period = serializers.CharField()
    smm = PercentField(source="speeds.smm", help_text="single monthly mortality, percent")
    cpr = PercentField(source="speeds.cpr", help_text="conditional prepayment rate, annual percent")
    psa = PercentField(source="speeds.psa", allow_null=True, help_text="percent of the PSA model")
    loan_month = serializers.IntegerField(help_text="the loans' balance-weighted age at the period's end")
    balance_begin = MoneyField(source="balance_begin_cents")
    # The API's names are published; the code's are balance_end_scheduled_cents and balance_end_actual_cents.
    scheduled_end = MoneyField(source="balance_end_scheduled_cents",
                               help_text="the end balance had nothing prepaid")
    actual_end = MoneyField(source="balance_end_actual_cents")
    voluntary = MoneyField(source="activity.voluntary_cents", help_text="curtailments and payoffs")
    defaulted = MoneyField(source="activity.defaulted_cents",
                           help_text="the liquidated loans' principal, recovered and lost")
    loss = MoneyField(source="activity.loss_cents", help_text="realized loss")
    voluntary_smm = PercentField(source="split.smm", help_text="SMM of voluntary prepayments only (SIFMA SF C.3)")
    voluntary_cpr = PercentField(source="split.cpr", help_text="CPR of voluntary prepayments only")
    voluntary_psa = PercentField(source="split.psa", allow_null=True, help_text="PSA of voluntary prepayments only")
    mdr = PercentField(source="split.mdr", help_text="monthly default rate, percent")
    cdr = PercentField(source="split.cdr", help_text="conditional default rate, annual percent")
    severity = PercentField(source="split.severity", allow_null=True,
                            help_text="loss over the defaulted balance, percent; null in a month without a default")
    windows = serializers.SerializerMethodField(
        help_text="voluntary SMM/CPR, MDR/CDR and severity over the last 1, 3, 6, 12 closed periods and life "
                  "(null where the history is shorter than the window)")

    @extend_schema_field({"type": "object", "additionalProperties": {
        "type": "object", "additionalProperties": {"type": "string", "nullable": True}}})
    def get_windows(self, realized) -> dict:
        # The remittance report's own fields (every rate a percent string, or null where it is not stated).
        return {name: split_fields(split) for name, split in self.context["windows"][realized.period].items()}
