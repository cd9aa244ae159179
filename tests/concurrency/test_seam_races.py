"""Different actions racing each other on one order, on PostgreSQL with real threads: the
seams where orders, payments and fulfillment meet. Each race ends with the invariant check."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from orders import services
from orders.invariants import invariant_violations
from orders.models import Order
from payments.models import Transaction
from tests.concurrency.test_checkout_races import race, slow_gateway
from tests.orders.factories import STAFF, STOREFRONT, order_in_status, order_ready

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def money(order: Order) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for kind, amount in Transaction.objects.filter(order=order, status="succeeded").values_list(
        "type", "amount_cents"
    ):
        totals[kind] += amount
    return dict(totals)


@pytest.mark.parametrize("round_", range(3))
def test_cancel_racing_capture_never_cancels_an_order_holding_captured_money(round_):
    order = order_in_status("placed")
    slow_gateway(order, latency_ms=30)

    def work(i: int) -> str:
        current = Order.objects.get(pk=order.pk)
        if i % 2:
            return services.order_cancel(order=current, actor=STAFF).status
        return services.order_capture(order=current, actor=STAFF).payment_status

    outcomes = race(10, work)
    assert all(
        outcome
        in {
            "cancelled",
            "paid",
            "ORDER_PAYMENT_CAPTURED",
            "PAYMENT_IN_PROGRESS",
            "INSUFFICIENT_CAPTURE_BALANCE",
            "TRANSITION_NOT_ALLOWED",
        }
        for outcome in outcomes
    ), outcomes
    order.refresh_from_db()
    moved = money(order)
    if order.status == Order.Status.CANCELLED:
        assert moved.get("captures", 0) == 0
        assert order.payment_status == "voided"
    else:
        assert order.status == Order.Status.PLACED
        assert moved.get("captures", 0) == order.total_amount_with_taxes_cents
        assert moved.get("voids", 0) == 0
        assert order.payment_status == "paid"
    assert invariant_violations(order_ids=[order.pk]) == []


def test_pending_and_place_racing_a_placement_in_flight_authorize_once():
    order = order_ready()
    slow_gateway(order, latency_ms=800)

    def work(i: int) -> str:
        if i:
            time.sleep(0.2)  # while the first placement is with the gateway
        current = Order.objects.get(pk=order.pk)
        if i == 0 or i % 2:
            return services.order_place(order=current, actor=STOREFRONT).status
        return services.order_pending(order=current, actor=STOREFRONT).status

    outcomes = race(7, work)
    assert outcomes[0] == "placed", outcomes
    assert set(outcomes[1:]) <= {"PLACEMENT_IN_PROGRESS", "TRANSITION_NOT_ALLOWED", "placed"}
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("placed", "authorized")
    assert Transaction.objects.filter(order=order, type="authorizations").count() == 1
    assert invariant_violations(order_ids=[order.pk]) == []


def test_editing_racing_approval_lets_exactly_one_win():
    order = order_in_status("placed")

    def work(i: int) -> str:
        current = Order.objects.get(pk=order.pk)
        if i % 2:
            return services.order_start_editing(order=current, actor=STAFF).status
        return services.order_approve(order=current, actor=STAFF).status

    outcomes = race(6, work)
    order.refresh_from_db()
    winners = [o for o in outcomes if o in ("editing", "approved")]
    assert len(winners) == 1, outcomes
    assert order.status == winners[0]
    assert set(outcomes) - {winners[0]} <= {"TRANSITION_NOT_ALLOWED"}
    assert invariant_violations(order_ids=[order.pk]) == []
