"""App config for family-contact review."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    """Family-contact requests, their eligibility policy and the approval queue.

    Its send gate (review/gates.py) is named in settings.MESSAGE_SEND_GATES rather than registered here.
    """

    name = "review"
    verbose_name = _("Family-contact review")
