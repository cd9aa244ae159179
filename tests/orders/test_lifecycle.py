"""An order's whole life through the services, as a storefront and a merchant live it: the
cart, placement (stock reserved, payment authorized, shipments upcoming), approval (stock
decremented), capture, shipping, delivery and a refund; and the ways it can go wrong
(a declined card, a cancellation). Statuses as spec 2.3 and 2.4 derive them, and the timeline
(OrderEvent rows) of every change."""

from __future__ import annotations

from typing import Any

import pytest

from fulfillment.models import Shipment, StockItem, StockReservation
from fulfillment.selectors import stock_item_available
from oms.errors import DomainError
from orders import services
from orders.invariants import invariant_violations
from orders.models import Customer, Order, OrderEvent
from orders.services.money import order_capture_refund
from payments.gateways.test import TestGateway
from payments.models import Transaction
from payments.services import test_payment_create
from tests import factories as catalog
from tests.fulfillment import factories as stock
from tests.orders.factories import (
    STAFF,
    STOREFRONT,
    OrderFactory,
    line_add,
    order_in_status,
    order_ready,
    priced_sku,
)
from tests.payments import factories as money

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _invariants_hold():
    """Every whole-life test ends with the money and stock invariants holding."""
    yield
    assert invariant_violations() == []


SHIPMENT_STEPS = ["_picking", "_packing", "_ready_to_ship", "_ship", "_deliver"]


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


class Timeline:
    """The order's events, read a step at a time: `since_last()` is what the last step wrote,
    as (subject, field, from, to, trigger, amount) with the subject named for reading."""

    def __init__(self, order: Order) -> None:
        self.order = order
        self.seen = 0
        self.names: dict[str, str] = {order.pk: "order"}

    def name(self, subject_id: str, label: str) -> None:
        self.names[subject_id] = label

    def since_last(self) -> list[tuple[Any, ...]]:
        events = list(OrderEvent.objects.filter(order=self.order).order_by("id")[self.seen :])
        self.seen += len(events)
        for event in events:
            assert event.created_at is not None
            assert event.actor
        return [
            (
                self.names.get(event.subject_id, event.subject_type),
                event.field,
                event.from_status,
                event.to_status,
                event.trigger,
                event.amount_cents if event.subject_type != "orders" else None,
            )
            for event in events
        ]


def statuses(order: Order) -> tuple[str, str, str]:
    order.refresh_from_db()
    return (order.status, order.payment_status, order.fulfillment_status)


