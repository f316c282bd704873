"""The review app's free text that may name a person, erased with them (named in `ERASABLE_TEXT_PROVIDERS`)."""

from collections_app.services.erasure import ErasableText
from review.models import FamilyContactRequest


def family_contact_request_text() -> list[ErasableText]:
    """A request's justification is about its contact (blanked whole with them); the reasons only lose the name."""
    return [
        ErasableText(
            FamilyContactRequest,
            "account__borrower_id",
            ("justification", "decision_reason", "status_reason"),
            "contact_id",
            ("justification",),
        )
    ]
