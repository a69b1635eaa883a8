"""Read-only admin for the log: browse and search, never add, change or delete."""
from django.contrib import admin
from django.utils.html import format_html, format_html_join

from ledger.models import AccountBalance, Event, Posting, Stream
from ledger.domain.money import dollars, dollars_grouped


def money(cents: int | None) -> str:
    """Cents as dollars for people, two decimals and thousands separators (1,234.56); a dash for none."""
    return "—" if cents is None else dollars_grouped(cents)


def money_column(field: str, description: str):
    """A column showing a *_cents field with `money`, sortable by it; follows `__` to a related row."""
    @admin.display(description=description, ordering=field)
    def column(self, row):
        value = row
        for name in field.split("__"):
            value = getattr(value, name, None)
        return money(value)

    return column


def html_table(headers, rows, *, empty: str = "none") -> str:
    """A compact read-only table for an admin page; cells are escaped unless already safe (links)."""
    rows = list(rows)
    if not rows:
        return format_html("<p>{}</p>", empty)
    head = format_html_join("", "<th>{}</th>", ((h,) for h in headers))
    body = format_html_join("", "<tr>{}</tr>", (
        (format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows))
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is looked at, never edited: no add, change, delete or bulk delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent (an event's postings, a delivery's attempts), never added, changed or deleted."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ("account", "amount", "effective_date")
    readonly_fields = fields

    @admin.display(description="amount ($)")
    def amount(self, posting):
        return dollars(posting.amount_cents)


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("position", "stream", "version", "event_type", "effective_date", "recorded_at", "acting_user")
    list_filter = ("event_type", "effective_date")
    search_fields = ("=stream", "stream", "=event_type", "=idempotency_key")
    date_hierarchy = "effective_date"
    list_select_related = ("acting_user",)
    inlines = [PostingInline]
    readonly_fields = (
        "position", "stream", "version", "event_type", "payload", "effective_date", "recorded_at",
        "acting_user", "idempotency_key", "previous_hash", "hash",
    )
    show_full_result_count = False


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "account", "amount", "effective_date")
    search_fields = ("=account", "account")
    list_filter = ("effective_date",)
    show_full_result_count = False

    @admin.display(description="amount ($)", ordering="amount_cents")
    def amount(self, posting):
        return dollars(posting.amount_cents)


@admin.register(AccountBalance)
class AccountBalanceAdmin(ReadOnlyAdmin):
    list_display = ("account", "balance", "posting_count", "last_position")
    search_fields = ("account",)

    @admin.display(description="balance ($)", ordering="balance_cents")
    def balance(self, row):
        return dollars(row.balance_cents)


@admin.register(Stream)
class StreamAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "head_hash")
    search_fields = ("name",)
