"""Trusts in the admin: trusts with their pool, classes and holders; holders with their holdings.

Trusts, classes, holders, the pool and the register are projections of the
log, so all of them are read-only here. Two things are written, each through
its service: a holder's name, contact and login (trusts.services.holders), a
transfer of holdings (trusts.services.register, "Can add holding movement"
permission) and a trust's clean-up call (trusts.services.cleanup_call, "Can change
pool loan": a date, then a confirmation page with the price, then the call).

The figures come from trusts.selectors (holdings valued on a date, the pool's
totals) and the HTML from templates (templates/admin/trusts/panels/). What the
close knows (class balances and factors, periods, payments) is remittance's:
remittance adds it from its own side through `extensions` (remittance.admin),
since trusts never imports the apps above it.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse

from ledger import business_time
from ledger.admin import ReadOnlyAdmin, money, money_column
from trusts import admin_users  # noqa: F401  (the user pages: a holder's login is not deleted)
from trusts import selectors
from trusts.admin_forms import CleanUpCallForm, HoldingTransferForm
from trusts.errors import TrustError
from trusts.domain.deal_structure import POOL, STANDARD_STEP_NAMES, DealStructure
from trusts.domain.factors import factor_text
from trusts.models import Holder, HoldingMovement, PoolLoan, SecurityClass, Trust
from trusts.selectors import ValuedHolding, deal_structure, holdings_valued_as_of, pool_summary, with_pool_totals
from trusts.services.cleanup_call import cleanup_call_quote, exercise_cleanup_call
from trusts.services.holders import holder_details_change
from trusts.services.register import holding_transfer

POOL_ROWS = 50  # a pool can hold thousands of loans: the page shows the first ones and links to the rest
HOLDER_ROWS = 100


@dataclass(frozen=True)
class Panel:
    """A read-only section an app above trusts adds to a trust's or a holder's page: a title and a template
    rendered with context(obj)."""

    title: str
    template: str
    context: Callable[[object], dict]

    def render(self, obj) -> str:
        return render_to_string(self.template, self.context(obj))


@dataclass
class Extensions:
    """What the apps above trusts add to its pages (remittance.admin fills it in when the admin loads).

    class_figures annotates classes with `balance_cents`, `latest_factor` and `latest_period`;
    trust_figures annotates trusts with `last_closed_period`. Without them a class is at its
    original face and no trust has closed.
    """

    class_figures: Callable | None = None
    trust_figures: Callable | None = None
    # fn(trust) -> (text, url): links under the trust page's classes (analytics: the PSA scenarios page).
    class_links: dict[str, Callable] = field(default_factory=dict)
    # Panels by a name of the app's choosing (registering a name again replaces its panel), in order.
    trust_panels: dict[str, Panel] = field(default_factory=dict)
    holder_panels: dict[str, Panel] = field(default_factory=dict)

    def classes(self, queryset):
        return self.class_figures(queryset) if self.class_figures else queryset

    def trusts(self, queryset):
        return self.trust_figures(queryset) if self.trust_figures else queryset


extensions = Extensions()


def _panel_field(panel: Panel):
    """The panel as a read-only field of the change page (a callable the admin shows under its fieldset)."""
    def shown(obj):
        return panel.render(obj)

    shown.short_description = panel.title.lower()
    shown.__name__ = "panel_" + "".join(c if c.isalnum() else "_" for c in panel.title.lower())
    return shown


class _Panels:
    """A change page whose fieldsets end with the panels other apps registered for it.

    The page names the registry it shows as `panels` (extensions.trust_panels or holder_panels): the
    dict itself, which the apps above fill in when the admin loads.
    """

    panels: ClassVar[dict[str, Panel]]

    def _fields(self):
        # One callable per panel, made once, so the admin finds it again among the read-only fields.
        cache = self.__dict__.setdefault("_panel_fields", {})
        return [cache.setdefault(id(p), _panel_field(p)) for p in self.panels.values()]

    def get_fieldsets(self, request, obj=None):
        return [*super().get_fieldsets(request, obj), *((f.short_description.capitalize(), {"fields": (f,)})
                                                        for f in self._fields())]

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *self._fields())


def _class_factor(security_class) -> str:
    latest = getattr(security_class, "latest_factor", None)
    return factor_text(1 if latest is None else latest)


def _class_balance(security_class) -> int:
    return getattr(security_class, "balance_cents", security_class.original_face_cents)


def _unpaid_now(pool_loan) -> str:
    position = getattr(pool_loan.loan, "position", None)
    return money(position.principal_balance_cents) if position else "—"


def _loan_status(pool_loan) -> str:
    position = getattr(pool_loan.loan, "position", None)
    return position.get_status_display() if position else "—"


def _holding_rows(holdings: list[ValuedHolding], holder_ids: dict[str, int] | None = None) -> list[dict]:
    return [{"holding": h, "original_face": money(h.original_face_cents), "factor": factor_text(h.factor),
             "current_face": money(h.current_face_cents), "holder_id": (holder_ids or {}).get(h.holder_code)}
            for h in holdings]


def _deal_lines(s: DealStructure) -> list[tuple[str, str]]:
    """The deal-level structure as (what, as declared) lines for the trust page."""
    lines = [("waterfall", " → ".join(s.steps) + (" (the standard deal)" if s.steps == STANDARD_STEP_NAMES else "")),
             ("trustee fee", f"{s.trustee_fee_rate}% a year" if s.trustee_fee_rate else "none")]
    t = s.triggers
    if t is None:
        lines.append(("triggers", "none"))
    else:
        tests = [f"cumulative loss above {step.percent}% from period {step.from_period}" for step in t.cumulative_loss]
        tests += [f"{days}+ days delinquent above {p}%" for days, p in ((60, t.delinquency_60_percent),
                                                                         (90, t.delinquency_90_percent)) if p is not None]
        lines.append(("triggers", f"step-down after period {t.stepdown_period}; fails on " + "; ".join(tests)
                      + ("; sticky (once failed, for good)" if t.sticky else "; tested each period")))
    oc = s.overcollateralization
    lines.append(("overcollateralization", "none" if oc is None else
                  f"target {oc.target_percent}% of the cut-off balance; after the step-down "
                  f"{oc.stepdown_target_percent}% of the pool, at least {oc.floor_percent}% of the cut-off balance"))
    r = s.reserve
    lines.append(("reserve account", "none" if r is None else
                  f"target {money(r.target_cents)}, initial deposit {money(r.initial_deposit_cents)}"))
    lines.append(("clean-up call", "none" if s.cleanup_call_percent is None else
                  f"when the pool is below {s.cleanup_call_percent}% of its cut-off balance"))
    return lines


def _class_lines(s: DealStructure, names: list[str]) -> list[tuple[str, str, str]]:
    """Each class's kind and features as declared: (class, kind, features)."""
    rows = []
    for name in names:
        f = s.features_of(name)
        parts = []
        if f.schedule:
            parts.append(f"schedule of {len(f.schedule)} periods, {money(f.schedule[0])} after period 1 "
                         f"to {money(f.schedule[-1])} after period {len(f.schedule)}")
        if f.band is not None:
            parts.append(f"band {f.band[0]}–{f.band[1]} PSA")
        if f.notional_of:
            parts.append("notional: " + ("the pool" if f.notional_of == (POOL,) else ", ".join(f.notional_of)))
        if f.lockout:
            parts.append("lockout: " + ", ".join(f"{step.percent}% through period {step.through_period}"
                                                 for step in f.lockout))
        rows.append((name, f.kind, "; ".join(parts) or "—"))
    return rows


