"""Forms behind the approvals admin: ask for a close, ask for a reversal, reject with a reason.

They only read what staff typed; every rule about the request itself is the
services' (`approvals.services`), which the admin calls.
"""
from __future__ import annotations

from decimal import Decimal

from django import forms

from ledger import business_time
from approvals.subjects import payments_standing
from ledger.domain.money import dollars_grouped
from remittance.models import PERIOD_FORMAT
from servicing.services.loss_mitigation import ModificationTerms
from trusts.models import Trust


class CloseRequestForm(forms.Form):
    trust = forms.ModelChoiceField(queryset=Trust.objects.order_by("code"), to_field_name="code")
    period = forms.RegexField(regex=PERIOD_FORMAT, max_length=7, help_text="the collection period, YYYY-MM",
                              error_messages={"invalid": "write the period as YYYY-MM, e.g. 2026-03"})


class ReversalRequestForm(forms.Form):
    loan_number = forms.CharField(max_length=40, label="loan number")
    reference = forms.CharField(max_length=100, label="payment reference",
                                help_text="the bank reference it was posted under")
    returned_on = forms.DateField(initial=business_time.today, label="returned on",
                                  help_text="the day the bank returned it (YYYY-MM-DD)")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                             help_text="the bank's reason (NSF, stopped payment, account closed, ...)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        loan = (self.data.get("loan_number") or self.initial.get("loan_number") or "").strip()
        standing = payments_standing(loan) if loan else []
        if standing:
            # The loan's posted payments not yet returned, to pick from instead of typing a reference.
            self.fields["reference"] = forms.ChoiceField(
                label="payment", choices=[("", "---------")] + [
                    (p.reference, f"{p.reference}: {dollars_grouped(p.amount_cents)} received on {p.received_on}")
                    for p in standing])


class ForgivenessRequestForm(forms.Form):
    """A modification that forgives principal: its terms, the amount forgiven and why."""

    loan_number = forms.CharField(max_length=40, label="loan number")
    modified_on = forms.DateField(initial=business_time.today, label="modified on")
    note_rate = forms.DecimalField(max_digits=7, decimal_places=4, min_value=0, label="new note rate (%)")
    term_months = forms.IntegerField(min_value=1, max_value=480, label="new term (months)")
    first_payment_date = forms.DateField(label="first modified payment due")
    principal_forbearance = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, initial=0,
                                               label="principal forbearance (deferred, dollars)")
    forgiven = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"),
                                  label="principal forgiven (dollars)")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="the hardship and the program")

    def terms(self) -> ModificationTerms:
        data = self.cleaned_data
        return ModificationTerms(
            modified_on=data["modified_on"], note_rate=data["note_rate"], term_months=data["term_months"],
            first_payment_date=data["first_payment_date"],
            principal_forbearance_cents=int(data["principal_forbearance"] * 100),
            forgiven_cents=int(data["forgiven"] * 100))


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="reason for rejecting")
