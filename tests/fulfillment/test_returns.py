"""Returns through the order workflow (spec section 5): who may have one, how many units, the
status machine, restocking once, and the refund against a capture."""

from __future__ import annotations

import pytest

from fulfillment import errors
from fulfillment.models import Return, StockItem
from oms.errors import DomainError, TransitionNotAllowed
from oms.webhooks.models import Webhook, WebhookDelivery
from orders.models import Order, OrderEvent
from orders.services import money
from orders.services.returns import (
    order_return_create,
    order_return_line_item_create,
    order_return_line_item_delete,
    order_return_line_item_update,
    order_return_refund,
    order_return_restock,
    order_return_status_trigger,
    order_return_update,
)
from payments.errors import InsufficientRefundBalance, PaymentFailed
from payments.models import Transaction
from tests.fulfillment import factories as stock
from tests.fulfillment.return_factories import (
    order_fulfilled,
    return_lines,
    return_with_lines,
    sku_lines,
)
from tests.orders.factories import STAFF, order_in_status

pytestmark = pytest.mark.django_db


def captured(order: Order) -> int:
    return sum(
        Transaction.objects.filter(order=order, type="captures", status="succeeded").values_list(
            "amount_cents", flat=True
        )
    )


def refunded(order: Order) -> int:
    return sum(
        Transaction.objects.filter(order=order, type="refunds", status="succeeded").values_list(
            "amount_cents", flat=True
        )
    )


def test_only_a_fulfilled_order_can_have_a_return():
    approved = order_in_status(Order.Status.APPROVED)
    with pytest.raises(errors.ReturnNotAllowed):
        order_return_create(order=approved, actor=STAFF)
    assert not Return.objects.filter(order=approved).exists()


def test_a_return_is_numbered_after_its_order_and_goes_to_the_return_location():
    order = order_fulfilled()
    assert order.market.inventory_model is not None
    back = stock.StockLocationFactory.create()
    stock.InventoryReturnLocationFactory.create(
        inventory_model=order.market.inventory_model, stock_location=back, priority=1
    )
    first = order_return_create(order=order, actor=STAFF)
    second = order_return_create(order=order, actor=STAFF)
    assert (first.number, second.number) == (f"{order.number}/R/001", f"{order.number}/R/002")
    assert first.stock_location == back
    assert first.status == Return.Status.DRAFT
    assert first.origin_address == order.shipping_address
    assert first.destination_address == back.address


def test_without_a_return_location_it_goes_back_where_it_shipped_from():
    order = order_fulfilled()
    ret = order_return_create(order=order, actor=STAFF)
    shipment = order.shipments.get()
    assert ret.stock_location == shipment.stock_location


def test_no_more_units_than_shipped_across_returns():
    order = order_fulfilled(quantity=3)
    [line] = sku_lines(order)
    first = order_return_create(order=order, actor=STAFF)
    order_return_line_item_create(ret=first, line_item=line, quantity=2, actor=STAFF)
    second = order_return_create(order=order, actor=STAFF)
    with pytest.raises(errors.ReturnQuantityExceeded):
        order_return_line_item_create(ret=second, line_item=line, quantity=2, actor=STAFF)
    order_return_line_item_create(ret=second, line_item=line, quantity=1, actor=STAFF)
    # a cancelled return gives its units back to the others
    order_return_status_trigger(ret=first, trigger="_cancel", actor=STAFF)
    [rli] = return_lines(second)
    rli = order_return_line_item_update(line=rli, data={"quantity": 3}, actor=STAFF)
    assert rli.quantity == 3
    with pytest.raises(errors.ReturnQuantityExceeded):
        order_return_line_item_update(line=rli, data={"quantity": 4}, actor=STAFF)


def test_a_line_must_be_a_sku_line_of_the_same_order():
    order, other = order_fulfilled(), order_fulfilled()
    ret = order_return_create(order=order, actor=STAFF)
    with pytest.raises(DomainError) as refused:
        order_return_line_item_create(
            ret=ret, line_item=sku_lines(other)[0], quantity=1, actor=STAFF
        )
    assert refused.value.pointer == "/data/relationships/line_item"
    shipping = order.line_items.exclude(item_type="skus").first()
    if shipping is not None:
        with pytest.raises(DomainError):
            order_return_line_item_create(ret=ret, line_item=shipping, quantity=1, actor=STAFF)
    assert not ret.return_line_items.exists()


