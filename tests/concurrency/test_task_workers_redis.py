"""The Redis-backed queue (`OMS_TASKS_BACKEND=redis`, django-tasks-rq) against the Redis server on
127.0.0.1:6379: tasks enqueued by a process configured for it run in real `bin/worker` RQ
worker processes, each exactly once with two workers racing, and a task a change enqueues is
pushed only when the change commits."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.concurrency.test_placement_fault import ROOT, child_database_url
from tests.e2e.toolchain import skip_or_fail

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TASKS = 40
# a Redis database of each test's own (tests run in parallel), flushed when it starts
REDIS_DBS = {
    "test_two_redis_workers_run_every_task_once": 13,
    "test_a_task_enqueued_by_a_change_is_pushed_only_when_it_commits": 14,
}


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_env(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    if not redis_available():
        skip_or_fail("Redis is not running on 127.0.0.1:6379")
    redis_db = REDIS_DBS[request.node.name]
    subprocess.run(["redis-cli", "-n", str(redis_db), "FLUSHDB"], check=True, capture_output=True)
    runs = tmp_path / "runs"
    runs.touch()
    return {
        **os.environ,
        "DATABASE_URL": child_database_url(),
        "DEBUG": "1",
        "OMS_SKIP_SETUP": "1",
        "OMS_TASKS_BACKEND": "redis",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "OMS_TASK_PROBE_FILE": str(runs),
    }


def in_a_child(env: dict[str, str], code: str) -> str:
    """Run `code` in a process configured for the Redis queue; its standard output."""
    setup = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'oms.settings'); django.setup()\n"
    done = subprocess.run(
        [sys.executable, "-c", setup + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return done.stdout.decode()


def worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        ["bin/worker", "--burst"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def queued(env: dict[str, str]) -> int:
    return int(in_a_child(env, "import django_rq; print(django_rq.get_queue('default').count)"))


def test_two_redis_workers_run_every_task_once(redis_env: dict[str, str]):
    backend = in_a_child(
        redis_env,
        "from django.tasks import task_backends; print(type(task_backends['default']).__name__)\n"
        "from tests.task_probe import probe\n"
        f"for n in range({TASKS}): probe.enqueue(n)\n",
    )
    assert backend.strip() == "RQBackend"
    assert queued(redis_env) == TASKS

    workers = [worker(redis_env), worker(redis_env)]
    for process in workers:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()[-2000:]

    lines = [
        line.split() for line in Path(redis_env["OMS_TASK_PROBE_FILE"]).read_text().splitlines()
    ]
    assert Counter(int(number) for number, *_ in lines) == Counter(range(TASKS))
    workers_pids = {process.pid for process in workers}
    # each task ran in a child of one of the two workers, and both took a share
    assert {int(parent) for *_, parent in lines} == workers_pids
    assert queued(redis_env) == 0


def test_a_task_enqueued_by_a_change_is_pushed_only_when_it_commits(redis_env: dict[str, str]):
    out = in_a_child(
        redis_env,
        "import django_rq\n"
        "from django.db import transaction\n"
        "from oms.tasks import task_enqueue\n"
        "from tests.task_probe import probe\n"
        "queue = django_rq.get_queue('default')\n"
        "try:\n"
        "    with transaction.atomic():\n"
        "        task_enqueue(probe, number=1)\n"
        "        raise RuntimeError('the change fails')\n"
        "except RuntimeError:\n"
        "    pass\n"
        "print(queue.count)\n"
        "with transaction.atomic():\n"
        "    task_enqueue(probe, number=2)\n"
        "    print(queue.count)\n"
        "print(queue.count)\n",
    )
    # rolled back: nothing pushed; inside the committing change: not yet; after it: once
    assert out.split() == ["0", "0", "1"]
