"""Template filters for the remittance admin pages: integer cents shown as dollars for people."""
from django import template

from ledger.admin import money

register = template.Library()


@register.filter
def dollars(cents):
    """Integer cents as dollars with thousands separators and two decimals ("1,000,000.00"); blank as a dash."""
    return money(None if cents is None or cents == "" else int(cents))


@register.filter
def words(name: str) -> str:
    """A figure's key as words: "scheduled_principal_cents" -> "scheduled principal"."""
    return str(name).removesuffix("_cents").replace("_", " ")
