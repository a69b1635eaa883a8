"""The month-end close's default schedule, kept in the database and editable in the admin."""
from django.db import migrations

NAME = "Month-end close of every trust"
ZONE = "America/New_York"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # 03:00 on the 2nd: after the 1st's payments and the 01:00 aging of the period's last day.
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="3", day_of_week="*", day_of_month="2", month_of_year="*", timezone=ZONE
    )
    PeriodicTask.objects.get_or_create(name=NAME, defaults={"task": "remittance.month_end_close",
                                                            "crontab": crontab, "enabled": True})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("remittance", "0001_periods_and_distributions"),
                    ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
