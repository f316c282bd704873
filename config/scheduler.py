"""The periodic jobs without Redis: `python -m config.scheduler` runs Celery's beat schedule in-process.

`make run` starts it beside the web server when no Redis answers (with CELERY_TASK_ALWAYS_EAGER=1, so
any task a job queues runs inline). It reads `config.celery.app.conf.beat_schedule`, the same schedule
`celery worker --beat` uses, and calls each task locally when its schedule says it is due. A job that
fails is logged and retried at its next due time; the loop goes on. SIGTERM or Ctrl-C stops it.
"""

import datetime
import logging
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from celery import Celery
from celery.schedules import BaseSchedule, maybe_schedule

logger = logging.getLogger("config.scheduler")
# Upper bound on one sleep, so a stop request or a clock change is noticed soon.
MAX_SLEEP_SECONDS = 30.0


@dataclass
class Job:
    """One beat-schedule entry and when it last ran."""

    name: str
    task: str
    schedule: BaseSchedule
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    last_run_at: datetime.datetime | None = None


def jobs_from_schedule(app: Celery, beat_schedule: Mapping[str, Mapping[str, Any]]) -> list[Job]:
    """The jobs of a Celery beat schedule, as if each had just run (beat's behaviour on a fresh start)."""
    jobs = []
    for name, entry in beat_schedule.items():
        schedule = maybe_schedule(entry["schedule"], app=app)
        jobs.append(
            Job(
                name=name,
                task=entry["task"],
                schedule=schedule,
                args=tuple(entry.get("args", ())),
                kwargs=dict(entry.get("kwargs", {})),
                last_run_at=schedule.now(),
            )
        )
    return jobs


def run_due(jobs: list[Job], call: Callable[[Job], None]) -> float:
    """Run every job that is due (through `call`); return the seconds until the next one is due."""
    next_in = MAX_SLEEP_SECONDS
    for job in jobs:
        due, next_seconds = job.schedule.is_due(job.last_run_at)
        if due:
            job.last_run_at = job.schedule.now()
            try:
                call(job)
            except Exception:  # noqa: BLE001 - one failing job must not stop the others
                logger.exception("periodic job %s (%s) failed", job.name, job.task)
        next_in = min(next_in, next_seconds)
    return max(next_in, 0.5)


def call_task(app: Celery) -> Callable[[Job], None]:
    """Call a job's task in this process, closing stale database connections around it."""
    from django.db import close_old_connections

    def call(job: Job) -> None:
        close_old_connections()
        try:
            logger.info("running periodic job %s (%s)", job.name, job.task)
            result = app.tasks[job.task].apply(args=job.args, kwargs=job.kwargs)
            if result.failed():
                logger.error("periodic job %s (%s) failed:\n%s", job.name, job.task, result.traceback)
        finally:
            close_old_connections()

    return call


def run_forever(jobs: list[Job], call: Callable[[Job], None], stop: threading.Event) -> None:
    """Run due jobs until `stop` is set."""
    while not stop.is_set():
        stop.wait(run_due(jobs, call))


def main() -> None:
    """Set up Django, load the tasks and run the beat schedule until stopped."""
    import django

    django.setup()
    from config.celery import app

    # Register every app's tasks, as a worker does at start-up.
    app.loader.import_default_modules()
    jobs = jobs_from_schedule(app, app.conf.beat_schedule or {})
    if jobs:
        logger.info("in-process scheduler: %s", ", ".join(f"{job.name} ({job.schedule})" for job in jobs))
    else:
        logger.info("in-process scheduler: the beat schedule is empty")
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    run_forever(jobs, call_task(app), stop)


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    main()
