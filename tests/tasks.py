"""Running queued tasks inside a test: what `manage.py db_worker` does for one row (claim it
locked, run it, record the outcome), without the worker's connection handling, so it works in
a test's transaction. Real worker processes are tested in tests/concurrency/test_task_workers.py."""

from __future__ import annotations

from django.db import transaction
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

WORKER = "tests"


def tasks_run_queued(*, limit: int = 100) -> int:
    """Run the tasks that are due (not those waiting for a later `run_after`), oldest first,
    including those they enqueue; the number run."""
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=WORKER,
        excluded_queue_names=[],
    )
    ran = 0
    while ran < limit:
        with transaction.atomic():
            row = DBTaskResult.objects.ready().get_locked()
            if row is None:
                return ran
            row.claim(WORKER)
        worker.run_task(row)
        ran += 1
    return ran


def tasks_queued(task_path: str = "") -> list[DBTaskResult]:
    rows = DBTaskResult.objects.filter(status="READY").order_by("enqueued_at")
    return list(rows.filter(task_path=task_path) if task_path else rows)
