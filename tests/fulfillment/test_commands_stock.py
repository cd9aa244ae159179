"""`stock_release_expired_reservations`: expired drafts go, everything that holds stock stays."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.utils import timezone

from fulfillment.models import StockReservation
from fulfillment.selectors import stock_item_reserved
from fulfillment.services import stock_reserve_draft
from orders.invariants import invariant_violations
from tests.orders.factories import STAFF, order_in_status, order_ready

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("stock_release_expired_reservations", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def draft_reservations(*, expired: bool) -> list[StockReservation]:
    cart = order_ready()
    reservations = stock_reserve_draft(line_item=cart.line_items.get(item_type="skus"), actor=STAFF)
    if expired:
        StockReservation.objects.filter(pk__in=[r.pk for r in reservations]).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    return reservations


def test_expired_drafts_are_deleted_and_the_rest_kept():
    expired = draft_reservations(expired=True) + draft_reservations(expired=True)
    live = draft_reservations(expired=False)
    placed = order_in_status("placed")
    pending = list(StockReservation.objects.filter(order=placed))
    assert pending

    assert run() == "Deleted 2 expired draft reservation(s) in 2 order(s).\n"

    remaining = set(StockReservation.objects.values_list("pk", flat=True))
    assert remaining == {r.pk for r in live + pending}
    assert not remaining & {r.pk for r in expired}
    # nothing that held stock changed: the live draft still counts
    assert stock_item_reserved(stock_item=live[0].stock_item) == live[0].quantity
    assert invariant_violations() == []


def test_dry_run_counts_and_changes_nothing():
    expired = draft_reservations(expired=True)
    assert run("--dry-run") == (
        f"1 expired draft reservation(s) of {expired[0].quantity} unit(s) in 1 order(s) "
        "would be deleted (dry run).\n"
    )
    assert StockReservation.objects.filter(pk=expired[0].pk).exists()


def test_nothing_expired_is_a_quiet_run():
    draft_reservations(expired=False)
    assert run() == "Deleted 0 expired draft reservation(s) in 0 order(s).\n"


def test_a_database_error_stops_with_one_line(monkeypatch):
    from fulfillment.management.commands import stock_release_expired_reservations as command

    expired = draft_reservations(expired=True)

    def broken(**kwargs):
        raise DatabaseError("could not obtain lock\nDETAIL: busy")

    monkeypatch.setattr(command, "stock_reservations_expired_delete", broken)
    with pytest.raises(CommandError) as failure:
        run()
    assert str(failure.value) == (
        "stopped after deleting 0 reservation(s): DatabaseError: could not obtain lock DETAIL: busy"
    )
    assert StockReservation.objects.filter(pk=expired[0].pk).exists()
