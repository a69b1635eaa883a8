"""An index for an investor's distributions newest first (the API's /api/v1/me/distributions/).

The list filters on the holder and orders by period descending (then trust,
class priority, id): with (holder, period) PostgreSQL reads a page's rows in
period order and stops, instead of sorting all of a long-standing holder's
rows, and the period filters (period, period_from, period_to) are ranges on it.
"""
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("remittance", "0002_month_end_schedule")]
    operations = [
        migrations.AddIndex(
            model_name="distribution",
            index=models.Index(fields=["holder", "period"], name="distribution_holder_period"),
        ),
    ]
