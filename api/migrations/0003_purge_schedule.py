"""Forget old Idempotency-Key answers nightly (editable in the admin's periodic tasks)."""
from django.db import migrations

NAME = "Purge old Idempotency-Key answers"
ZONE = "America/New_York"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="4", day_of_week="*", day_of_month="*", month_of_year="*", timezone=ZONE
    )
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": "api.purge_idempotency_records",
                                                            "crontab": crontab, "enabled": True})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("api", "0002_operations_group"),
                    ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
