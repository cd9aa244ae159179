"""Concurrent money requests on PostgreSQL, with real threads: money moves at most once, a
balance is never overdrawn, and no row lock is held while a gateway is called."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, transaction

from orders.models import Order
from orders.services.money import (
    order_authorization_capture,
    order_authorization_void,
    order_capture_refund,
)
from payments import errors
from payments.gateways.test import TestGateway
from payments.models import PaymentGateway, Transaction
from tests.payments.checkouts import ACTOR, Checkout, make_checkout

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def slow_checkout(latency_ms: int = 40) -> Checkout:
    """A test gateway slow enough that concurrent requests overlap during the gateway call."""
    checkout = make_checkout()
    PaymentGateway.objects.filter(pk=checkout.gateway.pk).update(test_latency_ms=latency_ms)
    checkout.gateway.refresh_from_db()
    checkout.payment_method.refresh_from_db()
    return checkout


def race(fn: Callable[[int], Any], threads: int = THREADS) -> list[Any]:
    """Run fn(i) in `threads` threads released together; each outcome is the result or the
    DomainError raised. Every thread closes its own database connection."""
    barrier = threading.Barrier(threads)

    def run(i: int) -> Any:
        try:
            barrier.wait(timeout=10)
            return fn(i)
        except errors.PaymentError as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(threads)))


def succeeded(outcomes: list[Any]) -> list[Transaction]:
    return [o for o in outcomes if isinstance(o, Transaction) and o.succeeded]


def test_ten_concurrent_full_captures_move_the_money_once():
    checkout = slow_checkout()
    authorization = checkout.authorize(1000)

    outcomes = race(lambda i: order_authorization_capture(authorization=authorization, actor=ACTOR))

    assert len(succeeded(outcomes)) == 1
    refusals = [o for o in outcomes if isinstance(o, errors.InsufficientCaptureBalance)]
    assert len(refusals) == THREADS - 1
    assert len(TestGateway.calls_of("capture")) == 1
    authorization.refresh_from_db()
    assert authorization.capture_amount_cents == 1000
    assert Transaction.objects.filter(type="captures").count() == 1


def test_ten_concurrent_full_refunds_move_the_money_once():
    checkout = slow_checkout()
    capture = order_authorization_capture(authorization=checkout.authorize(1000), actor=ACTOR)

    outcomes = race(lambda i: order_capture_refund(capture=capture, actor=ACTOR))

    assert len(succeeded(outcomes)) == 1
    refusals = [o for o in outcomes if isinstance(o, errors.InsufficientRefundBalance)]
    assert len(refusals) == THREADS - 1
    assert len(TestGateway.calls_of("refund")) == 1
    capture.refresh_from_db()
    assert capture.refund_amount_cents == 1000


def test_ten_concurrent_partial_captures_never_over_capture():
    checkout = slow_checkout()
    authorization = checkout.authorize(1000)

    outcomes = race(
        lambda i: order_authorization_capture(
            authorization=authorization, amount_cents=150, actor=ACTOR
        )
    )

    assert len(succeeded(outcomes)) == 6  # 6 x 150 = 900; a 7th would make 1050
    assert sum(isinstance(o, errors.InsufficientCaptureBalance) for o in outcomes) == 4
    assert len(TestGateway.calls_of("capture")) == 6
    authorization.refresh_from_db()
    assert authorization.capture_amount_cents == 900
    assert authorization.capture_balance_cents == 100


def test_ten_concurrent_partial_refunds_never_over_refund():
    checkout = slow_checkout()
    capture = order_authorization_capture(authorization=checkout.authorize(1000), actor=ACTOR)

    outcomes = race(lambda i: order_capture_refund(capture=capture, amount_cents=300, actor=ACTOR))

    assert len(succeeded(outcomes)) == 3
    assert len(TestGateway.calls_of("refund")) == 3
    capture.refresh_from_db()
    assert capture.refund_amount_cents == 900


def test_concurrent_requests_with_one_idempotency_key_call_the_gateway_once():
    checkout = slow_checkout()
    authorization = checkout.authorize(1000)

    outcomes = race(
        lambda i: order_authorization_capture(
            authorization=authorization, amount_cents=400, actor=ACTOR, idempotency_key="same"
        )
    )

    assert {o.pk for o in outcomes if isinstance(o, Transaction)} == {
        Transaction.objects.get(idempotency_key="same").pk
    }
    assert len(TestGateway.calls_of("capture")) == 1
    authorization.refresh_from_db()
    assert authorization.capture_amount_cents == 400


def test_concurrent_captures_and_voids_never_take_more_than_authorized():
    checkout = slow_checkout()
    authorization = checkout.authorize(1000)

    def capture_or_void(i: int) -> Any:
        if i % 2:
            return order_authorization_void(authorization=authorization, actor=ACTOR)
        return order_authorization_capture(
            authorization=authorization, amount_cents=300, actor=ACTOR
        )

    race(capture_or_void)

    authorization.refresh_from_db()
    assert authorization.capture_amount_cents + authorization.void_amount_cents == 1000
    assert Transaction.objects.filter(type="voids", status="succeeded").count() == 1


def test_no_row_lock_is_held_during_the_gateway_call():
    checkout = slow_checkout(latency_ms=600)
    authorization = checkout.authorize(1000)
    TestGateway.reset()

    def capture() -> None:
        try:
            order_authorization_capture(authorization=authorization, actor=ACTOR)
        finally:
            connection.close()

    worker = threading.Thread(target=capture)
    worker.start()
    try:
        for _ in range(200):  # wait until the capture is at the gateway
            if TestGateway.calls_of("capture"):
                break
            threading.Event().wait(0.01)
        assert TestGateway.calls_of("capture"), "the capture reached the gateway"
        with transaction.atomic():
            # NOWAIT raises at once if another transaction holds the row.
            Order.objects.select_for_update(nowait=True).get(pk=checkout.order.pk)
            Transaction.objects.select_for_update(nowait=True).get(pk=authorization.pk)
            locked = Transaction.objects.get(pk=authorization.pk)
            assert locked.capture_amount_cents == 1000, "the reservation is already visible"
            assert Transaction.objects.get(type="captures").status == "pending"
    finally:
        worker.join(timeout=10)
    assert Transaction.objects.get(type="captures").status == "succeeded"
