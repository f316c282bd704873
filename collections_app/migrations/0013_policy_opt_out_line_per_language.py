"""An opt-out line per message language: `opt_out_line` is the Chinese one, `opt_out_line_en` the English one.

Until now a version had one line, whatever the language of the message it ended: English family messages
under cn-default ended with "回复TD退订". Each version's line becomes the line of its own message language;
the other language gets its default: "Reply STOP to opt out" for the Chinese versions, and "回复STOP退订"
(STOP is the keyword their carriers honour) for the English versions (us-regf, uk-conc), whose English
line moves to the new field. Neither line may be empty: every family message ends with one.
"""

import re
from importlib import import_module

from django.db import migrations, models

# SQLite rebuilds the policy version table to add the column: 0008's triggers must step aside meanwhile.
CHECKED_PER_STATEMENT = import_module("collections_app.migrations.0008_version_references_checked_per_statement")

ENGLISH_DEFAULT = "Reply STOP to opt out"
CHINESE_FOR_ENGLISH_PROFILES = "回复STOP退订"
HAS_CJK = re.compile("[\u3400-\u9fff]")


def split_lines(apps, schema_editor):
    PolicyVersion = apps.get_model("collections_app", "PolicyVersion")
    for version in PolicyVersion.objects.filter(message_language="en"):
        # An English version's one line was written for English messages, unless someone wrote it in Chinese.
        if not HAS_CJK.search(version.opt_out_line):
            version.opt_out_line_en = version.opt_out_line
            version.opt_out_line = CHINESE_FOR_ENGLISH_PROFILES
            version.save(update_fields=["opt_out_line", "opt_out_line_en"])


def join_lines(apps, schema_editor):
    PolicyVersion = apps.get_model("collections_app", "PolicyVersion")
    for version in PolicyVersion.objects.filter(message_language="en"):
        version.opt_out_line = version.opt_out_line_en
        version.save(update_fields=["opt_out_line"])


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0012_inbound_reply")]

    operations = [
        migrations.RunPython(CHECKED_PER_STATEMENT.SQLITE_DROP, CHECKED_PER_STATEMENT.SQLITE_CREATE),
        migrations.AddField(
            model_name="policyversion",
            name="opt_out_line_en",
            field=models.CharField(default=ENGLISH_DEFAULT, max_length=50, verbose_name="opt-out line (English)"),
        ),
        migrations.AlterField(
            model_name="policyversion",
            name="opt_out_line",
            field=models.CharField(default="回复TD退订", max_length=50, verbose_name="opt-out line (Chinese)"),
        ),
        migrations.RunPython(split_lines, join_lines),
        migrations.AddConstraint(
            model_name="policyversion",
            constraint=models.CheckConstraint(
                condition=~models.Q(opt_out_line="") & ~models.Q(opt_out_line_en=""),
                name="policy_opt_out_lines_set",
            ),
        ),
        migrations.RunPython(CHECKED_PER_STATEMENT.SQLITE_CREATE, CHECKED_PER_STATEMENT.SQLITE_DROP),
    ]
