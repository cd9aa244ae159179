"""What every benchmark shares: databases, servers (the product under `bin/serve`, the baseline
under the same gunicorn configuration), client processes, figures and the report."""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
TICKS = os.sysconf("SC_CLK_TCK")
JSONAPI = "application/vnd.api+json"


def arguments(description: str, **defaults: Any) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=description)
    parser.add_argument(
        "--clients",
        default=str(defaults.get("clients", "8")),
        help="comma-separated client counts (default %(default)s)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=defaults.get("rounds", 3),
        help="interleaved rounds; medians are reported (default %(default)s)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=defaults.get("seconds", 10.0),
        help="length of a timed round (default %(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults.get("workers", 4),
        help="gunicorn worker processes per server (default %(default)s)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON here")
    return parser


# --- databases -------------------------------------------------------------------------------
def database_url(name: str) -> str:
    return f"{PG}/{name}"


def psql(sql: str) -> None:
    parsed = urllib.parse.urlparse(PG)
    subprocess.run(
        [
            "psql",
            "-h",
            parsed.hostname or "127.0.0.1",
            "-p",
            str(parsed.port or 5432),
            "-U",
            parsed.username or "postgres",
            "-d",
            "postgres",
            "-qc",
            sql,
        ],
        check=True,
        capture_output=True,
    )


def database_recreate(name: str) -> str:
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    psql(f"CREATE DATABASE {name}")
    return database_url(name)


