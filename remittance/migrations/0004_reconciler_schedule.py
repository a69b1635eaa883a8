"""The reconciler's daily schedule (close every period due but not closed), kept in the database."""
from django.db import migrations

NAME = "Reconciler: close every period due and not closed"
ZONE = "America/New_York"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # 04:00 every day: an hour after the month-end's 03:00 on the 2nd, so on that day it finds
    # only what the month-end missed; on later days it catches up anything still open.
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="4", day_of_week="*", day_of_month="*", month_of_year="*", timezone=ZONE
    )
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": "remittance.close_due_periods",
                                                            "crontab": crontab, "enabled": True})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("remittance", "0003_distribution_holder_period"),
                    ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