def test_an_order_from_cart_to_delivered_and_partially_refunded():
    # The shop: one warehouse, two SKUs in two shipping categories (two shipments).
    shop = stock.shop_create()
    market = shop.market
    glass = priced_sku(market, 1000, shipping_category=stock.ShippingCategoryFactory.create())
    shirt = priced_sku(market, 500, shipping_category=stock.ShippingCategoryFactory.create())
    glass_stock, shirt_stock = shop.stock(glass, 10)[0], shop.stock(shirt, 10)[0]
    courier = stock.ShippingMethodFactory.create(market=market, price_amount_cents=700)
    card_method = money.PaymentMethodFactory.create(market=market, price_amount_cents=100)

    # The cart.
    order = OrderFactory.create(market=market)
    timeline = Timeline(order)
    line_add(order, glass, 2)
    line_add(order, shirt, 1)
    assert statuses(order) == ("draft", "unpaid", "unfulfilled")
    order = services.order_update(
        order=order, actor=STOREFRONT, data={"customer_email": "ada@example.com"}
    )
    assert order.status == "pending"
    order = services.order_update(
        order=order,
        actor=STOREFRONT,
        data={
            "billing_address": catalog.AddressFactory.create(),
            "_shipping_address_same_as_billing": True,
        },
    )
    assert timeline.since_last() == [("order", "status", "draft", "pending", "update", None)]
    shipments = list(order.shipments.order_by("number"))
    assert [s.status for s in shipments] == ["draft", "draft"]
    for index, shipment in enumerate(shipments, start=1):
        timeline.name(shipment.pk, f"shipment {index}")
        services.order_shipment_shipping_method_set(
            shipment=shipment, shipping_method=courier, actor=STOREFRONT
        )
    order = services.order_update(
        order=order, actor=STOREFRONT, data={"payment_method": card_method}
    )
    test_payment_create(order=order, token="tok_success")
    order.refresh_from_db()
    assert (
        order.subtotal_amount_cents,
        order.shipping_amount_cents,
        order.payment_method_amount_cents,
        order.total_amount_with_taxes_cents,
    ) == (2500, 1400, 100, 4000)
    assert timeline.since_last() == []  # choosing is not a status change

    # _place: authorized, stock reserved (pending), shipments upcoming.
    order = services.order_place(order=order, actor=STOREFRONT)
    assert statuses(order) == ("placed", "authorized", "unfulfilled")
    assert order.placed_at is not None
    assert order.place_total_amount_cents == 4000
    (authorization,) = Transaction.objects.filter(order=order)
    timeline.name(authorization.pk, "authorization")
    assert (authorization.type, authorization.status, authorization.amount_cents) == (
        "authorizations",
        "succeeded",
        4000,
    )
    assert sorted(
        StockReservation.objects.filter(order=order).values_list("stock_item", "quantity", "status")
    ) == sorted([(glass_stock.pk, 2, "pending"), (shirt_stock.pk, 1, "pending")])
    glass_stock.refresh_from_db()
    shirt_stock.refresh_from_db()
    assert (glass_stock.quantity, stock_item_available(stock_item=glass_stock)) == (10, 8)
    assert (shirt_stock.quantity, stock_item_available(stock_item=shirt_stock)) == (10, 9)
    assert [s.status for s in order.shipments.order_by("number")] == ["upcoming", "upcoming"]
    customer = Customer.objects.get(pk=order.customer_id)
    assert (customer.total_orders_count, customer.status) == (1, "acquired")
    placement = timeline.since_last()
    # the authorization's settle and the placement commit together (one locked transaction)
    assert placement[:2] == [
        ("order", "status", "pending", "placing", "_place", None),
        ("authorization", "status", "pending", "succeeded", "_authorize", 4000),
    ]
    assert sorted(placement[2:4]) == [  # in lock (primary-key) order
        ("shipment 1", "status", "draft", "upcoming", "_upcoming", None),
        ("shipment 2", "status", "draft", "upcoming", "_upcoming", None),
    ]
    assert placement[4:] == [
        ("order", "status", "placing", "placed", "_place", None),
        ("order", "payment_status", "unpaid", "authorized", "_place", None),
    ]

    # _approve: stock decremented, reservations gone; nothing captured, nothing to fulfil yet.
    order = services.order_approve(order=order, actor=STAFF)
    assert statuses(order) == ("approved", "authorized", "unfulfilled")
    assert order.approved_at is not None
    glass_stock.refresh_from_db()
    shirt_stock.refresh_from_db()
    assert (glass_stock.quantity, shirt_stock.quantity) == (8, 9)
    assert not StockReservation.objects.filter(order=order).exists()
    assert timeline.since_last() == [("order", "status", "placed", "approved", "_approve", None)]

    # Capture part of the authorization: partially paid, and fulfillment can start (2.4).
    first = services.order_authorization_capture(
        authorization=authorization, amount_cents=1500, actor=STAFF
    )
    timeline.name(first.pk, "capture 1")
    assert statuses(order) == ("approved", "partially_paid", "in_progress")
    assert timeline.since_last() == [
        ("capture 1", "status", "pending", "succeeded", "_capture", 1500),
        ("order", "payment_status", "authorized", "partially_paid", "_capture", None),
        ("order", "fulfillment_status", "unfulfilled", "in_progress", "_capture", None),
    ]

    # The order's _capture takes the rest: paid.
    order = services.order_capture(order=order, actor=STAFF)
    assert statuses(order) == ("approved", "paid", "in_progress")
    second = Transaction.objects.get(order=order, type="captures", amount_cents=2500)
    timeline.name(second.pk, "capture 2")
    authorization.refresh_from_db()
    assert authorization.capture_balance_cents == 0
    assert timeline.since_last() == [
        ("capture 2", "status", "pending", "succeeded", "_capture", 2500),
        ("order", "payment_status", "partially_paid", "paid", "_capture", None),
    ]

    # Ship and deliver each shipment: fulfilled once the last one has left.
    first_shipment, second_shipment = order.shipments.order_by("number")
    for trigger in SHIPMENT_STEPS:
        services.order_shipment_trigger(shipment=first_shipment, trigger=trigger, actor=STAFF)
    assert statuses(order) == ("approved", "paid", "in_progress")
    assert timeline.since_last() == [
        ("shipment 1", "status", "upcoming", "picking", "_picking", None),
        ("shipment 1", "status", "picking", "packing", "_packing", None),
        ("shipment 1", "status", "packing", "ready_to_ship", "_ready_to_ship", None),
        ("shipment 1", "status", "ready_to_ship", "shipped", "_ship", None),
        ("shipment 1", "status", "shipped", "delivered", "_deliver", None),
    ]
    for trigger in SHIPMENT_STEPS[:4]:
        services.order_shipment_trigger(shipment=second_shipment, trigger=trigger, actor=STAFF)
    assert statuses(order) == ("approved", "paid", "fulfilled")
    services.order_shipment_trigger(shipment=second_shipment, trigger="_deliver", actor=STAFF)
    assert statuses(order) == ("approved", "paid", "fulfilled")
    assert [s.status for s in order.shipments.order_by("number")] == ["delivered", "delivered"]
    assert timeline.since_last() == [
        ("shipment 2", "status", "upcoming", "picking", "_picking", None),
        ("shipment 2", "status", "picking", "packing", "_packing", None),
        ("shipment 2", "status", "packing", "ready_to_ship", "_ready_to_ship", None),
        ("shipment 2", "status", "ready_to_ship", "shipped", "_ship", None),
        ("order", "fulfillment_status", "in_progress", "fulfilled", "_ship", None),
        ("shipment 2", "status", "shipped", "delivered", "_deliver", None),
    ]

    # Refund part of a capture: partially refunded; the goods stay delivered.
    refund = order_capture_refund(capture=first, amount_cents=400, actor=STAFF)
    timeline.name(refund.pk, "refund")
    assert statuses(order) == ("approved", "partially_refunded", "fulfilled")
    assert timeline.since_last() == [
        ("refund", "status", "pending", "succeeded", "_refund", 400),
        ("order", "payment_status", "paid", "partially_refunded", "_refund", None),
    ]

    # Money moved exactly as asked, once each.
    assert [(c.operation, c.amount_cents) for c in TestGateway.calls] == [
        ("authorize", 4000),
        ("capture", 1500),
        ("capture", 2500),
        ("refund", 400),
    ]
    glass_stock.refresh_from_db()
    assert glass_stock.quantity == 8  # shipping does not touch stock again


