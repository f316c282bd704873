"""App config for access: roles, sign-in, second factor and the people who hold them."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    """Roles (Django groups), role checks, sign-in, MFA and recovery, and user services."""

    name = "access"
    label = "access"
    verbose_name = _("Access")
