"""The admin's user pages, refusing to delete a login linked to a bondholder (see trusts.signals).

Django's delete page lists what stands in the way of a delete as "protected
related objects" and offers no button; a holder linked to the login is
listed there, with a link to the holder's page where the link is removed.
The same goes for the "delete selected users" action.
"""
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.urls import reverse
from django.utils.html import format_html

from trusts.signals import linked_holders

User = get_user_model()


class HolderGuardedUserAdmin(UserAdmin):
    """Django's UserAdmin, whose delete page names the holders linked to the logins as protecting them."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        holders = linked_holders(objs)
        return deleted, counts, perms_needed, [*protected, *map(_holder_line, holders)]


def _holder_line(holder) -> str:
    url = reverse("admin:trusts_holder_change", args=[holder.pk])
    return format_html('Holder: <a href="{}">{}</a> ({}) is linked to login {}: remove the link on the '
                       "holder's page first (the change is recorded), then delete the login",
                       url, holder.code, holder.name, holder.user.get_username())


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, HolderGuardedUserAdmin)
