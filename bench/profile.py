"""`python -m bench profile get-order|place|checkout [--n N] [--html FILE]`: one operation
repeated in-process under pyinstrument, with its SQL statement count, on the database
DATABASE_URL names (a scratch one: it is seeded like the benchmarks' own). Where the time goes
before and after a change, without the server and the network in the picture."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench profile", description=__doc__)
    parser.add_argument("operation", choices=["get-order", "place", "list"])
    parser.add_argument("--n", type=int, default=50, help="repetitions (default 50)")
    parser.add_argument("--sql", action="store_true", help="print the statements of one run")
    parser.add_argument("--sql-full", action="store_true", help="and print them whole")
    parser.add_argument(
        "--flat", type=int, default=0, metavar="N", help="cProfile's N costliest functions instead"
    )
    parser.add_argument("--html", help="write pyinstrument's HTML report here")
    args = parser.parse_args(argv)

    for key, value in {
        "DJANGO_SETTINGS_MODULE": "oms.settings",
        "DEBUG": "0",  # as production runs: no query log, no debug toolbar
        "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "OMS_TOKEN_RATE_PER_IP": "",
        "OMS_TOKEN_RATE_PER_CLIENT": "",
        "OMS_TASKS_BACKEND": "immediate",
    }.items():
        os.environ.setdefault(key, value)
    import django

    django.setup()
    import logging

    logging.disable(logging.INFO)
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from pyinstrument import Profiler

    from bench import flows, oms_setup

    call_command("migrate", verbosity=0)
    config = oms_setup.prepare()
    os.environ["BENCH_CONFIG"] = json.dumps(config)
    client = Client()
    answer = client.post(
        "/oauth/token",
        {"grant_type": "client_credentials", **config["integration"]},
        content_type="application/json",
    )
    headers: dict[str, Any] = {
        "HTTP_AUTHORIZATION": f"Bearer {answer.json()['access_token']}",
        "HTTP_ACCEPT": "application/vnd.api+json",
    }
    if args.operation == "get-order":
        ids = oms_setup.carts(5, place=True)

        def run(i: int) -> None:
            path = f"/api/orders/{ids[i % len(ids)]}?include={flows.ORDER_INCLUDE}"
            response = client.get(path, **headers)
            assert response.status_code == 200, response.content
    elif args.operation == "list":

        def run(i: int) -> None:
            response = client.get("/api/orders?filter[status_eq]=placed&sort=-placed_at", **headers)
            assert response.status_code == 200, response.content
    else:
        ids = oms_setup.carts(args.n + 1)

        def run(i: int) -> None:
            response = client.patch(
                f"/api/orders/{ids[i]}",
                json.dumps(
                    {"data": {"type": "orders", "id": ids[i], "attributes": {"_place": True}}}
                ),
                content_type="application/vnd.api+json",
                **headers,
            )
            assert response.status_code == 200, response.content

    run(args.n)  # warm-up: imports, caches, the first connection
    queries: list[tuple[str, float]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((sql, time.perf_counter() - started))

    with connection.execute_wrapper(record):
        run(args.n - 1 if args.operation == "place" else 0)
    repeats = args.n - 1 if args.operation == "place" else args.n
    if args.operation == "place":  # each cart places once: profile the first half
        half = repeats // 2
        profiled, timed = range(half), range(half, repeats)
    else:
        profiled = timed = range(repeats)
    started, cpu = time.perf_counter(), time.process_time()
    for i in timed:
        run(i)
    took = (time.perf_counter() - started) / len(timed)
    took_cpu = (time.process_time() - cpu) / len(timed)
    if args.flat:
        import cProfile
        import pstats

        flat = cProfile.Profile()
        flat.enable()
        for i in profiled:
            run(i)
        flat.disable()
        stats = pstats.Stats(flat).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.flat)
        stats.sort_stats("cumulative").print_stats(args.flat * 2)
        profiled = range(0)
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for i in profiled:
        run(i)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.sql:
        for sql, seconds in queries:
            print(f"{seconds * 1000:7.2f} ms  {sql[: None if args.sql_full else 160]}")
    print(
        f"{args.operation}: {took * 1000:.1f} ms each ({took_cpu * 1000:.1f} ms CPU in this "
        f"process, unprofiled), {len(queries)} SQL statements"
    )
    if args.html:
        with open(args.html, "w") as out:
            out.write(profiler.output_html())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
