"""Webhook subscriptions, the deliveries owed to them and every attempt at one.

`Subscription`: who (the owning login; for an investor also the holder it
was created for, by code, since Holder rows are a projection a rebuild
recreates), where (the URL), what (the event kinds), the secret the bodies
are signed with, and whether it is active. `since_position`: the log's last
position when it was made; it is never sent anything recorded before.

`Delivery`: one event of one kind owed to one subscription, unique on
(subscription, event position, kind), so announcing the same fact twice
makes no second delivery. It keeps the body as sent (the bytes signed), its
status, and the attempt series it is on: a replay starts a new series.

`DeliveryAttempt`: one POST, numbered within its series (unique), with when,
how long, the status code or the error, and the start of the answer.

None of these is a projection of the log: they are the webhooks' own
workflow state, which a rebuild of the projections leaves alone.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q

from webhooks.domain.payloads import KINDS

KIND_CHOICES = [(kind, kind.replace("_", " ")) for kind in KINDS]
RESPONSE_EXCERPT_CHARS = 500  # the start of a receiver's answer kept per attempt: enough to read an error


class Subscription(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    holder_code = models.CharField(max_length=100, blank=True, db_index=True,
                                   help_text="the investor's holder; empty for an operations subscription")
    url = models.URLField(max_length=500)
    kinds = models.JSONField(help_text="event kinds sent: period_closed, distribution_paid, statement_ready")
    secret = models.CharField(max_length=100, help_text="signs every body; shown once, when made")
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    since_position = models.BigIntegerField(help_text="the log's last position when made: nothing before it is sent")
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["active", "holder_code"], name="webhook_active_holder")]

    @property
    def for_operations(self) -> bool:
        return not self.holder_code

    def __str__(self):
        return f"{self.owner} -> {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Delivery(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=30, choices=KIND_CHOICES)
    event_position = models.BigIntegerField(help_text="the log position of the fact it tells")
    body = models.TextField(help_text="the JSON sent, exactly the bytes signed")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING,
                              db_index=True)
    series = models.PositiveIntegerField(default=1, help_text="1, and one more at each replay")
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    replayed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", help_text="who asked for the latest series, if a person did")
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "event_position", "kind"], name="one_delivery_per_event"),
            models.CheckConstraint(condition=Q(kind__in=KINDS), name="delivery_kind_known"),
        ]

    def __str__(self):
        return f"{self.kind} #{self.event_position} to {self.subscription_id} ({self.status})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    series = models.PositiveIntegerField()
    number = models.PositiveIntegerField(help_text="1 for the first attempt of its series")
    attempted_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    response_excerpt = models.CharField(max_length=RESPONSE_EXCERPT_CHARS, blank=True)
    delivered = models.BooleanField()

    class Meta:
        ordering = ["delivery", "series", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "series", "number"], name="one_attempt_per_number")]

    def __str__(self):
        return f"{self.delivery_id} {self.series}.{self.number} {self.status_code or self.error}"
