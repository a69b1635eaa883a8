"""Trusts in the admin: trusts with their pool, classes, holders and periods; holders with holdings and payments.

Trusts and classes are written by the forming service alone, and the pool
and the register are projections of the log, so all of them are read-only
here. Two things are written, each through its service: a holder's name,
contact and login (trusts.services.holders) and a transfer of holdings
(trusts.services.register, "Can add holding movement" permission).

The close's figures (class balances and factors, periods, payments) are
remittance's read models, reached through their reverse relations and
apps.get_model: remittance imports trusts, never the other way round.
"""
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import quote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from ledger import business_time
from ledger.admin import ReadOnlyAdmin, html_table, money, money_column
from ledger.money import round_half_up
from trusts import admin_users  # noqa: F401  (the user pages: a holder's login is not deleted)
from trusts.admin_forms import HoldingTransferForm
from trusts.errors import TrustError
from trusts.models import Holder, HoldingMovement, PoolLoan, SecurityClass, Trust
from trusts.selectors import holdings_as_of
from trusts.services.holders import holder_details_change
from trusts.services.register import holding_transfer

POOL_ROWS = 50  # a pool can hold thousands of loans: the page shows the first ones and links to the rest
HOLDER_ROWS = 100
PERIOD_ROWS = 24
PAYMENT_ROWS = 24


def _remittance(model_name: str):
    return apps.get_model("remittance", model_name)


def _link(url_name: str, pk, text, query: str = "") -> str:
    url = reverse(url_name, args=[quote(pk)] if pk is not None else None)
    return format_html('<a href="{}{}">{}</a>', url, query, text)


def _factor(value) -> str:
    return f"{Decimal(value):.8f}"


def _coupon(security_class) -> str:
    return "net-wac" if security_class.is_net_wac else f"{security_class.coupon}%"


def _latest_factor(security_class) -> str:
    return _factor(1 if security_class.latest_factor is None else security_class.latest_factor)


def _unpaid_now(pool_loan) -> str:
    position = getattr(pool_loan.loan, "position", None)
    return money(position.principal_balance_cents) if position else "—"


def _loan_status(pool_loan) -> str:
    position = getattr(pool_loan.loan, "position", None)
    return position.get_status_display() if position else "—"


def with_latest_close(classes):
    """Classes with the balance, factor and period of their latest close; original face before any close."""
    latest = _remittance("ClassPeriod").objects.filter(security_class=OuterRef("pk")).order_by("-period")
    return classes.annotate(
        balance_cents=Coalesce(Subquery(latest.values("balance_end_cents")[:1]), F("original_face_cents")),
        latest_factor=Subquery(latest.values("factor")[:1]),
        latest_period=Subquery(latest.values("period")[:1]),
    )


def factors_paid_by(class_ids, day: date) -> dict[int, Decimal]:
    """Each class's factor after the last payment made by `day` (1 before any): what the API's holdings use."""
    factors = {}
    for class_id, factor in (_remittance("ClassPeriod").objects.filter(security_class__in=class_ids,
                                                                          payment_date__lte=day)
                             .order_by("security_class", "-period").values_list("security_class", "factor")):
        factors.setdefault(class_id, factor)
    return {class_id: factors.get(class_id, Decimal(1)) for class_id in class_ids}


def current_face(face_cents: int, factor: Decimal) -> int:
    return round_half_up(Decimal(face_cents) * factor)


class _ClassMoney:
    """The class columns shown on the class list and on the trust's page."""

    original_face = money_column("original_face_cents", "original face")
    denomination = money_column("denomination_cents", "denomination")
    balance = money_column("balance_cents", "balance")

    @admin.display(description="coupon")
    def coupon_or_net_wac(self, security_class):
        return _coupon(security_class)

    @admin.display(description="factor", ordering="latest_factor")
    def factor(self, security_class):
        return _latest_factor(security_class)

    @admin.display(description="after the close of", ordering="latest_period")
    def after_period(self, security_class):
        return security_class.latest_period or "no close yet"


