"""Background work on `django.tasks` (issue 12): how a change enqueues its task, how a failed
task is tried again, and the periodic ops jobs the scheduler (`manage.py crontask`) enqueues.

- `task_enqueue`: with the database backend (the default) the task row is written in the
  transaction of the change that caused it, so a crash cannot lose it and a rolled-back change
  leaves no task; with any other backend it is enqueued once the transaction commits (the
  immediate backend would otherwise run a gateway call under the caller's locks).
- `task_retry`: the next attempt of a failed task, after an exponential backoff
  (`OMS_TASK_RETRY_BASE_SECONDS` * 2 ** (attempt - 1)), up to `OMS_TASK_MAX_ATTEMPTS` attempts.
- `ops_command_run`: a periodic job is its ops command, so the schedule and ops run the same
  code; a job whose command fails fails its task (and the scheduler enqueues it again at its
  next time).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from io import StringIO
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.tasks import Task
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend

logger = logging.getLogger("oms.tasks")


def task_writes_with_the_change(task: Task[Any, Any]) -> bool:
    """Whether enqueuing `task` writes a row in the current transaction (the database
    backend writes to the primary, where every write goes: `oms.routers`)."""
    return isinstance(task.get_backend(), DatabaseBackend)


def task_enqueue(task: Task[Any, Any], **kwargs: Any) -> None:
    """Enqueue `task` as part of the current change (see the module's docstring)."""
    if task_writes_with_the_change(task):
        task.enqueue(**kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, **kwargs))


def retry_delay(attempt: int) -> timedelta:
    """How long after failed attempt `attempt` (1, 2, ...) the next one runs."""
    return timedelta(seconds=settings.OMS_TASK_RETRY_BASE_SECONDS * 2 ** (attempt - 1))


def task_retry(task: Task[Any, Any], *, attempt: int, **kwargs: Any) -> bool:
    """Enqueue attempt `attempt + 1` of `task` after the backoff. False: no retry (the attempts
    are used up, or the backend cannot run a task later)."""
    if attempt >= settings.OMS_TASK_MAX_ATTEMPTS or not task.get_backend().supports_defer:
        logger.error("task %s failed for good after %d attempt(s)", task.name, attempt)
        return False
    run_after = timezone.now() + retry_delay(attempt)
    task.using(run_after=run_after).enqueue(attempt=attempt + 1, **kwargs)
    logger.warning("task %s failed (attempt %d), tried again at %s", task.name, attempt, run_after)
    return True


def ops_command_run(name: str, *args: str) -> str:
    """Run ops command `name` as a periodic job; its last output line (the summary) is the
    task's return value. A failing command raises, and so fails the task."""
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=out)
    lines = out.getvalue().strip().splitlines()
    summary = lines[-1] if lines else ""
    logger.info("%s: %s", name, summary)
    return summary
