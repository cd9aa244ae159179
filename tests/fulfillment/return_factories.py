"""Fulfilled orders to return goods from, built through the services as a shop would."""

from __future__ import annotations

from typing import Any

from fulfillment.models import Return, ReturnLineItem
from markets.models import Market
from oms.actors import Actor
from orders import services
from orders.models import LineItem, Order
from orders.services.returns import (
    order_return_create,
    order_return_line_item_create,
    order_return_status_trigger,
)
from tests import factories as catalog
from tests.orders.factories import STAFF, checkout_ready, line_add, order_pending, priced_sku


def order_fulfilled(
    *,
    market: Market | None = None,
    amounts: tuple[int, ...] = (3000,),
    quantity: int = 2,
    customer_email: str | None = None,
) -> Order:
    """An approved, captured order whose every shipment shipped: `quantity` units of one SKU
    line per amount (bought by `customer_email`, else a new buyer)."""
    market = market or catalog.MarketFactory.create()
    order = order_pending(
        market=market, amount_cents=amounts[0], quantity=quantity, customer_email=customer_email
    )
    for amount in amounts[1:]:
        line_add(order, priced_sku(market, amount), quantity)
    order = services.order_update(
        order=order,
        actor=STAFF,
        data={
            "billing_address": catalog.AddressFactory.create(),
            "_shipping_address_same_as_billing": True,
        },
    )
    order = checkout_ready(order)
    order = services.order_place(order=order, actor=STAFF)
    order = services.order_approve(order=order, actor=STAFF)
    order = services.order_capture(order=order, actor=STAFF)
    for shipment in order.shipments.order_by("number"):
        services.order_shipment_ship(shipment=shipment, actor=STAFF)
    order = Order.objects.get(pk=order.pk)
    assert order.fulfillment_status == Order.FulfillmentStatus.FULFILLED
    return order


def sku_lines(order: Order) -> list[LineItem]:
    return list(order.line_items.filter(item_type="skus").order_by("created_at", "pk"))


def return_with_lines(
    order: Order, *, quantity: int = 1, to: str = "draft", actor: Actor = STAFF, **data: Any
) -> Return:
    """A return of `quantity` units of each SKU line of `order`, walked to status `to`."""
    ret = order_return_create(order=order, actor=actor, **data)
    for line in sku_lines(order):
        order_return_line_item_create(ret=ret, line_item=line, quantity=quantity, actor=actor)
    path = {
        "draft": (),
        "requested": ("_request",),
        "approved": ("_request", "_approve"),
        "shipped": ("_request", "_approve", "_ship"),
        "received": ("_request", "_approve", "_ship", "_receive"),
        "rejected": ("_request", "_approve", "_ship", "_reject"),
        "cancelled": ("_cancel",),
    }[to]
    for trigger in path:
        ret = order_return_status_trigger(ret=ret, trigger=trigger, actor=actor)
    return Return.objects.get(pk=ret.pk)


def return_lines(ret: Return) -> list[ReturnLineItem]:
    return list(ret.return_line_items.select_related("line_item").order_by("created_at", "pk"))
