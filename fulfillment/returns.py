"""Returns: the facts and moves of the fulfillment app (spec section 5).

Every function here runs on rows its caller locked, in the caller's transaction: the order
workflow (`orders.services.returns`) locks the order once, then the return, and calls these.
They check what the return itself knows (its status, its lines, the shipped quantities), move
it, and put stock back; they never write an order column or an order status.
"""

from __future__ import annotations

from django.db.models import Q, Sum
from django.utils import timezone
from django_fsm import can_proceed

from fulfillment import errors
from fulfillment.models import (
    Return,
    ReturnLineItem,
    Shipment,
    StockLineItem,
    StockLocation,
)
from fulfillment.services import stock_restock_many
from markets.models import Sku
from oms.actors import Actor
from oms.errors import DomainError, TransitionNotAllowed
from orders.locks import order_held
from orders.models import LineItem, Order

# The triggers that move a return's status, in the order of its life.
RETURN_STATUS_TRIGGERS = ("_request", "_approve", "_cancel", "_ship", "_reject", "_receive")
SHIPPED_STATUSES = (Shipment.Status.SHIPPED, Shipment.Status.DELIVERED)


def _assert_order_locked(order_id: str) -> None:
    assert order_held(order_id) is not None, "lock the return's order first (order_lock)"


def return_stock_location_default(order: Order) -> StockLocation | None:
    """Where a return of `order` goes unless told: the first return location (by priority) of
    the market's inventory model, else the location its first shipment left from."""
    inventory_model_id = order.market.inventory_model_id
    if inventory_model_id is not None:
        location = (
            StockLocation.objects.filter(
                inventory_return_locations__inventory_model_id=inventory_model_id
            )
            .order_by("inventory_return_locations__priority", "pk")
            .first()
        )
        if location is not None:
            return location
    shipment = (
        Shipment.objects.filter(order_id=order.pk, status__in=SHIPPED_STATUSES)
        .select_related("inventory_stock_location__stock_location")
        .order_by("number")
        .first()
    )
    return shipment.stock_location if shipment is not None else None


def return_create(
    *,
    order: Order,
    stock_location: StockLocation | None = None,
    reference_capture_id: str | None = None,
    reference: str = "",
    reference_origin: str = "",
    metadata: dict[str, object] | None = None,
) -> Return:
    """A draft return of the locked, fulfilled `order`, numbered after it (`#1234/R/001`)."""
    _assert_order_locked(order.pk)
    if order.fulfillment_status != Order.FulfillmentStatus.FULFILLED:
        raise errors.ReturnNotAllowed(
            f"Order #{order.number} is {order.fulfillment_status.replace('_', ' ')}: "
            "only fulfilled orders can have returns.",
            pointer="/data/relationships/order",
        )
    count = Return.objects.filter(order_id=order.pk).count()
    ret = Return(
        order=order,
        number=f"{order.number}/R/{count + 1:03d}",
        stock_location=stock_location or return_stock_location_default(order),
        reference_capture_id=reference_capture_id,
        reference=reference,
        reference_origin=reference_origin,
        metadata=metadata or {},
    )
    ret.save()
    return ret


def line_item_shipped_quantity(line_item: LineItem) -> int:
    """Units of the line that left in a shipped (or delivered) shipment."""
    shipped = StockLineItem.objects.filter(
        line_item_id=line_item.pk, shipment__status__in=SHIPPED_STATUSES
    ).aggregate(units=Sum("quantity"))["units"]
    return int(shipped or 0)


def line_item_returnable_quantity(line_item: LineItem, *, besides: str | None = None) -> int:
    """Units of the line still free to return: shipped, less what other returns (that are not
    cancelled or rejected) claim. `besides`: a return line left out of the count (the one
    being changed)."""
    claimed = (
        ReturnLineItem.objects.filter(
            line_item_id=line_item.pk, order_return__status__in=Return.CLAIMING
        )
        .exclude(pk=besides or "")
        .aggregate(units=Sum("quantity"))["units"]
    )
    return line_item_shipped_quantity(line_item) - int(claimed or 0)


