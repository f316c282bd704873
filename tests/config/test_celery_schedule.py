"""The periodic schedule names only tasks a worker has registered."""

from django.conf import settings


def test_every_beat_entry_names_a_task_the_worker_registers() -> None:
    from config.celery import app

    # What `celery worker` does at start: import the configured modules, which runs the apps' autodiscovery.
    app.loader.import_default_modules()
    registered = set(app.tasks)
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule, "the beat schedule is empty"
    unknown = {name: entry["task"] for name, entry in schedule.items() if entry["task"] not in registered}
    assert unknown == {}
