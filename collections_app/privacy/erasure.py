"""The data-subject requests' free text, erased with the person (named in `ERASABLE_TEXT_PROVIDERS`)."""

from collections_app.models import DataSubjectRequest
from collections_app.services.erasure import ErasableText


def privacy_request_text() -> list[ErasableText]:
    """A contact's request is in their own words (blanked whole with them); the reasons only lose their name."""
    return [
        ErasableText(DataSubjectRequest, "account__borrower_id", ("text", "decision_reason"), "contact_id", ("text",))
    ]
