"""Filters (django-filter) for the lists. Query parameter names are the API's, not the models'.

The class (tranche) filter is called "class", as in the JSON; a keyword cannot be
a class attribute, so it is put in the class body's namespace with locals().

django-filter builds a new Form class for every request (a class made with
type(), and a form field made for every filter); every FilterSet here builds
it once per process (`FormBuiltOnce`): the fields depend only on the filters
declared, which never change after import. The form itself is still a new
instance per request (Django copies the fields into it), so no request sees
another's data or errors.
"""
from django import forms
from django_filters import rest_framework as filters

from ledger.models import Event
from remittance.domain.trust_calendar import Period
from remittance.models import ClassPeriod, Distribution
from servicing.domain.default_states import BY_NAME, DEFAULT_STATES
from servicing.domain.delinquency_status import MBA_BUCKETS
from servicing.models import Loan, LoanStatus
from servicing.selectors import default_state_filter
from trusts.models import HoldingMovement

PERIOD_HELP = "collection period, YYYY-MM"


class FormBuiltOnce(filters.FilterSet):
    """A FilterSet whose Form class is made on first use and kept on the FilterSet class."""

    def get_form_class(self):
        cls = type(self)
        form_class = cls.__dict__.get("_built_form_class")  # the class's own: a subclass builds its own
        if form_class is None:
            form_class = super().get_form_class()
            cls._built_form_class = form_class
        return form_class


def _class_filter(field_name: str) -> filters.CharFilter:
    return filters.CharFilter(field_name=field_name, help_text="class (tranche) name, e.g. A")


class PeriodField(forms.CharField):
    """A period written YYYY-MM, refused otherwise: "2026-2" or "abc" would compare as text and silently match
    the wrong rows (or none), so the caller gets a 400 naming the parameter instead. Cleans to "2026-02"."""

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return text
        try:
            return str(Period.parse(text))
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


class PeriodFilter(filters.CharFilter):
    field_class = PeriodField


def _period_filters(field_name: str = "period") -> dict:
    return {
        "period": PeriodFilter(field_name=field_name, help_text=PERIOD_HELP),
        "period_from": PeriodFilter(field_name=field_name, lookup_expr="gte", help_text=f"{PERIOD_HELP}, inclusive"),
        "period_to": PeriodFilter(field_name=field_name, lookup_expr="lte", help_text=f"{PERIOD_HELP}, inclusive"),
    }


class HoldingFilter(FormBuiltOnce):
    trust = filters.CharFilter(field_name="security_class__trust__code", help_text="trust code")

    class Meta:
        model = HoldingMovement
        fields = []


class RegisterFilter(HoldingFilter):
    locals()["class"] = _class_filter("security_class__name")


class DistributionFilter(FormBuiltOnce):
    trust = filters.CharFilter(field_name="security_class__trust__code", help_text="trust code")
    locals()["class"] = _class_filter("security_class__name")
    locals().update(_period_filters())

    class Meta:
        model = Distribution
        fields = []


class FactorFilter(FormBuiltOnce):
    locals()["class"] = _class_filter("security_class__name")
    locals().update(_period_filters())

    class Meta:
        model = ClassPeriod
        fields = []


class LoanFilter(FormBuiltOnce):
    status = filters.ChoiceFilter(field_name="position__status", choices=LoanStatus.choices)
    delinquency_bucket = filters.ChoiceFilter(
        field_name="position__delinquency_bucket",
        choices=[(b, b) for b in MBA_BUCKETS], help_text="MBA delinquency bucket")
    default_state = filters.ChoiceFilter(
        method="in_default_state", choices=[(s.name, s.label) for s in DEFAULT_STATES],
        help_text="default-servicing state: forbearance, repayment_plan, trial, modified, bankruptcy_7, "
                  "bankruptcy_13, foreclosure or reo")
    autopay = filters.BooleanFilter()

    def in_default_state(self, queryset, name, value):
        return queryset.filter(default_state_filter(BY_NAME[value], prefix="position__"))

    class Meta:
        model = Loan
        fields = []


class EventFilter(FormBuiltOnce):
    stream = filters.CharFilter(help_text="exact stream, e.g. loan:L001 or trust:XYZ-2026-1")
    stream_prefix = filters.CharFilter(field_name="stream", lookup_expr="startswith",
                                       help_text="streams starting with this, e.g. loan:")
    event_type = filters.CharFilter(help_text="e.g. PaymentPosted")
    effective_date = filters.DateFromToRangeFilter(
        help_text="effective_date_after and effective_date_before, ISO dates, inclusive")

    class Meta:
        model = Event
        fields = []