def _coupon(security_class) -> str:
    return "net-wac" if security_class.is_net_wac else f"{security_class.coupon}%"


class _ClassMoney:
    """The class columns shown on the class list."""

    original_face = money_column("original_face_cents", "original face")
    denomination = money_column("denomination_cents", "denomination")

    @admin.display(description="coupon")
    def coupon_or_net_wac(self, security_class):
        return _coupon(security_class)

    @admin.display(description="balance", ordering="balance_cents")
    def balance(self, security_class):
        return money(_class_balance(security_class))

    @admin.display(description="factor", ordering="latest_factor")
    def factor(self, security_class):
        return _class_factor(security_class)

    @admin.display(description="after the close of", ordering="latest_period")
    def after_period(self, security_class):
        return getattr(security_class, "latest_period", None) or "no close yet"


class _PoolMoney:
    """The pool columns shown on the pool list."""

    cutoff_balance = money_column("cutoff_balance_cents", "cut-off balance")
    price = money_column("price_cents", "price")
    unpaid_balance = money_column("loan__position__principal_balance_cents", "unpaid balance now")

    @admin.display(description="loan status", ordering="loan__position__status")
    def loan_status(self, pool_loan):
        return _loan_status(pool_loan)


CLASS_COLUMNS = ("name", "kind", "cusip", "original_face", "coupon_or_net_wac", "principal_rule", "priority", "denomination")
POOL_COLUMNS = ("loan", "cutoff_balance", "price", "transferred_on", "removed_on", "removal_reason")
DEAL_FIELDS = ("code", "name", "issuer", "servicer", "trustee", "closing_date", "cutoff_date", "first_payment_date",
               "payment_day", "issuer_spread_rate", "remittance_type", "purchase_price_percent", "residual_holder",
               "overcollateralized")