def test_a_declined_card_leaves_the_order_pending_with_nothing_reserved():
    order = order_ready(amount_cents=2500, card_token="tok_declined")
    events_before = order.events.count()
    with pytest.raises(DomainError) as exc:
        services.order_place(order=order, actor=STOREFRONT)
    assert (exc.value.code, exc.value.status) == ("PAYMENT_DECLINED", 422)
    assert exc.value.pointer == "/data/relationships/payment_source"

    assert statuses(order) == ("pending", "unpaid", "unfulfilled")
    assert order.placed_at is None
    assert order.placement_errors == [
        {
            "code": "PAYMENT_DECLINED",
            "detail": "Card declined",
            "pointer": "/data/relationships/payment_source",
        }
    ]
    assert not StockReservation.objects.filter(order=order, status="pending").exists()
    (authorization,) = Transaction.objects.filter(order=order)
    assert (authorization.type, authorization.status, authorization.error_code) == (
        "authorizations",
        "failed",
        "PAYMENT_DECLINED",
    )
    assert not Transaction.objects.filter(order=order, status="succeeded").exists()
    assert [s.status for s in order.shipments.all()] == ["draft"]
    customer = Customer.objects.get(pk=order.customer_id)
    assert customer.total_orders_count == 0
    events = list(order.events.order_by("id")[events_before:])
    assert [(e.subject_type, e.from_status, e.to_status, e.trigger) for e in events] == [
        ("orders", "pending", "placing", "_place"),
        ("authorizations", "pending", "failed", "_authorize"),
        ("orders", "placing", "pending", "_place"),
    ]
    assert "PAYMENT_DECLINED" in events[-1].message


