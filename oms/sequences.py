"""Gap-tolerant, race-free sequence numbers (market numbers, order numbers).

A row per sequence, incremented under its row lock: concurrent callers queue on the lock
instead of reading the same maximum and colliding on a unique constraint.
"""

from django.db import IntegrityError, transaction
from django.db.models import F

from oms.models import SequenceCounter


def sequence_next(name: str, *, start: int = 1) -> int:
    """The next number of sequence `name` (the first is `start`). Runs in the caller's
    transaction, so a rolled-back caller gives its number back. The UPDATE takes the row lock
    and increments in one statement."""
    with transaction.atomic():
        if not SequenceCounter.objects.filter(name=name).update(value=F("value") + 1):
            try:
                with transaction.atomic():
                    SequenceCounter.objects.create(name=name, value=start)
                    return start
            except IntegrityError:
                # another caller created it first; its row lock orders us below
                SequenceCounter.objects.filter(name=name).update(value=F("value") + 1)
        return SequenceCounter.objects.values_list("value", flat=True).get(name=name)
