"""Factories for customers, orders and line items. Orders are built through the services, so
a factory order is one the application could have made; `order_in_status` walks an order
through the real triggers to reach any status."""

from __future__ import annotations

from typing import Any

import factory

from markets.models import Market, PriceList, Sku
from oms.actors import Actor
from orders import services
from orders.models import Customer, LineItem, Order
from tests import factories as catalog
from tests.factories import ServiceFactory

STAFF = Actor(kind="user", id="1", name="staff")
STOREFRONT = Actor(kind="application", id="sc", name="storefront")


class CustomerFactory(ServiceFactory[Customer]):
    class Meta:
        model = Customer

    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    """A draft order created by `order_create`; extra keyword arguments go to its `data`."""

    class Meta:
        model = Order

    market = factory.SubFactory(catalog.MarketFactory)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        market = kwargs.pop("market")
        return services.order_create(market=market, actor=STAFF, data=kwargs)


def priced_sku(market: Market, amount_cents: int = 1000, **sku_fields: Any) -> Sku:
    """A SKU with a price in the market's price list."""
    sku = catalog.SkuFactory.create(**sku_fields)
    catalog.PriceFactory.create(sku=sku, price_list=market.price_list, amount_cents=amount_cents)
    return sku


def market_in(currency_code: str, *, tax_included: bool = True) -> Market:
    price_list: PriceList = catalog.PriceListFactory.create(
        currency_code=currency_code, tax_included=tax_included
    )
    return catalog.MarketFactory.create(price_list=price_list)


def line_add(order: Order, sku: Sku, quantity: int = 1, **kwargs: Any) -> LineItem:
    return services.line_item_create(
        order=order, actor=STOREFRONT, sku=sku, quantity=quantity, **kwargs
    )


def order_pending(
    *, market: Market | None = None, amount_cents: int = 1000, quantity: int = 1, **data: Any
) -> Order:
    """A pending cart: a customer and one priced line."""
    market = market or catalog.MarketFactory.create()
    order = OrderFactory.create(
        market=market,
        customer_email=data.pop("customer_email", None)
        or f"buyer-{Order.objects.count()}@example.com",
        **data,
    )
    line_add(order, priced_sku(market, amount_cents), quantity)
    order.refresh_from_db()
    return order


def checkout_ready(order: Order, *, card_token: str = "tok_success") -> Order:  # noqa: S107
    """Everything `_place` needs besides the cart: the market's inventory model with stock for
    each SKU line, a shipping method chosen for each shipment, a payment method of a test
    gateway and a card (`card_token` decides the gateway's answer)."""
    from fulfillment.models import ShippingMethod, StockItem
    from markets.services import market_save
    from payments.models import PaymentMethod
    from payments.services import test_payment_create
    from tests.fulfillment import factories as stock
    from tests.payments import factories as money

    market = order.market
    if market.inventory_model_id is None:
        inventory_model = stock.InventoryModelFactory.create()
        stock.InventoryStockLocationFactory.create(inventory_model=inventory_model, priority=1)
        market.inventory_model = inventory_model
        market_save(market=market)
    assert market.inventory_model is not None
    location = market.inventory_model.inventory_stock_locations.order_by("priority").first()
    assert location is not None
    for line in order.line_items.filter(item_type="skus").select_related("sku"):
        if not StockItem.objects.filter(
            sku=line.sku, stock_location=location.stock_location
        ).exists():
            stock.StockItemFactory.create(
                sku=line.sku, stock_location=location.stock_location, quantity=1000
            )
    method = ShippingMethod.objects.filter(market=market).first() or (
        stock.ShippingMethodFactory.create(market=market, price_amount_cents=0)
    )
    order = services.order_refresh(order=order, actor=STAFF)
    for shipment in order.shipments.all():
        services.order_shipment_shipping_method_set(
            shipment=shipment, shipping_method=method, actor=STOREFRONT
        )
    payment_method = PaymentMethod.objects.filter(
        market=market, currency_code=order.currency_code
    ).first() or money.PaymentMethodFactory.create(market=market, currency_code=order.currency_code)
    order = services.order_update(
        order=order, actor=STOREFRONT, data={"payment_method": payment_method}
    )
    test_payment_create(order=order, token=card_token)
    order.refresh_from_db()
    return order


