"""The production server as a user runs it: `bin/serve` (gunicorn with oms/gunicorn.conf.py,
DEBUG off) with several worker processes, on the suite's database engine. Health endpoints,
static files, the API, and rate limits shared by every process (in the database, or in Redis)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.deploy.server import ROOT, Server, own_database, serve, server_env
from tests.e2e.toolchain import skip_or_fail

WORKERS = 4
TOKEN_LIMIT = 5  # per client_id per day: a window boundary cannot fall inside the test


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deploy")


@pytest.fixture(scope="module")
def database_url(tmp: Path, django_db_setup: None, django_db_blocker) -> Iterator[str]:
    with django_db_blocker.unblock(), own_database(tmp, "oms_deploy") as url:
        yield url


@pytest.fixture(scope="module")
def server(database_url: str, tmp: Path) -> Iterator[Server]:
    extra = {
        "OMS_WEB_WORKERS": str(WORKERS),
        "OMS_WEB_THREADS": "1",
        "OMS_TOKEN_RATE_PER_CLIENT": f"{TOKEN_LIMIT}/day",
        "OMS_TOKEN_RATE_PER_IP": "",
    }
    with serve(database_url, tmp / "server.log", **extra) as running:
        yield running


ORGANIZATION = (
    "from markets.models import Organization; "
    "Organization.objects.get_or_create(slug='acme', defaults={'name': 'Acme'})"
)


def credentials(server: Server, name: str) -> dict[str, str]:
    server.manage("shell", "-c", ORGANIZATION)
    created = json.loads(
        server.manage(
            "oms_application",
            "create",
            "--kind",
            "integration",
            "--name",
            name,
            "--role",
            "admin",
            "--json",
        )
    )
    return {
        "grant_type": "client_credentials",
        "client_id": created["client_id"],
        "client_secret": created["client_secret"],
    }


def test_it_runs_gunicorn_workers_with_production_settings(server: Server):
    log = server.log.read_text()
    assert "Starting gunicorn" in log
    assert len(re.findall(r"Booting worker with pid", log)) >= WORKERS
    status, headers, body = server.get("/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert headers["Server"].startswith("gunicorn")
    # DEBUG is off: an unknown page is a plain 404, not Django's debug page
    status, _, body = server.get("/no-such-page")
    assert status == 404
    assert b"URLconf" not in body


def test_readyz_checks_the_database_and_its_migrations(server: Server):
    status, headers, body = server.get("/readyz")
    assert status == 200
    assert json.loads(body)["databases"]["default"]["status"] == "ok"
    assert "no-cache" in headers["Cache-Control"]


def test_static_files_are_served_compressed_with_immutable_hashed_names(server: Server):
    status, _, page = server.get("/admin/login/")
    assert status == 200
    (css,) = re.findall(rb'href="(/static/unfold/css/styles\.[0-9a-f]{12}\.css)"', page)
    status, headers, body = server.get(css.decode(), **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert "immutable" in headers["Cache-Control"]
    assert len(body) > 100


def test_the_api_answers_under_gunicorn(server: Server):
    status, token = server.post_json("/oauth/token", credentials(server, "ERP"))
    assert status == 200, token
    status, headers, body = server.get(
        "/api/markets",
        Authorization=f"Bearer {token['access_token']}",
        Accept="application/vnd.api+json",
    )
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/vnd.api+json")


def burst(server: Server, body: dict[str, str], n: int) -> list[int]:
    with ThreadPoolExecutor(max_workers=n) as pool:
        return sorted(pool.map(lambda _: server.post_json("/oauth/token", body)[0], range(n)))


def test_a_token_rate_limit_holds_across_every_worker_process(server: Server):
    # 4 processes with per-process counters would let up to 4 x 5 through.
    body = credentials(server, "Busy")
    statuses = burst(server, body, 4 * TOKEN_LIMIT)
    assert statuses.count(200) == TOKEN_LIMIT, statuses
    assert statuses.count(429) == 3 * TOKEN_LIMIT, statuses


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


def test_with_redis_the_rate_limit_is_counted_in_redis_across_processes(server: Server, tmp: Path):
    if not redis_available():
        skip_or_fail("Redis is not running on 127.0.0.1:6379")
    database = 9 + os.getpid() % 6  # a Redis database of its own (9-14)
    subprocess.run(["redis-cli", "-n", str(database), "FLUSHDB"], check=False, capture_output=True)
    extra = {
        "OMS_WEB_WORKERS": str(WORKERS),
        "OMS_WEB_THREADS": "1",
        "OMS_TOKEN_RATE_PER_CLIENT": f"{TOKEN_LIMIT}/day",
        "OMS_TOKEN_RATE_PER_IP": "",
        "REDIS_URL": f"redis://127.0.0.1:6379/{database}",
        "OMS_SKIP_PREPARE": "1",
    }
    with serve(server.env["DATABASE_URL"], tmp / "redis.log", **extra) as on_redis:
        body = credentials(on_redis, "Redis shop")
        statuses = burst(on_redis, body, 4 * TOKEN_LIMIT)
    assert statuses.count(200) == TOKEN_LIMIT, statuses
    keys = subprocess.run(
        ["redis-cli", "-n", str(database), "--scan", "--pattern", "*ratelimit*"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len(keys) == 1, keys
    subprocess.run(["redis-cli", "-n", str(database), "FLUSHDB"], check=False, capture_output=True)


def test_sighup_restarts_workers_gracefully_and_keeps_serving(server: Server):
    before = len(re.findall(r"Booting worker with pid", server.log.read_text()))
    os.kill(server.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + 60
    while len(re.findall(r"Booting worker with pid", server.log.read_text())) < before + WORKERS:
        assert time.monotonic() < deadline, server.log.read_text()[-2000:]
        assert server.get("/healthz")[0] == 200
        time.sleep(0.2)
    assert server.get("/healthz")[0] == 200


def test_serve_refuses_to_start_without_a_secret_key(database_url: str):
    env = server_env(database_url)
    env.pop("SECRET_KEY")
    result = subprocess.run(
        ["bin/serve"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "bin/serve: set SECRET_KEY (a long random string) to serve in production"
    )
