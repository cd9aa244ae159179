"""Checkout races on PostgreSQL, with real threads (django-oscar's stockrecord locking tests are
the model): many buyers for the last units, a double `_place`, and concurrent captures and
refunds of one order. Each thread has its own connection and closes it; a barrier releases
them together; every wait has a timeout, so a deadlock fails the test instead of hanging it."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from fulfillment.models import StockItem, StockReservation
from markets.models import Market, Sku
from oms.errors import DomainError
from orders import services
from orders.models import Order
from payments.gateways.test import TestGateway
from payments.models import PaymentGateway, Transaction
from tests import factories as catalog
from tests.fulfillment import factories as stock
from tests.orders.factories import (
    STAFF,
    STOREFRONT,
    OrderFactory,
    checkout_ready,
    line_add,
    order_in_status,
    priced_sku,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 60  # seconds; far above the time a race takes, far below a hung CI job


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def race(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(0..n-1) in n threads released together. A DomainError comes back as its code;
    anything else unexpected (a deadlock, a constraint violation) as its class name and
    message, which no assertion below accepts."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        try:
            barrier.wait(timeout=TIMEOUT)
            return work(i)
        except DomainError as exc:
            return exc.code
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(run, i) for i in range(n)]
        return [future.result(timeout=TIMEOUT) for future in futures]


def slow_gateway(order: Order, latency_ms: int = 50) -> None:
    """Slow the order's test gateway so that concurrent requests overlap during its call."""
    assert order.payment_method is not None
    PaymentGateway.objects.filter(pk=order.payment_method.payment_gateway_id).update(
        test_latency_ms=latency_ms
    )


def buyer_cart(market: Market, sku: Sku, i: int) -> Order:
    """A placeable cart of one unit of `sku`, for buyer `i`."""
    order = OrderFactory.create(market=market, customer_email=f"buyer{i}@example.com")
    line_add(order, sku, 1)
    order = services.order_update(
        order=order,
        actor=STOREFRONT,
        data={
            "billing_address": catalog.AddressFactory.create(),
            "_shipping_address_same_as_billing": True,
        },
    )
    return checkout_ready(order)


def test_thirty_buyers_for_five_units_place_five_orders():
    shop = stock.shop_create()
    sku = priced_sku(shop.market, 1500)
    (item,) = shop.stock(sku, 5)
    carts = [buyer_cart(shop.market, sku, i) for i in range(30)]
    assert StockItem.objects.get(pk=item.pk).quantity == 5  # carts reserve nothing

    outcomes = race(30, lambda i: services.order_place(order=carts[i], actor=STOREFRONT).status)

    assert Counter(outcomes) == {"placed": 5, "OUT_OF_STOCK": 25}
    placed = [cart for cart, outcome in zip(carts, outcomes, strict=True) if outcome == "placed"]
    lost = [cart for cart, outcome in zip(carts, outcomes, strict=True) if outcome != "placed"]
    item.refresh_from_db()
    assert item.quantity == 5
    reservations = StockReservation.objects.filter(stock_item=item)
    assert reservations.filter(status="pending").count() == 5
    assert reservations.aggregate(units=Sum("quantity"))["units"] == 5
    assert set(reservations.values_list("order_id", flat=True)) == {o.pk for o in placed}
    # The losers are carts again, holding nothing, charged nothing.
    assert set(
        Order.objects.filter(pk__in=[o.pk for o in lost]).values_list("status", flat=True)
    ) == {"pending"}
    assert not StockReservation.objects.filter(order__in=lost).exists()
    assert not Transaction.objects.filter(order__in=lost).exists()
    assert Transaction.objects.filter(type="authorizations", status="succeeded").count() == 5

    # Approving the five (at once) takes the five units out of stock.
    approved = race(5, lambda i: services.order_approve(order=placed[i], actor=STAFF).status)

    assert approved == ["approved"] * 5
    item.refresh_from_db()
    assert item.quantity == 0
    assert not StockReservation.objects.filter(stock_item=item).exists()


