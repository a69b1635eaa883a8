"""Webhook subscriptions and their deliveries, as investors and operations staff read and make them."""
import json

from django.urls import reverse
from rest_framework import serializers

from api.fields import StrictSerializer
from webhooks.domain.payloads import KINDS
from webhooks.errors import TargetRefused
from webhooks.models import DeliveryStatus
from webhooks.targets import target_of


class NewSubscriptionSerializer(StrictSerializer):
    url = serializers.CharField(max_length=500, help_text="https, to a public address; the events are POSTed here")
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=list(KINDS)), min_length=1,
                                  max_length=len(KINDS), help_text="the event kinds to receive")
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)

    def validate_url(self, url: str) -> str:
        try:
            target_of(url)
        except TargetRefused as refused:
            raise serializers.ValidationError(str(refused)) from None
        return url


class SubscriptionSerializer(serializers.Serializer):
    """A subscription; its secret is never shown again after it was made."""

    id = serializers.IntegerField()
    url = serializers.CharField()
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=list(KINDS)))
    description = serializers.CharField()
    holder_code = serializers.CharField(allow_null=True, help_text="the investor's holder; null for operations")
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    deactivated_at = serializers.DateTimeField(allow_null=True)
    deliveries_url = serializers.SerializerMethodField()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["holder_code"] = instance.holder_code or None
        return data

    def get_deliveries_url(self, subscription) -> str:
        name = "api:my-webhook-deliveries" if subscription.holder_code else "api:webhook-deliveries"
        return self.context["request"].build_absolute_uri(reverse(name, args=[subscription.pk]))


class NewSubscriptionAnswerSerializer(SubscriptionSerializer):
    secret = serializers.CharField(help_text="signs every body (X-MBS-Signature); shown this once only: keep it")


class AttemptSerializer(serializers.Serializer):
    series = serializers.IntegerField()
    number = serializers.IntegerField()
    attempted_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    response_excerpt = serializers.CharField()
    delivered = serializers.BooleanField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=list(KINDS))
    event_position = serializers.IntegerField()
    # Text, not an enum in the schema: another "status" enum (a period's) keeps its component name.
    status = serializers.CharField(help_text=f"{', '.join(DeliveryStatus.values)}")
    series = serializers.IntegerField(help_text="1, and one more at each replay")
    created_at = serializers.DateTimeField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    last_error = serializers.CharField()
    body = serializers.SerializerMethodField(help_text="the JSON sent")
    attempts = AttemptSerializer(many=True)

    def get_body(self, delivery) -> dict:
        return json.loads(delivery.body)


class ReplaySerializer(StrictSerializer):
    """No fields: the delivery is sent again as it was first sent."""
