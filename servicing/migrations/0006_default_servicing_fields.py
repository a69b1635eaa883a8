"""Where a loan stands in default servicing: deferred principal, loss-mitigation step, open bankruptcy (issue 20)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('servicing', '0005_lean_position_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='loanposition',
            name='bankruptcy_chapter',
            field=models.PositiveSmallIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='loanposition',
            name='bankruptcy_filed_on',
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='loanposition',
            name='deferred_principal_cents',
            field=models.BigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='loanposition',
            name='loss_mitigation',
            field=models.CharField(blank=True, default='', max_length=20),
        ),
        migrations.AddConstraint(
            model_name='loanposition',
            constraint=models.CheckConstraint(condition=models.Q(('deferred_principal_cents__gte', 0)), name='position_deferred_not_negative'),
        ),
    ]
