"""The forms of the trusts admin: a holding transfer and a clean-up call's date.

Each reads what staff typed into its service's arguments; whether the act may
happen (for a transfer: the seller holds the face on the settlement date and on
every later day, the denomination, two different holders; for the call: the
pool below the deal's percent, the date) is the service's to decide
(trusts.services.register, trusts.services.cleanup_call).
"""
from django import forms

from ledger import business_time
from ledger.domain.money import MoneyFormatError, cents_from_dollars
from trusts.models import Holder, SecurityClass


class ClassChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.trust.code} class {obj.name}"


class HolderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.name}"


class HoldingTransferForm(forms.Form):
    security_class = ClassChoiceField(
        label="trust and class",
        queryset=SecurityClass.objects.select_related("trust").order_by("trust__code", "priority", "name"))
    from_holder = HolderChoiceField(label="from (seller)", queryset=Holder.objects.order_by("code"),
                                    to_field_name="code")
    to_holder = HolderChoiceField(label="to (buyer)", queryset=Holder.objects.order_by("code"), to_field_name="code")
    face = forms.CharField(label="original face", help_text="dollars with cents, e.g. 50000.00")
    trade_date = forms.DateField(initial=business_time.today, help_text="YYYY-MM-DD")
    settlement_date = forms.DateField(initial=business_time.today,
                                      help_text="YYYY-MM-DD; the holder of record on a record date is paid")

    def clean_face(self):
        try:
            return cents_from_dollars(self.cleaned_data["face"])
        except MoneyFormatError as error:
            raise forms.ValidationError(str(error)) from None

    def transfer_arguments(self) -> dict:
        data = self.cleaned_data
        return {"trust_code": data["security_class"].trust.code, "class_name": data["security_class"].name,
                "from_holder": data["from_holder"].code, "to_holder": data["to_holder"].code,
                "face_cents": data["face"], "trade_date": data["trade_date"],
                "settlement_date": data["settlement_date"]}


class CleanUpCallForm(forms.Form):
    call_date = forms.DateField(label="call date", initial=business_time.today,
                                help_text="YYYY-MM-DD; the loans are bought at par plus interest accrued to it")
