"""The "operations" group: its members may use the API's operations endpoints."""
from django.db import migrations

OPERATIONS_GROUP = "operations"  # api.access.OPERATIONS_GROUP; migrations keep their own copy


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=OPERATIONS_GROUP)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=OPERATIONS_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_idempotency_records"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
