"""The `DATABASES` setting, from the environment.

DATABASE_URL          the primary (default: an embedded SQLite file in var/)
DATABASE_REPLICA_URL  a read replica: reports and exports read from it (`oms.routers`)
OMS_DB_CONNECTIONS    how PostgreSQL connections are kept:
  persistent (default)  one per server thread, reused for OMS_DB_CONN_MAX_AGE seconds (60) and
                        checked before reuse (CONN_HEALTH_CHECKS)
  pool                  psycopg's connection pool in each process (OMS_DB_POOL_MIN/MAX, 2/8)
  pgbouncer             through PgBouncer in transaction mode: a new server connection per
                        transaction, so no server-side cursors and nothing kept between requests
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

MODES = ("persistent", "pool", "pgbouncer")


def database_config(url: str, *, sqlite_dir: Path, test_name: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = dict(dj_database_url.parse(url))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        sqlite_dir.mkdir(exist_ok=True)
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            # IMMEDIATE takes the write lock when a transaction starts, so two writers queue
            # instead of failing with "database is locked" half-way through.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
        if test_name:
            config["TEST"] = {"NAME": test_name}
        return config
    mode = os.environ.get("OMS_DB_CONNECTIONS", "persistent").strip() or "persistent"
    if mode not in MODES:
        raise ImproperlyConfigured(f"OMS_DB_CONNECTIONS must be one of {', '.join(MODES)}.")
    options: dict[str, Any] = dict(config.get("OPTIONS") or {})
    if mode == "persistent":
        config["CONN_MAX_AGE"] = int(os.environ.get("OMS_DB_CONN_MAX_AGE", "60"))
        config["CONN_HEALTH_CHECKS"] = True
    elif mode == "pool":
        config["CONN_MAX_AGE"] = 0  # the pool keeps the connections
        options["pool"] = {
            "min_size": int(os.environ.get("OMS_DB_POOL_MIN", "2")),
            "max_size": int(os.environ.get("OMS_DB_POOL_MAX", "8")),
            "timeout": float(os.environ.get("OMS_DB_POOL_TIMEOUT", "10")),
        }
    else:  # pgbouncer, transaction pooling
        config["CONN_MAX_AGE"] = 0
        config["DISABLE_SERVER_SIDE_CURSORS"] = True
        options["prepare_threshold"] = None  # no server-side prepared statements either
    config["OPTIONS"] = options
    return config


def databases_from_env(*, sqlite_dir: Path, default_url: str) -> dict[str, dict[str, Any]]:
    databases = {
        "default": database_config(
            os.environ.get("DATABASE_URL") or default_url,
            sqlite_dir=sqlite_dir,
            test_name=str(sqlite_dir / "test.sqlite3"),
        )
    }
    replica_url = os.environ.get("DATABASE_REPLICA_URL", "")
    if replica_url:
        replica = database_config(replica_url, sqlite_dir=sqlite_dir)
        replica["TEST"] = {"MIRROR": "default"}  # tests read the replica from the primary
        databases["replica"] = replica
    return databases