CLEANUP_CALL_PERMISSION = "trusts.change_poolloan"  # the call takes every loan out of the pool


def _call_figures(quote) -> list[tuple[str, str]]:
    """The confirmation page's figures of a quoted call (a CleanUpCallExercised not recorded)."""
    return [("call date", quote.call_date.isoformat()), ("loans bought", str(len(quote.loans))),
            ("pool balance", money(quote.pool_balance_cents)), ("cut-off balance", money(quote.cutoff_balance_cents)),
            ("call percent", f"{quote.percent}%"), ("principal (par)", money(quote.price_cents)),
            ("accrued interest", money(quote.interest_cents)), ("total price", money(quote.total_cents))]


@admin.register(Trust)
class TrustAdmin(_Panels, ReadOnlyAdmin):
    list_display = ("code", "name", "servicer", "closing_date", "remittance_type", "loans_in_pool", "pool_balance",
                    "last_closed")
    list_filter = ("remittance_type",)
    search_fields = ("code", "name")
    ordering = ("code",)
    fieldsets = (
        ("Deal", {"fields": DEAL_FIELDS}),
        ("Classes", {"fields": ("classes_panel",)}),
        ("Structure", {"fields": ("structure_panel",)}),
        ("Pool", {"fields": ("pool_panel",)}),
        ("Holders", {"fields": ("holders_panel",)}),
    )
    readonly_fields = ("classes_panel", "structure_panel", "pool_panel", "holders_panel")
    panels = extensions.trust_panels
    pool_balance = money_column("pool_balance_cents", "unpaid balance now")

    def get_queryset(self, request):
        return extensions.trusts(with_pool_totals(super().get_queryset(request)))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        trust = self.get_object(request, object_id)
        # The call's button only where the deal has a call and it is not exercised yet.
        callable_ = (trust is not None and selectors.deal_structure(trust).cleanup_call_percent is not None
                     and selectors.cleanup_call_date(trust) is None)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "cleanup_call": callable_})

    def get_urls(self):
        call = path("<path:object_id>/cleanup-call/", self.admin_site.admin_view(self.cleanup_call_view),
                    name="trusts_trust_cleanup_call")
        return [call, *super().get_urls()]

    def cleanup_call_view(self, request, object_id):
        """The clean-up call: a date, then the price on a confirmation page, then the call (the service decides)."""
        if not request.user.has_perm(CLEANUP_CALL_PERMISSION):
            raise PermissionDenied
        trust = self.get_object(request, object_id)
        if trust is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        form = CleanUpCallForm(request.POST or None)
        quote = None
        if request.method == "POST" and form.is_valid():
            call_date = form.cleaned_data["call_date"]
            try:
                if request.POST.get("confirm") == "yes":
                    event = exercise_cleanup_call(trust_code=trust.code, call_date=call_date, acting_user=request.user)
                    messages.success(request, (
                        f"Exercised the clean-up call of {trust.code} on {call_date.isoformat()}: "
                        f"{len(event.payload['loans'])} loan(s) bought for "
                        f"{money(event.payload['price_cents'] + event.payload['interest_cents'])} "
                        f"(log position {event.position})."))
                    return redirect(reverse("admin:trusts_trust_change", args=[trust.pk]))
                quote = cleanup_call_quote(trust_code=trust.code, call_date=call_date, acting_user=request.user)
            except TrustError as refused:
                form.add_error(None, f"No call exercised: {refused}")
        context = {**self.admin_site.each_context(request), "title": f"Clean-up call of {trust.code}",
                   "opts": self.opts, "original": trust, "form": form, "quote": quote,
                   "figures": _call_figures(quote) if quote else None}
        return TemplateResponse(request, "admin/trusts/trust/cleanup_call.html", context)

    @admin.display(description="loans in pool", ordering="pool_count")
    def loans_in_pool(self, trust):
        return trust.pool_count or 0

    @admin.display(description="last closed period", ordering="last_closed_period")
    def last_closed(self, trust):
        return getattr(trust, "last_closed_period", None) or "—"

    @admin.display(description="classes")
    def classes_panel(self, trust):
        classes = extensions.classes(trust.classes.order_by("priority", "name"))
        rows = [{"c": c, "original_face": money(c.original_face_cents), "balance": money(_class_balance(c)),
                 "coupon": _coupon(c), "factor": _class_factor(c),
                 "after": getattr(c, "latest_period", None) or "no close yet"} for c in classes]
        links = [link(trust) for link in extensions.class_links.values()]
        return render_to_string("admin/trusts/panels/trust_classes.html", {"trust": trust, "rows": rows,
                                                                            "links": links})

    @admin.display(description="structure")
    def structure_panel(self, trust):
        structure = deal_structure(trust)
        names = [c.name for c in trust.classes.order_by("priority", "name")]
        return render_to_string("admin/trusts/panels/trust_structure.html", {
            "deal": _deal_lines(structure), "classes": _class_lines(structure, names)})

    @admin.display(description="pool")
    def pool_panel(self, trust):
        pool = trust.pool.select_related("loan__position").order_by("loan_id")
        summary = pool_summary(trust)
        rows = [{"p": p, "cutoff": money(p.cutoff_balance_cents), "price": money(p.price_cents),
                 "unpaid": _unpaid_now(p), "status": _loan_status(p)} for p in pool[:POOL_ROWS]]
        return render_to_string("admin/trusts/panels/trust_pool.html", {
            "trust": trust, "summary": summary, "cutoff": money(summary.cutoff_balance_cents),
            "unpaid": money(summary.unpaid_balance_cents), "rows": rows, "shown": POOL_ROWS,
            "more": summary.loans > POOL_ROWS})

    @admin.display(description="holders today")
    def holders_panel(self, trust):
        today = business_time.today()
        # Ordered and cut in the database: only the rows shown are fetched and valued (a trust may have
        # thousands of holders); counted there too, when there are more.
        held = holdings_valued_as_of(trust=trust, as_of=today).order_by(
            "security_class__priority", "security_class__name", "holder__code")
        shown = [ValuedHolding.from_row(row) for row in held[:HOLDER_ROWS]]
        count = held.count() if len(shown) == HOLDER_ROWS else len(shown)
        ids = dict(Holder.objects.filter(code__in={h.holder_code for h in shown}).values_list("code", "pk"))
        return render_to_string("admin/trusts/panels/trust_holders.html", {
            "trust": trust, "today": today, "rows": _holding_rows(shown, ids),
            "shown": HOLDER_ROWS, "count": count, "more": count > HOLDER_ROWS})


