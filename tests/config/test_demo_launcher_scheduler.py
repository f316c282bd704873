"""The in-process scheduler runs Celery's beat schedule when there is no Redis."""

import datetime
import logging

import pytest
from celery import Celery
from celery.schedules import crontab

from config import scheduler


@pytest.fixture
def app() -> Celery:
    return Celery("scheduler-test", set_as_current=False)


def test_jobs_are_read_from_the_beat_schedule(app: Celery) -> None:
    beat_schedule = {
        "every-minute": {"task": "a.task", "schedule": 60.0},
        "daily": {"task": "b.task", "schedule": crontab(hour=7, minute=0), "args": (1,), "kwargs": {"x": 2}},
    }

    jobs = scheduler.jobs_from_schedule(app, beat_schedule)

    assert [(job.name, job.task, job.args, job.kwargs) for job in jobs] == [
        ("every-minute", "a.task", (), {}),
        ("daily", "b.task", (1,), {"x": 2}),
    ]
    # Like beat on a fresh start: nothing is due at once.
    called: list[str] = []
    scheduler.run_due(jobs, lambda job: called.append(job.name))
    assert called == []


def test_a_due_job_runs_once_and_then_waits_for_its_interval(app: Celery) -> None:
    jobs = scheduler.jobs_from_schedule(app, {"every-minute": {"task": "a.task", "schedule": 60.0}})
    jobs[0].last_run_at = jobs[0].schedule.now() - datetime.timedelta(minutes=2)
    called: list[str] = []

    scheduler.run_due(jobs, lambda job: called.append(job.task))
    sleep = scheduler.run_due(jobs, lambda job: called.append(job.task))

    assert called == ["a.task"]
    assert 0 < sleep <= 60


def test_a_failing_job_is_logged_and_the_others_still_run(app: Celery, caplog: pytest.LogCaptureFixture) -> None:
    jobs = scheduler.jobs_from_schedule(
        app, {"broken": {"task": "bad.task", "schedule": 60.0}, "fine": {"task": "good.task", "schedule": 60.0}}
    )
    for job in jobs:
        job.last_run_at = job.schedule.now() - datetime.timedelta(minutes=2)
    called: list[str] = []

    def call(job: scheduler.Job) -> None:
        if job.task == "bad.task":
            raise RuntimeError("boom")
        called.append(job.task)

    with caplog.at_level(logging.ERROR, logger="config.scheduler"):
        scheduler.run_due(jobs, call)

    assert called == ["good.task"]
    assert "broken" in caplog.text


def test_call_task_runs_the_registered_task_in_process(app: Celery, db: None) -> None:
    seen: list[int] = []

    @app.task(name="test.record")
    def record(value: int) -> None:
        seen.append(value)

    job = scheduler.Job(name="record", task="test.record", schedule=None, args=(7,))  # type: ignore[arg-type]

    scheduler.call_task(app)(job)

    assert seen == [7]
