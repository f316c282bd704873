"""Celery tasks of the review app: thin wrappers over services."""

from celery import shared_task

from review.policy_proposals import policy_switches_apply
from review.services import family_contact_requests_expire


@shared_task(name="review.expire_family_contact_requests")
def expire_family_contact_requests() -> int:
    """Expire approvals not sent within their window and requests left undecided too long."""
    return family_contact_requests_expire()


@shared_task(name="review.apply_policy_switches")
def apply_policy_switches() -> int:
    """Move the portfolios whose approved profile switch has come due."""
    return policy_switches_apply()
