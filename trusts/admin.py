"""Trusts in the admin: browse trusts, classes, pools and the register; edit holders' details only.

Trusts and classes are written by the forming service alone, and the pool
and the register are projections of the log, so all of them are read-only
here. A holder's name, contact and login may be edited, through the
service that records the change.
"""
from django.contrib import admin

from ledger.admin import ReadOnlyAdmin
from ledger.money import dollars_grouped
from trusts.models import Holder, HoldingMovement, PoolLoan, SecurityClass, Trust
from trusts.services.holders import holder_details_change


def _money(cents):
    return "—" if cents is None else dollars_grouped(cents)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    # The trust's page shows its classes and pool; it never adds, changes or removes them.
    has_change_permission = has_delete_permission = has_add_permission


class _ClassMoney:
    """The class columns shown both on the class list and inline on the trust."""

    @admin.display(description="original face", ordering="original_face_cents")
    def original_face(self, security_class):
        return _money(security_class.original_face_cents)

    @admin.display(description="denomination")
    def denomination(self, security_class):
        return _money(security_class.denomination_cents)

    @admin.display(description="coupon")
    def coupon_or_net_wac(self, security_class):
        return "net-wac" if security_class.is_net_wac else f"{security_class.coupon}%"


class _PoolMoney:
    """The pool columns shown both on the pool list and inline on the trust."""

    @admin.display(description="cut-off balance", ordering="cutoff_balance_cents")
    def cutoff_balance(self, pool_loan):
        return _money(pool_loan.cutoff_balance_cents)

    @admin.display(description="price", ordering="price_cents")
    def price(self, pool_loan):
        return _money(pool_loan.price_cents)


CLASS_COLUMNS = ("name", "original_face", "coupon_or_net_wac", "principal_rule", "priority", "denomination")
POOL_COLUMNS = ("loan", "cutoff_balance", "price", "transferred_on", "removed_on", "removal_reason")


class SecurityClassInline(_ClassMoney, _ReadOnlyInline):
    model = SecurityClass
    fields = readonly_fields = CLASS_COLUMNS


class PoolLoanInline(_PoolMoney, _ReadOnlyInline):
    model = PoolLoan
    fields = readonly_fields = POOL_COLUMNS
    ordering = ("loan",)


@admin.register(Trust)
class TrustAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "servicer", "closing_date", "remittance_type")
    list_filter = ("remittance_type",)
    search_fields = ("code", "name")
    ordering = ("code",)
    inlines = (SecurityClassInline, PoolLoanInline)


@admin.register(SecurityClass)
class SecurityClassAdmin(_ClassMoney, ReadOnlyAdmin):
    list_display = ("trust", *CLASS_COLUMNS)
    list_filter = ("principal_rule",)
    search_fields = ("=trust__code", "name")
    list_select_related = ("trust",)
    fields = readonly_fields = ("trust", *CLASS_COLUMNS)


@admin.register(PoolLoan)
class PoolLoanAdmin(_PoolMoney, ReadOnlyAdmin):
    list_display = ("trust", *POOL_COLUMNS)
    list_filter = ("trust", "removed_on")
    search_fields = ("=loan__loan_number", "=trust__code")
    list_select_related = ("trust",)
    fields = readonly_fields = ("trust", *POOL_COLUMNS)
    show_full_result_count = False


@admin.register(HoldingMovement)
class HoldingMovementAdmin(ReadOnlyAdmin):
    list_display = ("security_class", "holder", "face", "trade_date", "settlement_date", "event_position")
    list_filter = ("settlement_date",)
    search_fields = ("=holder__code", "=security_class__trust__code")
    list_select_related = ("security_class__trust", "holder")
    fields = readonly_fields = list_display
    date_hierarchy = "settlement_date"
    show_full_result_count = False

    @admin.display(description="face (original)", ordering="face_cents")
    def face(self, movement):
        return _money(movement.face_cents)


@admin.register(Holder)
class HolderAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "contact", "user")
    search_fields = ("code", "name")
    list_select_related = ("user",)
    fields = ("code", "name", "contact", "user")
    readonly_fields = ("code",)
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
