"""The row locks of the orders app, always taken in the same order so that concurrent
workflows queue instead of deadlocking:

    order  →  its line items (by primary key)  →  the customer (only by a single F() update)

The customer is the order's parent by foreign key, yet it is locked last: it is only ever
touched by one-statement counter updates at the end of a placement, and no code path holds a
customer lock while waiting for an order, so no cycle can form.

On SQLite `select_for_update` is a no-op; `IMMEDIATE` transactions serialise writers instead.
"""

from __future__ import annotations

from orders.models import LineItem, Order


def order_lock(order_id: str) -> Order:
    """Lock and re-read the order: guards are re-checked on this copy, never on the caller's."""
    # of=("self",): lock the order row only, not the market and price list it is read with
    # (they are shared by every order of the market).
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("market__price_list")
        .get(pk=order_id)
    )


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
