"""`manage.py check_integrity`: the invariants of `orders.invariants` over the database;
nothing on a healthy database (the seeded demo), every violation and exit 1 otherwise."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from fulfillment.models import Return, ReturnLineItem, StockItem, StockReservation
from orders.invariants import invariant_violations
from orders.models import LineItem, Order
from orders.services.returns import order_return_refund, order_return_restock
from payments.models import Transaction
from tests.fulfillment.return_factories import order_fulfilled, return_with_lines, sku_lines
from tests.orders.factories import STAFF, order_in_status

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


# --- returns (spec 5) ----------------------------------------------------------------------


def a_return_life() -> tuple[Order, Return]:
    """A fulfilled order with a return walked through its whole life (received, restocked,
    refunded) beside a cancelled and a rejected one: nothing to report."""
    order = order_fulfilled(amounts=(1000, 2000), quantity=3)
    return_with_lines(order, to="cancelled")
    return_with_lines(order, to="rejected")
    ret = return_with_lines(order, quantity=2, to="received")
    order_return_restock(ret=ret, actor=STAFF)
    ret = order_return_refund(ret=ret, actor=STAFF)
    assert ret.status == Return.Status.REFUNDED
    return_with_lines(order, quantity=1, to="requested")  # 2 + 1 of 3: all claimed, no more
    return order, ret


def test_a_whole_return_life_has_no_violations():
    order, _ = a_return_life()
    assert invariant_violations() == []
    assert check("--order", order.pk).startswith("No violations in 1 order(s)")


def test_returns_claiming_more_units_than_shipped_are_reported():
    order, ret = a_return_life()
    [first, _] = ret.return_line_items.order_by("created_at", "pk")
    ReturnLineItem.objects.filter(pk=first.pk).update(quantity=3)  # 3 + 1 of the 3 shipped
    line = first.line_item
    assert invariant_violations(order_ids=[order.pk]) == [
        f"order #{order.number}: line {line.pk} ({line.sku_code}): returns claim 4 units, 3 shipped"
    ]
    # a cancelled return gives its units back: it claims nothing
    Return.objects.filter(order=order, status="requested").update(status="cancelled")
    assert invariant_violations(order_ids=[order.pk]) == []


@pytest.mark.parametrize("corruption", ["no refund", "failed", "a capture", "another order's"])
def test_a_refunded_return_without_its_succeeded_refund_is_reported(corruption):
    order, ret = a_return_life()
    refund = Transaction.objects.get(pk=ret.reference_refund_id)
    if corruption == "no refund":
        Return.objects.filter(pk=ret.pk).update(reference_refund=None)
        expected = "with no reference refund"
    elif corruption == "failed":
        Transaction.objects.filter(pk=refund.pk).update(status="failed")
        expected = f"its reference refund {refund.number} is failed"
    elif corruption == "a capture":
        capture = Transaction.objects.get(order=order, type="captures")
        Return.objects.filter(pk=ret.pk).update(reference_refund=capture)
        expected = f"its reference refund {capture.number} is one of the captures"
    else:
        _, other = a_return_life()  # a whole return life of its own: nothing wrong there
        foreign = Transaction.objects.get(pk=other.reference_refund_id)
        Return.objects.filter(pk=ret.pk).update(reference_refund=foreign)
        expected = f"its reference refund {foreign.number} refunds another order's capture"
    mine = [line for line in invariant_violations() if line.startswith(f"return {ret.number}:")]
    assert mine == [f"return {ret.number}: refunded, {expected}"]


def test_a_received_return_whose_refund_succeeded_is_reported():
    _, ret = a_return_life()
    Return.objects.filter(pk=ret.pk).update(status="received", refunded_at=None)
    refund = Transaction.objects.get(pk=ret.reference_refund_id)
    assert invariant_violations() == [
        f"return {ret.number}: received, yet its refund {refund.number} succeeded"
    ]


def test_a_restocked_line_of_a_return_not_received_is_reported():
    order, _ = a_return_life()
    requested = Return.objects.get(order=order, status="requested")
    line = requested.return_line_items.order_by("created_at", "pk").first()
    assert line is not None
    ReturnLineItem.objects.filter(pk=line.pk).update(restocked_at=timezone.now())
    assert invariant_violations() == [
        f"return {requested.number}: requested, yet its line {line.pk} is restocked"
    ]


def test_a_return_of_an_order_not_fulfilled_is_reported():
    order, _ = a_return_life()
    Order.objects.filter(pk=order.pk).update(fulfillment_status="in_progress")
    lines = invariant_violations(order_ids=[order.pk])
    numbers = sorted(Return.objects.filter(order=order).values_list("number", flat=True))
    for number in numbers:
        assert f"order #{order.number}: return {number} of an order in_progress, not fulfilled" in (
            lines
        )


def test_a_return_line_of_another_orders_line_is_reported():
    _, ret = a_return_life()
    other = order_fulfilled()
    line = ret.return_line_items.order_by("created_at", "pk").first()
    assert line is not None
    ReturnLineItem.objects.filter(pk=line.pk).update(line_item=sku_lines(other)[0])
    lines = invariant_violations()
    assert f"return {ret.number}: line {line.pk} returns a line of order #{other.number}" in lines
