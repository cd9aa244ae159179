"""The order ops commands: `orders_auto_capture`, `orders_cancel_abandoned`,
`orders_purge_drafts`. Each runs the order-level workflow, changes nothing on a dry run or on
bad input, and says in one line why it failed."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fulfillment.models import StockReservation
from fulfillment.services import stock_reserve_draft
from orders.invariants import invariant_violations
from orders.models import Order, OrderEvent
from payments.models import Transaction
from tests.orders.factories import STAFF, OrderFactory, order_in_status, order_ready

pytestmark = pytest.mark.django_db


def run(name: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(name: str, *args: str) -> str:
    with pytest.raises(CommandError) as failure:
        run(name, *args)
    message = str(failure.value)
    assert "\n" not in message
    return message


def authorized_hours_ago(order: Order, hours: int) -> None:
    Transaction.objects.filter(order=order, type=Transaction.Type.AUTHORIZATIONS).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


def idle_for(order: Order, days: int) -> None:
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(days=days))


def snapshot() -> list[tuple]:
    orders = Order.objects.values_list("pk", "status", "payment_status", "fulfillment_status")
    counts = (Transaction.objects.count(), StockReservation.objects.count())
    return [*sorted(orders), counts, (OrderEvent.objects.count(),)]


# --- orders_auto_capture ---------------------------------------------------------------------


def test_auto_capture_captures_old_authorizations_only():
    old = order_in_status("approved")
    recent = order_in_status("approved")
    placed = order_in_status("placed")  # not approved: never auto-captured
    authorized_hours_ago(old, 50)
    authorized_hours_ago(placed, 50)
    authorized_hours_ago(recent, 2)

    out, _ = run("orders_auto_capture", "--hours", "48")

    assert "1 captured, 0 failed, 0 skipped" in out
    old.refresh_from_db()
    recent.refresh_from_db()
    placed.refresh_from_db()
    assert old.payment_status == "paid"
    assert old.fulfillment_status == "in_progress"
    assert recent.payment_status == "authorized"
    assert placed.payment_status == "authorized"
    # the workflow's own timeline row, by the command
    assert OrderEvent.objects.filter(
        order=old, trigger="_capture", actor="system:orders_auto_capture"
    ).exists()
    assert invariant_violations() == []


def test_auto_capture_counts_a_declined_capture_and_goes_on():
    declined = order_in_status("approved", card_token="tok_capture_declined")
    fine = order_in_status("approved")
    for order in (declined, fine):
        authorized_hours_ago(order, 30)

    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("orders_auto_capture", "--hours", "24", stdout=out, stderr=err)

    assert str(failure.value).startswith("1 of 2 capture(s) failed")
    assert "1 captured, 1 failed" in out.getvalue()
    assert f"#{declined.number} {declined.pk}: " in err.getvalue()
    declined.refresh_from_db()
    fine.refresh_from_db()
    assert (declined.status, declined.payment_status) == ("approved", "authorized")
    assert fine.payment_status == "paid"
    assert invariant_violations() == []


def test_auto_capture_dry_run_changes_nothing():
    order = order_in_status("approved")
    authorized_hours_ago(order, 100)
    before = snapshot()

    out, _ = run("orders_auto_capture", "--hours", "1", "--dry-run")

    assert f"#{order.number} {order.pk}: would be captured" in out
    assert "1 order(s) would be captured (dry run)." in out
    assert snapshot() == before


def test_auto_capture_leaves_an_order_already_partly_captured_to_the_merchant():
    from orders.services import order_authorization_capture

    order = order_in_status("approved")
    authorization = Transaction.objects.get(order=order, type="authorizations")
    order_authorization_capture(authorization=authorization, amount_cents=100, actor=STAFF)
    authorized_hours_ago(order, 100)

    out, _ = run("orders_auto_capture", "--hours", "1")

    assert out.startswith("0 order(s)")
    order.refresh_from_db()
    assert order.payment_status == "partially_paid"


def test_auto_capture_refuses_negative_or_missing_hours():
    assert refused("orders_auto_capture", "--hours", "-1") == "--hours must be 0 or more, not -1"
    assert "--hours" in refused("orders_auto_capture")


# --- orders_cancel_abandoned -----------------------------------------------------------------


def pending_cart_with_draft_reservation() -> Order:
    cart = order_ready()
    line = cart.line_items.get(item_type="skus")
    assert stock_reserve_draft(line_item=line, actor=STAFF)
    return cart


def test_cancel_abandoned_cancels_idle_carts_and_releases_their_stock():
    idle = pending_cart_with_draft_reservation()
    fresh = pending_cart_with_draft_reservation()
    draft = OrderFactory.create()
    placed = order_in_status("placed")
    idle_for(idle, 8)
    idle_for(draft, 30)
    idle_for(placed, 30)

    out, _ = run("orders_cancel_abandoned", "--days", "7")

    assert "1 cancelled, 0 failed, 0 skipped" in out
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses[idle.pk] == "cancelled"
    assert statuses[fresh.pk] == "pending"
    assert statuses[draft.pk] == "draft"
    assert statuses[placed.pk] == "placed"
    assert not StockReservation.objects.filter(order=idle).exists()
    assert StockReservation.objects.filter(order=fresh).exists()
    assert OrderEvent.objects.filter(
        order=idle, trigger="_cancel", to_status="cancelled", actor="system:orders_cancel_abandoned"
    ).exists()
    assert invariant_violations() == []


def test_cancel_abandoned_skips_a_cart_touched_after_it_was_found(monkeypatch):
    """The idleness is checked again on the locked order: a customer back meanwhile wins."""
    from orders.management.commands import orders_cancel_abandoned as command

    cart = pending_cart_with_draft_reservation()
    idle_for(cart, 10)
    real = command.order_cancel

    def touched_first(**kwargs):
        Order.objects.filter(pk=cart.pk).update(updated_at=timezone.now())
        return real(**kwargs)

    monkeypatch.setattr(command, "order_cancel", touched_first)

    out, _ = run("orders_cancel_abandoned", "--days", "7")

    assert "0 cancelled, 0 failed, 1 skipped" in out
    cart.refresh_from_db()
    assert cart.status == "pending"
    assert StockReservation.objects.filter(order=cart).exists()


def test_cancel_abandoned_dry_run_changes_nothing():
    cart = pending_cart_with_draft_reservation()
    idle_for(cart, 10)
    before = snapshot()

    out, _ = run("orders_cancel_abandoned", "--days", "7", "--dry-run")

    assert f"#{cart.number} {cart.pk}: would be cancelled" in out
    assert "1 abandoned cart(s) would be cancelled (dry run)." in out
    assert snapshot() == before


@pytest.mark.parametrize("days", ["0", "-3"])
def test_cancel_abandoned_refuses_days_below_one(days):
    cart = pending_cart_with_draft_reservation()
    idle_for(cart, 10)
    assert refused("orders_cancel_abandoned", "--days", days) == (
        f"--days must be 1 or more, not {days}"
    )
    cart.refresh_from_db()
    assert cart.status == "pending"


def test_cancel_abandoned_reports_a_failure_and_goes_on(monkeypatch):
    from orders.management.commands import orders_cancel_abandoned as command

    broken, fine = pending_cart_with_draft_reservation(), pending_cart_with_draft_reservation()
    idle_for(broken, 10)
    idle_for(fine, 10)
    real = command.order_cancel

    def fails_once(*, order, **kwargs):
        if order.pk == broken.pk:
            raise RuntimeError("disk full\nsecond line")
        return real(order=order, **kwargs)

    monkeypatch.setattr(command, "order_cancel", fails_once)
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("orders_cancel_abandoned", "--days", "7", stdout=io.StringIO(), stderr=err)

    assert str(failure.value).startswith("1 of 2 cancellation(s) failed")
    assert f"#{broken.number} {broken.pk}: RuntimeError: disk full second line" in err.getvalue()
    assert dict(Order.objects.values_list("pk", "status")) == {
        broken.pk: "pending",
        fine.pk: "cancelled",
    }


# --- orders_purge_drafts ---------------------------------------------------------------------


def test_purge_drafts_refuses_negative_days():
    draft = OrderFactory.create()
    idle_for(draft, 100)
    assert refused("orders_purge_drafts", "--days", "-1") == "--days must be 0 or more, not -1"
    assert Order.objects.filter(pk=draft.pk).exists()


def test_purge_drafts_dry_run_changes_nothing():
    draft = OrderFactory.create()
    idle_for(draft, 100)

    out, _ = run("orders_purge_drafts", "--dry-run")

    assert out == "1 abandoned draft order(s) would be deleted (dry run).\n"
    assert Order.objects.filter(pk=draft.pk).exists()


def test_purge_drafts_honours_days():
    draft = OrderFactory.create()
    idle_for(draft, 10)
    assert run("orders_purge_drafts", "--days", "30")[0] == "Deleted 0 abandoned draft order(s).\n"
    assert run("orders_purge_drafts", "--days", "7")[0] == "Deleted 1 abandoned draft order(s).\n"
    assert not Order.objects.filter(pk=draft.pk).exists()
