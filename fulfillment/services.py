"""Every write of the fulfillment app: stock, reservations, shipments, parcels.

Each state change has the same shape: `transaction.atomic()`, lock the rows (`locks.py`: order,
shipments, stock items, reservations, each in primary-key order), re-check the guard on the
locked rows, change, write the order event, register after-commit notices.

The orders app calls these from its own workflows (place, approve, cancel); this module never
imports orders' services.

Invariant kept here under any concurrency: for every stock item,
    0 <= active reserved units <= quantity.
Every path that adds a reservation or lowers a quantity first locks the stock items involved
and only then reads the reservations, so two writers cannot both spend the same units.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import F, Prefetch, Q, prefetch_related_objects
from django.utils import timezone
from django_fsm import can_proceed

from fulfillment import locks
from fulfillment.errors import (
    FulfillmentNotInProgress,
    InventoryModelMissing,
    InventoryStrategyNotSupported,
    NoShippingMethod,
    OutOfStock,
    ShipmentNotEditable,
    ShipmentsNotDraft,
    ShippingMethodNotAvailable,
    StockAdjustmentInvalid,
    StockBelowReserved,
    TransitionNotAllowed,
)
from fulfillment.events import (
    shipment_status_changed_events,
    stock_changed_notice,
)
from fulfillment.models import (
    InventoryModel,
    InventoryStockLocation,
    Parcel,
    Shipment,
    ShippingMethod,
    StockAdjustment,
    StockItem,
    StockLineItem,
    StockLocation,
    StockReservation,
)
from fulfillment.selectors import (
    expired_reservations,
    inventory_stock_locations,
    reserved_quantities,
    shipping_methods_available,
    shipping_methods_available_for,
    stock_items_with_availability,
    stock_lines_of,
)
from markets.models import Sku
from oms.actors import Actor
from oms.errors import DomainError
from oms.sequences import sequence_next
from oms.services import resource_delete, resource_save
from oms.webhooks.outbox import webhook_deliveries_record
from orders.locks import order_atomic_joined
from orders.models import LineItem, Order, OrderEvent

# --- plain resources ------------------------------------------------------------------------


def stock_location_save(*, stock_location: StockLocation) -> StockLocation:
    """Create or update a stock location; a new one takes the next `number`."""
    with transaction.atomic():
        if stock_location.number is None:
            stock_location.number = sequence_next("stock_location_number")
        return resource_save(stock_location)


def stock_item_save(*, stock_item: StockItem) -> StockItem:
    """Create or update a stock item. Its quantity may never drop below what is reserved on it
    (Commerce Layer's `_validate`, always on): checked on the locked row."""
    stock_item.full_clean()  # a negative quantity is a plain validation error
    with transaction.atomic():
        if stock_item.pk and StockItem.objects.filter(pk=stock_item.pk).exists():
            current = locks.stock_items_lock([stock_item.pk])[stock_item.pk]
            reserved = reserved_quantities(stock_item_ids=[current.pk]).get(current.pk, 0)
            moved = (current.sku_id, current.stock_location_id) != (
                stock_item.sku_id,
                stock_item.stock_location_id,
            )
            if reserved and moved:
                raise StockBelowReserved(
                    f"{reserved} units of this stock item are reserved: it cannot change SKU "
                    "or stock location.",
                    pointer="/data/relationships/sku",
                )
            if stock_item.quantity is not None and stock_item.quantity < reserved:
                raise StockBelowReserved(
                    f"The quantity cannot go below the {reserved} reserved units.",
                    pointer="/data/attributes/quantity",
                )
            saved = resource_save(stock_item)
            if current.quantity != saved.quantity:
                webhook_deliveries_record(events=[("stock_items.update", "stock_items", saved.pk)])
            return saved
        return resource_save(stock_item)


def stock_item_adjust(
    *, stock_item: StockItem, delta: int, reason: str, actor: Actor
) -> StockAdjustment:
    """Move a stock item's quantity by `delta` (a count, a delivery, breakage) and record the
    change with its reason in the stock history, in one transaction on the locked row: two
    adjustments cannot lose each other's units, and the quantity never drops below what is
    reserved (nor below zero)."""
    reason = reason.strip()
    if not reason:
        raise StockAdjustmentInvalid(
            "Say why the stock changes (a count, a delivery, breakage…).",
            pointer="/data/attributes/reason",
        )
    if delta == 0:
        raise StockAdjustmentInvalid(
            "The change must add or remove at least one unit.", pointer="/data/attributes/delta"
        )
    with transaction.atomic():
        current = locks.stock_items_lock([stock_item.pk])[stock_item.pk]
        reserved = reserved_quantities(stock_item_ids=[current.pk]).get(current.pk, 0)
        after = current.quantity + delta
        if after < reserved:
            raise StockBelowReserved(
                f"{current.quantity} in stock, {reserved} reserved: removing {-delta} would "
                f"leave {after}, below what is reserved.",
                pointer="/data/attributes/delta",
            )
        StockItem.objects.filter(pk=current.pk).update(quantity=after, updated_at=timezone.now())
        webhook_deliveries_record(events=[("stock_items.update", "stock_items", current.pk)])
        adjustment = StockAdjustment.objects.create(
            stock_item=current,
            delta=delta,
            quantity_before=current.quantity,
            quantity_after=after,
            reason=reason[:255],
            actor_kind=actor.kind,
            actor_name=actor.name or actor.id or "",
        )
    stock_item.quantity = after
    return adjustment


def parcel_save(*, parcel: Parcel, actor: Actor) -> Parcel:
    """Create or update a parcel of a shipment that is being prepared or has left; a new parcel
    takes the next number of its shipment ("<shipment number>/P/001")."""
    with transaction.atomic():
        shipment = locks.shipment_lock(parcel.shipment_id)
        if shipment.status in (Shipment.Status.DRAFT, Shipment.Status.CANCELLED):
            raise ShipmentNotEditable(
                f"A {shipment.status} shipment cannot have parcels.",
                pointer="/data/relationships/shipment",
            )
        if not parcel.number:
            # one more than the highest so far (under the shipment's lock): a parcel removed
            # before does not make the next one collide with the last
            suffixes = [
                int(tail)
                for number in Parcel.objects.filter(shipment=shipment).values_list(
                    "number", flat=True
                )
                if (tail := number.rsplit("/", 1)[-1]).isdigit()
            ]
            parcel.number = f"{shipment.number}/P/{max(suffixes, default=0) + 1:03d}"
        return resource_save(parcel)


def parcel_delete(*, parcel: Parcel, actor: Actor) -> None:
    """Remove a parcel of a shipment that has not left yet."""
    with transaction.atomic():
        shipment = locks.shipment_lock(parcel.shipment_id)
        if shipment.status in (Shipment.Status.SHIPPED, Shipment.Status.DELIVERED):
            raise ShipmentNotEditable(
                f"A {shipment.status} shipment keeps its parcels.",
                pointer="/data/relationships/shipment",
            )
        resource_delete(parcel)


def shipping_method_disable(*, shipping_method: ShippingMethod) -> ShippingMethod:
    with transaction.atomic():
        locked = ShippingMethod.objects.select_for_update().get(pk=shipping_method.pk)
        if locked.disabled_at is None:
            locked.disabled_at = timezone.now()
            locked.save(update_fields=["disabled_at", "updated_at"])
    return locked


def shipping_method_enable(*, shipping_method: ShippingMethod) -> ShippingMethod:
    with transaction.atomic():
        locked = ShippingMethod.objects.select_for_update().get(pk=shipping_method.pk)
        if locked.disabled_at is not None:
            locked.disabled_at = None
            locked.save(update_fields=["disabled_at", "updated_at"])
    return locked


# --- planning: which stock items serve which lines -------------------------------------------


class StockLine(NamedTuple):
    """A quantity of one SKU that an order line needs (a bundle line gives one per SKU)."""

    line_item: LineItem
    sku: Sku
    quantity: int


@dataclass(frozen=True)
class Allocation:
    line: StockLine
    inventory_stock_location: InventoryStockLocation
    stock_item: StockItem | None  # None for do_not_track SKUs
    quantity: int


@dataclass
class _Stock:
    """The stock a plan may use: stock items of the candidate locations and what is available
    on each to the caller (its own reservations, about to be rewritten, not counted)."""

    locations: list[InventoryStockLocation]
    items: dict[tuple[str, str], StockItem]  # (stock_location_id, sku_id) -> item
    available: dict[str, int]  # stock item pk -> units

    def item(self, location: InventoryStockLocation, sku: Sku) -> StockItem | None:
        return self.items.get((location.stock_location_id, sku.pk))


def _merge_lines(lines: Iterable[tuple[LineItem, Sku, int]]) -> list[StockLine]:
    """One StockLine per (line item, SKU), in first-seen order."""
    merged: dict[tuple[str, str], StockLine] = {}
    for line_item, sku, quantity in lines:
        if quantity <= 0:
            continue
        key = (line_item.pk, sku.pk)
        previous = merged.get(key)
        merged[key] = StockLine(line_item, sku, quantity + (previous.quantity if previous else 0))
    return list(merged.values())


def _inventory_model_of(order: Order) -> InventoryModel:
    market = order.market  # the order lock reads it with its inventory model
    if market.inventory_model is None:
        raise InventoryModelMissing(
            f"Market {market.code} has no inventory model: there is no stock to ship from.",
            pointer="/data/relationships/market",
        )
    return market.inventory_model


def _load_stock(
    *,
    inventory_model: InventoryModel,
    skus: Iterable[Sku],
    own: Q,
    also_lock: Iterable[str] = (),
    lock: bool,
) -> _Stock:
    locations = inventory_stock_locations(inventory_model=inventory_model)
    location_ids = {location.stock_location_id for location in locations}
    sku_ids = {sku.pk for sku in skus}
    candidates = Q(sku_id__in=sku_ids, stock_location_id__in=location_ids)
    # the candidates and the caller's own items (`also_lock`: ids, or a query of them, read in
    # the same statement), locked in one statement
    wanted = candidates | Q(pk__in=also_lock)
    if lock:
        rows = locks.stock_items_lock((), also=wanted)
        # Read the reservations only now, after the locks: every reservation committed by an
        # earlier holder of these locks is visible to this statement.
        reserved = reserved_quantities(stock_item_ids=rows.keys(), exclude=own)
    else:
        # a plan holds nothing: the items and what is reserved of them in one statement
        rows = {
            row.pk: row
            for row in stock_items_with_availability(StockItem.objects.filter(wanted), exclude=own)
        }
        reserved = {pk: row.reserved for pk, row in rows.items()}  # type: ignore[attr-defined]
    candidate_ids = {
        pk
        for pk, row in rows.items()
        if row.sku_id in sku_ids and row.stock_location_id in location_ids
    }
    return _Stock(
        locations=locations,
        items={
            (row.stock_location_id, row.sku_id): row
            for row in rows.values()
            if row.pk in candidate_ids
        },
        available={pk: row.quantity - reserved.get(pk, 0) for pk, row in rows.items()},
    )


def _out_of_stock(line: StockLine) -> OutOfStock:
    return OutOfStock(
        f"Not enough stock of {line.sku.code} for line item {line.line_item.pk} "
        f"({line.quantity} requested).",
        line_item_id=line.line_item.pk,
        sku_code=line.sku.code,
    )


def _no_split_shortage(lines: list[StockLine], stock: _Stock) -> OutOfStock:
    """Which line to blame when no single location has everything: the first whose SKU no
    location has enough of; failing that, the first the primary location runs out on."""
    demand: dict[str, int] = defaultdict(int)
    for line in lines:
        demand[line.sku.pk] += line.quantity
    for line in lines:
        best = max(
            (
                stock.available[item.pk]
                for location in stock.locations
                if (item := stock.item(location, line.sku)) is not None
            ),
            default=0,
        )
        if demand[line.sku.pk] > best:
            return _out_of_stock(line)
    used: dict[str, int] = defaultdict(int)
    for line in lines:
        used[line.sku.pk] += line.quantity
        item = stock.item(stock.locations[0], line.sku)
        if item is None or used[line.sku.pk] > stock.available[item.pk]:
            return _out_of_stock(line)
    return _out_of_stock(lines[0])


def _covers(location: InventoryStockLocation, lines: list[StockLine], stock: _Stock) -> bool:
    demand: dict[str, int] = defaultdict(int)
    for line in lines:
        demand[line.sku.pk] += line.quantity
    for line in lines:
        item = stock.item(location, line.sku)
        if item is None or demand[line.sku.pk] > stock.available[item.pk]:
            return False
    return True


def _split(lines: list[StockLine], stock: _Stock) -> list[Allocation]:
    """Each tracked line from the locations in priority order, as much as each one has."""
    left = dict(stock.available)
    allocations = []
    for line in lines:
        if line.sku.do_not_track:
            allocations.append(Allocation(line, stock.locations[0], None, line.quantity))
            continue
        remaining = line.quantity
        for location in stock.locations:
            item = stock.item(location, line.sku)
            take = min(remaining, left[item.pk]) if item is not None else 0
            if item is None or take <= 0:
                continue
            allocations.append(Allocation(line, location, item, take))
            left[item.pk] -= take
            remaining -= take
            if remaining == 0:
                break
        if remaining:
            raise _out_of_stock(line)
    return allocations


def _plan(*, strategy: str, lines: list[StockLine], stock: _Stock) -> list[Allocation]:
    """Where each line's units come from, by the inventory model's strategy."""
    if not stock.locations:
        raise _out_of_stock(lines[0])
    tracked = [line for line in lines if not line.sku.do_not_track]
    if strategy == InventoryModel.Strategy.NO_SPLIT:
        for location in stock.locations:
            if _covers(location, tracked, stock):
                return [
                    Allocation(
                        line,
                        location,
                        None if line.sku.do_not_track else stock.item(location, line.sku),
                        line.quantity,
                    )
                    for line in lines
                ]
        raise _no_split_shortage(tracked, stock)
    if strategy == InventoryModel.Strategy.SPLIT_SHIPMENTS:
        return _split(lines, stock)
    raise InventoryStrategyNotSupported(
        f"The inventory strategy {strategy!r} is not supported yet: use no_split or "
        "split_shipments.",
        pointer="/data/attributes/strategy",
    )


def _rewrite_reservations(
    *,
    own: list[StockReservation],
    allocations: Iterable[Allocation],
    order: Order,
    status: str,
    expires_at: datetime | None,
) -> list[StockReservation]:
    """Make the caller's reservations exactly the plan: update those that stay, delete the
    rest, create the missing ones. The caller holds the stock items' locks."""
    wanted: dict[tuple[str, str], tuple[Allocation, int]] = {}
    for allocation in allocations:
        if allocation.stock_item is None:
            continue
        key = (allocation.line.line_item.pk, allocation.stock_item.pk)
        previous = wanted.get(key)
        wanted[key] = (allocation, allocation.quantity + (previous[1] if previous else 0))
    kept: list[StockReservation] = []
    for reservation in own:
        key = (reservation.line_item_id or "", reservation.stock_item_id)
        if key not in wanted:
            reservation.delete()
            continue
        _, quantity = wanted.pop(key)
        reservation.status = status
        reservation.quantity = quantity
        reservation.expires_at = expires_at
        reservation.order = order
        reservation.save(update_fields=["status", "quantity", "expires_at", "order", "updated_at"])
        kept.append(reservation)
    created = [
        StockReservation(
            status=status,
            stock_item=allocation.stock_item,
            line_item=allocation.line.line_item,
            order=order,
            quantity=quantity,
            expires_at=expires_at,
        )
        for allocation, quantity in wanted.values()
        if allocation.stock_item is not None
    ]
    StockReservation.objects.bulk_create(created)
    return kept + created


# --- reservations ---------------------------------------------------------------------------


def stock_reserve_draft(*, line_item: LineItem, actor: Actor) -> list[StockReservation]:
    """The `_reserve_stock` trigger of a line item: hold its SKU's units as draft
    reservations that expire after the inventory model's `stock_reservation_cutoff` (renewed
    when sent again). Split across the model's locations in priority order when no single one
    has enough. A do_not_track SKU needs none; a line whose order is placed keeps its pending
    reservations. Raises OutOfStock and reserves nothing when the units are not there."""
    with transaction.atomic():
        order = locks.order_lock(line_item.order_id)
        line = LineItem.objects.select_related("sku").get(pk=line_item.pk)
        if line.sku is None or line.sku.do_not_track:
            return []
        model = _inventory_model_of(order)
        existing_ids = StockReservation.objects.filter(line_item=line).values_list(
            "stock_item_id", flat=True
        )
        stock = _load_stock(
            inventory_model=model,
            skus=[line.sku],
            own=Q(line_item=line),
            also_lock=existing_ids,
            lock=True,
        )
        own = locks.stock_reservations_lock(line_item=line)
        if any(r.status == StockReservation.Status.PENDING for r in own):
            return own
        wanted = StockLine(line, line.sku, line.quantity)
        try:
            if not stock.locations:
                raise _out_of_stock(wanted)
            allocations = _split([wanted], stock)
        except OutOfStock as exc:
            exc.pointer = "/data/attributes/quantity"
            raise
        reservations = _rewrite_reservations(
            own=own,
            allocations=allocations,
            order=order,
            status=StockReservation.Status.DRAFT,
            expires_at=timezone.now() + timedelta(seconds=model.stock_reservation_cutoff),
        )
        transaction.on_commit(
            partial(
                stock_changed_notice,
                what="reserved (draft)",
                order_id=order.pk,
                units=line.quantity,
                actor=actor,
            )
        )
        return reservations


def stock_reserve_for_placement(
    *, order: Order, lines: Sequence[tuple[LineItem, Sku, int]], actor: Actor
) -> list[StockReservation]:
    """Reserve the stock of an order being placed, all or nothing.

    `lines` are (line item, SKU, quantity) for what the order buys; do_not_track SKUs are
    skipped. The stock items are chosen by the inventory model's strategy, the order's draft
    reservations become pending (moved if the plan ships from elsewhere), missing ones are
    created pending, stale ones are deleted. Raises OutOfStock naming the first line that
    cannot be served; then nothing changes. Idempotent: placing the same lines twice leaves the
    same reservations."""
    with transaction.atomic():
        order = locks.order_lock(order.pk)
        wanted = [line for line in _merge_lines(lines) if not line.sku.do_not_track]
        allocations = _reserve_pending(order=order, lines=wanted, actor=actor)
        return list(StockReservation.objects.filter(order=order)) if allocations else []


def _reserve_pending(*, order: Order, lines: list[StockLine], actor: Actor) -> list[Allocation]:
    """On the locked order: plan `lines` by the inventory model's strategy and make the order's
    reservations exactly that plan, pending (all or nothing; OutOfStock names the first line
    that cannot be served). No lines: every reservation of the order goes. Returns the plan."""
    existing_ids = StockReservation.objects.filter(order=order).values_list(
        "stock_item_id", flat=True
    )
    if not lines:
        locks.stock_items_lock(existing_ids)
        StockReservation.objects.filter(order=order).delete()
        return []
    model = _inventory_model_of(order)
    # Locks the stock items of every candidate location (and of the order's current
    # reservations) in primary-key order, before reading any reservation.
    stock = _load_stock(
        inventory_model=model,
        skus=[line.sku for line in lines],
        own=Q(order=order),
        also_lock=existing_ids,
        lock=True,
    )
    allocations = _plan(strategy=model.strategy, lines=lines, stock=stock)
    reservations = _rewrite_reservations(
        own=locks.stock_reservations_lock(order=order),
        allocations=allocations,
        order=order,
        status=StockReservation.Status.PENDING,
        expires_at=None,
    )
    transaction.on_commit(
        partial(
            stock_changed_notice,
            what="reserved",
            order_id=order.pk,
            units=sum(r.quantity for r in reservations),
            actor=actor,
        )
    )
    return allocations


def stock_release(*, order: Order, actor: Actor) -> int:
    """Give back everything reserved for an order (cancellation before approval, or an
    abandoned cart). Returns the units released."""
    with transaction.atomic():
        order = locks.order_lock(order.pk)
        locks.stock_items_lock(
            StockReservation.objects.filter(order=order).values_list("stock_item_id", flat=True)
        )
        own = locks.stock_reservations_lock(order=order)
        units = sum(r.quantity for r in own)
        StockReservation.objects.filter(pk__in=[r.pk for r in own]).delete()
        transaction.on_commit(
            partial(
                stock_changed_notice, what="released", order_id=order.pk, units=units, actor=actor
            )
        )
        return units


def stock_reservations_expired_delete(*, order_id: str | None, now: datetime, actor: Actor) -> int:
    """Delete the expired draft reservations of one order (`None`: those of no order). They
    no longer count as reserved; deleting them only tidies up. The order is locked first, as
    by every stock writer, so a reservation renewed meanwhile (`_reserve_stock` sent again)
    is seen renewed and kept. Returns how many reservations went."""
    with transaction.atomic():
        if order_id is not None:
            locks.order_lock(order_id)
        expired = expired_reservations(now).filter(order_id=order_id)
        locks.stock_items_lock(expired.values_list("stock_item_id", flat=True))
        gone = [
            reservation
            for reservation in locks.stock_reservations_lock(
                pk__in=list(expired.values_list("pk", flat=True))
            )
            if not reservation.is_active(now)
        ]
        StockReservation.objects.filter(pk__in=[r.pk for r in gone]).delete()
        if gone:
            transaction.on_commit(
                partial(
                    stock_changed_notice,
                    what="released (expired draft)",
                    order_id=order_id or "-",
                    units=sum(r.quantity for r in gone),
                    actor=actor,
                )
            )
    return len(gone)


def _decrement(reservations: list[StockReservation]) -> int:
    """Take reserved units out of their stock items and delete the reservations. The caller
    holds the stock items' locks. Keeps quantity >= reserved: both drop by the same units."""
    per_item: dict[str, int] = defaultdict(int)
    for reservation in reservations:
        per_item[reservation.stock_item_id] += reservation.quantity
    for stock_item_id in sorted(per_item):
        StockItem.objects.filter(pk=stock_item_id).update(
            quantity=F("quantity") - per_item[stock_item_id], updated_at=timezone.now()
        )
    StockReservation.objects.filter(pk__in=[r.pk for r in reservations]).delete()
    return sum(per_item.values())


def stock_decrement_for_approval(*, order: Order, actor: Actor) -> int:
    """At approval, take the order's pending reservations out of stock and delete them.

    With the inventory model's `manual_stock_decrement` (as Commerce Layer) nothing happens
    here: the reservations stay pending until the merchant decrements (`shipment_decrement_stock`)
    or releases (`shipment_release_stock`) them per shipment. Returns the units decremented."""
    with transaction.atomic():
        order = locks.order_lock(order.pk)
        if _inventory_model_of(order).manual_stock_decrement:
            return 0
        pending = StockReservation.objects.filter(
            order=order, status=StockReservation.Status.PENDING
        )
        locks.stock_items_lock(pending.values_list("stock_item_id", flat=True))
        units = _decrement(
            locks.stock_reservations_lock(order=order, status=StockReservation.Status.PENDING)
        )
        transaction.on_commit(
            partial(
                stock_changed_notice,
                what="decremented",
                order_id=order.pk,
                units=units,
                actor=actor,
            )
        )
        return units


def stock_restock(
    *, sku: Sku, stock_location: StockLocation, quantity: int, actor: Actor
) -> StockItem:
    """Put units back on the shelf: the stock item of the SKU at that location grows by
    `quantity`, created if it did not exist."""
    return stock_restock_many(
        stock_location=stock_location, quantities={sku: quantity}, actor=actor
    )[sku.pk]


def stock_restock_many(
    *, stock_location: StockLocation, quantities: dict[Sku, int], actor: Actor
) -> dict[str, StockItem]:
    """Put units of several SKUs back at one location (a received return's `_restock`): each
    SKU's stock item grows by its quantity, created first if the location did not stock it,
    and all are locked in primary-key order (the global order of `fulfillment.locks`), so two
    restocks sharing SKUs queue instead of deadlocking. Returns the items by SKU id."""
    if any(quantity < 1 for quantity in quantities.values()):
        raise DomainError("Restock at least one unit.", pointer="/data/attributes/quantity")
    if not quantities:
        return {}
    with transaction.atomic():
        skus = {sku.pk: sku for sku in quantities}
        existing = set(
            StockItem.objects.filter(stock_location=stock_location, sku_id__in=skus).values_list(
                "sku_id", flat=True
            )
        )
        for sku_id in sorted(set(skus) - existing):
            try:
                with transaction.atomic():
                    StockItem.objects.create(
                        sku=skus[sku_id], stock_location=stock_location, quantity=0
                    )
            except IntegrityError:
                pass  # created meanwhile by another restock; its row lock queues us below
        ids = StockItem.objects.filter(stock_location=stock_location, sku_id__in=skus).values_list(
            "pk", flat=True
        )
        items = locks.stock_items_lock(ids)
        now = timezone.now()
        by_sku = {item.sku_id: item for item in items.values()}
        for item in items.values():  # pk order
            StockItem.objects.filter(pk=item.pk).update(
                quantity=F("quantity") + quantities[skus[item.sku_id]], updated_at=now
            )
            item.quantity += quantities[skus[item.sku_id]]
        units = sum(quantities.values())
        transaction.on_commit(
            partial(stock_changed_notice, what="restocked", order_id="-", units=units, actor=actor)
        )
        return by_sku


# --- shipments ------------------------------------------------------------------------------


def _shippable_lines(order: Order) -> list[StockLine]:
    line_items = LineItem.objects.filter(
        order=order, item_type=LineItem.ItemType.SKUS, sku__isnull=False
    ).select_related("sku")
    return [StockLine(line, line.sku, line.quantity) for line in line_items if line.sku]


def _shipment_plan_key(
    groups: dict[tuple[str, str | None], list[Allocation]],
) -> set[tuple[str, str | None, frozenset[tuple[str, str, str | None, int]]]]:
    return {
        (
            location_id,
            category_id,
            frozenset(
                (
                    a.line.line_item.pk,
                    a.line.sku.pk,
                    a.stock_item.pk if a.stock_item else None,
                    a.quantity,
                )
                for a in allocations
            ),
        )
        for (location_id, category_id), allocations in groups.items()
    }


def _existing_plan_key(
    shipments: list[Shipment],
) -> set[tuple[str, str | None, frozenset[tuple[str, str, str | None, int]]]]:
    lines_of = stock_lines_of(shipments)  # as prefetched (placement), else in one query
    return {
        (
            shipment.inventory_stock_location_id,
            shipment.shipping_category_id,
            frozenset(
                (line.line_item_id or "", line.sku_id, line.stock_item_id, line.quantity)
                for line in lines_of.get(shipment.pk, [])
            ),
        )
        for shipment in shipments
    }


def shipments_build(
    *,
    order: Order,
    actor: Actor,
    lines: Sequence[tuple[LineItem, Sku, int]] | None = None,
) -> list[Shipment]:
    """Plan an order's shipments from its market's inventory model: with `no_split`, everything
    from the first location (by priority) that has it all; with `split_shipments`, each line
    from locations in priority order. One draft shipment per stock location and shipping
    category, with its stock line items; do_not_ship SKUs are left out.

    `lines` defaults to the order's SKU line items. Idempotent: when the plan is unchanged the
    existing draft shipments are returned untouched; otherwise they are replaced, and a new
    shipment keeps the shipping method of the one it replaces if that method still serves it.
    Raises ShipmentsNotDraft once a shipment has left draft, OutOfStock when nothing can ship,
    each before anything is written (`shipments_replan` answers them for the recompute)."""
    with order_atomic_joined():
        return _shipments_build(order=order, lines=lines)


def shipments_replan(
    *, order: Order, actor: Actor, lines: Sequence[tuple[LineItem, Sku, int]]
) -> list[Shipment]:
    """The recompute's plan of a cart's shipments (`shipments_build`), never refused: a cart
    no plan can ship has no draft shipments until one can (`_place` names the missing stock),
    and shipments that have left draft, or an order whose market has no inventory model, keep
    what they have. The refusals are answered inside this block, before anything is written,
    so the caller's transaction goes on."""
    with order_atomic_joined():
        try:
            return _shipments_build(order=order, lines=lines)
        except (OutOfStock, InventoryStrategyNotSupported):
            Shipment.objects.filter(order=order, status=Shipment.Status.DRAFT).delete()
            return []
        except (ShipmentsNotDraft, InventoryModelMissing):
            return list(Shipment.objects.filter(order=order).select_related("shipping_method"))


def _shipments_build(
    *, order: Order, lines: Sequence[tuple[LineItem, Sku, int]] | None
) -> list[Shipment]:
    order = locks.order_lock(order.pk)
    existing = locks.shipments_lock(order.pk)
    if any(shipment.status != Shipment.Status.DRAFT for shipment in existing):
        raise ShipmentsNotDraft(
            f"Order {order.number}'s shipments have left draft and cannot be rebuilt.",
            pointer="/data/relationships/shipments",
        )
    shippable = [
        line
        for line in _merge_lines(lines if lines is not None else _shippable_lines(order))
        if not line.sku.do_not_ship
    ]
    if not shippable:
        Shipment.objects.filter(pk__in=[s.pk for s in existing]).delete()
        return []
    model = _inventory_model_of(order)
    # Planning reads availability without locking: shipments hold no stock, the
    # reservations (taken under lock at placement) do.
    stock = _load_stock(
        inventory_model=model,
        skus=[line.sku for line in shippable],
        own=Q(order=order),
        lock=False,
    )
    allocations = _plan(strategy=model.strategy, lines=shippable, stock=stock)
    return _shipments_write(order=order, existing=existing, allocations=allocations)


def _shipments_write(
    *, order: Order, existing: list[Shipment], allocations: Sequence[Allocation]
) -> list[Shipment]:
    """Make the order's draft shipments exactly the plan: one per stock location and shipping
    category. Unchanged plans keep their shipments; a cart's draft shipment whose location
    and category the new plan still has is kept (its id, number and shipping method, while
    that method still serves it) with the plan's stock lines; any other new shipment keeps the
    shipping method of the one it replaces if that method still serves it."""
    for shipment in existing:
        # the caller's order, as it is now: its changed fields (an address, say) may be saved
        # only after the plan, with its totals, and a kept shipment's methods go by them
        shipment.order = order
    groups: dict[tuple[str, str | None], list[Allocation]] = {}
    locations: dict[str, InventoryStockLocation] = {}
    for allocation in allocations:
        location = allocation.inventory_stock_location
        locations[location.pk] = location
        key = (location.pk, allocation.line.sku.shipping_category_id)
        groups.setdefault(key, []).append(allocation)
    if existing and _existing_plan_key(existing) == _shipment_plan_key(groups):
        # Locked in pk order (random ids); handed back in plan order, as a rebuild does.
        return sorted(existing, key=lambda shipment: shipment.number)
    previous_methods = {
        (
            s.inventory_stock_location.stock_location_id,
            s.shipping_category_id,
        ): s.shipping_method
        for s in existing
        if s.shipping_method_id is not None
    }
    kept: dict[tuple[str, str | None], Shipment] = {}
    if all(s.status == Shipment.Status.DRAFT for s in existing):  # a cart's (no parcels)
        for shipment in existing:
            kept_key = (shipment.inventory_stock_location_id, shipment.shipping_category_id)
            if kept_key in groups:
                kept.setdefault(kept_key, shipment)
    kept_ids = {shipment.pk for shipment in kept.values()}
    if gone := [s.pk for s in existing if s.pk not in kept_ids]:
        Shipment.objects.filter(pk__in=gone).delete()
    if kept_ids:
        StockLineItem.objects.filter(shipment_id__in=kept_ids).delete()
    taken = {shipment.number for shipment in kept.values()}
    free = (
        number
        for index in range(1, len(existing) + len(groups) + 1)
        if (number := f"{order.number}/S/{index:03d}") not in taken
    )
    shipments: list[Shipment] = []
    for location_id, category_id in groups:
        shipment = kept.get((location_id, category_id)) or Shipment.objects.create(
            order=order,
            number=next(free),
            inventory_stock_location=locations[location_id],
            shipping_category_id=category_id,
        )
        shipments.append(shipment)
    StockLineItem.objects.bulk_create(  # every shipment's lines in one INSERT
        StockLineItem(
            shipment=shipment,
            line_item=allocation.line.line_item,
            stock_item=allocation.stock_item,
            sku=allocation.line.sku,
            quantity=allocation.quantity,
        )
        for shipment, group in zip(shipments, groups.values(), strict=True)
        for allocation in group
    )
    for shipment in shipments:
        if shipment.pk in kept_ids:
            _prefetched_stock_lines_forget(shipment)
            method = shipment.shipping_method if shipment.shipping_method_id else None
        else:
            location = shipment.inventory_stock_location
            method = previous_methods.get(
                (location.stock_location_id, shipment.shipping_category_id)
            )
        if method is None:
            continue
        available = method.pk in {m.pk for m in shipping_methods_available(shipment=shipment)}
        if available and shipment.shipping_method_id != method.pk:
            shipment.shipping_method = method
            shipment.save(update_fields=["shipping_method", "updated_at"])
        elif not available and shipment.pk in kept_ids:
            shipment.shipping_method = None  # no longer serves what the shipment carries
            shipment.save(update_fields=["shipping_method", "updated_at"])
    return shipments


def _prefetched_stock_lines_forget(shipment: Shipment) -> None:
    """A kept shipment's stock lines were rewritten: what was prefetched of them is stale."""
    cache = getattr(shipment, "_prefetched_objects_cache", {})
    cache.pop("stock_line_items", None)


def stock_and_shipments_plan(
    *, order: Order, lines: Sequence[tuple[LineItem, Sku, int]], actor: Actor
) -> list[Shipment]:
    """Placement's (and a post-placement edit's) one stock plan: the order's stock is reserved
    (pending, all or nothing) and its shipments are laid out from the same allocation, so the
    reserved stock items are exactly the ones its shipments ship from.

    The caller holds the order lock. Shipments that have left draft are not re-planned (an
    edited order keeps them: `ShipmentsNotDraft`). Raises OutOfStock naming the first line that
    cannot be served; then nothing changes. Returns the shipments."""
    order = locks.order_lock(order.pk)
    stock_lines = [
        line
        for line in _merge_lines(lines)
        if not (line.sku.do_not_track and line.sku.do_not_ship)  # nothing to hold or send
    ]
    existing = locks.shipments_lock(order.pk)
    movable = [s for s in existing if s.status in (Shipment.Status.DRAFT, Shipment.Status.UPCOMING)]
    if len(movable) != len([s for s in existing if s.status != Shipment.Status.CANCELLED]):
        raise ShipmentsNotDraft(
            f"Order {order.number}'s shipments are being fulfilled and cannot be re-planned.",
            pointer="/data/relationships/shipments",
        )
    # their stock lines read once, with their SKUs, for the plan's check and the placement's
    # shipping-method check (kept on these shipments, in this transaction only)
    prefetch_related_objects(
        movable, Prefetch("stock_line_items", queryset=StockLineItem.objects.select_related("sku"))
    )
    allocations = _reserve_pending(order=order, lines=stock_lines, actor=actor)
    if not allocations:
        Shipment.objects.filter(pk__in=[s.pk for s in movable]).delete()
        return []
    shipments = _shipments_write(
        order=order,
        existing=movable,
        allocations=[a for a in allocations if not a.line.sku.do_not_ship],
    )
    return shipments


EDITABLE_SHIPMENT_STATUSES = frozenset(
    {Shipment.Status.DRAFT, Shipment.Status.UPCOMING, Shipment.Status.ON_HOLD}
)


def shipment_set_shipping_method(
    *,
    shipment: Shipment,
    shipping_method: ShippingMethod,
    actor: Actor,
    locked: Shipment | None = None,
) -> Shipment:
    """Choose how a shipment travels; only a method available for it is accepted, and only
    before picking starts. `locked`: the shipment, when the caller locked it already (with
    its order's other shipments)."""
    with order_atomic_joined():
        order = locks.order_lock(shipment.order_id)
        if locked is None:
            locked = locks.shipment_lock(shipment.pk)
        locked.order = order  # locked, with the shipping address the methods are matched to
        # what it carries (the methods' weight limits), read under the lock and kept on it
        prefetch_related_objects(
            [locked],
            Prefetch("stock_line_items", queryset=StockLineItem.objects.select_related("sku")),
        )
        if locked.status not in EDITABLE_SHIPMENT_STATUSES:
            raise ShipmentNotEditable(
                f"A {locked.status} shipment cannot change its shipping method.",
                pointer="/data/relationships/shipping_method",
            )
        if shipping_method.pk not in {m.pk for m in shipping_methods_available(shipment=locked)}:
            raise ShippingMethodNotAvailable(
                f"{shipping_method.name} does not serve shipment {locked.number}.",
                pointer="/data/relationships/shipping_method",
            )
        locked.shipping_method = shipping_method
        locked.save(update_fields=["shipping_method", "updated_at"])
        return locked


def shipments_check_shipping_methods(
    *, order: Order, shipments: Sequence[Shipment] | None = None
) -> None:
    """What `_place` requires of shipments: each non-cancelled one has a shipping method that
    is still available for it. Raises NoShippingMethod naming the first that has not."""
    if shipments is None:
        shipments = list(
            Shipment.objects.filter(order=order).exclude(status=Shipment.Status.CANCELLED)
        )
    available = shipping_methods_available_for(order=order, shipments=shipments, with_tiers=False)
    for shipment in shipments:
        if shipment.status == Shipment.Status.CANCELLED:
            continue
        ids = {method.pk for method in available[shipment.pk]}
        if shipment.shipping_method_id is None or shipment.shipping_method_id not in ids:
            raise NoShippingMethod(
                f"Shipment {shipment.number} needs an available shipping method.",
                pointer=f"/data/relationships/shipments/{shipment.pk}/shipping_method",
            )


def _fire(*, order: Order, shipment: Shipment, trigger: str, actor: Actor) -> None:
    """Run one trigger on a locked shipment of a locked order: guard, transition, event."""
    method = getattr(shipment, trigger)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            f"Shipment {shipment.number} is {shipment.status}: {trigger} is not allowed.",
            pointer=f"/data/attributes/{trigger}",
        )
    allowed = {Order.FulfillmentStatus.IN_PROGRESS}
    if trigger == "_deliver":
        # The last shipment to ship makes the order fulfilled (spec 2.4); it is still
        # delivered afterwards.
        allowed.add(Order.FulfillmentStatus.FULFILLED)
    if trigger in Shipment.TRIGGERS_NEEDING_FULFILLMENT and order.fulfillment_status not in allowed:
        raise FulfillmentNotInProgress(
            f"Order {order.number}'s fulfillment is {order.fulfillment_status}: {trigger} needs "
            "it in progress.",
            pointer=f"/data/attributes/{trigger}",
        )
    from_status = shipment.status
    method()
    shipment.save()
    shipment_status_changed_events(
        moves=[(shipment, trigger, from_status, shipment.status)], actor=actor
    )


