"""Create the three role groups and the built-in policy profiles."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "case_officer": [
        ("collections_app", "view_loanaccount"),
        ("collections_app", "view_borrower"),
        ("collections_app", "view_contact"),
        ("collections_app", "view_payment"),
        ("collections_app", "add_interaction"),
        ("collections_app", "add_promisetopay"),
        ("collections_app", "add_flag"),
        ("collections_app", "change_flag"),
    ],
    "risk_approver": [("collections_app", "view_loanaccount")],
    "compliance_auditor": [("audit", "view_auditevent")],
}

PROFILES = {
    "cn-default": {
        "name": "China (NIFA, PIPL)",
        "values": {},
    },
    "us-regf": {
        "name": "United States (Regulation F)",
        "values": {
            "max_connected_calls_per_day": None,
            "max_call_attempts": 7,
            "call_attempts_window_days": 7,
            "no_calls_after_conversation_days": 7,
            "contact_once_only": True,
            "firewall_mode": "us-regf",
            "opt_out_line": "Reply STOP to opt out",
        },
    },
    "uk-conc": {
        "name": "United Kingdom (FCA CONC 7.9)",
        "values": {"firewall_mode": "uk-conc", "opt_out_line": "Reply STOP to opt out"},
    },
}


def create(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, permissions in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for app_label, codename in permissions:
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission is not None:
                group.permissions.add(permission)

    PolicyProfile = apps.get_model("collections_app", "PolicyProfile")
    PolicyVersion = apps.get_model("collections_app", "PolicyVersion")
    for code, spec in PROFILES.items():
        profile, _ = PolicyProfile.objects.get_or_create(code=code, defaults={"name": spec["name"]})
        if not PolicyVersion.objects.filter(profile=profile).exists():
            PolicyVersion.objects.create(profile=profile, version=1, **spec["values"])


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0001_initial"),
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
