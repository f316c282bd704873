"""App config for the demo data."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """`seed_demo` and every app's demo data; nothing else imports it."""

    name = "demo"
    label = "demo"
    verbose_name = _("Demo data")