class _PoolMoney:
    """The pool columns shown on the pool list and on the trust's page."""

    cutoff_balance = money_column("cutoff_balance_cents", "cut-off balance")
    price = money_column("price_cents", "price")
    unpaid_balance = money_column("loan__position__principal_balance_cents", "unpaid balance now")

    @admin.display(description="loan status", ordering="loan__position__status")
    def loan_status(self, pool_loan):
        return _loan_status(pool_loan)


CLASS_COLUMNS = ("name", "original_face", "coupon_or_net_wac", "principal_rule", "priority", "denomination")
POOL_COLUMNS = ("loan", "cutoff_balance", "price", "transferred_on", "removed_on", "removal_reason")
DEAL_FIELDS = ("code", "name", "issuer", "servicer", "trustee", "closing_date", "cutoff_date", "first_payment_date",
               "payment_day", "issuer_spread_rate", "remittance_type", "purchase_price_percent", "residual_holder",
               "overcollateralized")


@admin.register(Trust)
class TrustAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "servicer", "closing_date", "remittance_type", "loans_in_pool", "pool_balance",
                    "last_closed")
    list_filter = ("remittance_type",)
    search_fields = ("code", "name")
    ordering = ("code",)
    fieldsets = (
        ("Deal", {"fields": DEAL_FIELDS}),
        ("Classes", {"fields": ("classes_panel",)}),
        ("Pool", {"fields": ("pool_panel",)}),
        ("Holders", {"fields": ("holders_panel",)}),
        ("Periods", {"fields": ("periods_panel",)}),
    )
    readonly_fields = ("classes_panel", "pool_panel", "holders_panel", "periods_panel")
    pool_balance = money_column("pool_balance_cents", "unpaid balance now")

    def get_queryset(self, request):
        in_pool = PoolLoan.objects.filter(trust=OuterRef("pk"), removed_on__isnull=True).order_by().values("trust")
        closed = (_remittance("TrustPeriod").objects.filter(trust=OuterRef("pk"), status="closed")
                  .order_by("-period").values("period")[:1])
        return super().get_queryset(request).annotate(
            pool_count=Subquery(in_pool.annotate(n=Count("pk")).values("n")),
            pool_balance_cents=Subquery(in_pool.annotate(s=Sum("loan__position__principal_balance_cents"))
                                        .values("s")),
            last_closed_period=Subquery(closed),
        )

    @admin.display(description="loans in pool", ordering="pool_count")
    def loans_in_pool(self, trust):
        return trust.pool_count or 0

    @admin.display(description="last closed period", ordering="last_closed_period")
    def last_closed(self, trust):
        return trust.last_closed_period or "—"

    @admin.display(description="classes")
    def classes_panel(self, trust):
        classes = with_latest_close(trust.classes.order_by("priority", "name"))
        return html_table(
            ("class", "original face", "coupon", "principal", "priority", "balance", "factor", "after the close of"),
            ((_link("admin:trusts_securityclass_change", c.pk, c.name), money(c.original_face_cents),
              _coupon(c), c.get_principal_rule_display(), c.priority, money(c.balance_cents), _latest_factor(c),
              c.latest_period or "no close yet")
             for c in classes)) + format_html("<p>{}</p>", _link(
                 "admin:analytics_scenarios", None, "Class balances under PSA scenarios",
                 "?" + urlencode({"trust": trust.code})))

    @admin.display(description="pool")
    def pool_panel(self, trust):
        pool = trust.pool.select_related("loan__position").order_by("loan_id")
        totals = pool.aggregate(
            loans=Count("pk"), active=Count("pk", filter=Q(removed_on__isnull=True)),
            cutoff=Sum("cutoff_balance_cents"),
            unpaid=Sum("loan__position__principal_balance_cents", filter=Q(removed_on__isnull=True)))
        summary = format_html(
            "<p>{} loans in the pool now ({} removed); cut-off balance {}, unpaid balance now {}. {}</p>",
            totals["active"], totals["loans"] - totals["active"], money(totals["cutoff"] or 0),
            money(totals["unpaid"] or 0),
            _link("admin:trusts_poolloan_changelist", None, f"All {totals['loans']} pool loans",
                  f"?trust__id__exact={trust.pk}"))
        rows = ((_link("admin:servicing_loan_change", p.loan_id, p.loan_id), money(p.cutoff_balance_cents),
                 money(p.price_cents), _unpaid_now(p), _loan_status(p),
                 p.transferred_on, p.removed_on or "", p.removal_reason)
                for p in pool[:POOL_ROWS])
        table = html_table(("loan", "cut-off balance", "price", "unpaid balance now", "loan status", "transferred",
                            "removed", "reason"), rows, empty="no loans")
        if totals["loans"] > POOL_ROWS:
            table += format_html("<p>The first {} shown.</p>", POOL_ROWS)
        return summary + table

    @admin.display(description="holders today")
    def holders_panel(self, trust):
        today = business_time.today()
        classes = list(trust.classes.order_by("priority", "name"))
        factors = factors_paid_by([c.pk for c in classes], today)
        held = [(c, code, face) for c in classes
                for code, face in holdings_as_of(security_class=c, as_of=today).items()]
        names = dict(Holder.objects.filter(code__in={code for _, code, _ in held}).values_list("code", "pk"))
        rows = ((c.name, _link("admin:trusts_holder_change", names[code], code), money(face), _factor(factors[c.pk]),
                 money(current_face(face, factors[c.pk])))
                for c, code, face in held[:HOLDER_ROWS])
        table = html_table(("class", "holder", "original face", "factor paid by today", "current face"), rows,
                           empty="no holdings")
        register = _link("admin:trusts_holdingmovement_changelist", None, "the register",
                         f"?security_class__trust__id__exact={trust.pk}")
        more = f"the first {HOLDER_ROWS} of {len(held)} holdings shown; " if len(held) > HOLDER_ROWS else ""
        return table + format_html("<p>As of {}; {}every line is in {}.</p>", today, more, register)

    @admin.display(description="periods")
    def periods_panel(self, trust):
        periods = list(trust.periods.order_by("-period")[:PERIOD_ROWS])
        factors = dict(trust.period_results.filter(period__in=[p.period for p in periods])
                       .values_list("period", "pool_factor"))
        rows = ((_link("admin:remittance_trustperiod_change", p.pk, p.period), p.get_status_display(), p.record_date,
                 p.payment_date if p.status == "closed" else f"{p.payment_date} (not paid yet)",
                 _factor(factors[p.period]) if p.period in factors else "—", p.last_error[:120])
                for p in periods)
        table = html_table(("period", "status", "record date", "payment date", "pool factor", "last error"), rows,
                           empty="no period closed or asked to close yet")
        return table + format_html("<p>Newest first; {}.</p>", _link(
            "admin:remittance_trustperiod_changelist", None, "every period", f"?trust__id__exact={trust.pk}"))


