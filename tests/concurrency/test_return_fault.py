"""A return's refund whose process dies between the reserve and the settle (spec 4, 5): the
refund stays pending, the return keeps it as its reference refund and refuses a second
`_refund`, and the merchant's settling of the stuck refund by hand decides: `_forward` makes
the return refunded, a release leaves it received, to be refunded again.

The death is simulated twice, as the placement fault tests do: in this process, by a failure
in the gateway call path right after the reserve committed (nothing after it runs); and on
PostgreSQL by a real child process killed while its refund is with a slow gateway."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from fulfillment import errors
from fulfillment.models import Return
from orders.invariants import invariant_violations
from orders.models import Order, OrderEvent
from orders.services import money, order_transaction_forward, order_transaction_release
from orders.services.returns import order_return_refund
from payments.gateways.test import TestGateway
from payments.models import PaymentGateway, Transaction
from tests.concurrency.test_placement_fault import ROOT, WAIT_SECONDS, child_database_url
from tests.fulfillment.return_factories import order_fulfilled, return_with_lines
from tests.orders.factories import STAFF


class ProcessDied(BaseException):
    """The process ends here: no `except Exception` of the workflow runs after it."""


@pytest.fixture(autouse=True)
def _fresh_test_gateway() -> Iterator[None]:
    TestGateway.reset()
    yield
    TestGateway.reset()


def a_received_return() -> Return:
    order = order_fulfilled(amounts=(3000,), quantity=2)
    return return_with_lines(order, quantity=1, to="received")


def died_mid_refund(monkeypatch: pytest.MonkeyPatch, ret: Return) -> Transaction:
    """`_refund` of `ret` whose process died after reserving the refund, before the gateway
    answered."""

    def dies(*, txn: Transaction) -> None:
        raise ProcessDied

    with monkeypatch.context() as patch:
        patch.setattr(money, "transaction_gateway_call", dies)
        with pytest.raises(ProcessDied):
            order_return_refund(ret=ret, actor=STAFF)
    return left_pending(ret)


def left_pending(ret: Return) -> Transaction:
    """The refund is pending, the return received and holding it; a second `_refund` is
    refused and reserves nothing."""
    [refund] = Transaction.objects.filter(order_id=ret.order_id, type="refunds")
    assert (refund.status, refund.amount_cents) == ("pending", ret.estimated_refund_amount_cents)
    ret = Return.objects.get(pk=ret.pk)
    assert (ret.status, ret.reference_refund_id) == (Return.Status.RECEIVED, refund.pk)
    with pytest.raises(errors.ReturnRefundInProgress):
        order_return_refund(ret=ret, actor=STAFF)
    assert Transaction.objects.filter(order_id=ret.order_id, type="refunds").count() == 1
    capture = Transaction.objects.get(order_id=ret.order_id, type="captures")
    assert capture.refund_amount_cents == refund.amount_cents  # still reserved
    return refund


def forwarded_refunds_the_return(ret: Return, refund: Transaction) -> None:
    settled = order_transaction_forward(transaction=refund, actor=STAFF)
    assert settled.status == Transaction.Status.SUCCEEDED
    ret = Return.objects.get(pk=ret.pk)
    assert (ret.status, ret.reference_refund_id) == (Return.Status.REFUNDED, refund.pk)
    assert ret.refunded_at is not None
    assert OrderEvent.objects.filter(
        order_id=ret.order_id, subject_type="returns", trigger="_refund", to_status="refunded"
    ).exists()
    order = Order.objects.get(pk=ret.order_id)
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    with pytest.raises(errors.TransitionNotAllowed):
        order_return_refund(ret=ret, actor=STAFF)
    assert invariant_violations(order_ids=[order.pk]) == []


@pytest.mark.django_db
def test_a_refund_stuck_after_its_process_died_refunds_the_return_when_forwarded(monkeypatch):
    ret = a_received_return()
    refund = died_mid_refund(monkeypatch, ret)
    assert TestGateway.calls_of("refund") == [], "the gateway never heard of it"

    forwarded_refunds_the_return(ret, refund)
    assert TestGateway.calls_of("refund") == [], "settled by hand: the gateway is not asked"


@pytest.mark.django_db
def test_a_released_stuck_refund_leaves_the_return_received_to_be_refunded_again(monkeypatch):
    ret = a_received_return()
    refund = died_mid_refund(monkeypatch, ret)

    released = order_transaction_release(transaction=refund, actor=STAFF)

    assert released.status == Transaction.Status.FAILED
    ret = Return.objects.get(pk=ret.pk)
    assert ret.status == Return.Status.RECEIVED
    capture = Transaction.objects.get(order_id=ret.order_id, type="captures")
    assert capture.refund_amount_cents == 0, "the reserved amount is given back"
    assert Order.objects.get(pk=ret.order_id).payment_status == Order.PaymentStatus.PAID

    ret = order_return_refund(ret=ret, actor=STAFF)

    assert ret.status == Return.Status.REFUNDED
    second = Transaction.objects.get(pk=ret.reference_refund_id)
    assert second.pk != refund.pk
    assert (second.status, second.amount_cents) == ("succeeded", refund.amount_cents)
    assert [call.amount_cents for call in TestGateway.calls_of("refund")] == [refund.amount_cents]
    assert invariant_violations(order_ids=[ret.order_id]) == []


def refund_in_a_child(ret: Return) -> subprocess.Popen[bytes]:
    code = (
        "from oms.actors import Actor; from fulfillment.models import Return; "
        "from orders.services.returns import order_return_refund; "
        f"order_return_refund(ret=Return.objects.get(pk={ret.pk!r}), "
        "actor=Actor(kind='system', id='child', name='child'))"
    )
    env = {**os.environ, "DATABASE_URL": child_database_url(), "DEBUG": "1"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refund_whose_process_is_killed_at_the_gateway_waits_for_the_merchant():
    ret = a_received_return()
    order = Order.objects.get(pk=ret.order_id)
    assert order.payment_method is not None
    PaymentGateway.objects.filter(pk=order.payment_method.payment_gateway_id).update(
        test_latency_ms=20_000, timeout_ms=30_000
    )
    child = refund_in_a_child(ret)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not Transaction.objects.filter(order=order, type="refunds").exists():
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never reserved its refund"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=5)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=5)

    refund = left_pending(ret)
    forwarded_refunds_the_return(ret, refund)
