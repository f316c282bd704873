"""Two approvers deciding the same request at once, on real PostgreSQL: exactly one decision stands."""

import threading

import pytest
from django.db import connection

from audit.models import AuditEvent
from collections_app.models import Message
from review.models import FamilyContactRequest
from review.services import DecisionConflict, family_contact_request_decide
from tests.audit.cleanup import audit_tables_cleared_on_flush  # noqa: F401 - flushes past the audit triggers

# serialized_rollback: a flush removes the rows the data migrations wrote (roles, policy profiles); restore them.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_two_approvers_at_once_one_decision_stands_the_other_is_told(submitted, approver, second_approver) -> None:
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def decide(user, decision: str) -> None:
        try:
            barrier.wait(timeout=10)
            result = family_contact_request_decide(
                request_id=submitted.pk, decision=decision, reason="decided in a race", actor=user
            )
            outcomes[user.username] = result.request.status
        except DecisionConflict as conflict:
            outcomes[user.username] = ("conflict", conflict.request.status, conflict.request.decided_by_id)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(approver, "approve")),
        threading.Thread(target=decide, args=(second_approver, "reject")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    submitted.refresh_from_db()
    winner = "carol" if submitted.decided_by_id == approver.pk else "erin"
    loser = "erin" if winner == "carol" else "carol"
    assert outcomes[winner] == submitted.status
    assert outcomes[loser] == ("conflict", submitted.status, submitted.decided_by_id)
    decisions = AuditEvent.objects.filter(
        object_type="familycontactrequest",
        object_id=str(submitted.pk),
        action__in=["request_approved", "request_rejected"],
    )
    assert decisions.count() == 1
    expected_messages = 1 if submitted.status == FamilyContactRequest.Status.APPROVED else 0
    assert Message.objects.filter(audience="family").count() == expected_messages