def _shipment_trigger(*, shipment: Shipment, trigger: str, actor: Actor) -> Shipment:
    with transaction.atomic():
        order = locks.order_lock(shipment.order_id)
        locked = locks.shipment_lock(shipment.pk)
        _fire(order=order, shipment=locked, trigger=trigger, actor=actor)
        return locked


def shipment_upcoming(*, shipment: Shipment, actor: Actor) -> Shipment:
    """`_upcoming`: draft -> upcoming (at placement), or back from on hold if it was held while
    upcoming. A shipment from an `on_hold` inventory stock location (back-orders, pre-orders)
    goes on hold right after becoming upcoming, as Commerce Layer does."""
    with transaction.atomic():
        order = locks.order_lock(shipment.order_id)
        locked = locks.shipment_lock(shipment.pk)
        was_draft = locked.status == Shipment.Status.DRAFT
        _fire(order=order, shipment=locked, trigger="_upcoming", actor=actor)
        if (
            was_draft
            and InventoryStockLocation.objects.filter(
                pk=locked.inventory_stock_location_id, on_hold=True
            ).exists()
        ):
            _fire(order=order, shipment=locked, trigger="_on_hold", actor=actor)
        return locked


def shipments_upcoming(*, order: Order, actor: Actor) -> tuple[list[Shipment], list[OrderEvent]]:
    """At placement, on the locked order: every draft shipment becomes upcoming (and goes on
    hold when its inventory stock location is `on_hold`), in a constant number of reads.
    Returns every shipment of the order, as they are now, and the timeline rows of the moves,
    built for the placement to record with its own."""
    order = locks.order_lock(order.pk)
    shipments = locks.shipments_lock(order.pk)
    drafts = [s for s in shipments if s.status == Shipment.Status.DRAFT]
    moves: list[tuple[Shipment, str, str, str]] = []
    tracked = [f.attname for f in Shipment._meta.concrete_fields if not f.primary_key]
    before = {s.pk: [getattr(s, name) for name in tracked] for s in drafts}
    for shipment in drafts:  # (the lock read their inventory stock locations)
        for trigger in ("_upcoming", "_on_hold"):
            if trigger == "_on_hold" and not shipment.inventory_stock_location.on_hold:
                continue
            from_status = shipment.status
            getattr(shipment, trigger)()
            moves.append((shipment, trigger, from_status, shipment.status))
    events: list[OrderEvent] = []
    if drafts:
        _shipments_moved_write(drafts, tracked, before)
        events = shipment_status_changed_events(moves=moves, actor=actor, save=False)
    return shipments, events


