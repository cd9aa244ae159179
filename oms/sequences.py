"""Gap-tolerant, race-free sequence numbers (market numbers, order numbers).

A row per sequence, incremented under its row lock: concurrent callers queue on the lock
instead of reading the same maximum and colliding on a unique constraint.
"""

from django.db import IntegrityError, transaction

from oms.models import SequenceCounter


def sequence_next(name: str, *, start: int = 1) -> int:
    """The next number of sequence `name` (the first is `start`). Runs in the caller's
    transaction, so a rolled-back caller gives its number back."""
    with transaction.atomic():
        if not SequenceCounter.objects.filter(name=name).exists():
            try:
                with transaction.atomic():
                    SequenceCounter.objects.create(name=name, value=start - 1)
            except IntegrityError:
                pass  # another caller created it first; its row lock orders us below
        counter = SequenceCounter.objects.select_for_update().get(name=name)
        counter.value += 1
        counter.save(update_fields=["value"])
        return counter.value