@admin.register(SecurityClass)
class SecurityClassAdmin(_ClassMoney, ReadOnlyAdmin):
    list_display = ("trust", *CLASS_COLUMNS, "balance", "factor", "after_period")
    list_filter = ("principal_rule", "kind", "trust")
    search_fields = ("=trust__code", "name")
    list_select_related = ("trust",)
    fields = readonly_fields = ("trust", *CLASS_COLUMNS, "balance", "factor", "after_period")

    def get_queryset(self, request):
        return extensions.classes(super().get_queryset(request))


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
class HolderAdmin(_Panels, admin.ModelAdmin):
    list_display = ("code", "name", "contact", "user")
    search_fields = ("code", "name")
    list_select_related = ("user",)
    fieldsets = (
        ("Details", {"fields": ("code", "name", "contact", "user")}),
        ("Holdings today", {"fields": ("holdings_panel",)}),
    )
    readonly_fields = ("code", "holdings_panel")
    panels = extensions.holder_panels
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
        held = sorted(map(ValuedHolding.from_row, holdings_valued_as_of(holder=holder, as_of=today)),
                      key=lambda h: (h.trust_code, h.class_priority, h.class_name))
        return render_to_string("admin/trusts/panels/holder_holdings.html", {
            "holder": holder, "today": today, "rows": _holding_rows(held)})
