"""Reads and derivations of the fulfillment app: availability, shipping options and costs,
and the one function that derives an order's fulfillment_status (spec 2.4)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from fulfillment.models import (
    InventoryModel,
    InventoryStockLocation,
    Shipment,
    ShippingMethod,
    StockItem,
    StockLineItem,
    StockReservation,
    UnitOfWeight,
    weight_convert,
)
from markets.models import Sku
from oms.prefetch import with_children_if_any
from orders.models import Order


def active_reservations_q(now: datetime | None = None) -> Q:
    """Reservations that hold stock: every pending one, and drafts not yet expired."""
    return Q(status=StockReservation.Status.PENDING) | Q(
        status=StockReservation.Status.DRAFT, expires_at__gt=now or timezone.now()
    )


def expired_reservations(now: datetime | None = None) -> QuerySet[StockReservation]:
    """Draft reservations past `expires_at`: they hold nothing any more (see
    `active_reservations_q`), they only wait to be deleted."""
    return StockReservation.objects.filter(
        status=StockReservation.Status.DRAFT, expires_at__lte=now or timezone.now()
    )


def inventory_stock_locations(*, inventory_model: InventoryModel) -> list[InventoryStockLocation]:
    """The model's locations in priority order, cut to `stock_locations_cutoff` (the most it
    uses for inventory computation)."""
    return list(
        inventory_model.inventory_stock_locations.select_related("stock_location").order_by(
            "priority", "created_at", "id"
        )[: inventory_model.stock_locations_cutoff]
    )


def reserved_quantities(
    *,
    stock_item_ids: Iterable[str],
    exclude: Q | None = None,
    now: datetime | None = None,
) -> dict[str, int]:
    """Active reserved units per stock item, leaving out the reservations matching `exclude`
    (e.g. the caller's own, which it is about to rewrite)."""
    reservations = StockReservation.objects.filter(
        active_reservations_q(now), stock_item_id__in=list(stock_item_ids)
    )
    if exclude is not None:
        reservations = reservations.exclude(exclude)
    rows = reservations.values("stock_item_id").annotate(total=Sum("quantity"))
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["stock_item_id"]] = int(row["total"] or 0)
    return totals


