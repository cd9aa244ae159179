"""THE order lock, and the row locks of the orders app, always taken in the same order so that
concurrent workflows queue instead of deadlocking:

    order  →  its line items (by primary key)  →  shipments, stock items, reservations
           →  transactions (authorization before capture)  →  the customer (one F() update)

`order_lock` is the only place an order row is locked, for every app (payments and fulfillment
import it). It locks once per database transaction: a second call inside the same transaction
answers the same locked instance without asking the database again, so a workflow and the
services it calls share one copy of the order (no stale copy can be saved over a fresh one).

The customer is the order's parent by foreign key, yet it is locked last: it is only ever
touched by one-statement counter updates at the end of a placement, and no code path holds a
customer lock while waiting for an order, so no cycle can form.

On SQLite `select_for_update` is a no-op; `IMMEDIATE` transactions serialise writers instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction

from oms.services import atomic_joined
from orders.models import LineItem, Order

# Per connection: order id → (the locked instance, the atomic block it was locked in).
_LOCKED = "_oms_locked_orders"


def _held(order_id: str) -> Order | None:
    connection: Any = transaction.get_connection()
    held: dict[str, tuple[Order, object]] = getattr(connection, _LOCKED, {})
    entry = held.get(order_id)
    if entry is None:
        return None
    order, block = entry
    if any(open_block is block for open_block in connection.atomic_blocks):
        return order
    del held[order_id]  # that transaction (or savepoint) ended: its lock went with it
    return None


def order_held(order_id: str) -> Order | None:
    """The order this transaction locked, if it did (no query)."""
    return _held(order_id)


def order_lock(order_id: str) -> Order:
    """Lock and re-read the order: guards are re-checked on this copy, never on the caller's.
    Inside a transaction that locked it already, the same instance (no second query)."""
    connection: Any = transaction.get_connection()
    assert connection.in_atomic_block, "row locks need a transaction"
    if (held := _held(order_id)) is not None:
        return held
    # of=("self",): lock the order row only, not the market and price list it is read with
    # (they are shared by every order of the market).
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related(
            "market__price_list",
            "market__inventory_model",
            "payment_method__payment_gateway",
            "shipping_address",
            "billing_address",
        )
        .get(pk=order_id)
    )
    if not hasattr(connection, _LOCKED):
        setattr(connection, _LOCKED, {})
    getattr(connection, _LOCKED)[order_id] = (order, connection.atomic_blocks[-1])
    return order


@contextmanager
def order_atomic_joined() -> Iterator[None]:
    """`oms.services.atomic_joined` for a service that locks orders: inside a caller's
    transaction it joins it, with no savepoint, and the orders it locked first are forgotten
    as it ends, as its own savepoint's would be (the rows stay locked until the caller's
    transaction ends; the next `order_lock` reads them again). An order the caller had
    locked stays the caller's one copy."""
    connection: Any = transaction.get_connection()
    # the orders locked before, in a transaction still open (`_held` drops the others)
    before = {order_id for order_id in list(getattr(connection, _LOCKED, {})) if _held(order_id)}
    try:
        with atomic_joined():
            yield
    finally:
        held: dict[str, Any] = getattr(connection, _LOCKED, {})
        for order_id in set(held) - before:
            del held[order_id]


def order_line_items_lock(order: Order) -> list[LineItem]:
    """Lock every line of a locked order, in primary-key order (deterministic, deadlock-free)."""
    return list(
        LineItem.objects.select_for_update(of=("self",))
        .filter(order_id=order.pk)
        .select_related("sku")
        .order_by("pk")
    )


def line_item_lock(*, order: Order, line_item_id: str) -> LineItem:
    """Lock one line of an order already locked by the caller."""
    return LineItem.objects.select_for_update().get(pk=line_item_id, order_id=order.pk)
