"""A login linked to a bondholder is not deleted behind the holder's back.

Holder.user is on_delete=SET_NULL, so deleting the login would detach the
holder silently: the register's holder would lose its portal access with no
HolderDetailsChanged on its stream to say when or by whom. Deleting such a
login is refused (ProtectedError, as an on_delete=PROTECT would, without a
schema change) until the link is removed through the holder service
(trusts.services.holders.holder_details_change, the holder's admin page),
which records the change. Connected in TrustsConfig.ready().
"""
from __future__ import annotations

from django.db.models import ProtectedError

from trusts.models import Holder


def linked_holders(users) -> list[Holder]:
    """The holders linked to any of these logins (users or their primary keys)."""
    keys = [getattr(user, "pk", user) for user in users]
    return list(Holder.objects.filter(user__in=keys).select_related("user").order_by("code"))


def refusal_text(holder: Holder) -> str:
    return (f"login {holder.user.get_username()} is linked to holder {holder.code} ({holder.name}); "
            "remove the link on the holder first (recorded as HolderDetailsChanged), then delete the login")


def refuse_deleting_a_holders_login(sender, instance, **kwargs) -> None:
    """pre_delete of the user model: raise ProtectedError if a holder is linked to this login."""
    holders = linked_holders([instance])
    if holders:
        raise ProtectedError(refusal_text(holders[0]), set(holders))