def test_cancel_after_placement_voids_the_authorization_and_gives_the_stock_back():
    order = services.order_place(order=order_ready(amount_cents=2500), actor=STOREFRONT)
    line = order.line_items.get(item_type="skus")
    item = StockItem.objects.get(sku=line.sku)
    assert stock_item_available(stock_item=item) == item.quantity - 1
    events_before = order.events.count()

    order = services.order_cancel(order=order, actor=STAFF)
    assert statuses(order) == ("cancelled", "voided", "unfulfilled")
    assert order.cancelled_at is not None
    void = Transaction.objects.get(order=order, type="voids")
    assert (void.status, void.amount_cents) == ("succeeded", 2500)
    item.refresh_from_db()
    assert item.quantity == 1000
    assert stock_item_available(stock_item=item) == 1000
    assert not StockReservation.objects.filter(order=order).exists()
    assert [s.status for s in order.shipments.all()] == [Shipment.Status.CANCELLED]
    events = list(order.events.order_by("id")[events_before:])
    assert [(e.subject_type, e.field, e.from_status, e.to_status) for e in events] == [
        ("voids", "status", "pending", "succeeded"),
        ("shipments", "status", "upcoming", "cancelled"),
        ("orders", "status", "placed", "cancelled"),
        ("orders", "payment_status", "authorized", "voided"),
    ]
    assert [(c.operation, c.amount_cents) for c in TestGateway.calls] == [
        ("authorize", 2500),
        ("void", 2500),
    ]


# --- edges of the money triggers ---------------------------------------------------------------


def test_cancelling_a_free_placed_order_needs_no_void():
    order = order_in_status("placed", amount_cents=0)
    assert order.payment_status == "free"
    order = services.order_cancel(order=order, actor=STAFF)
    assert statuses(order) == ("cancelled", "free", "unfulfilled")
    assert not Transaction.objects.filter(order=order).exists()
    assert not StockReservation.objects.filter(order=order).exists()


def test_approve_and_capture_of_a_free_order_approves_it():
    order = order_in_status("placed", amount_cents=0)
    order = services.order_approve_and_capture(order=order, actor=STAFF)
    # free: nothing to capture, and fulfillment may start at approval (2.4)
    assert statuses(order) == ("approved", "free", "in_progress")
    assert not Transaction.objects.filter(order=order).exists()


def auto_capturing_order(**kwargs: Any) -> Order:
    """A ready order whose payment method captures right after authorizing."""
    market = catalog.MarketFactory.create()
    money.PaymentMethodFactory.create(market=market, auto_capture=True)
    return order_ready(market=market, **kwargs)


def test_an_auto_captured_placement_starts_fulfillment():
    order = services.order_place(order=auto_capturing_order(), actor=STOREFRONT)
    assert statuses(order) == ("placed", "paid", "in_progress")
    assert order.events.filter(
        field="fulfillment_status", from_status="unfulfilled", to_status="in_progress"
    ).exists()


def test_approve_and_capture_of_an_auto_captured_order_only_approves():
    order = services.order_place(order=auto_capturing_order(), actor=STOREFRONT)
    order = services.order_approve_and_capture(order=order, actor=STAFF)
    assert statuses(order) == ("approved", "paid", "in_progress")
    assert Transaction.objects.filter(order=order, type="captures").count() == 1


