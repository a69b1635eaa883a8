"""Webhooks in the admin: staff read subscriptions, deliveries and every attempt; deactivate and replay.

Thin: both acts call webhooks.services with the staff member as the acting
user. Nothing is added or edited through the forms (a subscription is made
by its owner, over the API, where its secret is shown once; the admin never
shows a secret). The acts need the model's change permission.
"""
from __future__ import annotations

from django.contrib import admin, messages

from ledger.admin import ReadOnlyAdmin, ReadOnlyInline
from webhooks.errors import ReplayRefused
from webhooks.models import Delivery, DeliveryAttempt, Subscription
from webhooks.services import delivery_replay, subscription_deactivate


def _acts(model_admin: admin.ModelAdmin, request, *names: str) -> dict:
    """The named actions, for a staff member with the model's change permission (ReadOnlyAdmin offers none)."""
    opts = model_admin.opts
    if not request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
        return {}
    return {name: (getattr(type(model_admin), name), name, getattr(type(model_admin), name).short_description)
            for name in names}


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("id", "owner", "holder_code", "url", "kinds", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("owner__username", "=holder_code", "url")
    list_select_related = ("owner",)
    fields = readonly_fields = ("owner", "holder_code", "url", "kinds", "description", "active", "since_position",
                                "created_at", "deactivated_at")  # never the secret

    def get_actions(self, request):
        return _acts(self, request, "deactivate")

    @admin.action(description="Deactivate the selected subscriptions (nothing more is sent)")
    def deactivate(self, request, queryset):
        for subscription in queryset:
            subscription_deactivate(subscription=subscription, acting_user=request.user)
        self.message_user(request, f"{queryset.count()} subscription(s) deactivated", messages.SUCCESS)


class AttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = readonly_fields = ("series", "number", "attempted_at", "duration_ms", "status_code", "error",
                                "response_excerpt", "delivered")


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "subscription", "kind", "event_position", "status", "series", "created_at",
                    "finished_at", "last_error")
    list_filter = ("status", "kind")
    search_fields = ("=event_position", "subscription__url", "subscription__owner__username")
    list_select_related = ("subscription__owner",)
    fields = readonly_fields = ("subscription", "kind", "event_position", "status", "series", "created_at",
                                "next_attempt_at", "finished_at", "last_error", "replayed_by", "replayed_at", "body")
    inlines = [AttemptInline]

    def get_actions(self, request):
        return _acts(self, request, "replay")

    @admin.action(description="Replay the selected deliveries (a new series of attempts)")
    def replay(self, request, queryset):
        for delivery in queryset:
            try:
                delivery_replay(delivery=delivery, acting_user=request.user)
            except ReplayRefused as refused:
                self.message_user(request, f"delivery {delivery.pk}: {refused}", messages.ERROR)
            else:
                self.message_user(request, f"delivery {delivery.pk} replayed", messages.SUCCESS)
