"""The admin's door to policy proposals: a change to a profile, or to which profile a portfolio uses, is filed
as a proposal that a second person approves, never written at once.

Review owns the proposals and collections_app imports nothing from review, so the two filing services are named
in `settings.POLICY_CHANGE_FILING` (as the send gates are in `MESSAGE_SEND_GATES`) and called by these functions.
"""

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string


def policy_change_propose(**kwargs: Any) -> Any:
    """File a proposal to change fields of a profile (the arguments of review's `policy_change_file`)."""
    return import_string(settings.POLICY_CHANGE_FILING["change"])(**kwargs)


def policy_switch_propose(**kwargs: Any) -> Any:
    """File a proposal to switch a portfolio's profile (the arguments of review's `policy_switch_file`)."""
    return import_string(settings.POLICY_CHANGE_FILING["switch"])(**kwargs)
