"""Loan products (issue 20): a balloon's last due date and the terms timeline on the position; index values."""

from django.db import migrations, models

# The daily changes of terms, before the aging (0002's schedules start at 1:00).
SCHEDULE = ("Daily ARM rate changes and interest-only ends", "servicing.record_terms_changes", "0", "30")


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    name, task, hour, minute = SCHEDULE
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="America/New_York")
    PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "crontab": crontab, "enabled": True})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SCHEDULE[0]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('servicing', '0006_default_servicing_fields'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.AddField(
            model_name='loan',
            name='product',
            field=models.CharField(default='fixed', max_length=10),
        ),
        migrations.AddField(
            model_name='loan',
            name='interest_only_months',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='loanposition',
            name='balloon_due_date',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='loanposition',
            name='terms_changes',
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.CreateModel(
            name='IndexValue',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('index', models.CharField(max_length=20)),
                ('on', models.DateField()),
                ('percent', models.DecimalField(decimal_places=5, max_digits=9)),
                ('event_position', models.BigIntegerField()),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('index', 'on'), name='index_value_one_a_day')],
            },
        ),
        migrations.RunPython(create, remove),
    ]
