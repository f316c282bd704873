"""The demo's second pair of eyes: lead1's team of officer1 and officer2, and an access change waiting for admin2.

admin2 (a superuser) and lead1 (`team_lead`) are demo users like the others (demo/accounts.py DEMO_USERS);
this module adds what joins them: the team, and one pending access change requested by admin, so that admin2
finds work at /access/changes/ on first sign-in. Only users this seed created are joined to anything: a team
lead or member, or an access change filed in someone's name, would change a user who was there before.
"""

from django.contrib.auth.models import User

from access.changes import access_change_request
from access.models import AccessChange, Team

DEMO_TEAM = "Team Lead1"
DEMO_TEAM_LEAD = "lead1"
DEMO_TEAM_MEMBERS = ("officer1", "officer2")
# What admin asks admin2 to approve: limit approver2 to the consumer-loan portfolio.
DEMO_PENDING_CHANGE = {"requester": "admin", "user": "approver2", "kind": "grant_portfolio", "portfolio": "cn-consumer"}


def seed_access_demo(*, created: dict[str, User]) -> dict[str, int]:
    """Create the team and the pending access change when missing, among the users `created` by this seed."""
    team_created = False
    if not Team.objects.filter(name=DEMO_TEAM).exists():
        team = Team.objects.create(name=DEMO_TEAM, lead=created.get(DEMO_TEAM_LEAD))
        team.members.add(*(created[username] for username in DEMO_TEAM_MEMBERS if username in created))
        team_created = True
    spec = DEMO_PENDING_CHANGE
    requester, subject = created.get(spec["requester"]), created.get(spec["user"])
    filed = False
    if requester is not None and subject is not None:
        exists = AccessChange.objects.filter(
            requested_by=requester, user=subject, kind=spec["kind"], portfolio=spec["portfolio"]
        ).exists()
        if not exists:
            access_change_request(actor=requester, user=subject, kind=spec["kind"], portfolio=spec["portfolio"])
            filed = True
    return {"teams": int(team_created), "access_changes": int(filed)}