def stock_items_with_availability(
    stock_items: QuerySet[StockItem], *, now: datetime | None = None, exclude: Q | None = None
) -> QuerySet[StockItem]:
    """`stock_items` annotated with `reserved` (units held by active reservations, leaving out
    those matching `exclude`) and `available` (quantity - reserved), in the same statement:
    lists and filters on them cost one query however many items there are. Not for locking
    reads: the subquery sees the statement's snapshot, taken before any lock wait."""
    reservations = StockReservation.objects.filter(
        active_reservations_q(now), stock_item_id=OuterRef("pk")
    )
    if exclude is not None:
        reservations = reservations.exclude(exclude)
    held = (
        reservations.order_by()
        .values("stock_item_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return stock_items.annotate(
        reserved=Coalesce(Subquery(held, output_field=IntegerField()), Value(0))
    ).annotate(available=F("quantity") - F("reserved"))


def stock_item_reserved(*, stock_item: StockItem) -> int:
    """The `reserved_stock` of a stock item: units held by active reservations."""
    return reserved_quantities(stock_item_ids=[stock_item.pk]).get(stock_item.pk, 0)


def stock_item_available(*, stock_item: StockItem) -> int:
    return stock_item.quantity - stock_item_reserved(stock_item=stock_item)


def stock_available(*, sku: Sku, inventory_model: InventoryModel) -> int:
    """Units of `sku` an order of a market with this inventory model can still get: the
    quantity of its stock items in the model's locations minus their active reservations.
    A `do_not_track` SKU is unlimited: this returns its tracked figure anyway."""
    locations = inventory_stock_locations(inventory_model=inventory_model)
    items = list(
        StockItem.objects.filter(
            sku=sku, stock_location_id__in=[loc.stock_location_id for loc in locations]
        )
    )
    reserved = reserved_quantities(stock_item_ids=[item.pk for item in items])
    return sum(max(item.quantity - reserved.get(item.pk, 0), 0) for item in items)


# --- shipping -------------------------------------------------------------------------------


def shipment_queryset() -> QuerySet[Shipment]:
    return Shipment.objects.select_related(
        "order__market__price_list",
        "order__shipping_address",
        "inventory_stock_location__stock_location__address",
        "shipping_category",
        "shipping_method",
    ).prefetch_related("stock_line_items__sku", "parcels")


def shipment_weight(*, shipment: Shipment, unit: str = UnitOfWeight.GRAMS) -> Decimal:
    """What a shipment's goods weigh, in `unit`; SKUs without a weight count as nothing."""
    grams = _lines_grams(shipment.stock_line_items.all())
    return weight_convert(grams, from_unit=UnitOfWeight.GRAMS, to_unit=unit)


def _weight_fits(method: ShippingMethod, grams: Decimal) -> bool:
    if method.min_weight is None and method.max_weight is None:
        return True
    weight = weight_convert(grams, from_unit=UnitOfWeight.GRAMS, to_unit=method.unit_of_weight)
    if method.min_weight is not None and weight < method.min_weight:
        return False
    return not (method.max_weight is not None and weight > method.max_weight)


def _lines_grams(lines: Iterable[StockLineItem]) -> Decimal:
    grams = Decimal(0)
    for line in lines:
        sku = line.sku
        if sku.weight is None or not sku.unit_of_weight:
            continue
        grams += line.quantity * weight_convert(
            Decimal(sku.weight), from_unit=sku.unit_of_weight, to_unit=UnitOfWeight.GRAMS
        )
    return grams


def _skus_load(lines: Sequence[StockLineItem]) -> None:
    """The SKUs of prefetched stock lines that came without them, in one query (not one per
    line)."""
    missing = [line for line in lines if line.sku_id and not StockLineItem.sku.is_cached(line)]
    if not missing:
        return
    skus = Sku.objects.in_bulk({line.sku_id for line in missing})
    for line in missing:
        line.sku = skus[line.sku_id]


def stock_lines_of(shipments: Sequence[Shipment]) -> dict[str, list[StockLineItem]]:
    """Each shipment's stock line items with their SKUs: as prefetched, or in one query."""
    if all("stock_line_items" in getattr(s, "_prefetched_objects_cache", {}) for s in shipments):
        lines_of = {s.pk: list(s.stock_line_items.all()) for s in shipments}
        _skus_load([line for lines in lines_of.values() for line in lines])
        return lines_of
    lines: dict[str, list[StockLineItem]] = defaultdict(list)
    for line in StockLineItem.objects.filter(
        shipment_id__in=[shipment.pk for shipment in shipments]
    ).select_related("sku"):
        lines[line.shipment_id or ""].append(line)
    return lines


def _stock_location_ids_of(shipments: Sequence[Shipment]) -> dict[str, str]:
    """Each shipment's inventory stock location's stock location: as loaded, or in one query."""
    if all(Shipment.inventory_stock_location.is_cached(s) for s in shipments):
        return {
            s.inventory_stock_location_id: s.inventory_stock_location.stock_location_id
            for s in shipments
        }
    return dict(
        InventoryStockLocation.objects.filter(
            pk__in={shipment.inventory_stock_location_id for shipment in shipments}
        ).values_list("pk", "stock_location_id")
    )


def shipping_methods_available(*, shipment: Shipment) -> list[ShippingMethod]:
    """The methods that can ship this shipment (see `shipping_methods_available_for`)."""
    return shipping_methods_available_for(order=shipment.order, shipments=[shipment])[shipment.pk]


def shipping_methods_available_for(
    *, order: Order, shipments: Sequence[Shipment], with_tiers: bool = True
) -> dict[str, list[ShippingMethod]]:
    """Per shipment of `order`, the methods that can ship it: enabled; of the order's market
    or of none; in the order's currency; for the shipment's shipping category and stock
    location or for any; whose zone matches the shipping address (a method without a zone
    goes anywhere); whose weight limits hold the shipment. External pricing is not supported,
    so never offered. Ordered cheapest first. A constant number of queries for any number of
    shipments; `with_tiers=False` when the caller does not price them (no weight tiers read)."""
    if not shipments:
        return {}
    methods = (
        ShippingMethod.objects.filter(disabled_at__isnull=True)
        .filter(Q(market_id=order.market_id) | Q(market__isnull=True))
        .filter(
            Q(currency_code=order.currency_code) | Q(currency_code="", market_id=order.market_id)
        )
        .exclude(scheme=ShippingMethod.Scheme.EXTERNAL)
        .select_related("shipping_zone")
        .order_by("price_amount_cents", "name", "id")
    )
    candidates = (
        with_children_if_any(methods, "shipping_weight_tiers") if with_tiers else list(methods)
    )
    location_of = _stock_location_ids_of(shipments)
    lines = stock_lines_of(shipments)
    address = order.shipping_address
    available: dict[str, list[ShippingMethod]] = {}
    for shipment in shipments:
        location = location_of.get(shipment.inventory_stock_location_id)
        grams = _lines_grams(lines[shipment.pk])
        available[shipment.pk] = [
            method
            for method in candidates
            if method.shipping_category_id in (None, shipment.shipping_category_id)
            and method.stock_location_id in (None, location)
            and (
                method.shipping_zone is None
                or (address is not None and method.shipping_zone.matches(address))
            )
            and _weight_fits(method, grams)
        ]
    return available


def shipment_cost(
    *, shipment: Shipment, shipping_method: ShippingMethod, subtotal_amount_cents: int
) -> int:
    """What shipping this shipment with this method costs, in the order's minor units.

    Free when the order amount (the caller's `subtotal_amount_cents`: this app does not compute
    order totals) reaches `free_over_amount_cents`. Flat: the method's price. Weight tiered: the
    tier with the smallest `up_to` that holds the shipment's weight (in the method's unit),
    else the open-ended tier, else the method's price."""
    if (
        shipping_method.free_over_amount_cents is not None
        and subtotal_amount_cents >= shipping_method.free_over_amount_cents
    ):
        return 0
    if shipping_method.scheme == ShippingMethod.Scheme.WEIGHT_TIERED:
        weight = shipment_weight(shipment=shipment, unit=shipping_method.unit_of_weight)
        tiers = sorted(
            shipping_method.shipping_weight_tiers.all(),
            key=lambda tier: (tier.up_to is None, tier.up_to or 0),
        )
        for tier in tiers:
            if tier.up_to is None or weight <= tier.up_to:
                return tier.price_amount_cents
    return shipping_method.price_amount_cents