def test_lines_change_only_while_draft_and_an_empty_return_cannot_be_requested():
    order = order_fulfilled(amounts=(1000, 2000))
    ret = order_return_create(order=order, actor=STAFF)
    with pytest.raises(errors.ReturnEmpty):
        order_return_status_trigger(ret=ret, trigger="_request", actor=STAFF)
    first, second = sku_lines(order)
    rli = order_return_line_item_create(ret=ret, line_item=first, quantity=1, actor=STAFF)
    order_return_status_trigger(ret=ret, trigger="_request", actor=STAFF)
    with pytest.raises(errors.ReturnNotEditable):
        order_return_line_item_create(ret=ret, line_item=second, quantity=1, actor=STAFF)
    with pytest.raises(errors.ReturnNotEditable):
        order_return_line_item_update(line=rli, data={"quantity": 2}, actor=STAFF)
    with pytest.raises(errors.ReturnNotEditable):
        order_return_line_item_delete(line=rli, actor=STAFF)
    # the reason can still be told
    rli = order_return_line_item_update(
        line=rli, data={"return_reason": {"size": "too small"}}, actor=STAFF
    )
    assert rli.return_reason == {"size": "too small"}


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ((), "_approve"),
        (("_request",), "_ship"),
        (("_request", "_approve"), "_receive"),
        (("_request", "_approve", "_ship"), "_cancel"),
        (("_request", "_approve", "_ship", "_receive"), "_reject"),
        (("_cancel",), "_request"),
    ],
)
def test_the_status_machine_refuses_what_is_not_next(path, refused):
    order = order_fulfilled()
    ret = return_with_lines(order)
    for trigger in path:
        ret = order_return_status_trigger(ret=ret, trigger=trigger, actor=STAFF)
    before = ret.status
    with pytest.raises(TransitionNotAllowed):
        order_return_status_trigger(ret=ret, trigger=refused, actor=STAFF)
    assert Return.objects.get(pk=ret.pk).status == before


def test_every_move_is_on_the_order_timeline_and_publishes_its_topic():
    order = order_fulfilled()
    for topic in ("returns.create", "returns.request", "returns.approve", "returns.receive"):
        Webhook.objects.create(topic=topic, callback_url="https://example.com/hook")
    ret = return_with_lines(order, to="received")
    moves = list(
        OrderEvent.objects.filter(order=order, subject_type="returns")
        .order_by("id")
        .values_list("trigger", "from_status", "to_status")
    )
    assert moves == [
        ("_create", "", "draft"),
        ("_request", "draft", "requested"),
        ("_approve", "requested", "approved"),
        ("_ship", "approved", "shipped"),
        ("_receive", "shipped", "received"),
    ]
    assert ret.approved_at
    assert ret.shipped_at
    assert ret.received_at
    topics = sorted(
        WebhookDelivery.objects.filter(resource_type="returns", resource_id=ret.pk).values_list(
            "topic", flat=True
        )
    )
    assert topics == ["returns.approve", "returns.create", "returns.receive", "returns.request"]
    order.refresh_from_db()
    assert order.status == Order.Status.APPROVED  # a return never moves the order


def test_restock_puts_the_units_back_once():
    order = order_fulfilled(quantity=3)
    ret = return_with_lines(order, quantity=2, to="shipped")
    with pytest.raises(TransitionNotAllowed):
        order_return_restock(ret=ret, actor=STAFF)  # not received yet
    ret = order_return_status_trigger(ret=ret, trigger="_receive", actor=STAFF)
    [line] = sku_lines(order)
    item = StockItem.objects.get(sku=line.sku, stock_location=ret.stock_location)
    before = item.quantity
    order_return_restock(ret=ret, actor=STAFF)
    item.refresh_from_db()
    assert item.quantity == before + 2
    with pytest.raises(errors.AlreadyRestocked):
        order_return_restock(ret=ret, actor=STAFF)
    [rli] = return_lines(ret)
    with pytest.raises(errors.AlreadyRestocked):
        order_return_line_item_update(line=rli, data={"_restock": True}, actor=STAFF)
    item.refresh_from_db()
    assert item.quantity == before + 2
    assert (
        OrderEvent.objects.filter(
            order=order, event_type=OrderEvent.Type.RETURN_LINE_ITEM_RESTOCKED
        ).count()
        == 1
    )