def test_refunding_a_partly_captured_order_voids_the_rest_of_the_authorization():
    order = services.order_approve(order=order_in_status("placed", amount_cents=2000), actor=STAFF)
    authorization = Transaction.objects.get(order=order, type="authorizations")
    services.order_authorization_capture(
        authorization=authorization, amount_cents=1200, actor=STAFF
    )
    order = services.order_refund(order=order, actor=STAFF)
    assert statuses(order) == ("cancelled", "refunded", "unfulfilled")
    assert sorted(
        Transaction.objects.filter(order=order, status="succeeded").values_list(
            "type", "amount_cents"
        )
    ) == [("authorizations", 2000), ("captures", 1200), ("refunds", 1200), ("voids", 800)]
    authorization.refresh_from_db()
    assert authorization.void_balance_cents == 0


def test_a_refund_the_gateway_declines_leaves_the_order_approved_and_paid():
    order = order_in_status("approved", card_token="tok_refund_declined")
    order = services.order_capture(order=order, actor=STAFF)
    with pytest.raises(DomainError) as exc:
        services.order_refund(order=order, actor=STAFF)
    assert exc.value.code == "PAYMENT_DECLINED"
    assert statuses(order) == ("approved", "paid", "in_progress")


def test_a_void_the_gateway_declines_leaves_the_order_placed():
    order = order_in_status("placed", card_token="tok_void_declined")
    with pytest.raises(DomainError) as exc:
        services.order_cancel(order=order, actor=STAFF)
    assert exc.value.code == "PAYMENT_DECLINED"
    assert statuses(order) == ("placed", "authorized", "unfulfilled")
    assert order.stock_reservations.filter(status="pending").count() == 1
    assert [s.status for s in order.shipments.all()] == ["upcoming"]


def test_a_partial_authorization_does_not_place_the_order():
    """Spec 2.2: the authorization must succeed for the recomputed total."""
    from orders.errors import PaymentPartiallyAuthorized
    from orders.services import order_place
    from tests.orders.factories import STOREFRONT, order_ready

    order = order_ready(card_token="tok_partial")
    with pytest.raises(PaymentPartiallyAuthorized) as exc:
        order_place(order=order, actor=STOREFRONT)
    assert exc.value.code == "PAYMENT_PARTIALLY_AUTHORIZED"
    order.refresh_from_db()
    assert order.status == "pending"
    assert order.payment_status in ("unpaid", "voided")
    assert not order.stock_reservations.filter(status="pending").exists()


def test_a_placed_order_with_a_capture_cannot_be_cancelled():
    from orders.errors import OrderPaymentCaptured
    from orders.services import order_authorization_capture, order_cancel, order_place
    from tests.orders.factories import STAFF, STOREFRONT, order_ready

    order = order_place(order=order_ready(), actor=STOREFRONT)
    authorization = order.transactions.get(type="authorizations")
    order_authorization_capture(authorization=authorization, amount_cents=100, actor=STAFF)
    with pytest.raises(OrderPaymentCaptured):
        order_cancel(order=order, actor=STAFF)
    order.refresh_from_db()
    assert order.status == "placed"
    assert not order.transactions.filter(type="voids").exists()


def test_an_order_whose_authorization_was_voided_cannot_be_approved():
    """An order whose authorization was voided (a cancel's void that went through, then a
    crash before the transition) must not be approved: it is left without money."""
    from orders.errors import PaymentInProgress
    from orders.services import order_approve, order_cancel, order_place
    from orders.services.money import order_void_all
    from tests.orders.factories import STAFF, STOREFRONT, order_ready

    order = order_place(order=order_ready(), actor=STOREFRONT)
    order_void_all(order=order, actor=STAFF)
    with pytest.raises(PaymentInProgress):
        order_approve(order=order, actor=STAFF)
    order.refresh_from_db()
    assert order.status == "placed"
    assert order_cancel(order=order, actor=STAFF).status == "cancelled"
