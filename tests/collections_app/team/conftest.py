"""The team lead's fixtures: lena leads alice (the officer) and bob (the other officer); oscar leads another team."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client

from access.models import Team
from access.roles import CASE_OFFICER, TEAM_LEAD
from tests.conftest import signed_in
from tests.factories import make_user


@dataclass
class Teams:
    """Two teams: the lead's own (the officer and the other officer) and another lead's (a third officer)."""

    lead: User
    own: Team
    other_lead: User
    other: Team
    outsider: User


@pytest.fixture
def lead(db: None) -> User:
    """A team lead."""
    return make_user("lena", TEAM_LEAD)


@pytest.fixture
def teams(lead: User, officer: User, other_officer: User) -> Teams:
    """The lead's team of alice and bob, and oscar's team of carl."""
    own = Team.objects.create(name="North", lead=lead)
    own.members.add(officer, other_officer)
    other_lead = make_user("oscar", TEAM_LEAD)
    outsider = make_user("carl", CASE_OFFICER)
    other = Team.objects.create(name="South", lead=other_lead)
    other.members.add(outsider)
    return Teams(lead=lead, own=own, other_lead=other_lead, other=other, outsider=outsider)


@pytest.fixture
def lead_client(lead: User, teams: Teams) -> Client:
    """The lead, signed in past the second factor."""
    return signed_in(lead)