def run_python(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


# --- servers ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def production_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMS_", "DJANGO_"))}
    env.pop("REDIS_URL", None)
    env.update(
        DEBUG="0",
        SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        DATABASE_URL=url,
        OMS_SKIP_SETUP="1",
        OMS_ACCESS_LOG="",  # an access log line per request is not what is measured
        OMS_WEB_MAX_REQUESTS="0",  # no worker recycling mid-round
        OMS_TOKEN_RATE_PER_IP="",  # every client comes from 127.0.0.1
        OMS_TOKEN_RATE_PER_CLIENT="",
    )
    env.update(extra)
    return env


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def pids(self) -> list[int]:
        pids = [self.process.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) in pids[:1]:
                    pids.append(int(entry))
        return pids

    def cpu_seconds(self) -> float:
        """CPU time of the master and its workers (user + system)."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / TICKS


@contextmanager
def server(name: str, command: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    log = open(f"/tmp/bench-{name}-{port}.log", "wb")  # noqa: SIM115, S108
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    running = Server(name=name, url=f"http://127.0.0.1:{port}", process=process)
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{name} server exited; see {log.name}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"{name} server did not start; see {log.name}") from None
                time.sleep(0.2)
        time.sleep(1.0)  # every worker booted
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()


def oms_server(url: str, *, workers: int, threads: int = 1) -> Any:
    port = free_port()
    env = production_env(
        url,
        OMS_BIND=f"127.0.0.1:{port}",
        OMS_WEB_WORKERS=str(workers),
        OMS_WEB_THREADS=str(threads),
        OMS_SKIP_PREPARE="1",
    )
    return server("oms", ["bin/serve"], env, port)


def baseline_server(url: str, *, workers: int, threads: int = 1) -> Any:
    port = free_port()
    env = production_env(
        url,
        OMS_BIND=f"127.0.0.1:{port}",
        OMS_WEB_WORKERS=str(workers),
        OMS_WEB_THREADS=str(threads),
        DJANGO_SETTINGS_MODULE="bench.baseline.settings",
    )
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "--config",
        "oms/gunicorn.conf.py",
        "bench.baseline.wsgi:application",
    ]
    return server("baseline", command, env, port)


def prepare_oms(name: str = "oms_bench") -> tuple[str, dict[str, Any]]:
    """A fresh product database: migrated, the demo catalog, bench applications."""
    url = database_recreate(name)
    env = production_env(url, DEBUG="1")
    run_python(["manage.py", "oms_prepare", "--no-static"], env)
    run_python(["manage.py", "collectstatic", "--noinput", "-v", "0"], env)
    config = json.loads(run_python(["-m", "bench.oms_setup", "prepare"], env))
    return url, config


def build_orders(url: str, config: dict[str, Any], n: int, *, placed: bool) -> list[str]:
    """`n` carts ready to place (or placed), built in two processes through the workflows."""
    env = production_env(url, DEBUG="1", BENCH_CONFIG=json.dumps(config))
    command = "placed" if placed else "carts"
    halves = [n // 2, n - n // 2]
    procs = [
        subprocess.Popen(
            [PYTHON, "-m", "bench.oms_setup", command, str(k)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in halves
        if k
    ]
    ids: list[str] = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"building orders failed:\n{err[-3000:]}")
        ids += json.loads(out)
    return ids


def prepare_baseline(name: str = "oms_bench_baseline") -> str:
    url = database_recreate(name)
    run_python(["-m", "bench.baseline.setup"], production_env(url))
    return url


# --- clients ---------------------------------------------------------------------------------
class Client:
    """One keep-alive HTTP connection; every call records (endpoint, seconds, status)."""

    def __init__(self, base: str, token: str = "") -> None:
        parsed = urllib.parse.urlparse(base)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.token = token
        self.samples: list[tuple[str, float, int]] = []

    def request(
        self, label: str, method: str, path: str, body: Any = None, content_type: str = JSONAPI
    ) -> tuple[int, Any]:
        headers = {"Accept": JSONAPI if content_type == JSONAPI else "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        self.samples.append((label, time.perf_counter() - started, response.status))
        return response.status, (json.loads(raw) if raw else None)


def token(base: str, credentials: dict[str, str], scope: str = "") -> str:
    client = Client(base)
    body = {"grant_type": "client_credentials", **credentials}
    if scope:
        body["scope"] = scope
    status, answer = client.request("token", "POST", "/oauth/token", body, "application/json")
    assert status == 200, answer
    return str(answer["access_token"])


def _client_main(
    job: Callable[[int, Any], list[tuple[str, float, int]]], index: int, queue: Any, results: Any
) -> None:
    results.put(job(index, queue))


@dataclass
class Round:
    """The samples of one round of load and the server CPU it cost."""

    samples: list[tuple[str, float, int]]
    seconds: float
    cpu: float
    ops: int  # the operations the round counts (a checkout, a _place, a GET)

    @property
    def rate(self) -> float:
        return self.ops / self.seconds if self.seconds else 0.0


def load(
    server: Server,
    clients: int,
    job: Callable[[int, Any], list[tuple[str, float, int]]],
    *,
    work: list[Any] | None = None,
    count: Callable[[list[tuple[str, float, int]]], int],
) -> Round:
    """Run `job(index, queue)` in `clients` processes at once (each returns its samples; with
    `work`, the queue holds its items and a job takes items until it is empty)."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    for item in work or []:
        queue.put(item)
    for _ in range(clients):
        queue.put(None)
    results = context.Queue()
    procs = [
        context.Process(target=_client_main, args=(job, i, queue, results)) for i in range(clients)
    ]
    cpu_before, started = server.cpu_seconds(), time.perf_counter()
    for proc in procs:
        proc.start()
    samples: list[tuple[str, float, int]] = []
    for _ in procs:
        samples += results.get()
    seconds = time.perf_counter() - started
    cpu = server.cpu_seconds() - cpu_before
    for proc in procs:
        proc.join()
    return Round(samples=samples, seconds=seconds, cpu=cpu, ops=count(samples))


def take(queue: Any) -> Iterator[Any]:
    while (item := queue.get()) is not None:
        yield item


# --- figures ---------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def endpoint_figures(samples: list[tuple[str, float, int]]) -> dict[str, dict[str, float]]:
    by_label: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for label, seconds, status in samples:
        by_label[label].append(seconds)
        if status >= 400:
            errors[label] += 1
    return {
        label: {
            "n": len(values),
            "errors": errors[label],
            "p50_ms": round(percentile(values, 50) * 1000, 1),
            "p95_ms": round(percentile(values, 95) * 1000, 1),
            "p99_ms": round(percentile(values, 99) * 1000, 1),
        }
        for label, values in sorted(by_label.items())
    }


@dataclass
class Figure:
    """The medians over rounds of one measured thing."""

    name: str
    rounds: list[Round] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        samples = [s for r in self.rounds for s in r.samples]
        rate = statistics.median(r.rate for r in self.rounds) if self.rounds else 0.0
        cpu_ms = (
            statistics.median((r.cpu / r.ops * 1000) if r.ops else 0.0 for r in self.rounds)
            if self.rounds
            else 0.0
        )
        return {
            "rate_per_s": round(rate, 2),
            "server_cpu_ms_per_op": round(cpu_ms, 2),
            "rounds": [round(r.rate, 2) for r in self.rounds],
            "endpoints": endpoint_figures(samples),
        }


def report(
    title: str,
    figures: dict[str, Any],
    ratios: dict[str, float],
    json_path: str | None,
    notes: list[str] | None = None,
) -> None:
    print(f"\n== {title}")
    for line in notes or []:
        print(f"   {line}")
    for name, figure in figures.items():
        print(
            f"-- {name}: {figure['rate_per_s']:.1f}/s, server CPU "
            f"{figure['server_cpu_ms_per_op']:.1f} ms/op, rounds {figure['rounds']}"
        )
        for label, e in figure["endpoints"].items():
            errors = f"  errors {e['errors']}" if e["errors"] else ""
            print(
                f"     {label:<34} n={e['n']:<6} p50 {e['p50_ms']:>7.1f}  p95 {e['p95_ms']:>7.1f}"
                f"  p99 {e['p99_ms']:>7.1f} ms{errors}"
            )
    for name, ratio in ratios.items():
        print(f"** {name}: {ratio:.3f}")
    document = {
        "title": title,
        "figures": figures,
        "ratios": ratios,
        "notes": notes or [],
        "machine": {"cores": os.cpu_count(), "python": sys.version.split()[0]},
    }
    print("JSON " + json.dumps(document, separators=(",", ":")))
    if json_path:
        Path(json_path).write_text(json.dumps(document, indent=2))


def client_counts(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def timed(
    seconds: float, make: Callable[[int], Any], step: Callable[[Any, int], object]
) -> Callable[[int, Any], list[tuple[str, float, int]]]:
    """A client job repeating `step(client, n)` until `seconds` have passed."""

    def job(index: int, queue: Any) -> list[tuple[str, float, int]]:
        client = make(index)
        deadline, n = time.perf_counter() + seconds, index * 100_000
        while time.perf_counter() < deadline:
            step(client, n)
            n += 1
        return list(client.samples)

    return job


def draining(
    make: Callable[[int], Any], step: Callable[[Any, Any], object]
) -> Callable[[int, Any], list[tuple[str, float, int]]]:
    """A client job running `step(client, item)` for queue items until the queue is empty."""

    def job(index: int, queue: Any) -> list[tuple[str, float, int]]:
        client = make(index)
        for item in take(queue):
            step(client, item)
        return list(client.samples)

    return job


def counting(label: str) -> Callable[[list[tuple[str, float, int]]], int]:
    return lambda samples: sum(1 for s in samples if s[0] == label and s[2] < 400)


def ratio(ours: dict[str, Any], baseline: dict[str, Any]) -> float:
    return round(ours["rate_per_s"] / baseline["rate_per_s"], 3) if baseline["rate_per_s"] else 0.0


def new_integration(url: str, name: str) -> dict[str, str]:
    created = json.loads(
        run_python(
            [
                "manage.py",
                "oms_application",
                "create",
                "--kind",
                "integration",
                "--role",
                "admin",
                "--name",
                name,
                "--json",
            ],
            production_env(url, DEBUG="1"),
        )
    )
    return {"client_id": created["client_id"], "client_secret": created["client_secret"]}
