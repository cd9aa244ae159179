"""Returns raced by different actions, on PostgreSQL with real threads (spec 4 and 5): money
goes back at most once and never above what was captured, stock comes back exactly once, no
more units are claimed than shipped, and a return's timeline is one serial story. Each test
says in its docstring which lock or guard it protects: with that guard removed, it fails.
The invariant check of tests/concurrency/conftest.py runs after each (returns included)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.models import Sum

from fulfillment import returns as fulfillment_returns
from fulfillment.models import Return, ReturnLineItem, StockItem
from oms.errors import DomainError
from orders import services
from orders.models import LineItem, Order, OrderEvent
from orders.services import returns as return_services
from orders.services.money import order_refund_all
from orders.services.returns import (
    order_return_create,
    order_return_line_item_create,
    order_return_line_item_update,
    order_return_refund,
    order_return_restock,
    order_return_status_trigger,
)
from payments.gateways.test import TestGateway
from payments.models import Transaction
from tests import factories as catalog
from tests.concurrency.test_checkout_races import TIMEOUT, race, slow_gateway
from tests.fulfillment import factories as stock
from tests.fulfillment.return_factories import (
    order_fulfilled,
    return_lines,
    return_with_lines,
    sku_lines,
)
from tests.orders.factories import STAFF, OrderFactory, checkout_ready, line_add

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_test_gateway() -> Iterator[None]:
    TestGateway.reset()
    yield
    TestGateway.reset()


def slowed(read: Callable[..., Any], seconds: float = 0.3) -> Callable[..., Any]:
    """`read`, then a wait: every racer has read before any writes (if nothing serializes
    them), so only a lock taken before the read can keep them apart."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value = read(*args, **kwargs)
        time.sleep(seconds)
        return value

    return wrapper


def at_the_gateway(operation: str = "refund") -> None:
    """Wait until a call of `operation` is with the test gateway (it logs it before its
    latency), so what runs next arrives while that call is in flight."""
    deadline = time.monotonic() + TIMEOUT
    while not TestGateway.calls_of(operation):
        assert time.monotonic() < deadline, f"no {operation} reached the gateway"
        time.sleep(0.005)


def succeeded_cents(order: Order, kind: str) -> int:
    return int(
        Transaction.objects.filter(order=order, type=kind, status="succeeded").aggregate(
            cents=Sum("amount_cents", default=0)
        )["cents"]
    )


def assert_money_bounded(order: Order) -> None:
    """Never more refunded than captured, overall and per capture."""
    assert succeeded_cents(order, "refunds") <= succeeded_cents(order, "captures")
    for capture in Transaction.objects.filter(order=order, type="captures"):
        assert capture.refund_amount_cents <= capture.amount_cents, capture.number


def assert_refunded_only_by_its_refund(ret: Return) -> None:
    """The return is refunded if, and only if, the refund it asked for succeeded."""
    ret = Return.objects.get(pk=ret.pk)
    refund = (
        Transaction.objects.get(pk=ret.reference_refund_id) if ret.reference_refund_id else None
    )
    if ret.status == Return.Status.REFUNDED:
        assert refund is not None
        assert refund.succeeded
        assert refund.order_id == ret.order_id
    else:
        assert ret.status == Return.Status.RECEIVED
        assert refund is None or refund.status == Transaction.Status.FAILED


def stock_of(line: LineItem, ret: Return) -> int:
    return StockItem.objects.get(sku=line.sku, stock_location=ret.stock_location).quantity