def test_restock_creates_the_stock_item_at_a_new_location():
    order = order_fulfilled()
    elsewhere = stock.StockLocationFactory.create()
    ret = return_with_lines(order, to="received")
    order_return_update(ret=ret, data={}, actor=STAFF)
    Return.objects.filter(pk=ret.pk).update(stock_location=elsewhere)
    ret = Return.objects.get(pk=ret.pk)
    order_return_restock(ret=ret, actor=STAFF)
    [line] = sku_lines(order)
    assert StockItem.objects.get(sku=line.sku, stock_location=elsewhere).quantity == 1


def test_refund_of_a_received_return_refunds_what_the_lines_cost():
    order = order_fulfilled(amounts=(1000, 2500), quantity=2)
    ret = return_with_lines(order, quantity=1, to="received")
    assert ret.estimated_refund_amount_cents == 1000 + 2500
    ret = order_return_refund(ret=ret, actor=STAFF)
    assert ret.status == Return.Status.REFUNDED
    assert ret.refunded_at is not None
    refund = Transaction.objects.get(pk=ret.reference_refund_id)
    assert (refund.type, refund.status, refund.amount_cents) == ("refunds", "succeeded", 3500)
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    assert order.status == Order.Status.APPROVED
    with pytest.raises(TransitionNotAllowed):
        order_return_refund(ret=ret, actor=STAFF)
    assert refunded(order) == 3500


def test_refund_amount_is_bounded_by_the_capture():
    order = order_fulfilled(amounts=(1000,), quantity=1)
    ret = return_with_lines(order, to="received")
    with pytest.raises(InsufficientRefundBalance):
        order_return_refund(ret=ret, actor=STAFF, amount_cents=captured(order) + 1)
    assert Return.objects.get(pk=ret.pk).status == Return.Status.RECEIVED
    assert refunded(order) == 0
    ret = order_return_refund(ret=ret, actor=STAFF, amount_cents=400)
    assert refunded(order) == 400


def test_only_a_received_return_is_refunded():
    order = order_fulfilled()
    ret = return_with_lines(order, to="shipped")
    with pytest.raises(TransitionNotAllowed):
        order_return_refund(ret=ret, actor=STAFF)
    assert refunded(order) == 0


def test_a_declined_refund_leaves_the_return_received_and_may_be_tried_again(monkeypatch):
    from payments.gateways import GatewayResult

    order = order_fulfilled()
    ret = return_with_lines(order, to="received")
    calls = {"n": 0}
    real = money.transaction_gateway_call

    def declining(*, txn):
        calls["n"] += 1
        if calls["n"] == 1:
            return GatewayResult.failure("PAYMENT_DECLINED", "no")
        return real(txn=txn)

    monkeypatch.setattr("orders.services.money.transaction_gateway_call", declining)
    with pytest.raises(PaymentFailed):
        order_return_refund(ret=ret, actor=STAFF)
    ret = Return.objects.get(pk=ret.pk)
    assert ret.status == Return.Status.RECEIVED
    assert Transaction.objects.get(pk=ret.reference_refund_id).status == "failed"
    ret = order_return_refund(ret=ret, actor=STAFF)
    assert ret.status == Return.Status.REFUNDED
    assert refunded(order) == ret.estimated_refund_amount_cents


def test_the_reference_capture_must_be_the_orders_own():
    order, other = order_fulfilled(), order_fulfilled()
    foreign = Transaction.objects.get(order=other, type="captures")
    with pytest.raises(DomainError) as refused:
        order_return_create(order=order, actor=STAFF, reference_capture=foreign)
    assert refused.value.pointer == "/data/relationships/reference_capture"
    own = Transaction.objects.get(order=order, type="captures")
    ret = order_return_create(order=order, actor=STAFF, reference_capture=own)
    assert ret.reference_capture_id == own.pk


