"""Where an order meets payments and fulfillment: the cart's shipments and charge lines, the
payment source, the derived statuses, and the shipment and capture triggers.

The orders app calls into payments and fulfillment (never the reverse). Money moves only
through payments' services, outside any transaction of ours: they reserve, call the gateway
with no lock held, and settle (spec section 4).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from fulfillment.errors import (
    InventoryModelMissing,
    InventoryStrategyNotSupported,
    OutOfStock,
    ShipmentsNotDraft,
)
from fulfillment.models import Shipment, ShippingMethod
from fulfillment.selectors import fulfillment_status_for, shipment_cost
from fulfillment.services import (
    SHIPMENT_TRIGGERS,
    shipment_set_shipping_method,
    shipments_build,
)
from markets.models import Sku
from oms.actors import Actor
from orders.errors import transition_refused
from orders.events import order_change_event
from orders.locks import order_line_items_lock, order_lock
from orders.models import LineItem, Order
from payments import services as payments
from payments.models import (
    ExternalPayment,
    PaymentMethod,
    TestPayment,
    Transaction,
    WireTransfer,
)

PaymentSourceModel = WireTransfer | ExternalPayment | TestPayment
PAYMENT_SOURCE_MODELS = (WireTransfer, ExternalPayment, TestPayment)


def payment_source_of(order: Order) -> PaymentSourceModel | None:
    """The order's payment source: the latest wire transfer, external or test payment made
    for it (a storefront creates one with the order relationship)."""
    sources: list[PaymentSourceModel] = []
    for model in PAYMENT_SOURCE_MODELS:
        source = model._default_manager.filter(order_id=order.pk).order_by("-created_at").first()
        if source is not None:
            sources.append(source)
    return max(sources, key=lambda source: source.created_at) if sources else None


def _shipments_plan(order: Order, actor: Actor) -> list[Shipment]:
    """The cart's draft shipments, rebuilt when its lines changed (kept when the plan did)."""
    if order.market.inventory_model_id is None:
        return []
    try:
        return shipments_build(order=order, actor=actor)
    except (OutOfStock, InventoryStrategyNotSupported):
        # No plan can ship the cart as it is: it has no shipments until one can (`_place`
        # names the missing stock).
        Shipment.objects.filter(order=order, status=Shipment.Status.DRAFT).delete()
        return []
    except (ShipmentsNotDraft, InventoryModelMissing):
        return list(Shipment.objects.filter(order=order).select_related("shipping_method"))


def order_charges_sync(*, order: Order, lines: list[LineItem], actor: Actor) -> list[LineItem]:
    """On a locked cart: plan its shipments and keep exactly one charge line per shipment that
    has a shipping method (its cost, free over the method's threshold) and one for the chosen
    payment method (its fee). Returns the order's lines, charges included."""
    shipments = _shipments_plan(order, actor)
    subtotal = sum(line.unit_amount_cents * line.quantity for line in lines if line.purchasable)
    wanted: dict[tuple[str, str], tuple[str, int]] = {}
    for shipment in shipments:
        method = shipment.shipping_method
        if method is not None:
            cost = shipment_cost(
                shipment=shipment, shipping_method=method, subtotal_amount_cents=subtotal
            )
            wanted[("shipments", shipment.pk)] = (method.name, cost)
    if order.payment_method is not None:
        method_name = order.payment_method.name or order.payment_method.payment_source_type
        wanted[("payment_methods", order.payment_method.pk)] = (
            method_name,
            order.payment_method.price_amount_cents,
        )
    # Charges this sync owns: shipment costs when the market plans shipments, and the fees of
    # payment methods (a charge set by hand for something else is left alone).
    manages_shipments = order.market.inventory_model_id is not None
    method_ids = {line.item_id for line in lines if line.item_type == "payment_methods"}
    known_methods = set(
        PaymentMethod.objects.filter(pk__in=method_ids).values_list("pk", flat=True)
    )
    kept: list[LineItem] = []
    for line in lines:
        key = (line.item_type, line.item_id)
        owned = (line.item_type == "shipments" and manages_shipments) or (
            line.item_type == "payment_methods" and line.item_id in known_methods
        )
        if key in wanted:
            name, amount = wanted.pop(key)
            if line.name != name or line.unit_amount_cents != amount:
                line.name, line.unit_amount_cents = name, amount
                line.total_amount_cents = amount * line.quantity
                line.save(
                    update_fields=["name", "unit_amount_cents", "total_amount_cents", "updated_at"]
                )
            kept.append(line)
        elif owned:
            line.delete()
        else:
            kept.append(line)
    for (item_type, item_id), (name, amount) in wanted.items():
        kept.append(
            LineItem.objects.create(
                order=order,
                item_type=item_type,
                item_id=item_id,
                name=name,
                quantity=1,
                unit_amount_cents=amount,
                total_amount_cents=amount,
                unit_amount_manual=True,
            )
        )
    return kept


