"""Celery tasks of the review app: thin wrappers over services."""

from celery import shared_task

from review.services import family_contact_requests_expire


@shared_task(name="review.expire_family_contact_requests")
def expire_family_contact_requests() -> int:
    """Expire approvals not sent within their window and requests left undecided too long."""
    return family_contact_requests_expire()
