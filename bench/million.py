"""`python -m bench million`: a million orders in PostgreSQL, then the lists and the export timed.

    .venv/bin/python -m bench million [--orders 1000000] [--reuse] [--requests 200]
        [--database-url postgres://postgres@127.0.0.1:5432/oms_million] [--server URL]
        [--explain]

1. Creates the database when missing (its own: the generator empties its order tables),
   migrates it and fills it with `--orders` orders, three lines each, across the demo's markets
   and every order state (`bench/_million_data.py`); `--reuse` keeps what is there when it holds
   that many generated orders.
2. Times, over HTTP against a server process when there is one (`--server URL`; else `bin/serve`
   when the repository has it; else gunicorn when installed), in-process through Django's test
   client otherwise:
   - the API order list, filtered and sorted, with an admin integration's token (target p50 < 30 ms);
   - the admin order changelist as a logged-in superuser, filtered and sorted (target < 150 ms);
3. Runs `manage.py orders_export` in a child process, for about a tenth of the orders and for
   all of them: orders per second (target >= 20,000/s) and the child's peak RSS (flat).

Prints the figures as text, then one JSON line. `--explain` adds the EXPLAIN ANALYZE plans of
the list queries, as the API and the admin send them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

import django
import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/oms_million"
DEFAULT_ORDERS = 1_000_000
# Production settings for the bench and its server: no DEBUG (no query log), no HTTPS redirect
# (everything stays on 127.0.0.1).
BENCH_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "oms.settings",
    "DEBUG": "0",
    "SECRET_KEY": "bench-million-not-a-secret-" + "x" * 32,
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
}


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench million", description=__doc__)
    parser.add_argument("--orders", type=int, default=DEFAULT_ORDERS, metavar="N")
    parser.add_argument("--reuse", action="store_true", help="keep N generated orders if there")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per list")
    parser.add_argument("--server", metavar="URL", help="a running server to measure")
    parser.add_argument("--no-server", action="store_true", help="measure in-process")
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the lists' plans")
    args = parser.parse_args(argv)
    if args.orders < 1:
        parser.error("--orders must be at least 1")
    if urlparse(args.database_url).scheme not in {"postgres", "postgresql"}:
        parser.error("--database-url must be a postgres:// URL")
    return args


def database_create(database_url: str) -> bool:
    """Create the database when missing; True when it was created."""

    url = urlparse(database_url)
    name = url.path.lstrip("/")
    admin_url = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists:
            return False
        connection.execute(f'CREATE DATABASE "{name}"')
    return True


def django_configure(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    for name, value in BENCH_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    sys.path.insert(0, str(ROOT))
    django.setup()


def main(argv: list[str]) -> int:
    args = arguments(argv)
    created = database_create(args.database_url)
    django_configure(args.database_url)
    # Imported once Django is configured from the command line: it imports the models.
    from bench import _million_run

    return _million_run.run(args, created=created, environment=BENCH_ENVIRONMENT)
