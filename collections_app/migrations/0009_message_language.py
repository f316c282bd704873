"""The profile's message language, and the reminder ladder's borrower templates in English.

The column is new, so the built-in English-speaking profiles' versions are given "en" here: until now a
version had no language at all (its ladder messages used the only templates there were, in Chinese,
and each message keeps the body it was sent with).
"""

from importlib import import_module

from django.db import migrations, models

# SQLite rebuilds the policy version table to add the column: 0008's triggers must step aside meanwhile.
CHECKED_PER_STATEMENT = import_module("collections_app.migrations.0008_version_references_checked_per_statement")

ENGLISH_PROFILES = ("us-regf", "uk-conc")

LADDER_TEMPLATES_EN = {
    ("pre-due", "sms"): "Hello {borrower_name}, your repayment to {lender_name} is due soon. For help, call {hotline}.",
    ("pre-due", "in_app"): "Hello {borrower_name}, your repayment is due soon. For help, call {hotline}.",
    ("due", "sms"): "Hello {borrower_name}, your repayment to {lender_name} is due today. For help, call {hotline}.",
    ("due", "in_app"): "Hello {borrower_name}, your repayment is due today. For help, call {hotline}.",
    ("overdue", "sms"): (
        "Hello {borrower_name}, your repayment to {lender_name} is overdue. Please pay as soon as you can,"
        " or call {hotline} to agree a repayment arrangement."
    ),
    ("overdue", "in_app"): (
        "Hello {borrower_name}, your repayment is overdue. Please pay as soon as you can,"
        " or call {hotline} to agree a repayment arrangement."
    ),
}
STAGE_NAMES = {"pre-due": "Pre-due notice", "due": "Due-today notice", "overdue": "Overdue reminder"}


def create(apps, schema_editor):
    MessageTemplate = apps.get_model("collections_app", "MessageTemplate")
    TemplateVersion = apps.get_model("collections_app", "TemplateVersion")
    PolicyVersion = apps.get_model("collections_app", "PolicyVersion")
    PolicyVersion.objects.filter(profile__code__in=ENGLISH_PROFILES).update(message_language="en")
    for (stage, channel), body in LADDER_TEMPLATES_EN.items():
        template, created = MessageTemplate.objects.get_or_create(
            code=f"ladder-{stage}-{channel}-en",
            defaults={
                "audience": "borrower",
                "channel": channel,
                "language": "en",
                "name": f"{STAGE_NAMES[stage]} ({channel}, English)",
                "firewall_profile": "us-regf",
            },
        )
        if created:
            TemplateVersion.objects.create(template=template, version=1, body=body)


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0008_version_references_checked_per_statement")]

    operations = [
        migrations.RunPython(CHECKED_PER_STATEMENT.SQLITE_DROP, CHECKED_PER_STATEMENT.SQLITE_CREATE),
        migrations.AddField(
            model_name="policyversion",
            name="message_language",
            field=models.CharField(
                choices=[("zh-hans", "Simplified Chinese"), ("en", "English")],
                default="zh-hans",
                max_length=10,
                verbose_name="message language",
            ),
        ),
        migrations.RunPython(CHECKED_PER_STATEMENT.SQLITE_CREATE, CHECKED_PER_STATEMENT.SQLITE_DROP),
        migrations.RunPython(create, migrations.RunPython.noop),
    ]