def order_ready(
    *,
    market: Market | None = None,
    amount_cents: int = 1000,
    card_token: str = "tok_success",  # noqa: S107
    **data: Any,
) -> Order:
    """A pending cart that can be placed: addresses, stock, shipping and payment included."""
    order = order_pending(market=market, amount_cents=amount_cents, **data)
    order = services.order_update(
        order=order,
        actor=STOREFRONT,
        data={
            "billing_address": catalog.AddressFactory.create(),
            "_shipping_address_same_as_billing": True,
        },
    )
    return checkout_ready(order, card_token=card_token)


def order_in_status(status: str, **kwargs: Any) -> Order:
    """An order brought to `status` through the services (a placing order's background task
    has not run: it stays placing)."""
    if status == Order.Status.DRAFT:
        return OrderFactory.create(**kwargs)
    if status == Order.Status.PENDING:
        return order_ready(**kwargs)
    order = order_ready(**kwargs)
    if status == Order.Status.PLACING:
        # Without on_commit callbacks running (a test transaction), the task is not enqueued.
        return services.order_place_async(order=order, actor=STOREFRONT)
    if status == Order.Status.CANCELLED:
        return services.order_cancel(order=order, actor=STAFF)
    order = services.order_place(order=order, actor=STOREFRONT)
    if status == Order.Status.PLACED:
        return order
    if status == Order.Status.EDITING:
        return services.order_start_editing(order=order, actor=STAFF)
    if status == Order.Status.APPROVED:
        return services.order_approve(order=order, actor=STAFF)
    raise ValueError(f"unknown status {status}")


def order_row(
    *,
    market: Market | None = None,
    status: str = Order.Status.DRAFT,
    customer_email: str = "",
    shipping_address: Any = None,
    billing_address: Any = None,
    line_cents: int = 0,
) -> Order:
    """An order row in `status` without walking the lifecycle, for tests of the payments and
    fulfillment apps that need an order to hang their rows on and must not trigger placement
    (which would authorize payments and reserve stock itself). Created by `order_create`,
    with one SKU line of `line_cents` (if any) added while it is a cart, so its stored totals
    are the ones its lines add up to; the status and its timestamps are then set directly,
    which only test set-up may do (with its timeline event, so the invariants hold)."""
    from django.db import transaction
    from django.utils import timezone

    from orders.events import order_status_changed_event

    data: dict[str, Any] = {}
    if customer_email:
        data["customer_email"] = customer_email
    order = OrderFactory.create(market=market or catalog.MarketFactory.create(), **data)
    if line_cents:
        line_row(order=order, sku=catalog.SkuFactory.create(), unit_amount_cents=line_cents)
        order = Order.objects.get(pk=order.pk)
    now = timezone.now()
    fields: dict[str, Any] = {"status": status}
    if shipping_address is not None:
        fields["shipping_address"] = shipping_address
    if billing_address is not None:
        fields["billing_address"] = billing_address
    if status in (Order.Status.PLACED, Order.Status.EDITING, Order.Status.APPROVED):
        fields["placed_at"] = now
        fields["place_total_amount_cents"] = order.total_amount_with_taxes_cents
    if status == Order.Status.APPROVED:
        fields["approved_at"] = now
    if status == Order.Status.CANCELLED:
        fields["cancelled_at"] = now
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(**fields)
        if status != order.status:
            order_status_changed_event(
                order=order,
                actor=STAFF,
                trigger="test set-up",
                from_status=order.status,
                to_status=status,
            )
    return Order.objects.get(pk=order.pk)


def line_row(
    *, order: Order, sku: Sku, quantity: int = 1, unit_amount_cents: int = 1000
) -> LineItem:
    """A SKU line at a given unit price, through `line_item_create` as an integration."""
    return services.line_item_create(
        order=order,
        actor=STAFF,
        sku=sku,
        quantity=quantity,
        unit_amount_cents=unit_amount_cents,
        integration=True,
    )
