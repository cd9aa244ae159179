"""Where an order meets payments and fulfillment: the cart's shipments and charge lines, the
payment source, the derived statuses, and the shipment and capture triggers.

The orders app calls into payments and fulfillment (never the reverse). Money moves only
through payments' services, outside any transaction of ours: they reserve, call the gateway
with no lock held, and settle (spec section 4).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from fulfillment.locks import shipments_lock
from fulfillment.models import Parcel, Shipment, ShippingMethod, UnitOfWeight
from fulfillment.selectors import shipment_weight
from fulfillment.services import (
    SHIPMENT_TRIGGERS,
    parcel_save,
    shipment_set_shipping_method,
)
from markets.models import Sku
from oms.actors import Actor
from oms.errors import TransitionNotAllowed
from orders.events import order_topic_publish_on_commit
from orders.locks import order_lock
from orders.models import LineItem, Order
from orders.services.orders import order_contents_changed
from orders.services.statuses import order_statuses_write
from payments.models import (
    ExternalPayment,
    TestPayment,
    WireTransfer,
)

# The shipment triggers of `order_shipment_trigger`, in the order of a shipment's life (spec
# 5): what the API accepts and the admin offers.
ORDER_SHIPMENT_TRIGGERS = tuple(SHIPMENT_TRIGGERS)

PaymentSourceModel = WireTransfer | ExternalPayment | TestPayment
PAYMENT_SOURCE_MODELS = (WireTransfer, ExternalPayment, TestPayment)


def payment_source_of(order: Order) -> PaymentSourceModel | None:
    """The order's payment source: the latest one made for it (a storefront creates one with
    the order relationship) of the type its payment method takes — one query — else the latest
    of any other type (which placement refuses as a mismatch)."""
    method = order.payment_method
    preferred = [
        m for m in PAYMENT_SOURCE_MODELS if method and m.source_type == method.payment_source_type
    ]
    for models in (preferred, [m for m in PAYMENT_SOURCE_MODELS if m not in preferred]):
        sources = [
            source
            for model in models
            if (
                source := model._default_manager.filter(order_id=order.pk)
                .order_by("-created_at")
                .first()
            )
        ]
        if sources:
            return max(sources, key=lambda source: source.created_at)
    return None


def order_shipment_shipping_method_set(
    *, shipment: Shipment, shipping_method: ShippingMethod, actor: Actor
) -> Shipment:
    """Choose a shipment's shipping method, and re-price the cart's shipping lines."""
    with transaction.atomic():
        order = order_lock(shipment.order_id)
        # the order's shipments locked at once (in pk order, as placement locks them): the
        # one that changes, and the others whose charges the recompute prices with it
        shipments = shipments_lock(order.pk)
        shipment = shipment_set_shipping_method(
            shipment=shipment,
            shipping_method=shipping_method,
            actor=actor,
            locked=next((s for s in shipments if s.pk == shipment.pk), None),
        )
        if order.status in Order.CART_STATUSES:
            # the lines did not change, so neither did the plan (placement plans again with
            # its reservations): only the shipping charges follow the method
            order_contents_changed(
                order=order, actor=actor, trigger="shipping_method", shipments=shipments
            )
    return shipment


def order_shipment_trigger(*, shipment: Shipment, trigger: str, actor: Actor) -> Shipment:
    """A shipment trigger (`_picking`, `_ship`, `_deliver`…), then the order's fulfillment
    status that follows from it (the last shipment to ship fulfils the order)."""
    service = SHIPMENT_TRIGGERS[trigger]
    with transaction.atomic():
        order = order_lock(shipment.order_id)
        shipment = service(shipment=shipment, actor=actor)
        order_statuses_write(order=order, actor=actor, trigger=trigger)
        if order.fulfillment_status == Order.FulfillmentStatus.FULFILLED:
            order_topic_publish_on_commit(order=order, topic="orders.fulfill")
    return shipment


# The steps a shipment still takes to leave, from where it is (`order_shipment_ship`).
_NEXT_STEP = {
    Shipment.Status.UPCOMING: "_picking",
    Shipment.Status.PICKING: "_packing",
    Shipment.Status.PACKING: "_ready_to_ship",
    Shipment.Status.READY_TO_SHIP: "_ship",
}


def order_shipment_ship(*, shipment: Shipment, actor: Actor, tracking_number: str = "") -> Shipment:
    """Ship in one step (the admin's button): a parcel with the carrier's tracking number,
    the shipment's remaining triggers (`_picking` → `_packing` → `_ready_to_ship` → `_ship`,
    each the fulfillment service the API's trigger runs, with its guard and timeline row),
    then the order's fulfillment status, all in one transaction under the order lock."""
    tracking_number = tracking_number.strip()
    with transaction.atomic():
        order = order_lock(shipment.order_id)
        shipment = Shipment.objects.get(pk=shipment.pk)
        if shipment.status not in _NEXT_STEP:
            raise TransitionNotAllowed(
                f"Shipment {shipment.number} is {shipment.get_status_display()}: _ship is not allowed.",
                pointer="/data/attributes/_ship",
            )
        if tracking_number:
            parcel_save(
                parcel=Parcel(
                    shipment=shipment,
                    weight=shipment_weight(shipment=shipment),
                    unit_of_weight=UnitOfWeight.GRAMS,
                    tracking_number=tracking_number,
                ),
                actor=actor,
            )
        while shipment.status in _NEXT_STEP:
            trigger = _NEXT_STEP[Shipment.Status(shipment.status)]
            shipment = SHIPMENT_TRIGGERS[trigger](shipment=shipment, actor=actor)
        order_statuses_write(order=order, actor=actor, trigger="_ship")
        if order.fulfillment_status == Order.FulfillmentStatus.FULFILLED:
            order_topic_publish_on_commit(order=order, topic="orders.fulfill")
    return shipment


def tracked_stock_lines(lines: Sequence[LineItem]) -> list[tuple[LineItem, Sku, int]]:
    """(line, SKU, quantity) for every SKU line: what placement reserves (the fulfillment app
    skips do_not_track SKUs itself)."""
    return [
        (line, line.sku, line.quantity)
        for line in lines
        if line.item_type == LineItem.ItemType.SKUS and line.sku is not None
    ]


__all__ = [
    "ORDER_SHIPMENT_TRIGGERS",
    "order_shipment_ship",
    "order_shipment_shipping_method_set",
    "order_shipment_trigger",
    "payment_source_of",
]