def test_place_sent_twice_at_once_places_once_and_authorizes_once():
    order = order_in_status("pending")
    slow_gateway(order)

    outcomes = race(2, lambda i: services.order_place(order=order, actor=STOREFRONT).status)

    # The second finds the first placing (409) or, if it came late, placed.
    assert "placed" in outcomes
    assert set(outcomes) <= {"placed", "PLACEMENT_IN_PROGRESS"}
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("placed", "authorized")
    assert Transaction.objects.filter(order=order, type="authorizations").count() == 1
    assert len(TestGateway.calls_of("authorize")) == 1
    assert order.events.filter(subject_type="orders", to_status="placed").count() == 1
    assert StockReservation.objects.filter(order=order, status="pending").count() == 1


def test_ten_concurrent_captures_of_an_order_capture_once():
    order = order_in_status("placed", amount_cents=2500)
    slow_gateway(order)

    outcomes = race(10, lambda i: services.order_capture(order=order, actor=STAFF).status)

    # Those that found the balance taken did nothing (or were told there is nothing left).
    assert set(outcomes) <= {"placed", "INSUFFICIENT_CAPTURE_BALANCE"}
    captures = Transaction.objects.filter(order=order, type="captures")
    assert list(captures.values_list("status", "amount_cents")) == [("succeeded", 2500)]
    assert [call.amount_cents for call in TestGateway.calls_of("capture")] == [2500]
    authorization = Transaction.objects.get(order=order, type="authorizations")
    assert (authorization.capture_amount_cents, authorization.capture_balance_cents) == (2500, 0)
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.fulfillment_status) == (
        "placed",
        "paid",
        "in_progress",
    )


def approved_and_paid(**kwargs: Any) -> Order:
    order = order_in_status("approved", **kwargs)
    return services.order_capture(order=order, actor=STAFF)


def test_ten_concurrent_refunds_of_an_order_refund_once():
    order = approved_and_paid(amount_cents=2500)
    slow_gateway(order)

    outcomes = race(10, lambda i: services.order_refund(order=order, actor=STAFF).status)

    assert outcomes.count("cancelled") == 1
    assert set(outcomes) <= {
        "cancelled",
        "TRANSITION_NOT_ALLOWED",  # came after the cancellation
        "PAYMENT_IN_PROGRESS",  # came while the refund was with the gateway
        "INSUFFICIENT_REFUND_BALANCE",  # found nothing left to refund
    }
    refunds = Transaction.objects.filter(order=order, type="refunds")
    assert list(refunds.values_list("status", "amount_cents")) == [("succeeded", 2500)]
    assert [call.amount_cents for call in TestGateway.calls_of("refund")] == [2500]
    order.refresh_from_db()
    assert (order.status, order.payment_status, order.fulfillment_status) == (
        "cancelled",
        "refunded",
        "unfulfilled",
    )
    status_events = order.events.filter(subject_type="orders", field="status")
    assert status_events.filter(to_status="cancelled").count() == 1


def test_concurrent_refunds_do_not_cancel_while_the_refund_is_declined():
    """A request that found the balance already taken must not cancel the order while the
    refund that took it is still with the gateway: here the gateway declines it, and the
    order stays approved and paid."""
    order = approved_and_paid(amount_cents=2500, card_token="tok_refund_declined")
    slow_gateway(order, latency_ms=200)

    outcomes = race(10, lambda i: services.order_refund(order=order, actor=STAFF).status)

    assert "cancelled" not in outcomes
    assert "PAYMENT_DECLINED" in outcomes
    assert set(outcomes) <= {
        "PAYMENT_DECLINED",
        "PAYMENT_IN_PROGRESS",
        "INSUFFICIENT_REFUND_BALANCE",
    }
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("approved", "paid")
    assert not Transaction.objects.filter(order=order, type="refunds", status="succeeded").exists()


def test_concurrent_cancels_do_not_cancel_while_the_void_is_declined():
    order = order_in_status("placed", card_token="tok_void_declined")
    slow_gateway(order, latency_ms=200)

    outcomes = race(10, lambda i: services.order_cancel(order=order, actor=STAFF).status)

    assert "cancelled" not in outcomes
    assert "PAYMENT_DECLINED" in outcomes
    assert set(outcomes) <= {"PAYMENT_DECLINED", "PAYMENT_IN_PROGRESS", "NOTHING_TO_VOID"}
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("placed", "authorized")
    assert StockReservation.objects.filter(order=order, status="pending").count() == 1
    assert list(order.shipments.values_list("status", flat=True)) == ["upcoming"]
