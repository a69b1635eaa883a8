"""The servicer's daily jobs, scheduled in the database (editable in the admin)."""
from django.db import migrations

ZONE = "America/New_York"
SCHEDULES = [
    # (name, task, hour, minute): aging runs first, then autopay drafts, then escrow bills.
    ("Daily delinquency aging and late charges", "servicing.age_loans", "1", "0"),
    ("Daily autopay drafts", "servicing.post_autopay_drafts", "6", "0"),
    ("Daily escrow disbursements", "servicing.disburse_escrow", "7", "0"),
]


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, hour, minute in SCHEDULES:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone=ZONE
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab, "enabled": True})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [("servicing", "0001_loans"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