# --- money -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("whole", "first", "amount"),
    [
        ("order_refund", "return", "default"),
        ("order_refund_all", "return", "default"),
        ("order_refund", "whole", "default"),
        ("order_refund_all", "whole", "default"),
        ("order_refund", "whole", "sent"),
        ("order_refund_all", "whole", "sent"),
    ],
)
def test_a_return_refund_racing_the_orders_whole_refund_never_refunds_more_than_captured(
    whole, first, amount
):
    """Protects the refund balance re-checked on the locked capture (`refund_reserve`: the
    amount may not exceed `refund_balance_cents`; the database's `capture_refunded_within_
    amount` constraint backs it). The second request arrives while the first is with the
    gateway. With the check removed, a return refund of an amount the merchant sent
    (`_refund_amount_cents`, `sent`) after the whole refund took everything is reserved
    too: 3000 above the 6000 captured (here the constraint stops it with an IntegrityError).
    The return's own default (`min(what the lines cost, the balance)`) is refused as nothing
    left to refund, not as an amount nobody sent."""
    order = order_fulfilled(amounts=(3000,), quantity=2)
    ret = return_with_lines(order, quantity=1, to="received")
    sent = ret.estimated_refund_amount_cents if amount == "sent" else None
    slow_gateway(order, latency_ms=500)

    def refund_the_return() -> str:
        return order_return_refund(ret=ret, actor=STAFF, amount_cents=sent).status

    def refund_the_order() -> str:
        current = Order.objects.get(pk=order.pk)
        if whole == "order_refund":
            return services.order_refund(order=current, actor=STAFF).status
        moved = order_refund_all(order=current, actor=STAFF)
        return "refunded" if all(txn.succeeded for txn in moved) else "declined"

    works = [refund_the_return, refund_the_order]
    if first == "whole":
        works.reverse()

    def work(i: int) -> str:
        if i:
            at_the_gateway()  # the first one's refund is in flight
        return works[i]()

    outcomes = dict(zip([w.__name__ for w in works], race(2, work), strict=True))

    assert_money_bounded(order)
    assert_refunded_only_by_its_refund(ret)
    captured = succeeded_cents(order, "captures")
    if first == "return":
        assert outcomes["refund_the_return"] == "refunded"
        # order `_refund` refuses while the return's refund is with the gateway (or, come
        # after it, refunds the rest and cancels); refunding the rest does not wait
        assert outcomes["refund_the_order"] in {"PAYMENT_IN_PROGRESS", "cancelled", "refunded"}
        moved = (
            ret.estimated_refund_amount_cents
            if outcomes["refund_the_order"] == "PAYMENT_IN_PROGRESS"
            else captured
        )
    else:
        assert outcomes["refund_the_order"] in {"cancelled", "refunded"}
        # the balance is taken (pending) or gone: nothing left for the return; come after
        # the order's `_refund` cancelled the order, it finds the order closed
        assert outcomes["refund_the_return"] in {
            "INSUFFICIENT_REFUND_BALANCE",
            *(["TRANSITION_NOT_ALLOWED"] if whole == "order_refund" else []),
        }, outcomes
        assert Return.objects.get(pk=ret.pk).reference_refund_id is None
        moved = captured
    assert succeeded_cents(order, "refunds") == moved
    assert sum(call.amount_cents for call in TestGateway.calls_of("refund")) == moved


def test_two_refunds_of_one_return_move_the_money_once():
    """Protects the return's refund guard in `order_return_refund`'s reserve, on the locked
    return: a reference refund that is pending (or succeeded) refuses a second
    (`RETURN_REFUND_IN_PROGRESS`). Without it the second reserves another refund while the
    first is with the gateway: two refunds of the same goods."""
    order = order_fulfilled(amounts=(3000,), quantity=2)
    ret = return_with_lines(order, quantity=1, to="received")
    slow_gateway(order, latency_ms=200)

    outcomes = race(2, lambda i: order_return_refund(ret=ret, actor=STAFF).status)

    # the second came while the first was with the gateway, or after it was done
    assert sorted(outcomes) in (
        ["RETURN_REFUND_IN_PROGRESS", "refunded"],
        ["TRANSITION_NOT_ALLOWED", "refunded"],
    ), outcomes
    refunds = Transaction.objects.filter(order=order, type="refunds")
    assert list(refunds.values_list("status", "amount_cents")) == [
        ("succeeded", ret.estimated_refund_amount_cents)
    ]
    assert len(TestGateway.calls_of("refund")) == 1
    assert Return.objects.get(pk=ret.pk).reference_refund_id == refunds.get().pk
    assert_money_bounded(order)
    assert_refunded_only_by_its_refund(ret)


def test_a_refund_sent_while_the_returns_refund_hangs_at_the_gateway_is_refused_at_once():
    """Protects the money workflow's shape (`order_money_run`): the refund is reserved and
    committed under the locks, the gateway is called with no lock held. Calling the gateway
    inside the reserve's transaction keeps the order locked for the gateway's 1.5 s: the
    second `_refund` then waits it out (and hears TRANSITION_NOT_ALLOWED) instead of being
    told at once that the refund is in progress."""
    order = order_fulfilled(amounts=(3000,), quantity=2)
    ret = return_with_lines(order, quantity=1, to="received")
    latency = 1.5  # seconds
    slow_gateway(order, latency_ms=int(latency * 1000))
    first: list[Any] = []

    def refund() -> None:
        try:
            first.append(order_return_refund(ret=ret, actor=STAFF).status)
        except Exception as exc:
            first.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=refund)
    worker.start()
    try:
        at_the_gateway()
        started = time.monotonic()
        with pytest.raises(DomainError) as refused:
            order_return_refund(ret=ret, actor=STAFF)
        waited = time.monotonic() - started
    finally:
        worker.join(timeout=TIMEOUT)
    assert refused.value.code == "RETURN_REFUND_IN_PROGRESS"
    # a refusal takes a few milliseconds; half the gateway's time leaves room for a busy machine
    assert waited < latency / 2, f"the second _refund waited {waited:.2f}s for the first's call"
    assert first == ["refunded"]
    refunds = Transaction.objects.filter(order=order, type="refunds")
    assert list(refunds.values_list("status", flat=True)) == ["succeeded"]
    assert len(TestGateway.calls_of("refund")) == 1
    assert succeeded_cents(order, "refunds") == ret.estimated_refund_amount_cents
    assert_refunded_only_by_its_refund(ret)


