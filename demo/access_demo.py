"""The demo's second pair of eyes: lead1's team of officer1 and officer2, and an access change waiting for admin2.

admin2 (a superuser) and lead1 (`team_lead`) are demo users like the others (demo/accounts.py DEMO_USERS);
this module adds what joins them: the team, and one pending access change requested by admin, so that admin2
finds work at /access/changes/ on first sign-in.
"""

from django.contrib.auth.models import User

from access.changes import access_change_request
from access.models import AccessChange, Team

DEMO_TEAM = "Team Lead1"
DEMO_TEAM_LEAD = "lead1"
DEMO_TEAM_MEMBERS = ("officer1", "officer2")
# What admin asks admin2 to approve: limit approver2 to the consumer-loan portfolio.
DEMO_PENDING_CHANGE = {"requester": "admin", "user": "approver2", "kind": "grant_portfolio", "portfolio": "cn-consumer"}


def seed_access_demo(*, users: dict[str, User]) -> dict[str, int]:
    """Create the team and the pending access change when missing; idempotent. Returns what it created."""
    team, team_created = Team.objects.get_or_create(name=DEMO_TEAM, defaults={"lead": users[DEMO_TEAM_LEAD]})
    if team_created:
        team.members.add(*(users[username] for username in DEMO_TEAM_MEMBERS))
    spec = DEMO_PENDING_CHANGE
    requester, subject = users[spec["requester"]], users[spec["user"]]
    exists = AccessChange.objects.filter(
        requested_by=requester, user=subject, kind=spec["kind"], portfolio=spec["portfolio"]
    ).exists()
    if not exists:
        access_change_request(actor=requester, user=subject, kind=spec["kind"], portfolio=spec["portfolio"])
    return {"teams": int(team_created), "access_changes": int(not exists)}