@admin.register(SecurityClass)
class SecurityClassAdmin(_ClassMoney, ReadOnlyAdmin):
    list_display = ("trust", *CLASS_COLUMNS, "balance", "factor", "after_period")
    list_filter = ("principal_rule", "trust")
    search_fields = ("=trust__code", "name")
    list_select_related = ("trust",)
    fields = readonly_fields = ("trust", *CLASS_COLUMNS, "balance", "factor", "after_period")

    def get_queryset(self, request):
        return with_latest_close(super().get_queryset(request))


@admin.register(PoolLoan)
class PoolLoanAdmin(_PoolMoney, ReadOnlyAdmin):
    list_display = ("trust", *POOL_COLUMNS[:3], "unpaid_balance", "loan_status", *POOL_COLUMNS[3:])
    list_filter = ("trust", "removed_on")
    search_fields = ("^loan__loan_number", "=trust__code")
    list_select_related = ("trust", "loan__position")
    fields = readonly_fields = ("trust", *POOL_COLUMNS, "unpaid_balance", "loan_status")
    show_full_result_count = False


@admin.register(HoldingMovement)
class HoldingMovementAdmin(ReadOnlyAdmin):
    change_list_template = "admin/trusts/holdingmovement/change_list.html"
    list_display = ("security_class", "holder", "face", "trade_date", "settlement_date", "event_position")
    list_filter = ("security_class__trust", "settlement_date")
    search_fields = ("=holder__code", "=security_class__trust__code")
    list_select_related = ("security_class__trust", "holder")
    fields = readonly_fields = list_display
    date_hierarchy = "settlement_date"
    show_full_result_count = False
    face = money_column("face_cents", "face (original)")

    def get_urls(self):
        transfer = path("transfer/", self.admin_site.admin_view(self.transfer_view),
                        name="trusts_holdingmovement_transfer")
        return [transfer, *super().get_urls()]

    def transfer_view(self, request):
        """Move face between holders through the register service; its refusals are the form's errors."""
        if not request.user.has_perm("trusts.add_holdingmovement"):
            raise PermissionDenied
        initial = {k: request.GET[k] for k in ("security_class", "from_holder") if k in request.GET}
        form = HoldingTransferForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            arguments = form.transfer_arguments()
            try:
                event = holding_transfer(**arguments, acting_user=request.user)
            except TrustError as refused:
                form.add_error(None, f"Nothing transferred: {refused}")
            else:
                messages.success(request, (
                    f"Transferred {money(arguments['face_cents'])} of {arguments['trust_code']} class "
                    f"{arguments['class_name']} from {arguments['from_holder']} to {arguments['to_holder']}, settling "
                    f"{arguments['settlement_date'].isoformat()} (log position {event.position})."))
                url = reverse("admin:trusts_holdingmovement_changelist")
                return redirect(f"{url}?security_class__id__exact={form.cleaned_data['security_class'].pk}")
        context = {**self.admin_site.each_context(request), "title": "Transfer holdings", "opts": self.model._meta,
                   "form": form}
        return TemplateResponse(request, "admin/trusts/holdingmovement/transfer.html", context)


