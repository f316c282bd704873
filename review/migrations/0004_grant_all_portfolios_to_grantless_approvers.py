"""Give every risk approver who holds no portfolio grant the explicit all-portfolios grant.

Until now an approver without `ApproverPortfolio` rows reviewed every portfolio; from now on such an approver
sees nothing. This keeps each existing approver's queue exactly as it was on upgrade. It writes no audit event:
nobody's access changes, and the audit table's layout belongs to later migrations of its own app.
"""

from django.db import migrations

RISK_APPROVER = "risk_approver"


def grant_all_to_grantless_approvers(apps, schema_editor):
    User = apps.get_model("auth", "User")
    ApproverPortfolio = apps.get_model("review", "ApproverPortfolio")
    ApproverAllPortfolios = apps.get_model("review", "ApproverAllPortfolios")
    grantless = (
        User.objects.filter(groups__name=RISK_APPROVER)
        .exclude(pk__in=ApproverPortfolio.objects.values("user_id"))
        .exclude(pk__in=ApproverAllPortfolios.objects.values("user_id"))
        .distinct()
    )
    ApproverAllPortfolios.objects.bulk_create(
        [ApproverAllPortfolios(user_id=pk) for pk in grantless.values_list("pk", flat=True)]
    )


class Migration(migrations.Migration):
    dependencies = [("review", "0003_approver_all_portfolios")]

    # Reversed, the all-portfolios table goes with 0003: nothing to undo here.
    operations = [migrations.RunPython(grant_all_to_grantless_approvers, migrations.RunPython.noop)]
