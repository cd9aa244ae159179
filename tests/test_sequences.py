"""Sequence numbers: one statement each, first use included."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from oms.models import SequenceCounter
from oms.sequences import sequence_next

pytestmark = pytest.mark.django_db


def test_a_sequence_starts_at_its_start_and_counts_up_in_one_statement_each():
    with CaptureQueriesContext(connection) as captured:
        numbers = [sequence_next("invoices", start=100) for _ in range(3)]
    assert numbers == [100, 101, 102]
    assert len(captured.captured_queries) == 3
    assert sequence_next("credit_notes") == 1  # sequences are independent
    assert SequenceCounter.objects.get(name="invoices").value == 102


def test_a_rolled_back_caller_gives_its_number_back():
    assert sequence_next("invoices") == 1
    handed_out = []

    def failing_caller() -> None:
        with transaction.atomic():
            handed_out.append(sequence_next("invoices"))
            raise RuntimeError

    with pytest.raises(RuntimeError):
        failing_caller()
    assert handed_out == [2]
    assert sequence_next("invoices") == 2
