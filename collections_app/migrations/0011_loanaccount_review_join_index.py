# A covering index on loan accounts for the review queue, on PostgreSQL only.
#
# The queue's bucket counts join every pending request to its account for the due date (and the portfolio and
# officer filters); with these columns in the index PostgreSQL answers the join from the index alone. It is
# created here, not in LoanAccount.Meta.indexes: SQLite has no INCLUDE, and Django would then warn (models.W040)
# on every command run against SQLite, the demo's default database; there the index would only repeat the
# primary key.

from django.db import migrations

INDEX = "account_review_join_idx"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON collections_app_loanaccount (id) "
            "INCLUDE (oldest_unpaid_due_date, portfolio_id, officer_id)",
            params=None,
        )


def reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}", params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("collections_app", "0010_references_checked_per_statement"),
    ]

    operations = [
        migrations.RunPython(forward, reverse),
    ]