# --- stock -----------------------------------------------------------------------------------


def test_restocks_of_one_return_at_once_put_the_units_back_once():
    """Protects the order and return locks of `order_return_restock` with the guarded claim
    of each line in `return_line_items_restock` (`UPDATE ... WHERE restocked_at IS NULL`):
    each alone keeps a line from coming back twice (without the locks the claim refuses the
    later racers; without the claim the locks make them find no line left); with both
    removed, every racer adds the units."""
    order = order_fulfilled(amounts=(1000,), quantity=3)
    ret = return_with_lines(order, quantity=2, to="received")
    [line] = sku_lines(order)
    before = stock_of(line, ret)

    outcomes = race(4, lambda i: order_return_restock(ret=ret, actor=STAFF).status)

    assert Counter(outcomes) == {"received": 1, "ALREADY_RESTOCKED": 3}, outcomes
    assert stock_of(line, ret) == before + 2
    [restocked] = return_lines(ret)
    assert restocked.restocked_at is not None
    assert (
        OrderEvent.objects.filter(
            order=order, event_type=OrderEvent.Type.RETURN_LINE_ITEM_RESTOCKED
        ).count()
        == 1
    )


@pytest.mark.parametrize("first", ["return", "line"])
def test_a_return_restock_racing_its_lines_restock_puts_each_line_back_once(monkeypatch, first):
    """Protects the guarded claim of each line in `return_line_items_restock` (`UPDATE ...
    WHERE restocked_at IS NULL`): a line's own `_restock` reads it under the locks but does
    not look at `restocked_at` itself. Without the claim, a line restocked by its return
    (`return first`) is restocked again by its own `_restock`: its units count twice."""
    order = order_fulfilled(amounts=(1000, 2000), quantity=2)
    ret = return_with_lines(order, quantity=1, to="received")
    ours, other = sku_lines(order)
    [ours_rli, _] = return_lines(ret)
    before = {line.pk: stock_of(line, ret) for line in (ours, other)}
    # the first holds the locks while it puts the stock back; the second queues meanwhile
    restocking = threading.Event()
    restock = fulfillment_returns.stock_restock_many

    def slow_restock(**kwargs: Any) -> dict[str, StockItem]:
        restocking.set()
        time.sleep(0.3)
        return restock(**kwargs)

    monkeypatch.setattr(fulfillment_returns, "stock_restock_many", slow_restock)

    def work(i: int) -> str:
        if i:
            assert restocking.wait(timeout=TIMEOUT)
        if (i == 0) == (first == "return"):
            return "return: " + order_return_restock(ret=ret, actor=STAFF).status
        order_return_line_item_update(line=ours_rli, data={"_restock": True}, actor=STAFF)
        return "line: restocked"

    outcomes = race(2, work)

    if first == "return":
        assert outcomes == ["return: received", "ALREADY_RESTOCKED"], outcomes
    else:
        assert outcomes == ["line: restocked", "return: received"], outcomes
    assert {line.pk: stock_of(line, ret) - before[line.pk] for line in (ours, other)} == {
        ours.pk: 1,
        other.pk: 1,
    }
    assert all(rli.restocked_at is not None for rli in return_lines(ret))
    events = OrderEvent.objects.filter(
        order=order, event_type=OrderEvent.Type.RETURN_LINE_ITEM_RESTOCKED
    )
    assert sorted(events.values_list("subject_id", flat=True)) == sorted(
        rli.pk for rli in return_lines(ret)
    )


def second_order_of(order: Order) -> Order:
    """Another fulfilled order of the same market and SKU as `order` (one unit)."""
    [line] = sku_lines(order)
    assert line.sku is not None
    second = OrderFactory.create(market=order.market, customer_email="second@example.com")
    line_add(second, line.sku, 1)
    second = services.order_update(
        order=second,
        actor=STAFF,
        data={
            "billing_address": catalog.AddressFactory.create(),
            "_shipping_address_same_as_billing": True,
        },
    )
    second = services.order_place(order=checkout_ready(second), actor=STAFF)
    second = services.order_capture(
        order=services.order_approve(order=second, actor=STAFF), actor=STAFF
    )
    for shipment in second.shipments.all():
        services.order_shipment_ship(shipment=shipment, actor=STAFF)
    return Order.objects.get(pk=second.pk)


