"""The `team_lead` role: a Django group like the other three (access/roles.py TEAM_LEAD).

Reversing it leaves the group: removing a role group would silently take the role from whoever holds it.
"""

from django.db import migrations

GROUP = "team_lead"


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)


class Migration(migrations.Migration):
    dependencies = [("access", "0002_team_accesschange")]

    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
