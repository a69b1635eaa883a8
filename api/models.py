"""The API's own table: responses remembered per Idempotency-Key.

Not a business record (the log is): a cache of what a write answered, so a
client that retries with the same key gets the same answer and no second
effect. (user, key) is unique in the database, which is what makes
concurrent duplicates queue behind the first instead of running twice.
"""
from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        DONE = "done"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body")
    state = models.CharField(max_length=20, choices=State.choices, default=State.IN_PROGRESS)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # The JSON text as sent, not a JSONField: PostgreSQL's jsonb would reorder the keys, and a replay
    # must be the same bytes as the first answer.
    response_body = models.TextField(blank=True)
    location = models.CharField(max_length=500, blank=True)
    claimed_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_user_key_unique")]

    def __str__(self):
        return f"{self.user_id} {self.key} {self.state}"