def _require_draft(ret: Return, what: str) -> None:
    if ret.status != Return.Status.DRAFT:
        raise errors.ReturnNotEditable(
            f"Return {ret.number} is {ret.status}: its lines can no longer be {what}.",
            pointer="/data/relationships/return",
        )


def return_line_item_save(
    *, ret: Return, line: ReturnLineItem, quantity: int | None = None
) -> ReturnLineItem:
    """Add a line to the locked draft return, or change its quantity: never more units than
    the order line shipped and other returns do not claim."""
    _assert_order_locked(ret.order_id)
    adding = line._state.adding
    _require_draft(ret, "added" if adding else "changed")
    if quantity is not None:
        line.quantity = quantity
    line_item = line.line_item
    if line_item.order_id != ret.order_id or line_item.item_type != LineItem.ItemType.SKUS:
        raise DomainError(
            "A return line must be one of the SKU lines of the return's order.",
            pointer="/data/relationships/line_item",
        )
    if line.quantity is None or line.quantity < 1:
        raise DomainError("Return at least one unit.", pointer="/data/attributes/quantity")
    free = line_item_returnable_quantity(line_item, besides=None if adding else line.pk)
    if line.quantity > free:
        raise errors.ReturnQuantityExceeded(
            f"Only {max(free, 0)} of {line_item.sku_code or line_item.name} can be returned.",
            pointer="/data/attributes/quantity",
        )
    if adding and ReturnLineItem.objects.filter(order_return=ret, line_item=line_item).exists():
        raise DomainError(
            "The return has a line for this line item already: change its quantity.",
            pointer="/data/relationships/line_item",
        )
    line.order_return = ret
    line.save()
    return line


def return_line_item_delete(*, ret: Return, line: ReturnLineItem) -> None:
    _assert_order_locked(ret.order_id)
    _require_draft(ret, "removed")
    line.delete()


def return_fire(*, ret: Return, trigger: str) -> tuple[str, str]:
    """Move the locked return by one of its status triggers. Returns (from, to)."""
    _assert_order_locked(ret.order_id)
    method = getattr(ret, trigger)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            f"Return {ret.number} is {ret.status}: {trigger} is not allowed.",
            pointer=f"/data/attributes/{trigger}",
        )
    if trigger == "_request" and not ret.return_line_items.exists():
        raise errors.ReturnEmpty(
            f"Return {ret.number} has no lines to request.", pointer="/data/attributes/_request"
        )
    from_status = ret.status
    method()
    ret.save()
    return from_status, ret.status


def return_line_items_restock(
    *, ret: Return, lines: list[ReturnLineItem], actor: Actor
) -> list[ReturnLineItem]:
    """Put the lines' units back at the locked return's stock location, each line once.
    `do_not_track` SKUs are marked restocked without counting stock."""
    _assert_order_locked(ret.order_id)
    if ret.status not in Return.RESTOCKABLE:
        raise TransitionNotAllowed(
            f"Return {ret.number} is {ret.status}: _restock is not allowed.",
            pointer="/data/attributes/_restock",
        )
    if ret.stock_location is None:
        raise DomainError(
            f"Return {ret.number} has no stock location to restock at.",
            pointer="/data/relationships/stock_location",
        )
    now = timezone.now()
    done: list[ReturnLineItem] = []
    quantities: dict[Sku, int] = {}
    for line in sorted(lines, key=lambda line: line.pk):
        # the return is locked, so no other restock of it runs; the guard still makes a
        # second restock of a line a refusal, never a second increment
        claimed = ReturnLineItem.objects.filter(
            Q(pk=line.pk, order_return_id=ret.pk, restocked_at__isnull=True)
        ).update(restocked_at=now, updated_at=now)
        if not claimed:
            raise errors.AlreadyRestocked(
                f"{line.quantity} x {line.sku_code} of return {ret.number} were restocked already.",
                pointer="/data/attributes/_restock",
            )
        sku = line.line_item.sku
        if sku is not None and not sku.do_not_track:
            quantities[sku] = quantities.get(sku, 0) + line.quantity
        line.restocked_at = now
        done.append(line)
    # the stock items, locked in pk order after the return (never in the lines' order)
    stock_restock_many(stock_location=ret.stock_location, quantities=quantities, actor=actor)
    return done
