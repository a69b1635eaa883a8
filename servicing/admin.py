"""Operations admin for servicing: loans with their position, schedule and history, and the loan actions.

Nothing here writes except through the services, each behind a preview:
boarding a tape (servicing.services.boarding), importing a payment file
(servicing.services.payment_files), the annual escrow analysis
(servicing.services.escrow), the loss-mitigation steps
(servicing.services.loss_mitigation; a forgiveness through approvals) and a step of a borrower's bankruptcy
case (servicing.services.bankruptcy). Terms and positions are read-only because they
are projections of the loan's events. Running an action needs the model
permission "Can change loan" ("Can add loan" to board); looking needs
"Can view loan".
"""
from datetime import date

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ledger import business_time
from ledger.admin import ReadOnlyAdmin, html_table, money, money_column
from ledger.models import Event
from ledger.selectors import stream_events
from servicing.admin_forms import (
    BankruptcyForm, EscrowAnalysisForm, LossMitigationForm, PaymentFileForm, PendingUpload, TapeUploadForm,
)
from servicing.domain.default_states import BY_NAME, DEFAULT_STATES, default_servicing
from servicing.domain.loan_terms import product_schedule
from servicing.domain.delinquency_status import days_delinquent
from servicing.errors import FileRejected, ServicingError
from servicing.events import loan_fact
from servicing.models import Borrower, EscrowItem, Loan, Property
from servicing.selectors import default_state_filter
from servicing.services.bankruptcy import STEPS, bankruptcy_step, loan_cases
from servicing.services.boarding import tape_board, tape_preview
from servicing.services.payment_files import payment_file_import, payment_file_preview
from servicing.services.escrow import analysis_key, escrow_analysis_preview, escrow_analysis_run
from servicing.services.loss_mitigation import step_record
from servicing.services.payoff import payoff_quote_get
from servicing.selectors import loan_terms_history

ESCROW_FIGURES = (
    ("annual disbursements", "annual_disbursements_cents"), ("cushion", "cushion_cents"),
    ("base monthly escrow", "base_monthly_escrow_cents"), ("projected low point", "projected_low_point_cents"),
    ("deficiency", "deficiency_cents"), ("shortage", "shortage_cents"), ("surplus", "surplus_cents"),
    ("surplus refunded", "surplus_refund_cents"), ("surplus credited", "surplus_credit_cents"),
    ("previous monthly escrow", "previous_monthly_escrow_cents"), ("new monthly escrow", "new_monthly_escrow_cents"),
)


def _position(loan):
    # A loan without its projection row (only while rebuild_projections runs) shows dashes, not an error.
    return getattr(loan, "position", None)


class DefaultStateFilter(admin.SimpleListFilter):
    """Loans in a default-servicing state (servicing.domain.default_states), as the dashboard counts them."""

    title, parameter_name = "default servicing", "default_state"

    def lookups(self, request, model_admin):
        return [(state.name, state.label) for state in DEFAULT_STATES]

    def queryset(self, request, queryset):
        state = BY_NAME.get(self.value() or "")
        return queryset.filter(default_state_filter(state, prefix="position__")) if state else queryset


