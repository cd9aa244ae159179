"""The row locks of the fulfillment services.

Every service that writes stock or shipments takes its locks in ONE global order, parent before
child, and within a table in primary-key order:

    Order (`orders.locks.order_lock`, once per transaction)  ->  Shipment (pk)  ->  Return (pk)
        ->  StockItem (pk)  ->  StockReservation (pk)

Two transactions that follow the same order can queue on each other but never wait on each other
in a cycle, so they cannot deadlock. A queryset here that joins (`select_related`) locks only its
own table (`of=("self",)`): locking the joined rows too would take them outside this order.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from fulfillment.models import Return, Shipment, StockItem, StockReservation
from orders.locks import order_lock


def _assert_in_transaction() -> None:
    assert transaction.get_connection().in_atomic_block, "row locks need a transaction"


def shipments_lock(order_id: str) -> list[Shipment]:
    """The order's shipments, locked, with their inventory stock location and shipping method
    read in the same statement (placement needs both; only the shipments are locked)."""
    _assert_in_transaction()
    return list(
        Shipment.objects.select_related("inventory_stock_location", "shipping_method")
        .select_for_update(of=("self",))
        .filter(order_id=order_id)
        .order_by("pk")
    )


def shipment_lock(shipment_id: str) -> Shipment:
    """A shipment, locked, with its inventory stock location read in the same statement (the
    methods available for it need it; only the shipment row is locked)."""
    _assert_in_transaction()
    return (
        Shipment.objects.select_related("inventory_stock_location")
        .select_for_update(of=("self",))
        .get(pk=shipment_id)
    )


def return_lock(return_id: str) -> Return:
    """A return, locked (take its order's lock first), with its stock location read in the
    same statement (only the return row is locked)."""
    _assert_in_transaction()
    return (
        Return.objects.select_related("stock_location")
        .select_for_update(of=("self",))
        .get(pk=return_id)
    )


def stock_items_lock(
    stock_item_ids: Iterable[str], *, also: Q | None = None
) -> dict[str, StockItem]:
    """Lock the stock items in primary-key order: a deterministic order, so that concurrent
    placements (or a placement and an approval) touching the same SKUs cannot deadlock.
    PostgreSQL sorts before it locks (`ORDER BY ... FOR UPDATE`), so the order holds. `also`
    adds the items matching a filter (the candidates of a plan), locked in the same statement.

    `FOR NO KEY UPDATE`: what a holder changes is quantities, never the key, so the lock lets
    rows that only point at an item go on being written (a cart's stock lines, whose foreign
    key takes `FOR KEY SHARE` on each item as the cart's transaction commits, in its plan's
    order). With `FOR UPDATE` a placement locking items 1 and 2 and a cart committing lines
    of items 2 and 1 deadlocked (`bench scale`, 4 processes)."""
    _assert_in_transaction()
    ids = sorted(set(stock_item_ids))
    if not ids and also is None:
        return {}
    wanted = Q(pk__in=ids) | also if also is not None else Q(pk__in=ids)
    rows = StockItem.objects.select_for_update(no_key=True).filter(wanted).order_by("pk")
    return {row.pk: row for row in rows}


def stock_reservations_lock(**filters: object) -> list[StockReservation]:
    """Lock reservations (take the stock items' locks first)."""
    _assert_in_transaction()
    return list(StockReservation.objects.select_for_update().filter(**filters).order_by("pk"))


__all__ = [
    "order_lock",
    "return_lock",
    "shipment_lock",
    "shipments_lock",
    "stock_items_lock",
    "stock_reservations_lock",
]
