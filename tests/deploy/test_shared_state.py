"""Shared state of a deployment, in-process: rate-limit counters (one atomic statement per hit,
exact under concurrent threads on PostgreSQL), database settings per connection mode, the
read-replica router, and readiness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from oms import health, ratelimit, routers
from oms.models import RateLimitWindow
from oms.routers import ReplicaRouter, read_database, replica_reads
from orders.models import Order
from tests.deploy.server import ROOT

NOW = 1_800_000_030.0  # 30 s into a minute


@pytest.mark.django_db
def test_hits_count_up_within_a_window_and_start_again_in_the_next():
    hits = [ratelimit.rate_limit_hit("k", limit=2, window=60, now=NOW + i) for i in range(3)]
    assert [(d.hits, d.allowed) for d in hits] == [(1, True), (2, True), (3, False)]
    assert hits[2].wait == pytest.approx(28.0)
    later = ratelimit.rate_limit_hit("k", limit=2, window=60, now=NOW + 60)
    assert (later.hits, later.allowed) == (1, True)
    other = ratelimit.rate_limit_hit("other", limit=2, window=60, now=NOW)
    assert other.hits == 1


@pytest.mark.django_db
def test_windows_older_than_two_lengths_are_deleted_when_a_new_one_starts():
    ratelimit.rate_limit_hit("k", limit=9, window=60, now=NOW)
    ratelimit.rate_limit_hit("k", limit=9, window=60, now=NOW + 60)
    assert RateLimitWindow.objects.count() == 2
    ratelimit.rate_limit_hit("k", limit=9, window=60, now=NOW + 180)
    assert list(RateLimitWindow.objects.values_list("window_start", flat=True).order_by("pk")) == [
        1_800_000_000 + 60,
        1_800_000_000 + 180,
    ]


@pytest.mark.parametrize("rate", ["5/min", "5/minute", "1/s", "100/hour", "7/day"])
def test_rates_parse_as_drf_writes_them(rate: str):
    count, seconds = ratelimit.parse_rate(rate)
    assert count == int(rate.split("/")[0])
    assert seconds == {"m": 60, "s": 1, "h": 3600, "d": 86400}[rate.split("/")[1][0]]


@pytest.mark.parametrize("rate", ["five/min", "5/fortnight", "5"])
def test_a_bad_rate_is_refused_with_the_reason(rate: str):
    with pytest.raises(ValueError, match="not a rate"):
        ratelimit.parse_rate(rate)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_from_many_connections_are_each_counted_once():
    # Read-then-write counting (DRF's cache throttle) loses hits between processes; the upsert
    # hands every hit its own number.
    threads, per_thread = 8, 10
    results: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def hit() -> None:
        try:
            barrier.wait()
            mine = [
                ratelimit.rate_limit_hit("race", limit=10**6, window=3600, now=NOW).hits
                for _ in range(per_thread)
            ]
            with lock:
                results.extend(mine)
        finally:
            connection.close()

    workers = [threading.Thread(target=hit) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(results) == list(range(1, threads * per_thread + 1))


PRINT_DATABASES = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({a: {k: d.get(k) for k in ('CONN_MAX_AGE', 'CONN_HEALTH_CHECKS', "
    "'DISABLE_SERVER_SIDE_CURSORS', 'OPTIONS', 'TEST', 'NAME')} "
    "for a, d in settings.DATABASES.items()}, default=str))"
)


def databases_with(**env: str) -> Any:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OMS_DB", "DATABASE"))}
    clean.update(env, DEBUG="1", DJANGO_SETTINGS_MODULE="oms.settings")
    result = subprocess.run(
        [sys.executable, "-c", PRINT_DATABASES],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    return result


PG = "postgres://app@db.internal:5432/oms"


def test_postgresql_connections_persist_with_health_checks_by_default():
    default = json.loads(databases_with(DATABASE_URL=PG).stdout)["default"]
    assert default["CONN_MAX_AGE"] == 60
    assert default["CONN_HEALTH_CHECKS"] is True


def test_the_pool_mode_uses_psycopgs_pool_and_no_persistent_connections():
    default = json.loads(
        databases_with(DATABASE_URL=PG, OMS_DB_CONNECTIONS="pool", OMS_DB_POOL_MAX="16").stdout
    )["default"]
    assert default["CONN_MAX_AGE"] == 0
    assert default["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 16, "timeout": 10.0}


def test_the_pgbouncer_mode_uses_no_server_side_cursors_or_prepared_statements():
    default = json.loads(databases_with(DATABASE_URL=PG, OMS_DB_CONNECTIONS="pgbouncer").stdout)[
        "default"
    ]
    assert default["CONN_MAX_AGE"] == 0
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert default["OPTIONS"]["prepare_threshold"] is None


def test_an_unknown_connection_mode_is_refused_at_start():
    result = databases_with(DATABASE_URL=PG, OMS_DB_CONNECTIONS="magic")
    assert result.returncode != 0
    assert "OMS_DB_CONNECTIONS must be one of persistent, pool, pgbouncer." in result.stderr


def test_a_replica_url_adds_a_replica_that_tests_mirror_from_the_primary():
    databases = json.loads(
        databases_with(
            DATABASE_URL=PG, DATABASE_REPLICA_URL="postgres://ro@replica:5432/oms"
        ).stdout
    )
    assert databases["replica"]["NAME"] == "oms"
    assert databases["replica"]["TEST"]["MIRROR"] == "default"


def test_reads_go_to_the_primary_except_inside_replica_reads(monkeypatch):
    router = ReplicaRouter()
    monkeypatch.setattr(routers, "read_database", lambda: "replica")  # as with a replica set
    assert router.db_for_read(Order) == "default"
    with replica_reads() as alias:
        assert alias == "replica"
        assert router.db_for_read(Order) == "replica"
        assert router.db_for_write(Order) == "default"
    assert router.db_for_read(Order) == "default"
    assert router.allow_migrate("replica", "orders") is False
    assert router.allow_migrate("default", "orders") is True


def test_without_a_replica_reports_read_the_primary():
    assert "replica" not in connections.databases
    assert read_database() == "default"
    with replica_reads() as alias:
        assert alias == "default"


@pytest.mark.django_db
def test_readyz_is_503_while_migrations_are_pending(monkeypatch):
    health._migrations_checked.clear()
    monkeypatch.setattr(health, "_pending", lambda alias: 3)
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response.json()["databases"]["default"] == {"status": "migrations pending", "pending": 3}
    monkeypatch.setattr(health, "_pending", lambda alias: 0)
    assert Client().get("/readyz").status_code == 200