@admin.register(Loan)
class LoanAdmin(ReadOnlyAdmin):
    change_list_template = "admin/servicing/loan/change_list.html"
    list_display = ("loan_number", "borrower", "unpaid_balance", "status", "days_late", "next_due_date",
                    "escrow_balance", "suspense", "autopay")
    list_filter = ("position__status", "position__delinquency_bucket", DefaultStateFilter, "autopay",
                   "property__property_type")
    search_fields = ("^loan_number", "borrower__name", "property__address")
    # The position is a one-to-one projection: joined, so a page of loans is one query.
    list_select_related = ("borrower", "position")
    ordering = ("loan_number",)
    show_full_result_count = False
    fieldsets = (
        ("Terms at boarding", {"fields": ("loan_number", "borrower", "property", "original_balance",
                                          "boarded_balance", "note_rate", "term_months", "first_payment_date",
                                          "servicing_fee_rate", "payment", "autopay", "boarded_on",
                                          "escrow_items")}),
        ("Loan product and changes of terms", {"fields": ("product_terms", "terms_changes")}),
        ("Current position", {"fields": ("position_summary",)}),
        ("Schedule", {"fields": ("amortization_schedule",), "classes": ("collapse",)}),
        ("Event history", {"fields": ("event_history",)}),
    )
    readonly_fields = ("original_balance", "boarded_balance", "payment", "escrow_items", "position_summary",
                       "amortization_schedule", "event_history", "product_terms", "terms_changes")

    # ---- list columns ----------------------------------------------------------------------------

    unpaid_balance = money_column("position__principal_balance_cents", "unpaid balance")
    escrow_balance = money_column("position__escrow_balance_cents", "escrow balance")
    suspense = money_column("position__suspense_cents", "suspense")

    @admin.display(description="status", ordering="position__status")
    def status(self, loan):
        return _position(loan).get_status_display() if _position(loan) else "—"

    @admin.display(description="next due", ordering="position__next_due_date")
    def next_due_date(self, loan):
        return _position(loan).next_due_date if _position(loan) else "—"

    # More days late means an earlier due date, hence the reversed ordering.
    @admin.display(description="days delinquent", ordering="-position__next_due_date")
    def days_late(self, loan):
        p = _position(loan)
        if p is None or p.is_closed:
            return "—"
        return days_delinquent(next_due_date=p.next_due_date, as_of=business_time.today())

    # ---- the loan's page -------------------------------------------------------------------------

    original_balance = money_column("original_balance_cents", "original balance")
    boarded_balance = money_column("boarded_balance_cents", "balance when boarded")
    payment = money_column("payment_pi_cents", "monthly P&I")

    @admin.display(description="escrow items")
    def escrow_items(self, loan):
        return html_table(("kind", "payee", "annual amount", "due dates"), (
            (item.get_kind_display(), item.payee, money(item.annual_amount_cents), ", ".join(item.due_dates))
            for item in loan.escrow_items.order_by("kind")), empty="no escrow items")

    @admin.display(description="position")
    def position_summary(self, loan):
        p = _position(loan)
        if p is None:
            return "no position (the read model is being rebuilt)"
        today = business_time.today()
        rows = [
            ("Status", p.get_status_display()), ("Unpaid principal", money(p.principal_balance_cents)),
            ("Note rate", f"{p.note_rate}%"), ("Monthly P&I", money(p.payment_pi_cents)),
            ("Next due", p.next_due_date),
            ("Days delinquent", "—" if p.is_closed else days_delinquent(next_due_date=p.next_due_date, as_of=today)),
            ("Delinquency (MBA, at the last aging)", p.delinquency_bucket),
            ("Default servicing", default_servicing(p).describe()),
            ("Escrow balance", money(p.escrow_balance_cents)), ("Escrow advanced", money(p.escrow_advance_cents)),
            ("Monthly escrow", money(p.escrow_monthly_cents)), ("Suspense", money(p.suspense_cents)),
            ("Late charges due", money(p.late_charges_due_cents)), ("Fees due", money(p.fees_due_cents)),
            ("Realized loss", money(p.realized_loss_cents)), ("Last payment", p.last_payment_date or "—"),
            ("Deferred principal (no interest)", money(p.deferred_principal_cents)),
            ("Loss mitigation", p.loss_mitigation.replace("_", " ") or "—"),
            (f"Payoff amount on {today.isoformat()}", self._payoff_today(loan, today)),
            ("Events", f"{p.stream_version} (last at log position {p.last_position})"),
        ]
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    @staticmethod
    def _payoff_today(loan, today):
        try:
            return money(payoff_quote_get(loan_number=loan.pk, as_of=today).amount_due_cents)
        except ServicingError:  # a closed loan has no payoff
            return "—"

    @admin.display(description="amortization schedule")
    def amortization_schedule(self, loan):
        p = _position(loan)
        next_due = p.next_due_date if p and not p.is_closed else None

        def state(due):
            if next_due is None:
                return ""
            return "paid" if due < next_due else "next due" if due == next_due else ""

        boarded, changes = loan_terms_history(loan.pk)
        terms = boarded.loan_terms if boarded else None
        rows = ((i.number, i.due_date, state(i.due_date), f"{i.note_rate}%", money(i.payment_cents),
                 money(i.interest_cents), money(i.principal_cents), money(i.balance_cents_after))
                for i in (product_schedule(terms=terms, principal_cents=loan.original_balance_cents,
                                           note_rate=loan.note_rate, first_payment_date=loan.first_payment_date,
                                           rates={c.first_installment: c.note_rate for c in changes})
                          if terms else ()))
        note = mark_safe("<p>At the note's terms from the original balance, with the rate changes recorded so "  # a constant # nosec B308
                         "far; curtailments make the loan shorter than this.</p>")
        return note + html_table(("#", "due", "", "rate", "payment", "interest", "principal", "balance after"), rows)

    @admin.display(description="product")
    def product_terms(self, loan):
        boarded, _ = loan_terms_history(loan.pk)
        if boarded is None:
            return "—"
        t = boarded.loan_terms
        rows = [("Product", t.product), ("Term (months to maturity)", t.term_months),
                ("Amortization months", f"{t.amortization_months}" + (" (balloon)" if t.is_balloon else "")),
                ("Interest-only months", t.interest_only_months)]
        if t.arm is not None:
            a = t.arm
            rows += [("Index", a.index), ("Margin", f"{a.margin}%"), ("Rounding", a.rounding),
                     ("Look-back", f"{a.lookback_days} days"),
                     ("Changes", f"first after {a.first_change_months} months, then every {a.change_every_months}"),
                     ("Caps (first / periodic / lifetime)", f"{a.first_cap}% / {a.periodic_cap}% / {a.lifetime_cap}%"),
                     ("Floor", f"{a.floor}%")]
        return format_html("<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows))

    @admin.display(description="changes of terms (Regulation Z notices)")
    def terms_changes(self, loan):
        _, changes = loan_terms_history(loan.pk)
        rows = ((c.reason.replace("_", " "), c.first_due_date, f"{c.note_rate_before}% → {c.note_rate}%",
                 f"{money(c.payment_pi_cents_before)} → {money(c.payment_pi_cents)}",
                 f"{c.index} {c.index_value}% on {c.index_date}" if c.index else "—", c.limited_by or "—",
                 f"{c.notice_from} to {c.notice_by}" if c.notice_from else "—",
                 f"{c.initial_notice_from} to {c.initial_notice_by}" if c.initial_notice_from else "—")
                for c in changes)
        return html_table(("change", "first installment", "rate", "P&I", "index", "limited by",
                           "notice 1026.20(c)", "initial notice 1026.20(d)"), rows, empty="no change of terms")

    @admin.display(description="events")
    def event_history(self, loan):
        events = stream_events(loan.stream)
        users = dict(get_user_model().objects.filter(pk__in={e.acting_user_id for e in events})
                     .values_list("pk", "username"))
        rows = (
            (format_html('<a href="{}">{}</a>', reverse("admin:ledger_event_change", args=[e.position]), e.position),
             e.version, e.effective_date, e.event_type, users.get(e.acting_user_id, "—"),
             format_html_join(mark_safe("<br>"), "{} {}", ((pl.account, money(pl.amount_cents))  # a constant string # nosec B308
                                                              for pl in e.postings)) or "—")
            for e in reversed(events)
        )
        link = format_html('<p>Newest first. <a href="{}?stream={}">Open in the event log</a></p>',
                           reverse("admin:ledger_event_changelist"), loan.stream)
        return link + html_table(("position", "v", "effective", "event", "by", "postings (debit +, credit −)"), rows)

    # ---- actions: views that call the services -----------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("board/", wrap(self.board_view), name="servicing_loan_board"),
            path("import-payments/", wrap(self.import_payments_view), name="servicing_loan_import_payments"),
            path("<path:object_id>/escrow-analysis/", wrap(self.escrow_analysis_view),
                 name="servicing_loan_escrow_analysis"),
            path("<path:object_id>/loss-mitigation/", wrap(self.loss_mitigation_view),
                 name="servicing_loan_loss_mitigation"),
            path("<path:object_id>/bankruptcy/", wrap(self.bankruptcy_view), name="servicing_loan_bankruptcy"),
            *super().get_urls(),
        ]

    def _action_context(self, request, title, **extra):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return {**self.admin_site.each_context(request), "title": title, "opts": self.model._meta, **extra}

    def board_view(self, request):
        """Upload a tape, see every bad row, then board all of it (or nothing)."""
        if not request.user.has_perm("servicing.add_loan"):
            raise PermissionDenied
        context = self._action_context(request, "Board loans from a tape")
        pending = PendingUpload(request.session, "loan_tape")
        if request.method == "POST" and "confirm" in request.POST:
            return self._board_confirmed(request, pending)
        form = TapeUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            boarded_on = form.cleaned_data["boarded_on"]
            rows, problems = tape_preview(raw=form.raw())
            context.update(rows=rows, problems=problems, boarded_on=boarded_on,
                           rows_table=html_table(
                               ("line", "loan", "borrower", "balance", "rate", "term", "next due"),
                               ((r.line, r.loan_number, r.borrower_name, money(r.current_balance_cents),
                                 f"{r.note_rate}%", r.term_months, r.next_due_date) for r in rows[:200])))
            if not problems:
                context["digest"] = pending.keep(form.raw(), boarded_on=boarded_on.isoformat())
        context["form"] = form
        return TemplateResponse(request, "admin/servicing/loan/board.html", context)

    def _board_confirmed(self, request, pending):
        taken = pending.take(request.POST.get("digest"))
        if taken is None:
            messages.error(request, "The previewed tape is no longer waiting (boarded already, or another tape "
                                    "was previewed since): upload it again.")
            return redirect("admin:servicing_loan_board")
        raw, values = taken
        boarded_on = date.fromisoformat(values["boarded_on"])
        try:
            result = tape_board(raw=raw, boarded_on=boarded_on, acting_user=request.user)
        except FileRejected as rejected:
            messages.error(request, f"Nothing boarded: {len(rejected.problems)} bad row(s). Upload a corrected tape.")
            return redirect("admin:servicing_loan_board")
        messages.success(request, f"Boarded {len(result.boarded)} loan(s); "
                                  f"{len(result.already_boarded)} were already boarded on the same terms.")
        return redirect("admin:servicing_loan_changelist")

    def import_payments_view(self, request):
        """Upload a payment file, see every bad row, then post all of its payments (or none)."""
        if not request.user.has_perm("servicing.change_loan"):
            raise PermissionDenied
        context = self._action_context(request, "Import a payment file")
        pending = PendingUpload(request.session, "payment_file")
        if request.method == "POST" and "confirm" in request.POST:
            return self._payments_confirmed(request, pending, context)
        form = PaymentFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            preview = payment_file_preview(raw=form.raw())
            context.update(self._payment_preview(preview))
            if not preview.problems and preview.to_post:
                context["digest"] = pending.keep(form.raw())
        context["form"] = form
        return TemplateResponse(request, "admin/servicing/loan/import_payments.html", context)

    @staticmethod
    def _payment_preview(preview):
        def table(rows):
            return html_table(("line", "loan", "received on", "amount", "reference"), (
                (r.line, r.loan_number, r.received_on, money(r.amount_cents), r.reference) for r in rows))

        return {"previewed": True, "problems": preview.problems,
                "to_post": preview.to_post, "to_post_table": table(preview.to_post[:500]),
                "to_post_total": money(sum(r.amount_cents for r in preview.to_post)),
                "already_posted": preview.already_posted, "already_posted_table": table(preview.already_posted)}

    def _payments_confirmed(self, request, pending, context):
        taken = pending.take(request.POST.get("digest"))
        if taken is None:
            messages.error(request, "The previewed file is no longer waiting (posted already, or another file "
                                    "was previewed since): upload it again.")
            return redirect("admin:servicing_loan_import_payments")
        try:
            result = payment_file_import(raw=taken[0], acting_user=request.user)
        except FileRejected as rejected:
            # Something changed between the preview and the confirm (e.g. a loan paid off meanwhile).
            context.update(form=PaymentFileForm(), rejected=rejected.problems)
            return TemplateResponse(request, "admin/servicing/loan/import_payments.html", context)
        paid_off = sum(1 for r in result.posted if r.paid_off)
        messages.success(request, f"Posted {len(result.posted)} payment(s) of "
                                  f"{money(sum(loan_fact(r.event).amount_cents for r in result.posted))} "
                                  f"({paid_off} payoff(s)); {len(result.already_posted)} were already posted.")
        return redirect("admin:servicing_loan_changelist")

    def _loan_action(self, request, object_id, title: str):
        """The loan an action on its page is for, and the page's context; refused without "Can change loan"."""
        if not request.user.has_perm("servicing.change_loan"):
            raise PermissionDenied
        loan = self.get_object(request, unquote(object_id))
        if loan is None:
            raise Http404(f"no loan {unquote(object_id)}")
        return loan, self._action_context(request, f"{title} of loan {loan.pk}", loan=loan,
                                          loan_url=reverse("admin:servicing_loan_change", args=[quote(loan.pk)]))

    def escrow_analysis_view(self, request, object_id):
        """Preview a loan's annual escrow analysis for a computation year, then record it."""
        loan, context = self._loan_action(request, object_id, "Escrow analysis")
        initial = {"computation_year_start": _position(loan).next_due_date} if _position(loan) else {}
        form = EscrowAnalysisForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            start = form.cleaned_data["computation_year_start"]
            try:
                if "confirm" in request.POST:
                    record = escrow_analysis_run(loan_number=loan.pk, computation_year_start=start,
                                                 acting_user=request.user)
                    messages.success(request, self._analysis_message(record))
                    return redirect(context["loan_url"])
                record = escrow_analysis_preview(loan_number=loan.pk, computation_year_start=start)
            except ServicingError as refused:
                form.add_error(None, str(refused))
            else:
                recorded_before = Event.objects.filter(idempotency_key=analysis_key(loan.pk, start)).exists()
                context.update(self._analysis_tables(record), start=start, recorded_before=recorded_before)
        context["form"] = form
        return TemplateResponse(request, "admin/servicing/loan/escrow_analysis.html", context)

    def loss_mitigation_view(self, request, object_id):
        """Record a loss-mitigation step on the loan; a forgiveness is asked for through approvals."""
        loan, context = self._loan_action(request, object_id, "Loss mitigation")
        context["forgiveness_url"] = reverse("admin:approvals_request_forgiveness") + f"?loan={quote(loan.pk)}"
        form = LossMitigationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                recorded = step_record(form.cleaned_data["step"], loan_number=loan.pk, on=form.cleaned_data["on"],
                                       acting_user=request.user, **form.step_arguments())
            except ServicingError as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, f"Loan {loan.pk}: recorded " + ", ".join(
                    f"{e.event_type} (event {e.position})" for e in recorded))
                return redirect(context["loan_url"])
        context["form"] = form
        return TemplateResponse(request, "admin/servicing/loan/loss_mitigation.html", context)

    @staticmethod
    def _analysis_tables(record):
        a = record.analysis
        return {
            "analysis": a,
            "figures_table": html_table(("figure", "amount"),
                                        ((label, money(getattr(a, key))) for label, key in ESCROW_FIGURES)),
            "items_table": html_table(("item", "payee", "annual amount", "paid on"), (
                (i.kind.replace("_", " "), i.payee, money(i.annual_amount_cents),
                 ", ".join(d.isoformat() for d in i.disbursement_dates)) for i in a.items)),
            "projection_table": html_table(("month", "deposit", "disbursed", "balance at month end"), (
                (m.month_start.isoformat()[:7], money(m.deposit_cents), money(m.disbursements_cents),
                 money(m.balance_cents_closing)) for m in a.projection)),
            "payments": ", ".join(money(c) for c in a.monthly_escrow_payments_cents),
        }

    @staticmethod
    def _analysis_message(record):
        a = record.analysis
        if record.already_recorded:
            return (f"The escrow analysis of loan {record.loan_number} for the year from "
                    f"{a.computation_year_start.isoformat()} was recorded before; nothing was recorded now.")
        return (f"Escrow analysis of loan {record.loan_number} recorded for the year from "
                f"{a.computation_year_start.isoformat()}: monthly escrow {money(a.new_monthly_escrow_cents)} (was "
                f"{money(a.previous_monthly_escrow_cents)}), shortage {money(a.shortage_cents)}, surplus "
                f"refunded {money(a.surplus_refund_cents)}, credited {money(a.surplus_credit_cents)}.")

    def bankruptcy_view(self, request, object_id):
        """The loan's bankruptcy cases, and a form recording the next step of one (servicing.services.bankruptcy)."""
        loan, context = self._loan_action(request, object_id, "Bankruptcy")
        form = BankruptcyForm(request.POST or None, steps=STEPS)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                bankruptcy_step(loan_number=loan.pk, step=data["step"], case_number=data["case_number"],
                                on=data["on"], chapter=data["chapter"], court=data["court"], acting_user=request.user)
            except ServicingError as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, f"Loan {loan.pk}: bankruptcy case {data['case_number']} "
                                          f"{STEPS[data['step']]} on {data['on'].isoformat()}.")
                return redirect(context["loan_url"])
        context.update(form=form, cases_table=html_table(
            ("case", "chapter", "court", "filed", "plan confirmed", "relief from stay", "ended"),
            ((c.case_number, c.chapter, c.court, c.filed_on, c.plan_confirmed_on or "—", c.relief_granted_on or "—",
              f"{c.outcome} {c.ended_on}" if c.ended_on else "open") for c in loan_cases(loan.pk).cases),
            empty="no bankruptcy case recorded"))
        return TemplateResponse(request, "admin/servicing/loan/bankruptcy.html", context)


@admin.register(Borrower)
class BorrowerAdmin(ReadOnlyAdmin):
    list_display = ("name",)
    search_fields = ("name", "loans__loan_number")


@admin.register(Property)
class PropertyAdmin(ReadOnlyAdmin):
    list_display = ("address", "property_type", "value")
    list_filter = ("property_type",)
    search_fields = ("address", "loans__loan_number")
    value = money_column("value_cents", "value")


@admin.register(EscrowItem)
class EscrowItemAdmin(ReadOnlyAdmin):
    list_display = ("loan", "kind", "payee", "annual_amount", "due_dates")
    list_filter = ("kind",)
    search_fields = ("=loan__loan_number", "payee")
    annual_amount = money_column("annual_amount_cents", "annual amount")
