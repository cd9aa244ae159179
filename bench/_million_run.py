"""The measuring half of `python -m bench million` (see bench/million.py), run once Django is
configured: the lists over HTTP or in-process, the export in a child process."""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import Min
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench._million_data import generated_orders_count, million_generate
from markets.models import Market
from oms.oauth.services import application_create
from orders.admin.orders import OrderAdmin
from orders.models import Order

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"api_list_p50_ms": 30.0, "admin_list_p50_ms": 150.0, "export_orders_per_s": 20_000.0}


# --- timing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    name: str
    path: str
    p50_ms: float
    p95_ms: float
    requests: int
    statements: int | None = None

    def line(self) -> str:
        statements = f", {self.statements} SQL" if self.statements is not None else ""
        return f"  {self.name:<34} p50 {self.p50_ms:7.1f} ms  p95 {self.p95_ms:7.1f} ms{statements}"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def timed(name: str, path: str, get: Callable[[str], int], requests: int) -> Timing:
    for _ in range(max(3, requests // 20)):  # warm caches and connections
        status = get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}")
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        get(path)
        times.append((time.perf_counter() - began) * 1000)
    return Timing(
        name, path, round(statistics.median(times), 1), round(percentile(times, 0.95), 1), requests
    )


class InProcess:
    """Django's test client in this process (no server to measure against)."""

    kind = "in-process (django.test.Client)"

    def __init__(self, *, headers: dict[str, str] | None = None, session: str = "") -> None:

        self.client = Client(headers=headers or {})
        if session:
            self.client.cookies["sessionid"] = session

    def get(self, path: str) -> int:
        return int(self.client.get(path).status_code)

    def post_json(self, path: str, data: dict[str, str]) -> tuple[int, bytes]:
        response = self.client.post(path, json.dumps(data), content_type="application/json")
        return int(response.status_code), bytes(response.content)


class OverHttp:
    """Plain HTTP/1.1 requests to a server on 127.0.0.1."""

    def __init__(self, base: str, *, headers: dict[str, str] | None = None, session: str = ""):
        self.base = base.rstrip("/")
        self.kind = f"HTTP {self.base}"
        self.headers = dict(headers or {})
        if session:
            self.headers["Cookie"] = f"sessionid={session}"

    def get(self, path: str) -> int:
        request = urllib.request.Request(self.base + path, headers=self.headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def post_json(self, path: str, data: dict[str, str]) -> tuple[int, bytes]:
        headers = {**self.headers, "Content-Type": "application/json"}
        url = self.base + path
        request = urllib.request.Request(  # noqa: S310
            url, data=json.dumps(data).encode(), headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_start(environment: dict[str, str]) -> tuple[subprocess.Popen[bytes] | None, str]:
    """Start the production server (bin/serve) or gunicorn; (None, "") when neither exists."""
    port = free_port()
    bind = f"127.0.0.1:{port}"
    env = {**os.environ, **environment, "PORT": str(port), "BIND": bind}
    # gunicorn reads GUNICORN_CMD_ARGS under any wrapper: the bind is ours whatever bin/serve does
    env["GUNICORN_CMD_ARGS"] = f"--bind {bind} --workers 2 --access-logfile /dev/null"
    serve = ROOT / "bin" / "serve"
    python = ROOT / ".venv" / "bin" / "python"
    if serve.exists():
        command = [str(serve)]
    elif (
        subprocess.run(
            [str(python), "-c", "import gunicorn"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        command = [str(python), "-m", "gunicorn", "oms.wsgi"]
        if (ROOT / "oms" / "gunicorn.conf.py").exists():
            command += ["-c", str(ROOT / "oms" / "gunicorn.conf.py")]
    else:
        return None, ""
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://{bind}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}")
        try:
            urllib.request.urlopen(base + "/admin/login/", timeout=2).read()  # noqa: S310
            return process, base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"{' '.join(command)} did not answer on {bind} within 60 s")


# --- what is measured -------------------------------------------------------------------------


def credentials() -> tuple[dict[str, str], str]:
    """An admin integration's client credentials and a superuser's session key."""

    created = application_create(name="bench million", kind="integration", role="admin")
    user_model = get_user_model()
    user = user_model.objects.filter(username="bench-million").first()
    if user is None:
        user = user_model.objects.create_superuser("bench-million", "bench@example.com", None)
    client = Client()
    client.force_login(user)
    form = {
        "grant_type": "client_credentials",
        "client_id": created.application.client_id,
        "client_secret": created.client_secret or "",
    }
    return form, client.cookies["sessionid"].value


def access_token(face: InProcess | OverHttp, form: dict[str, str]) -> str:
    status, body = face.post_json("/oauth/token", form)
    if status != 200:
        raise RuntimeError(f"POST /oauth/token answered {status}: {body[:200]!r}")
    return str(json.loads(body)["access_token"])


def list_paths() -> tuple[dict[str, str], dict[str, str]]:

    market = Market.objects.order_by("number").values_list("id", flat=True).first()
    # the changelist sorts by a column's position, counting the action checkbox first
    placed_at = 1 + OrderAdmin.list_display.index("date")
    page = "page[size]=25"
    api = {
        "placed, one market, -placed_at": (
            f"/api/orders?filter[q][status_eq]=placed&filter[q][market_id_eq]={market}"
            f"&sort=-placed_at&{page}"
        ),
        "approved, -placed_at, page 40": (
            f"/api/orders?filter[q][status_eq]=approved&sort=-placed_at&{page}&page[number]=40"
        ),
        "all, default order": f"/api/orders?{page}",
    }
    admin = {
        "placed, one market, -placed_at": (
            f"/admin/orders/order/?status__exact=placed&market__id__exact={market}&o=-{placed_at}"
        ),
        "approved, -placed_at, page 40": (
            f"/admin/orders/order/?status__exact=approved&o=-{placed_at}&p=40"
        ),
        "all, default order": "/admin/orders/order/",
    }
    return api, admin


def statements_of(path: str, *, headers: dict[str, str], session: str) -> list[str]:
    """The SQL one request runs, in this process."""

    face = InProcess(headers=headers, session=session)
    with CaptureQueriesContext(connection) as captured:
        status = face.get(path)
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}")
    return [query["sql"] for query in captured.captured_queries]


def explain(sql: str) -> str:

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def export_run(arguments: list[str]) -> dict[str, float]:
    """`manage.py orders_export` in a child process: its orders/s and peak RSS."""
    command = [sys.executable, str(ROOT / "manage.py"), "orders_export", "--output", os.devnull]
    began = time.monotonic()
    process = subprocess.Popen(
        [*command, *arguments], cwd=ROOT, env=os.environ.copy(), stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - began
    assert process.stderr is not None
    report = process.stderr.read().decode()
    process.stderr.close()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"orders_export {' '.join(arguments)} failed: {report}")
    # "Exported N orders from 'default' in S s (R orders/s)."
    words = report.split()
    count = int(words[words.index("Exported") + 1])
    inner = float(words[words.index("in") + 1])
    return {
        "orders": count,
        "seconds": round(seconds, 2),
        "orders_per_s": round(count / inner) if inner else 0.0,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # kilobytes on Linux
    }


def export_measure(orders: int) -> dict[str, Any]:

    newest = Order.objects.order_by("-number").values_list("created_at", flat=True)[
        max(0, orders // 10 - 1)
    ]
    tenth = export_run(["--since", newest.isoformat()])
    everything = export_run([])
    first = Order.objects.aggregate(first=Min("created_at"))["first"]
    return {"tenth": tenth, "all": everything, "first_created_at": str(first)}


# --- the run ----------------------------------------------------------------


def run(args: argparse.Namespace, *, created: bool, environment: dict[str, str]) -> int:
    call_command("migrate", verbosity=0)
    figures: dict[str, Any] = {"bench": "million", "orders": args.orders, "created": created}
    if args.reuse and generated_orders_count() == args.orders:
        print(f"Reusing {args.orders} generated orders in {args.database_url}")
        figures["generation_s"] = None
    else:
        print(f"Generating {args.orders} orders in {args.database_url} ...", flush=True)
        generated = million_generate(orders=args.orders, log=True)
        figures["generation_s"] = generated.seconds
        figures["generation_steps_s"] = generated.steps
        print(
            f"Generated {generated.orders} orders, {generated.line_items} line items, "
            f"{generated.customers} customers in {generated.seconds:.1f} s"
        )

    form, session = credentials()
    process: subprocess.Popen[bytes] | None = None
    base = args.server or ""
    if not base and not args.no_server:
        process, base = server_start(environment)
    try:
        probe: InProcess | OverHttp = OverHttp(base) if base else InProcess()
        token = access_token(probe, form)
        bearer = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.api+json"}

        def face(headers: dict[str, str] | None = None, s: str = "") -> InProcess | OverHttp:
            return (
                OverHttp(base, headers=headers, session=s)
                if base
                else InProcess(headers=headers, session=s)
            )

        api_face, admin_face = face(bearer), face(s=session)
        figures["measured"] = api_face.kind
        print(f"Measuring {api_face.kind}, {args.requests} requests per list")
        api_paths, admin_paths = list_paths()
        results: dict[str, list[Timing]] = {"api": [], "admin": []}
        for group, paths, client, headers, key in (
            ("api", api_paths, api_face, bearer, ""),
            ("admin", admin_paths, admin_face, {}, session),
        ):
            print(f"{'API' if group == 'api' else 'Admin'} order list:")
            for name, path in paths.items():
                timing = timed(name, path, client.get, args.requests)
                sql = statements_of(path, headers=headers, session=key)
                timing = Timing(**{**timing.__dict__, "statements": len(sql)})
                results[group].append(timing)
                print(timing.line(), flush=True)
                if args.explain:
                    listing = [q for q in sql if "LIMIT" in q and '"orders_order"' in q]
                    for query in listing[-2:]:
                        print(f"\n    {query}\n" + explain(query) + "\n")
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    figures["api"] = [timing.__dict__ for timing in results["api"]]
    figures["admin"] = [timing.__dict__ for timing in results["admin"]]
    figures["api_list_p50_ms"] = results["api"][0].p50_ms
    figures["admin_list_p50_ms"] = results["admin"][0].p50_ms

    if not args.skip_export:
        export = export_measure(args.orders)
        figures["export"] = export
        figures["export_orders_per_s"] = export["all"]["orders_per_s"]
        for label in ("tenth", "all"):
            run = export[label]
            print(
                f"Export of {run['orders']:>8} orders: {run['orders_per_s']:>9,.0f} orders/s, "
                f"{run['seconds']:.1f} s with start-up, peak RSS {run['peak_rss_mb']} MB"
            )
    misses = [
        name
        for name, target in TARGETS.items()
        if name in figures
        and (figures[name] < target if name.endswith("per_s") else figures[name] >= target)
    ]
    figures["targets"] = TARGETS
    figures["targets_missed"] = misses
    print("Targets missed: " + (", ".join(misses) if misses else "none"))
    print(json.dumps(figures, default=str))
    return 0
