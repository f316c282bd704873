"""The Celery application; tasks are thin wrappers over services."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Every installed app's `tasks` module, and the relay's tasks, which live beside the relay in a sub-package.
app.autodiscover_tasks()
app.autodiscover_tasks(["collections_app.messaging"])
