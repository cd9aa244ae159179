"""Gap-tolerant, race-free sequence numbers (market numbers, order numbers).

A row per sequence, incremented under its row lock: concurrent callers queue on the lock
instead of reading the same maximum and colliding on a unique constraint.
"""

from django.db import connection

from oms.models import SequenceCounter
from oms.services import atomic_joined


def sequence_next(name: str, *, start: int = 1) -> int:
    """The next number of sequence `name` (the first is `start`). Runs in the caller's
    transaction, so a rolled-back caller gives its number back. One upsert creates the row on
    first use or increments it under its row lock, and returns the number (PostgreSQL and
    SQLite both answer `INSERT … ON CONFLICT … DO UPDATE … RETURNING`; a concurrent first use
    waits on the other's row and increments it)."""
    table = connection.ops.quote_name(SequenceCounter._meta.db_table)
    with atomic_joined(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, value) VALUES (%s, %s) "  # noqa: S608
            f"ON CONFLICT (name) DO UPDATE SET value = {table}.value + 1 RETURNING value",
            [name, start],
        )
        return int(cursor.fetchone()[0])
