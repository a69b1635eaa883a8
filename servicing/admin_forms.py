"""Forms behind the servicing admin's actions: a loan tape, a payment file, an escrow analysis, a
loss-mitigation step, a bankruptcy step.

They only read what staff typed or uploaded; every rule about the data
itself is the services' (servicing.services.*), which the admin calls.
"""
import base64
import hashlib

from django import forms

from ledger import business_time
from servicing.services.loss_mitigation import RESOLUTIONS, STEP_NAMES

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class UploadForm(forms.Form):
    """A CSV upload read whole into memory, refused above MAX_UPLOAD_BYTES."""

    upload_field = "file"

    def raw(self) -> bytes:
        return self.cleaned_data[self.upload_field]

    def clean(self):
        data = super().clean()
        upload = data.get(self.upload_field)
        if upload is not None:
            raw = upload.read(MAX_UPLOAD_BYTES + 1)
            if len(raw) > MAX_UPLOAD_BYTES:
                self.add_error(self.upload_field, "the file is larger than 20 MB; use the management command")
            else:
                data[self.upload_field] = raw
        return data


class TapeUploadForm(UploadForm):
    upload_field = "tape"
    tape = forms.FileField(help_text="CSV loan tape with the columns listed in the README")
    boarded_on = forms.DateField(initial=business_time.today, help_text="boarding date (YYYY-MM-DD)")


class PaymentFileForm(UploadForm):
    file = forms.FileField(label="payment file",
                           help_text="CSV with the columns loan_number, received_on, amount, reference")


class EscrowAnalysisForm(forms.Form):
    computation_year_start = forms.DateField(
        help_text="first installment due date of the year analysed (YYYY-MM-DD), on or after the next due date")


class LossMitigationForm(forms.Form):
    """A loss-mitigation step and the figures it takes (servicing.services.loss_mitigation.step_record)."""

    step = forms.ChoiceField(choices=[(s, s.replace("-", " ")) for s in STEP_NAMES])
    on = forms.DateField(initial=business_time.today, help_text="the step's date (YYYY-MM-DD)")
    months = forms.IntegerField(required=False, min_value=1, help_text="a plan's months")
    amount = forms.DecimalField(required=False, min_value=0, decimal_places=2, max_digits=14,
                                help_text="a forbearance's reduced payment or a trial's payment (dollars)")
    resolution = forms.ChoiceField(required=False, choices=[("", "---")] + [(r, r) for r in RESOLUTIONS],
                                   help_text="how a forbearance ends")
    repayment_months = forms.IntegerField(required=False, min_value=1)
    note_rate = forms.DecimalField(required=False, min_value=0, max_digits=7, decimal_places=4,
                                   help_text="a modification's new rate (%)")
    term_months = forms.IntegerField(required=False, min_value=1)
    first_payment_date = forms.DateField(required=False)
    principal_forbearance = forms.DecimalField(required=False, min_value=0, decimal_places=2, max_digits=14)

    def step_arguments(self) -> dict:
        d = self.cleaned_data
        return {"months": d["months"], "amount_cents": int((d["amount"] or 0) * 100),
                "resolution": d["resolution"] or None, "repayment_months": d["repayment_months"],
                "note_rate": d["note_rate"], "term_months": d["term_months"],
                "first_payment_date": d["first_payment_date"],
                "principal_forbearance_cents": int((d["principal_forbearance"] or 0) * 100)}


class BankruptcyForm(forms.Form):
    """One step of a borrower's bankruptcy case (servicing.services.bankruptcy.STEPS)."""

    step = forms.ChoiceField(choices=())
    case_number = forms.CharField(max_length=40)
    chapter = forms.TypedChoiceField(choices=(("", "—"), (7, "chapter 7"), (13, "chapter 13")), coerce=int,
                                     required=False, empty_value=None, help_text="for a filing")
    court = forms.CharField(max_length=200, required=False, help_text="court and district, for a filing")
    on = forms.DateField(initial=business_time.today, help_text="the day of the step (YYYY-MM-DD)")

    def __init__(self, *args, steps: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["step"].choices = list(steps.items())


class PendingUpload:
    """A file previewed in one request and posted in the next, kept in the staff member's session.

    The confirm form carries the file's digest, so the file posted is the one
    the page showed, even if another tab previewed a different file since.
    """

    def __init__(self, session, key: str):
        self.session, self.key = session, key

    @staticmethod
    def digest(raw: bytes) -> str:
        return hashlib.sha256(raw).hexdigest()

    def keep(self, raw: bytes, **extra: str) -> str:
        """Keep the file (and small text values that go with it); returns its digest."""
        self.session[self.key] = {"raw": base64.b64encode(raw).decode(), **extra}
        return self.digest(raw)

    def take(self, digest: str | None) -> tuple[bytes, dict] | None:
        """The kept file and its values, forgotten once taken; None if none is kept or it is another file.

        A missing digest takes whatever file is kept (a form written before digests).
        """
        kept = self.session.get(self.key)
        if not isinstance(kept, dict):
            return None
        raw = base64.b64decode(kept["raw"])
        if digest and self.digest(raw) != digest:
            return None
        del self.session[self.key]
        return raw, {k: v for k, v in kept.items() if k != "raw"}