def test_partial_quantity_costs_its_share_of_the_line_rounded_half_up():
    order = order_fulfilled(amounts=(1001,), quantity=3)
    ret = return_with_lines(order, quantity=1)
    [line] = sku_lines(order)
    assert line.total_amount_cents == 3003
    [rli] = return_lines(ret)
    assert rli.total_amount_cents == 1001
    rli = order_return_line_item_update(line=rli, data={"quantity": 2}, actor=STAFF)
    assert rli.total_amount_cents == 2002


def test_refund_with_nothing_left_on_the_capture_is_insufficient_balance():
    """The default amount (what the lines cost, at most the capture's balance) of a capture
    refunded already is the capture's refusal, not an invalid `_refund_amount_cents`."""
    order = order_fulfilled(amounts=(1000,), quantity=1)
    ret = return_with_lines(order, to="received")
    money.order_refund_all(order=order, actor=STAFF)
    with pytest.raises(InsufficientRefundBalance) as refused:
        order_return_refund(ret=ret, actor=STAFF)
    assert refused.value.pointer == "/data/attributes/_refund"
    ret = Return.objects.get(pk=ret.pk)
    assert (ret.status, ret.reference_refund_id) == (Return.Status.RECEIVED, None)
    assert refunded(order) == captured(order)


def test_a_discounted_line_refunds_what_the_customer_paid():
    """A 50 % promotion: the returned line costs its discounted price, not its list price."""
    from tests import factories as catalog
    from tests.orders.promotion_factories import promotion_make

    market = catalog.MarketFactory.create()
    promotion_make(market, percentage=50)
    order = order_fulfilled(market=market, amounts=(1000,), quantity=2)
    [line] = sku_lines(order)
    assert (line.total_amount_cents, line.discount_cents) == (2000, -1000)
    whole = return_with_lines(order, quantity=2, to="received")
    assert whole.estimated_refund_amount_cents == 1000
    order_return_refund(ret=whole, actor=STAFF)
    assert refunded(order) == 1000


def test_a_partial_share_is_rounded_down_never_refunding_more_than_paid():
    from tests import factories as catalog
    from tests.orders.promotion_factories import promotion_make

    market = catalog.MarketFactory.create()
    promotion_make(market, percentage=50)
    order = order_fulfilled(market=market, amounts=(333,), quantity=3)
    [line] = sku_lines(order)
    paid = line.total_amount_cents + line.discount_cents
    shares = []
    for _ in range(3):
        ret = return_with_lines(order, quantity=1)
        shares.append(ret.estimated_refund_amount_cents)
    assert sum(shares) <= paid
    assert all(share == paid // 3 for share in shares)


def test_the_same_idempotency_key_on_two_returns_refunds_each():
    """A key reused for another return (another integration, or after the key's 24 hours)
    never replays the first return's refund as the second's."""
    order = order_fulfilled(amounts=(1000,), quantity=2)
    first = return_with_lines(order, quantity=1, to="received")
    second = return_with_lines(order, quantity=1, to="received")
    first = order_return_refund(ret=first, actor=STAFF, idempotency_key="rma-42")
    second = order_return_refund(ret=second, actor=STAFF, idempotency_key="rma-42")
    assert first.reference_refund_id != second.reference_refund_id
    assert (first.status, second.status) == ("refunded", "refunded")
    assert refunded(order) == 2000


def test_restock_locks_the_stock_items_in_primary_key_order(monkeypatch):
    """The lines' stock items are locked in pk order (the global lock order), whatever the
    order of the lines: two restocks sharing SKUs queue instead of deadlocking."""
    from fulfillment import locks

    order = order_fulfilled(amounts=(1000, 1100, 1200, 1300, 1400, 1500), quantity=1)
    ret = return_with_lines(order, quantity=1, to="received")
    locked: list[list[str]] = []
    real = locks.stock_items_lock

    def spy(ids, **kwargs):
        items = real(ids, **kwargs)
        locked.append(list(items))
        return items

    monkeypatch.setattr(locks, "stock_items_lock", spy)
    before = dict(StockItem.objects.values_list("pk", "quantity"))
    order_return_restock(ret=ret, actor=STAFF)
    [ids] = locked
    assert ids == sorted(ids)
    assert len(ids) == 6
    after = dict(StockItem.objects.values_list("pk", "quantity"))
    assert all(after[pk] == before[pk] + 1 for pk in ids)
