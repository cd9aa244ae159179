"""Gap-tolerant, race-free sequence numbers (market numbers, order numbers).

A row per sequence, incremented under its row lock: concurrent callers queue on the lock
instead of reading the same maximum and colliding on a unique constraint.
"""

from django.db import IntegrityError, connection, transaction

from oms.models import SequenceCounter
from oms.services import atomic_joined


def sequence_next(name: str, *, start: int = 1) -> int:
    """The next number of sequence `name` (the first is `start`). Runs in the caller's
    transaction, so a rolled-back caller gives its number back. The UPDATE takes the row lock,
    increments and returns the number in one statement."""
    table = connection.ops.quote_name(SequenceCounter._meta.db_table)
    with atomic_joined(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET value = value + 1 WHERE name = %s RETURNING value",  # noqa: S608
            [name],
        )
        row = cursor.fetchone()
        if row is not None:
            return int(row[0])
        try:
            with transaction.atomic():
                SequenceCounter.objects.create(name=name, value=start)
                return start
        except IntegrityError:
            # another caller created it first; its row lock orders us below
            cursor.execute(
                f"UPDATE {table} SET value = value + 1 WHERE name = %s RETURNING value",  # noqa: S608
                [name],
            )
            return int(cursor.fetchone()[0])