def test_returns_of_two_orders_restocked_at_once_at_a_new_location_create_one_stock_item(
    monkeypatch,
):
    """Two orders' returns of one SKU restocked at a location that has no stock item for it:
    nothing locks a row that does not exist yet (each restock holds its own order's lock).
    Protects the unique (sku, stock location) constraint with `stock_restock`'s retry: the
    later creation fails in its savepoint and the restock adds to the row the first made.
    Without the savepoint and retry the later restock fails with an IntegrityError."""
    first = order_fulfilled(amounts=(1000,), quantity=1)
    second = second_order_of(first)
    fresh = stock.StockLocationFactory.create()
    returns = [
        return_with_lines(order, to="received", stock_location=fresh) for order in (first, second)
    ]
    [line] = sku_lines(first)
    # both have looked for the stock item (and found none) before either creates it
    create = StockItem.objects.create

    def slow_create(**fields: Any) -> StockItem:
        time.sleep(0.3)
        return create(**fields)

    monkeypatch.setattr(StockItem.objects, "create", slow_create)

    outcomes = race(2, lambda i: order_return_restock(ret=returns[i], actor=STAFF).status)

    assert outcomes == ["received", "received"], outcomes
    [item] = StockItem.objects.filter(sku=line.sku, stock_location=fresh)
    assert item.quantity == 2


# --- claims and status -----------------------------------------------------------------------


def test_two_returns_filled_at_once_never_claim_more_units_than_shipped(monkeypatch):
    """Protects the order lock of `order_return_line_item_create` (and of
    `order_return_create`): the units free to return are counted over every return of the
    order line, which only the order lock serializes (each racer locks its own return).
    Without it both read 3 free and claim 2 each: 4 of 3 shipped."""
    order = order_fulfilled(amounts=(1000,), quantity=3)
    [line] = sku_lines(order)
    monkeypatch.setattr(
        fulfillment_returns,
        "line_item_returnable_quantity",
        slowed(fulfillment_returns.line_item_returnable_quantity),
    )

    def work(i: int) -> str:
        ret = order_return_create(order=order, actor=STAFF)
        order_return_line_item_create(ret=ret, line_item=line, quantity=2, actor=STAFF)
        return ret.number

    outcomes = race(2, work)

    assert "RETURN_QUANTITY_EXCEEDED" in outcomes, outcomes
    [number] = [o for o in outcomes if o != "RETURN_QUANTITY_EXCEEDED"]
    claimed = ReturnLineItem.objects.filter(line_item=line).aggregate(units=Sum("quantity"))
    assert claimed["units"] == 2
    assert list(
        ReturnLineItem.objects.filter(line_item=line).values_list("order_return__number", flat=True)
    ) == [number]
    # both returns exist (the loser is an empty draft), numbered one after the other
    assert sorted(Return.objects.filter(order=order).values_list("number", flat=True)) == [
        f"{order.number}/R/001",
        f"{order.number}/R/002",
    ]


@pytest.mark.parametrize("round_", range(3))
def test_cancel_racing_approve_of_a_requested_return_is_one_serial_story(monkeypatch, round_):
    """Protects the order and return locks of `order_return_status_trigger`, under which the
    transition is re-checked on the locked row (`return_fire`). Either `_cancel` wins (and
    `_approve` is refused), or `_approve` wins and `_cancel` then cancels the approved return
    (a return may be cancelled until it ships): the timeline has a row for each winner, each
    starting where the one before ended. Without the locks both read `requested` and both
    fire from it (django-fsm's concurrent-transition check then fails the later save with
    an error no caller expects)."""
    order = order_fulfilled(amounts=(1000,), quantity=1)
    ret = return_with_lines(order, to="requested")
    monkeypatch.setattr(return_services, "return_lock", slowed(return_services.return_lock, 0.2))
    triggers = ("_cancel", "_approve") if round_ % 2 else ("_approve", "_cancel")

    outcomes = race(
        2, lambda i: order_return_status_trigger(ret=ret, trigger=triggers[i], actor=STAFF).status
    )

    assert set(outcomes) <= {"cancelled", "approved", "TRANSITION_NOT_ALLOWED"}, outcomes
    won = [t for t, o in zip(triggers, outcomes, strict=True) if o != "TRANSITION_NOT_ALLOWED"]
    rows = list(
        OrderEvent.objects.filter(
            order=order, subject_type="returns", trigger__in=["_cancel", "_approve"]
        )
        .order_by("created_at", "pk")
        .values_list("trigger", "from_status", "to_status")
    )
    stories = {
        ("_cancel",): [("_cancel", "requested", "cancelled")],
        ("_approve", "_cancel"): [
            ("_approve", "requested", "approved"),
            ("_cancel", "approved", "cancelled"),
        ],
    }
    assert rows == stories.get(tuple(row[0] for row in rows)), rows
    assert sorted(row[0] for row in rows) == sorted(won)
    assert Return.objects.get(pk=ret.pk).status == rows[-1][2]