def _shipments_moved_write(
    drafts: Sequence[Shipment], tracked: Sequence[str], before: dict[str, list[Any]]
) -> None:
    """Store what the transitions changed on the locked draft shipments: one plain UPDATE
    per set of changes (usually one for all of them; `bulk_update` built a CASE per field and
    shipment, the costliest step of a placement's CPU)."""
    now = timezone.now()
    groups: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for shipment in drafts:
        shipment.updated_at = now
        changed = {
            name: value
            for name, old, value in zip(
                tracked, before[shipment.pk], (getattr(shipment, n) for n in tracked), strict=True
            )
            if value != old
        }
        changed["updated_at"] = now
        key = repr(sorted(changed.items()))
        groups.setdefault(key, (changed, []))[1].append(shipment.pk)
    for changed, pks in groups.values():
        stored = Shipment.objects.filter(pk__in=pks, status=Shipment.Status.DRAFT).update(**changed)
        assert stored == len(pks), "the draft shipments are locked"


def shipment_on_hold(*, shipment: Shipment, actor: Actor) -> Shipment:
    """`_on_hold`: pause an upcoming, picking or packing shipment; it resumes where it was."""
    return _shipment_trigger(shipment=shipment, trigger="_on_hold", actor=actor)


def shipment_picking(*, shipment: Shipment, actor: Actor) -> Shipment:
    """`_picking`: upcoming (or held while picking) -> picking; fulfillment in progress."""
    return _shipment_trigger(shipment=shipment, trigger="_picking", actor=actor)


