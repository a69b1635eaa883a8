"""Who the caller is and what they may see: the one place object scoping is decided.

An investor is a user linked to a trusts.Holder; operations staff are the
users in the "operations" group. Every view builds its queryset from these
functions, so another investor's rows are never fetched at all: they answer
404 exactly as rows that do not exist.
"""
from __future__ import annotations

from django.db.models import QuerySet

from api.authentication import HOLDER_ATTRIBUTE
from trusts.models import Holder, HoldingMovement, Trust

OPERATIONS_GROUP = "operations"


def is_operations(user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    # Cached on the user object: one query per request, however many checks.
    if not hasattr(user, "_api_is_operations"):
        user._api_is_operations = user.groups.filter(name=OPERATIONS_GROUP).exists()
    return user._api_is_operations


def holder_of(user) -> Holder | None:
    """The holder a login is linked to, or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    if hasattr(user, HOLDER_ATTRIBUTE):
        # Read with the token (api.authentication.TokenAuthentication): no second query.
        return getattr(user, HOLDER_ATTRIBUTE)
    return Holder.objects.filter(user=user).first()


def visible_trusts(user) -> QuerySet[Trust]:
    """Operations see every trust; an investor the trusts they hold or ever held; anyone else none."""
    if is_operations(user):
        return Trust.objects.all()
    holder = holder_of(user)
    if holder is None:
        return Trust.objects.none()
    held = HoldingMovement.objects.filter(holder=holder).values("security_class__trust_id")
    return Trust.objects.filter(pk__in=held)