def order_fulfillment_status_sync(*, order: Order, actor: Actor, trigger: str) -> None:
    """On a locked order: write the fulfillment status derived from its shipments, lines and
    payment (spec 2.4), with its event, when it moved."""
    order.refresh_from_db(fields=["payment_status", "fulfillment_status", "status"])
    method = order.payment_method
    derived = fulfillment_status_for(
        order=order, payment_requires_capture=method.require_capture if method else True
    )
    if order.status not in (Order.Status.PLACED, Order.Status.APPROVED, Order.Status.CANCELLED):
        return
    if derived == order.fulfillment_status:
        return
    if (
        order.status == Order.Status.CANCELLED
        and order.fulfillment_status != Order.FulfillmentStatus.IN_PROGRESS
    ):
        return  # only a fulfillment under way goes back (spec 2.4)
    before = order.fulfillment_status
    order.fulfillment_status = derived
    order.fulfillment_updated_at = timezone.now()
    order.save(update_fields=["fulfillment_status", "fulfillment_updated_at", "updated_at"])
    order_change_event(
        order=order,
        actor=actor,
        trigger=trigger,
        field="fulfillment_status",
        from_status=before,
        to_status=derived,
    )


def order_statuses_sync(*, order: Order, actor: Actor, trigger: str) -> Order:
    """After money moved: the payment status (payments derives it) and then the fulfillment
    status that follows from it."""
    payments.order_payment_status_refresh(order=order, actor=actor)
    with transaction.atomic():
        locked = order_lock(order.pk)
        order_fulfillment_status_sync(order=locked, actor=actor, trigger=trigger)
    return locked


def order_capture(*, order: Order, actor: Actor, idempotency_key: str | None = None) -> Order:
    """`_capture` on an order: capture every authorization's balance."""
    current = Order.objects.get(pk=order.pk)
    if current.status not in (Order.Status.PLACED, Order.Status.APPROVED):
        raise transition_refused(number=current.number, status=current.status, trigger="_capture")
    failed = [
        txn
        for txn in payments.order_capture_all(
            order=current, actor=actor, idempotency_key=idempotency_key
        )
        if not txn.succeeded
    ]
    locked = order_statuses_sync(order=current, actor=actor, trigger="_capture")
    if failed:
        from payments.errors import PaymentFailed

        raise PaymentFailed(failed[0])
    return locked


def order_authorization_capture(
    *,
    authorization: Transaction,
    amount_cents: int | None = None,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Transaction:
    """`_capture` (`_capture_amount_cents`) of one authorization of an order, then the order's
    statuses that follow: a partial capture makes it partially_paid and its fulfillment
    in_progress (spec 2.4), which payments, not knowing shipments, cannot write itself.
    A declined capture is returned failed, as payments returns it."""
    capture = payments.authorization_capture(
        authorization=authorization,
        amount_cents=amount_cents,
        actor=actor,
        idempotency_key=idempotency_key,
    )
    order_statuses_sync(
        order=Order.objects.get(pk=authorization.order_id), actor=actor, trigger="_capture"
    )
    return capture


def order_authorization_void(
    *, authorization: Transaction, actor: Actor, idempotency_key: str | None = None
) -> Transaction:
    void = payments.authorization_void(
        authorization=authorization, actor=actor, idempotency_key=idempotency_key
    )
    order_statuses_sync(order=authorization.order, actor=actor, trigger="_void")
    return void


def order_capture_refund(
    *,
    capture: Transaction,
    amount_cents: int | None,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Transaction:
    """`_refund` of one capture (partial with an amount), then the order's statuses."""
    refund = payments.capture_refund(
        capture=capture, amount_cents=amount_cents, actor=actor, idempotency_key=idempotency_key
    )
    order_statuses_sync(order=capture.order, actor=actor, trigger="_refund")
    return refund


def order_shipment_shipping_method_set(
    *, shipment: Shipment, shipping_method: ShippingMethod, actor: Actor
) -> Shipment:
    """Choose a shipment's shipping method, and re-price the cart's shipping lines."""
    with transaction.atomic():
        order = order_lock(shipment.order_id)
        shipment = shipment_set_shipping_method(
            shipment=shipment, shipping_method=shipping_method, actor=actor
        )
        if order.status in Order.CART_STATUSES:
            from orders.services.orders import order_contents_changed

            order_contents_changed(order=order, actor=actor, trigger="shipping_method")
    return shipment


def order_shipment_trigger(*, shipment: Shipment, trigger: str, actor: Actor) -> Shipment:
    """A shipment trigger (`_picking`, `_ship`, `_deliver`…), then the order's fulfillment
    status that follows from it."""
    service = SHIPMENT_TRIGGERS[trigger]
    with transaction.atomic():
        order = order_lock(shipment.order_id)
        shipment = service(shipment=shipment, actor=actor)
        order_fulfillment_status_sync(order=order, actor=actor, trigger=trigger)
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
    "order_authorization_capture",
    "order_capture",
    "order_charges_sync",
    "order_fulfillment_status_sync",
    "order_line_items_lock",
    "order_shipment_shipping_method_set",
    "order_shipment_trigger",
    "order_statuses_sync",
    "payment_source_of",
]