def shipment_packing(*, shipment: Shipment, actor: Actor) -> Shipment:
    """`_packing`: picking (or held while packing) -> packing; fulfillment in progress."""
    return _shipment_trigger(shipment=shipment, trigger="_packing", actor=actor)


def shipment_ready_to_ship(*, shipment: Shipment, actor: Actor) -> Shipment:
    """`_ready_to_ship`: packing -> ready_to_ship; fulfillment in progress."""
    return _shipment_trigger(shipment=shipment, trigger="_ready_to_ship", actor=actor)


def shipment_ship(*, shipment: Shipment, actor: Actor) -> Shipment:
    """`_ship`: ready_to_ship -> shipped; fulfillment in progress. The caller (orders)
    re-derives the order's fulfillment_status afterwards."""
    return _shipment_trigger(shipment=shipment, trigger="_ship", actor=actor)


def shipment_deliver(*, shipment: Shipment, actor: Actor) -> Shipment:
    """`_deliver`: shipped -> delivered; fulfillment in progress."""
    return _shipment_trigger(shipment=shipment, trigger="_deliver", actor=actor)


def shipment_cancel(*, shipment: Shipment, actor: Actor) -> Shipment:
    """`_cancel`: any state before shipped -> cancelled."""
    return _shipment_trigger(shipment=shipment, trigger="_cancel", actor=actor)


