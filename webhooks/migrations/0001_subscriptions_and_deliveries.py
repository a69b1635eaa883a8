"""The webhooks' tables: subscriptions, deliveries and their attempts."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Subscription',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('holder_code', models.CharField(blank=True, db_index=True, help_text="the investor's holder; empty for an operations subscription", max_length=100)),
                ('url', models.URLField(max_length=500)),
                ('kinds', models.JSONField(help_text='event kinds sent: period_closed, distribution_paid, statement_ready')),
                ('secret', models.CharField(help_text='signs every body; shown once, when made', max_length=100)),
                ('description', models.CharField(blank=True, max_length=200)),
                ('active', models.BooleanField(default=True)),
                ('since_position', models.BigIntegerField(help_text="the log's last position when made: nothing before it is sent")),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('deactivated_at', models.DateTimeField(blank=True, null=True)),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='webhooks', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='Delivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('period_closed', 'period closed'), ('distribution_paid', 'distribution paid'), ('statement_ready', 'statement ready')], max_length=30)),
                ('event_position', models.BigIntegerField(help_text='the log position of the fact it tells')),
                ('body', models.TextField(help_text='the JSON sent, exactly the bytes signed')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('delivered', 'Delivered'), ('failed', 'Failed')], db_index=True, default='pending', max_length=10)),
                ('series', models.PositiveIntegerField(default=1, help_text='1, and one more at each replay')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('next_attempt_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('last_error', models.TextField(blank=True)),
                ('replayed_at', models.DateTimeField(blank=True, null=True)),
                ('replayed_by', models.ForeignKey(blank=True, help_text='who asked for the latest series, if a person did', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('subscription', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.subscription')),
            ],
            options={
                'ordering': ['-id'],
            },
        ),
        migrations.CreateModel(
            name='DeliveryAttempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('series', models.PositiveIntegerField()),
                ('number', models.PositiveIntegerField(help_text='1 for the first attempt of its series')),
                ('attempted_at', models.DateTimeField()),
                ('duration_ms', models.PositiveIntegerField()),
                ('status_code', models.PositiveIntegerField(blank=True, null=True)),
                ('error', models.CharField(blank=True, max_length=500)),
                ('response_excerpt', models.CharField(blank=True, max_length=500)),
                ('delivered', models.BooleanField()),
                ('delivery', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='webhooks.delivery')),
            ],
            options={
                'ordering': ['delivery', 'series', 'number'],
                'constraints': [models.UniqueConstraint(fields=('delivery', 'series', 'number'), name='one_attempt_per_number')],
            },
        ),
        migrations.AddIndex(
            model_name='subscription',
            index=models.Index(fields=['active', 'holder_code'], name='webhook_active_holder'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.UniqueConstraint(fields=('subscription', 'event_position', 'kind'), name='one_delivery_per_event'),
        ),
        migrations.AddConstraint(
            model_name='delivery',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ('period_closed', 'distribution_paid', 'statement_ready'))), name='delivery_kind_known'),
        ),
    ]
