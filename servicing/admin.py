"""Operations admin for servicing: loans with their position, schedule and history.

Nothing here writes except through the services: boarding runs
servicing.services.boarding after a preview; terms and positions are
read-only because they are projections of the loan's events.
"""
import base64

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from ledger.admin import ReadOnlyAdmin
from ledger.money import dollars_grouped
from ledger.selectors import stream_events
from servicing.amortization import schedule
from servicing.delinquency import days_delinquent
from servicing.errors import FileRejected
from servicing.models import Borrower, EscrowItem, Loan, Property
from servicing.services.boarding import tape_board, tape_preview

MAX_TAPE_BYTES = 20 * 1024 * 1024


class TapeUploadForm(forms.Form):
    tape = forms.FileField(help_text="CSV loan tape with the columns listed in the README")
    boarded_on = forms.DateField(initial=timezone.localdate, help_text="boarding date (YYYY-MM-DD)")


def _money(cents):
    return "—" if cents is None else dollars_grouped(cents)


@admin.register(Loan)
class LoanAdmin(ReadOnlyAdmin):
    change_list_template = "admin/servicing/loan/change_list.html"
    list_display = ("loan_number", "borrower", "unpaid_balance", "status", "next_due_date", "days_late",
                    "escrow_balance", "suspense", "autopay")
    list_filter = ("position__status", "position__delinquency_bucket", "autopay", "property__property_type")
    search_fields = ("=loan_number", "borrower__name", "property__address")
    list_select_related = ("borrower", "position")
    ordering = ("loan_number",)
    show_full_result_count = False
    fieldsets = (
        ("Terms at boarding", {"fields": ("loan_number", "borrower", "property", "original_balance",
                                          "boarded_balance", "note_rate", "term_months", "first_payment_date",
                                          "servicing_fee_rate", "payment", "autopay", "boarded_on")}),
        ("Current position", {"fields": ("position_summary",)}),
        ("Schedule", {"fields": ("amortization_schedule",), "classes": ("collapse",)}),
        ("Event history", {"fields": ("event_history",)}),
    )
    readonly_fields = ("original_balance", "boarded_balance", "payment", "position_summary",
                       "amortization_schedule", "event_history")

    @admin.display(description="unpaid balance", ordering="position__principal_balance_cents")
    def unpaid_balance(self, loan):
        return _money(loan.position.principal_balance_cents)

    @admin.display(description="status", ordering="position__status")
    def status(self, loan):
        return loan.position.get_status_display()

    @admin.display(description="next due", ordering="position__next_due_date")
    def next_due_date(self, loan):
        return loan.position.next_due_date

    @admin.display(description="days delinquent", ordering="position__next_due_date")
    def days_late(self, loan):
        if loan.position.is_closed:
            return "—"
        return days_delinquent(next_due_date=loan.position.next_due_date, as_of=timezone.localdate())

    @admin.display(description="escrow", ordering="position__escrow_balance_cents")
    def escrow_balance(self, loan):
        return _money(loan.position.escrow_balance_cents)

    @admin.display(description="suspense", ordering="position__suspense_cents")
    def suspense(self, loan):
        return _money(loan.position.suspense_cents)

    @admin.display(description="original balance")
    def original_balance(self, loan):
        return _money(loan.original_balance_cents)

    @admin.display(description="balance when boarded")
    def boarded_balance(self, loan):
        return _money(loan.boarded_balance_cents)

    @admin.display(description="monthly P&I")
    def payment(self, loan):
        return _money(loan.payment_pi_cents)

    @admin.display(description="position")
    def position_summary(self, loan):
        p = loan.position
        rows = [
            ("Status", p.get_status_display()), ("Unpaid principal", _money(p.principal_balance_cents)),
            ("Next due", p.next_due_date), ("Delinquency (MBA)", p.delinquency_bucket),
            ("Escrow balance", _money(p.escrow_balance_cents)), ("Escrow advanced", _money(p.escrow_advance_cents)),
            ("Monthly escrow", _money(p.escrow_monthly_cents)), ("Suspense", _money(p.suspense_cents)),
            ("Late charges due", _money(p.late_charges_due_cents)), ("Fees due", _money(p.fees_due_cents)),
            ("Realized loss", _money(p.realized_loss_cents)), ("Last payment", p.last_payment_date or "—"),
        ]
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    @admin.display(description="amortization schedule")
    def amortization_schedule(self, loan):
        rows = (
            (i.number, i.due_date, _money(i.payment_cents), _money(i.interest_cents), _money(i.principal_cents),
             _money(i.balance_cents_after))
            for i in schedule(principal_cents=loan.original_balance_cents, annual_rate_percent=loan.note_rate,
                              term_months=loan.term_months, first_payment_date=loan.first_payment_date)
        )
        return format_html(
            "<table><tr><th>#</th><th>due</th><th>payment</th><th>interest</th><th>principal</th>"
            "<th>balance</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="events")
    def event_history(self, loan):
        rows = (
            (reverse("admin:ledger_event_change", args=[e.position]), e.position, e.version, e.effective_date,
             e.event_type, ", ".join(f"{p.account} {dollars_grouped(p.amount_cents)}" for p in e.postings))
            for e in stream_events(loan.stream)
        )
        return format_html(
            "<table><tr><th>#</th><th>v</th><th>date</th><th>event</th><th>postings</th></tr>{}</table>",
            format_html_join("", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
                             rows),
        )

    def get_urls(self):
        board = path("board/", self.admin_site.admin_view(self.board_view), name="servicing_loan_board")
        return [board, *super().get_urls()]

    def board_view(self, request):
        """Upload a tape, see every bad row, then board all of it (or nothing)."""
        if not request.user.has_perm("servicing.add_loan"):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": "Board loans from a tape", "opts": self.model._meta}
        if request.method == "POST" and "confirm" in request.POST:
            return self._board_confirmed(request)
        form = TapeUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["tape"].read(MAX_TAPE_BYTES + 1)
            if len(raw) > MAX_TAPE_BYTES:
                form.add_error("tape", "the tape is larger than 20 MB; board it with manage.py board_loans")
            else:
                rows, problems = tape_preview(raw=raw)
                request.session["loan_tape"] = base64.b64encode(raw).decode()
                request.session["loan_tape_date"] = form.cleaned_data["boarded_on"].isoformat()
                context.update(rows=rows, problems=problems, boarded_on=form.cleaned_data["boarded_on"])
        context["form"] = form
        return TemplateResponse(request, "admin/servicing/loan/board.html", context)

    def _board_confirmed(self, request):
        raw = base64.b64decode(request.session.pop("loan_tape", ""))
        boarded_on = timezone.datetime.fromisoformat(request.session.pop("loan_tape_date")).date()
        try:
            result = tape_board(raw=raw, boarded_on=boarded_on, acting_user=request.user)
        except FileRejected as rejected:
            messages.error(request, f"Nothing boarded: {len(rejected.problems)} bad row(s). Upload a corrected tape.")
            return redirect("admin:servicing_loan_board")
        messages.success(request, f"Boarded {len(result.boarded)} loan(s); "
                                  f"{len(result.already_boarded)} were already boarded on the same terms.")
        return redirect("admin:servicing_loan_changelist")


@admin.register(Borrower)
class BorrowerAdmin(ReadOnlyAdmin):
    list_display = ("name",)
    search_fields = ("name", "loans__loan_number")


@admin.register(Property)
class PropertyAdmin(ReadOnlyAdmin):
    list_display = ("address", "property_type", "value")
    list_filter = ("property_type",)
    search_fields = ("address", "loans__loan_number")

    @admin.display(description="value", ordering="value_cents")
    def value(self, prop):
        return _money(prop.value_cents)


@admin.register(EscrowItem)
class EscrowItemAdmin(ReadOnlyAdmin):
    list_display = ("loan", "kind", "payee", "annual_amount", "due_dates")
    list_filter = ("kind",)
    search_fields = ("=loan__loan_number", "payee")

    @admin.display(description="annual amount", ordering="annual_amount_cents")
    def annual_amount(self, item):
        return _money(item.annual_amount_cents)