SHIPMENT_TRIGGERS = {
    "_upcoming": shipment_upcoming,
    "_on_hold": shipment_on_hold,
    "_picking": shipment_picking,
    "_packing": shipment_packing,
    "_ready_to_ship": shipment_ready_to_ship,
    "_ship": shipment_ship,
    "_deliver": shipment_deliver,
    "_cancel": shipment_cancel,
}


def _shipment_reservations(*, shipment: Shipment) -> tuple[list[tuple[str, str]], list[str]]:
    pairs = list(
        StockLineItem.objects.filter(shipment=shipment, stock_item__isnull=False).values_list(
            "line_item_id", "stock_item_id"
        )
    )
    return [(li or "", si or "") for li, si in pairs], sorted({si or "" for _, si in pairs})


def _shipment_stock_action(*, shipment: Shipment, actor: Actor, decrement: bool) -> int:
    with transaction.atomic():
        order = locks.order_lock(shipment.order_id)
        locked = locks.shipment_lock(shipment.pk)
        trigger = "_decrement_stock" if decrement else "_release_stock"
        if order.fulfillment_status != Order.FulfillmentStatus.IN_PROGRESS:
            raise FulfillmentNotInProgress(
                f"Order {order.number}'s fulfillment is {order.fulfillment_status}: {trigger} "
                "needs it in progress.",
                pointer=f"/data/attributes/{trigger}",
            )
        pairs, stock_item_ids = _shipment_reservations(shipment=locked)
        locks.stock_items_lock(stock_item_ids)
        wanted = set(pairs)
        reservations = [
            r
            for r in locks.stock_reservations_lock(
                order=order,
                status=StockReservation.Status.PENDING,
                stock_item_id__in=stock_item_ids,
            )
            if (r.line_item_id or "", r.stock_item_id) in wanted
        ]
        if decrement:
            units = _decrement(reservations)
        else:
            units = sum(r.quantity for r in reservations)
            StockReservation.objects.filter(pk__in=[r.pk for r in reservations]).delete()
        transaction.on_commit(
            partial(
                stock_changed_notice,
                what="decremented" if decrement else "released",
                order_id=order.pk,
                units=units,
                actor=actor,
            )
        )
        return units


def shipment_decrement_stock(*, shipment: Shipment, actor: Actor) -> int:
    """`_decrement_stock` (manual_stock_decrement inventories): take the units reserved for
    this shipment's stock line items out of stock and drop the reservations. Repeating it does
    nothing more. Needs the order's fulfillment in progress. Returns the units."""
    return _shipment_stock_action(shipment=shipment, actor=actor, decrement=True)


def shipment_release_stock(*, shipment: Shipment, actor: Actor) -> int:
    """`_release_stock`: drop the reservations of this shipment's stock line items without
    touching the quantities. Needs the order's fulfillment in progress. Returns the units."""
    return _shipment_stock_action(shipment=shipment, actor=actor, decrement=False)
