"""Real `manage.py db_worker` processes against one PostgreSQL database (issue 12): two workers
racing for one queue run every task exactly once, and a task a change enqueued runs in a worker
process, not in the request that enqueued it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from orders import services
from orders.models import Order
from payments.gateways.test import TestGateway
from tests.concurrency.test_placement_fault import ROOT, child_database_url
from tests.orders.factories import STOREFRONT, order_ready
from tests.task_probe import probe

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TASKS = 80


def worker(probe_file: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": child_database_url(),
        "DEBUG": "1",
        "OMS_TASK_PROBE_FILE": str(probe_file),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--batch",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0",
            "-v",
            "0",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_two_workers_racing_for_one_queue_run_every_task_once(tmp_path):
    runs = tmp_path / "runs"
    runs.touch()
    for number in range(TASKS):
        probe.enqueue(number)
    workers = [worker(runs), worker(runs)]
    for process in workers:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()[-2000:]
    lines = [line.split() for line in runs.read_text().splitlines()]
    numbers = Counter(int(number) for number, *_ in lines)
    assert numbers == Counter(range(TASKS))  # each once, none twice, none lost
    assert len({pid for _, pid, _ in lines}) == 2  # both workers took a share
    assert Counter(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL": TASKS}


def test_place_async_answers_placing_and_a_worker_process_places_it(tmp_path):
    TestGateway.reset()
    order = services.order_place(order=order_ready(place_async=True), actor=STOREFRONT)
    assert order.status == Order.Status.PLACING
    process = worker(tmp_path / "unused")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr.decode()[-2000:]
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    assert order.payment_status == Order.PaymentStatus.AUTHORIZED
