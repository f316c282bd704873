"""App config for the collections domain."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsAppConfig(AppConfig):
    """Borrowers, loan accounts, contacts, payments, promises, interactions and messages."""

    name = "collections_app"
    label = "collections_app"
    verbose_name = _("Collections")
