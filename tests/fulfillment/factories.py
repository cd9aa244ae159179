"""factory-boy factories for stock, shipping and the order skeleton fulfillment works on.

They save through the services (or `resource_save`), so they obey the same rules as every
other write. Orders and line items use `resource_save` until the orders app has services.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import factory

from fulfillment import models
from fulfillment.services import StockLine, stock_item_save, stock_location_save
from markets.models import Market, Sku
from orders.models import Customer, LineItem, Order
from tests.factories import (
    AddressFactory,
    MarketFactory,
    ServiceFactory,
    ShippingCategoryFactory,
    SkuFactory,
)


class InventoryModelFactory(ServiceFactory[models.InventoryModel]):
    class Meta:
        model = models.InventoryModel

    name = factory.Sequence(lambda n: f"Inventory {n}")


class StockLocationFactory(ServiceFactory[models.StockLocation]):
    class Meta:
        model = models.StockLocation

    name = factory.Sequence(lambda n: f"Warehouse {n}")
    code = factory.Sequence(lambda n: f"wh-{n}")
    address = factory.SubFactory(AddressFactory)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return stock_location_save(stock_location=model_class(*args, **kwargs))


class InventoryStockLocationFactory(ServiceFactory[models.InventoryStockLocation]):
    class Meta:
        model = models.InventoryStockLocation

    inventory_model = factory.SubFactory(InventoryModelFactory)
    stock_location = factory.SubFactory(StockLocationFactory)
    priority = factory.Sequence(lambda n: n + 1)


class InventoryReturnLocationFactory(ServiceFactory[models.InventoryReturnLocation]):
    class Meta:
        model = models.InventoryReturnLocation

    inventory_model = factory.SubFactory(InventoryModelFactory)
    stock_location = factory.SubFactory(StockLocationFactory)
    priority = 1


class StockItemFactory(ServiceFactory[models.StockItem]):
    class Meta:
        model = models.StockItem

    stock_location = factory.SubFactory(StockLocationFactory)
    sku = factory.SubFactory(SkuFactory)
    quantity = 10

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        return stock_item_save(stock_item=model_class(*args, **kwargs))


class ShippingZoneFactory(ServiceFactory[models.ShippingZone]):
    class Meta:
        model = models.ShippingZone

    name = factory.Sequence(lambda n: f"Zone {n}")


class ShippingMethodFactory(ServiceFactory[models.ShippingMethod]):
    class Meta:
        model = models.ShippingMethod

    name = factory.Sequence(lambda n: f"Courier {n}")
    currency_code = "EUR"
    price_amount_cents = 700


class ShippingWeightTierFactory(ServiceFactory[models.ShippingWeightTier]):
    class Meta:
        model = models.ShippingWeightTier

    shipping_method = factory.SubFactory(ShippingMethodFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    up_to = 1000
    price_amount_cents = 500


class CustomerFactory(ServiceFactory[Customer]):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"buyer{n}@example.com")


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    """A draft order row with a shipping address (see `tests.orders.factories.order_row`)."""

    class Meta:
        model = Order

    market = factory.SubFactory(MarketFactory)
    customer_email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    shipping_address = factory.SubFactory(AddressFactory)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        from tests.orders.factories import order_row

        return order_row(**kwargs)


class LineItemFactory(factory.django.DjangoModelFactory[LineItem]):
    """A SKU line through `line_item_create` (see `tests.orders.factories.line_row`)."""

    class Meta:
        model = LineItem

    order = factory.SubFactory(OrderFactory)
    sku = factory.SubFactory(SkuFactory)
    quantity = 1
    unit_amount_cents = 1000

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        from tests.orders.factories import line_row

        return line_row(**kwargs)


# --- scenes: a market that sells from stock, and orders in it ---------------------------------


@dataclass
class Shop:
    """A market whose inventory model uses `locations` (priority 1, 2, ...)."""

    market: Market
    inventory_model: models.InventoryModel
    locations: list[models.InventoryStockLocation]

    def stock(self, sku: Sku, *quantities: int) -> list[models.StockItem]:
        """Stock items of `sku`: the n-th quantity at the n-th location (None skips one)."""
        return [
            StockItemFactory.create(
                sku=sku, stock_location=location.stock_location, quantity=quantity
            )
            for location, quantity in zip(self.locations, quantities, strict=False)
            if quantity is not None
        ]

    def order(self, *lines: tuple[Sku, int], **fields: Any) -> tuple[Order, list[LineItem]]:
        order = OrderFactory.create(market=self.market, **fields)
        items = [LineItemFactory.create(order=order, sku=sku, quantity=qty) for sku, qty in lines]
        return order, items


def placement_lines(
    line_items: Iterable[LineItem], *, quantity: int | None = None
) -> list[StockLine]:
    """What the orders app passes to `stock_reserve_for_placement` for plain SKU lines."""
    lines = []
    for item in line_items:
        assert item.sku is not None
        lines.append(StockLine(item, item.sku, item.quantity if quantity is None else quantity))
    return lines


def shop_create(
    *,
    locations: int = 1,
    strategy: str = models.InventoryModel.Strategy.NO_SPLIT,
    manual_stock_decrement: bool = False,
    stock_locations_cutoff: int = 2,
    stock_reservation_cutoff: int = 3600,
    on_hold: tuple[int, ...] = (),
) -> Shop:
    inventory_model = InventoryModelFactory.create(
        strategy=strategy,
        manual_stock_decrement=manual_stock_decrement,
        stock_locations_cutoff=stock_locations_cutoff,
        stock_reservation_cutoff=stock_reservation_cutoff,
    )
    market = MarketFactory.create(inventory_model=inventory_model)
    rows = [
        InventoryStockLocationFactory.create(
            inventory_model=inventory_model, priority=index, on_hold=index in on_hold
        )
        for index in range(1, locations + 1)
    ]
    return Shop(market=market, inventory_model=inventory_model, locations=rows)


__all__ = [
    "AddressFactory",
    "CustomerFactory",
    "InventoryModelFactory",
    "InventoryReturnLocationFactory",
    "InventoryStockLocationFactory",
    "LineItemFactory",
    "MarketFactory",
    "OrderFactory",
    "ShippingCategoryFactory",
    "ShippingMethodFactory",
    "ShippingWeightTierFactory",
    "ShippingZoneFactory",
    "Shop",
    "SkuFactory",
    "StockItemFactory",
    "StockLocationFactory",
    "placement_lines",
    "shop_create",
]
