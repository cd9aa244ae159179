"""`manage.py check_integrity`: the invariants of `orders.invariants` over the database;
nothing on a healthy database (the seeded demo), every violation and exit 1 otherwise."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from fulfillment.models import StockItem, StockReservation
from orders.invariants import invariant_violations
from orders.models import LineItem, Order
from payments.models import Transaction
from tests.orders.factories import order_in_status

pytestmark = pytest.mark.django_db


def check(*args: str) -> str:
    out = io.StringIO()
    call_command("check_integrity", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def violations(*args: str) -> tuple[list[str], str]:
    out = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("check_integrity", *args, stdout=out, stderr=io.StringIO())
    assert "\n" not in str(failure.value)
    return out.getvalue().splitlines(), str(failure.value)


def test_the_seeded_demo_has_no_violations():
    call_command("seed_demo", orders=30, stdout=io.StringIO())
    assert Order.objects.count() >= 30
    out = check()
    assert out == f"No violations in {Order.objects.count()} order(s) and all stock items.\n"


def test_every_violation_is_reported_and_exit_is_1():
    paid = order_in_status("approved")
    from orders.services import order_capture
    from tests.orders.factories import STAFF

    order_capture(order=paid, actor=STAFF)
    placed = order_in_status("placed")
    assert check().startswith("No violations")

    # three kinds of corruption, as a bad migration or a hand edit could leave them
    Order.objects.filter(pk=placed.pk).update(payment_status="paid")
    Order.objects.filter(pk=paid.pk).update(status="cancelled", cancelled_at=timezone.now())
    # (the database keeps each line's own total: the order's no longer adds up)
    LineItem.objects.filter(order=placed, item_type="skus").update(
        quantity=7, total_amount_cents=F("unit_amount_cents") * 7
    )
    item = StockReservation.objects.filter(order=placed).first()
    assert item is not None
    StockItem.objects.filter(pk=item.stock_item_id).update(quantity=0)

    lines, reason = violations()

    assert f"order #{placed.number}: payment_status paid, derived authorized" in lines
    assert any(
        line.startswith(f"order #{paid.number}: cancelled holding") and "not refunded" in line
        for line in lines
    )
    assert any(line.startswith(f"order #{placed.number}: subtotal_amount_cents") for line in lines)
    assert any(
        line.startswith(f"stock item {item.stock_item_id}: quantity 0, reserved") for line in lines
    )
    assert reason == f"{len(lines)} violation(s) found in 2 order(s) checked"


def test_a_balance_that_does_not_match_its_children_is_reported():
    order = order_in_status("placed")
    authorization = Transaction.objects.get(order=order, type="authorizations")
    Transaction.objects.filter(pk=authorization.pk).update(capture_amount_cents=1)
    lines, _ = violations()
    assert lines == [f"{authorization.number}: capture balance 1, its captures add up to 0"]


def test_an_expired_draft_reservation_does_not_count_as_reserved():
    from fulfillment.services import stock_reserve_draft
    from tests.orders.factories import STAFF, order_ready

    cart = order_ready()
    [reservation] = stock_reserve_draft(
        line_item=cart.line_items.get(item_type="skus"), actor=STAFF
    )
    StockReservation.objects.filter(pk=reservation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    StockItem.objects.filter(pk=reservation.stock_item_id).update(quantity=0)
    assert invariant_violations() == []


def test_order_option_limits_the_orders_checked():
    good = order_in_status("placed")
    bad = order_in_status("placed")
    Order.objects.filter(pk=bad.pk).update(payment_status="unpaid")
    assert check("--order", good.pk).startswith("No violations in 1 order(s)")
    lines, _ = violations("--order", bad.pk)
    assert lines == [
        f"order #{bad.number}: payment_status unpaid, derived authorized",
        f"order #{bad.number}: payment_status unpaid, its latest event says authorized",
    ]


def test_a_status_changed_without_its_event_is_reported():
    order = order_in_status("approved")
    assert check().startswith("No violations")
    # a hand edit moves the status and writes no timeline row
    Order.objects.filter(pk=order.pk).update(status="cancelled", cancelled_at=timezone.now())
    lines, _ = violations("--order", order.pk)
    assert f"order #{order.number}: status cancelled, its latest event says approved" in lines


def test_a_change_with_no_delivery_for_a_listening_webhook_is_reported():
    from oms.webhooks.models import Webhook, WebhookDelivery

    webhook = Webhook.objects.create(topic="orders.place", callback_url="https://e.example.com")
    order = order_in_status("placed")
    assert WebhookDelivery.objects.filter(webhook=webhook, resource_id=order.pk).exists()
    assert check().startswith("No violations")
    WebhookDelivery.objects.filter(webhook=webhook).delete()  # an outbox row lost
    lines, _ = violations()
    assert lines == [
        f"order #{order.number}: orders.place ({order.pk}) has no delivery for webhook {webhook.pk}"
    ]
