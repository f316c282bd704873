"""App config for family-contact review."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    """Family-contact requests, their eligibility policy and the approval queue."""

    name = "review"
    verbose_name = _("Family-contact review")

    def ready(self) -> None:
        """Hook into the messages outbox: re-check family messages before sending, follow their status."""
        from review import messaging, services

        messaging.hooks_register(
            before_send=services.before_family_send, after_status_change=services.after_message_status_change
        )
