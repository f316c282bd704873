"""The database alias of the role that owns the schema (DATABASE_OWNER_URL), for what only the owner may do:
migrations and creating audit partitions. Without an owner URL of its own, the app's connection is the owner's."""

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS

OWNER_ALIAS = "owner"


def owner_alias() -> str:
    """`owner` when DATABASE_OWNER_URL names another role than DATABASE_URL, else the default alias."""
    return OWNER_ALIAS if OWNER_ALIAS in settings.DATABASES else DEFAULT_DB_ALIAS