@admin.register(Holder)
class HolderAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "contact", "user")
    search_fields = ("code", "name")
    list_select_related = ("user",)
    fieldsets = (
        ("Details", {"fields": ("code", "name", "contact", "user")}),
        ("Holdings today", {"fields": ("holdings_panel",)}),
        ("Payments", {"fields": ("payments_panel",)}),
    )
    readonly_fields = ("code", "holdings_panel", "payments_panel")
    raw_id_fields = ("user",)

    # Holders are registered with their holdings when a trust is formed; the register names them for good.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def save_model(self, request, obj, form, change):
        holder_details_change(code=obj.code, name=obj.name, contact=obj.contact, user=obj.user,
                              acting_user=request.user)

    @admin.display(description="holdings")
    def holdings_panel(self, holder):
        today = business_time.today()
        faces = dict(HoldingMovement.objects.filter(holder=holder, settlement_date__lte=today)
                     .values("security_class").annotate(face=Sum("face_cents")).filter(~Q(face=0))
                     .values_list("security_class", "face"))
        classes = SecurityClass.objects.select_related("trust").filter(pk__in=faces).order_by("trust__code", "priority")
        factors = factors_paid_by(list(faces), today)
        rows = ((c.trust.code, _link("admin:trusts_securityclass_change", c.pk, c.name), money(faces[c.pk]),
                 _factor(factors[c.pk]), money(current_face(faces[c.pk], factors[c.pk])))
                for c in classes)
        table = html_table(("trust", "class", "original face", "factor paid by today", "current face"), rows,
                           empty="no holdings today")
        register = _link("admin:trusts_holdingmovement_changelist", None, "register lines",
                         f"?holder__id__exact={holder.pk}")
        return table + format_html("<p>As of {}; the holder's {}.</p>", today, register)

    @admin.display(description="payments")
    def payments_panel(self, holder):
        payments = (holder.distributions.select_related("security_class__trust")
                    .order_by("-period", "security_class__trust__code", "security_class__priority"))
        count = payments.count()
        rows = ((d.period, d.security_class.trust.code, d.security_class.name, d.payment_date, money(d.face_held_cents),
                 money(d.interest_cents), money(d.principal_cents), money(d.total_cents))
                for d in payments[:PAYMENT_ROWS])
        table = html_table(("period", "trust", "class", "paid on", "face held", "interest", "principal", "total"),
                           rows, empty="no payments yet")
        every = _link("admin:remittance_distribution_changelist", None, f"all {count} payments",
                      f"?holder__id__exact={holder.pk}")
        return table + format_html("<p>Newest first; {}.</p>", every)
