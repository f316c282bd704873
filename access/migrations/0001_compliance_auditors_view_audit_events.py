"""The `compliance_auditor` group holds `audit.view_auditevent`: what the auditor's pages check.

The audit app names no role (it imports nothing from access), so its pages require this permission held
through a group; this migration is where the role gets it. collections_app's 0002 created the group and
already granted it on every database migrated so far, so the grant here changes nothing there. It is
written out again because the audit pages now depend on it. Permissions and content types are created
by post_migrate, after every migration, so on a fresh database they are made here when missing.

Reversing it leaves the grant in place: the state before this migration already had it (0002).
"""

from django.db import migrations

GROUP = "compliance_auditor"
APP_LABEL, MODEL, CODENAME = "audit", "auditevent", "view_auditevent"


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label=APP_LABEL, model=MODEL)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename=CODENAME, defaults={"name": "Can view audit event"}
    )
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0002_roles_and_policy_profiles"),
        ("audit", "0007_chainhead_cluster"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
