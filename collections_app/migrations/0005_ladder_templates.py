"""The reminder ladder's borrower templates, and lender names and hotlines for the built-in profiles."""

from django.db import migrations

LADDER_TEMPLATES = {
    ("pre-due", "sms"): "{borrower_name}您好，您在{lender_name}的借款即将到期，请按时还款。如需帮助请致电{hotline}。",
    ("pre-due", "in_app"): "{borrower_name}您好，您的借款即将到期，请按时还款。如需帮助请致电{hotline}。",
    ("due", "sms"): "{borrower_name}您好，您在{lender_name}的借款今天到期，请及时还款。如需帮助请致电{hotline}。",
    ("due", "in_app"): "{borrower_name}您好，您的借款今天到期，请及时还款。如需帮助请致电{hotline}。",
    ("overdue", "sms"): "{borrower_name}您好，您在{lender_name}的借款已逾期，请尽快还款，或致电{hotline}商量还款安排。",
    ("overdue", "in_app"): "{borrower_name}您好，您的借款已逾期，请尽快还款，或致电{hotline}商量还款安排。",
}
STAGE_NAMES = {"pre-due": "Pre-due notice", "due": "Due-today notice", "overdue": "Overdue reminder"}

PROFILE_DEFAULTS = {
    "cn-default": {"lender_name": "安心消费金融", "service_hotlines": ["95188"]},
    "us-regf": {"lender_name": "Example Lending", "service_hotlines": ["+18005550100"]},
    "uk-conc": {"lender_name": "Example Lending", "service_hotlines": ["+448005550100"]},
}


def create(apps, schema_editor):
    MessageTemplate = apps.get_model("collections_app", "MessageTemplate")
    TemplateVersion = apps.get_model("collections_app", "TemplateVersion")
    PolicyVersion = apps.get_model("collections_app", "PolicyVersion")
    for (stage, channel), body in LADDER_TEMPLATES.items():
        template, created = MessageTemplate.objects.get_or_create(
            code=f"ladder-{stage}-{channel}",
            defaults={
                "audience": "borrower",
                "channel": channel,
                "language": "zh-hans",
                "name": f"{STAGE_NAMES[stage]} ({channel})",
            },
        )
        if created:
            TemplateVersion.objects.create(template=template, version=1, body=body)
    for code, values in PROFILE_DEFAULTS.items():
        # Only fill a built-in version nobody has set: an administrator's values win.
        PolicyVersion.objects.filter(profile__code=code, version=1, lender_name="").update(**values)


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0004_calltask_channelstop_webhooksignature_and_more")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
