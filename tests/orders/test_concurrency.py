"""Races on orders, with real threads on PostgreSQL (row locks, READ COMMITTED)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

from oms.errors import DomainError
from orders import services
from orders.models import Customer, LineItem, Order, OrderEvent
from orders.services import placement
from payments.models import Transaction
from tests import factories as catalog
from tests.orders.factories import STOREFRONT, OrderFactory, order_ready, priced_sku

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_thread[T](fn: Callable[..., T]) -> Callable[..., T]:
    def run(*args: Any) -> T:
        try:
            return fn(*args)
        finally:
            connection.close()

    return run


def all_at_once[T](fn: Callable[[int], T], workers: int) -> list[T]:
    barrier = threading.Barrier(workers)

    @in_thread
    def go(i: int) -> T:
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(go, range(workers)))


def test_two_threads_placing_the_same_order_place_it_exactly_once(monkeypatch):
    # Hold the order lock a while inside the placement so the second caller surely waits on
    # it; it then finds the order placing (refused, 409) or placed (nothing to do).
    reserve = placement.stock_and_shipments_plan

    def slow_reserve(**kwargs: Any) -> Any:
        reservations = reserve(**kwargs)
        time.sleep(0.3)
        return reservations

    monkeypatch.setattr(placement, "stock_and_shipments_plan", slow_reserve)
    order = order_ready()

    def place(i: int) -> str:
        try:
            return services.order_place(order=order, actor=STOREFRONT).status
        except DomainError as exc:
            return exc.code

    outcomes = all_at_once(place, workers=2)

    assert "placed" in outcomes
    assert set(outcomes) <= {"placed", "PLACEMENT_IN_PROGRESS"}
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    assert OrderEvent.objects.filter(order=order, to_status="placed").count() == 1
    assert Transaction.objects.filter(order=order, type="authorizations").count() == 1
    customer = Customer.objects.get(pk=order.customer_id)
    assert (customer.total_orders_count, customer.status) == (1, Customer.Status.ACQUIRED)


def test_concurrent_placements_of_one_customers_orders_count_each_once():
    first = order_ready(customer_email="race@example.com")
    second = order_ready(customer_email="race@example.com")
    orders = [first, second]

    all_at_once(lambda i: services.order_place(order=orders[i], actor=STOREFRONT), workers=2)

    customer = Customer.objects.get(email="race@example.com")
    assert (customer.total_orders_count, customer.status) == (2, Customer.Status.REPEAT)


def test_concurrent_order_creation_hands_out_distinct_numbers():
    market = catalog.MarketFactory.create()

    numbers = all_at_once(lambda i: OrderFactory.create(market=market).number, workers=8)

    assert len(set(numbers)) == 8
    assert Order.objects.count() == 8


def test_concurrent_find_or_create_of_one_email_makes_one_customer():
    market = catalog.MarketFactory.create()

    customers = all_at_once(
        lambda i: OrderFactory.create(market=market, customer_email="Same@Example.com").customer_id,
        workers=6,
    )

    assert len(set(customers)) == 1
    assert Customer.objects.count() == 1


def test_concurrent_update_quantity_loses_no_update():
    market = catalog.MarketFactory.create()
    sku = priced_sku(market, amount_cents=100)
    order = OrderFactory.create(market=market)
    services.line_item_create(order=order, actor=STOREFRONT, sku=sku, quantity=1)

    all_at_once(
        lambda i: services.line_item_create(
            order=order, actor=STOREFRONT, sku=sku, quantity=1, update_quantity=True
        ),
        workers=6,
    )

    line = LineItem.objects.get(order=order)
    assert line.quantity == 7
    order.refresh_from_db()
    assert order.subtotal_amount_cents == 700


def test_orders_can_be_reloaded_from_many_threads_at_once():
    # django-fsm-2 unprotects the status field class-wide during refresh_from_db; Order
    # overrides it so that concurrent reloads never trip over each other's protection.
    orders = [OrderFactory.create() for _ in range(4)]

    def reload(i: int) -> int:
        order = Order.objects.get(pk=orders[i % 4].pk)
        for _ in range(100):
            order.refresh_from_db()
            order.refresh_from_db(fields=["payment_status"])
        return 1

    assert sum(all_at_once(reload, workers=8)) == 8
