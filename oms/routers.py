"""Reads of reports and exports go to the read replica, when there is one.

Everything else — every request of the storefront, the admin and the workflows — reads the
primary: a replica lags, and a checkout must read what it has just written. Code that can live
with a lag (an export, a dashboard figure, a report) reads inside `replica_reads()`, or names
`using(read_database())`. Writes and migrations always go to the primary.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings

REPLICA = "replica"
_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def read_database() -> str:
    """The alias reports read from: the replica when one is configured, else the primary."""
    return REPLICA if REPLICA in settings.DATABASES else "default"


@contextmanager
def replica_reads() -> Iterator[str]:
    token = _replica_reads.set(True)
    try:
        yield read_database()
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        return read_database() if _replica_reads.get() else "default"

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the replica holds the primary's rows: one database to relations

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return db == "default"
