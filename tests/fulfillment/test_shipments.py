"""Shipments: how they are planned, which shipping methods serve them, what they cost."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from fulfillment.errors import (
    InventoryStrategyNotSupported,
    NoShippingMethod,
    OutOfStock,
    ShipmentNotEditable,
    ShipmentsNotDraft,
    ShippingMethodNotAvailable,
)
from fulfillment.models import Parcel, Shipment, ShippingMethod, StockItem, StockLineItem
from fulfillment.selectors import shipment_cost, shipment_weight, shipping_methods_available
from fulfillment.services import (
    parcel_save,
    shipment_set_shipping_method,
    shipment_upcoming,
    shipments_build,
    shipments_check_shipping_methods,
    shipping_method_disable,
)
from markets.models import Address
from oms.actors import SYSTEM
from orders.models import Order, OrderEvent
from tests.fulfillment.factories import (
    AddressFactory,
    MarketFactory,
    ShippingCategoryFactory,
    ShippingMethodFactory,
    ShippingWeightTierFactory,
    ShippingZoneFactory,
    SkuFactory,
    shop_create,
)

pytestmark = pytest.mark.django_db


def lines_of(shipment):
    return sorted(
        (line.sku.code, line.quantity, line.stock_item_id)
        for line in shipment.stock_line_items.all()
    )


# --- planning ---------------------------------------------------------------------------------


def test_no_split_ships_everything_from_the_first_location_that_has_it_all():
    shop = shop_create(locations=3)
    category = ShippingCategoryFactory.create()
    a, b = (
        SkuFactory.create(shipping_category=category),
        SkuFactory.create(shipping_category=category),
    )
    shop.stock(a, 5, 5, 5)
    _, b2, _ = shop.stock(b, 0, 5, 5)
    order, _ = shop.order((a, 2), (b, 1))
    (shipment,) = shipments_build(order=order, actor=SYSTEM)
    assert shipment.inventory_stock_location == shop.locations[1]
    assert shipment.number == f"{order.number}/S/001"
    assert shipment.status == Shipment.Status.DRAFT
    items = {line.stock_item for line in shipment.stock_line_items.all()}
    assert {item.stock_location_id for item in items if item} == {b2.stock_location_id}
    assert None not in items


def test_do_not_ship_skus_get_no_shipment():
    shop = shop_create()
    physical, digital = SkuFactory.create(), SkuFactory.create(do_not_ship=True)
    shop.stock(physical, 5)
    order, _ = shop.order((physical, 1), (digital, 1))
    (shipment,) = shipments_build(order=order, actor=SYSTEM)
    assert [line.sku for line in shipment.stock_line_items.all()] == [physical]

    only_digital, _ = shop.order((digital, 1))
    assert shipments_build(order=only_digital, actor=SYSTEM) == []


def test_untracked_skus_ship_without_a_stock_item():
    shop = shop_create()
    sku = SkuFactory.create(do_not_track=True)
    order, _ = shop.order((sku, 3))
    (shipment,) = shipments_build(order=order, actor=SYSTEM)
    assert lines_of(shipment) == [(sku.code, 3, None)]


def test_one_shipment_per_shipping_category():
    shop = shop_create()
    fragile, apparel = ShippingCategoryFactory.create(), ShippingCategoryFactory.create()
    glass, shirt = (
        SkuFactory.create(shipping_category=fragile),
        SkuFactory.create(shipping_category=apparel),
    )
    shop.stock(glass, 5)
    shop.stock(shirt, 5)
    order, _ = shop.order((glass, 1), (shirt, 1))
    shipments = shipments_build(order=order, actor=SYSTEM)
    assert [s.shipping_category for s in shipments] == [fragile, apparel]
    assert [s.number for s in shipments] == [f"{order.number}/S/001", f"{order.number}/S/002"]


def test_nothing_in_stock_anywhere_is_out_of_stock():
    shop = shop_create(locations=2)
    a, b = SkuFactory.create(), SkuFactory.create()
    shop.stock(a, 1, 0)
    shop.stock(b, 0, 1)
    order, (line_a, _) = shop.order((a, 1), (b, 1))
    with pytest.raises(OutOfStock) as exc:
        shipments_build(order=order, actor=SYSTEM)
    # each SKU exists somewhere, but no single location has both: blame the primary's gap
    assert exc.value.sku_code == b.code
    assert not Shipment.objects.exists()
    del line_a


def test_split_shipments_makes_one_shipment_per_location_used():
    shop = shop_create(locations=2, strategy="split_shipments")
    sku = SkuFactory.create()
    first, second = shop.stock(sku, 2, 5)
    order, _ = shop.order((sku, 4))
    shipments = shipments_build(order=order, actor=SYSTEM)
    assert [lines_of(s) for s in shipments] == [
        [(sku.code, 2, first.pk)],
        [(sku.code, 2, second.pk)],
    ]


def test_other_strategies_are_refused_clearly():
    shop = shop_create(strategy="ship_from_primary")
    sku = SkuFactory.create()
    shop.stock(sku, 5)
    order, _ = shop.order((sku, 1))
    with pytest.raises(InventoryStrategyNotSupported) as exc:
        shipments_build(order=order, actor=SYSTEM)
    assert exc.value.code == "INVENTORY_STRATEGY_NOT_SUPPORTED"


def test_rebuilding_an_unchanged_order_keeps_its_shipments():
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 5)
    order, _ = shop.order((sku, 1))
    (first,) = shipments_build(order=order, actor=SYSTEM)
    (again,) = shipments_build(order=order, actor=SYSTEM)
    assert again.pk == first.pk


def cart_with_a_method(shop, sku, **method_fields):
    """A one-line cart of `sku`, planned, its shipment given a method of the shop's market;
    returns the order, its line, the shipment and the method."""
    order, (line,) = shop.order((sku, 1))
    method = ShippingMethodFactory.create(market=shop.market, **method_fields)
    (first,) = shipments_build(order=order, actor=SYSTEM)
    shipment_set_shipping_method(shipment=first, shipping_method=method, actor=SYSTEM)
    return order, line, first, method


def test_rebuilding_a_changed_cart_keeps_its_shipment_with_the_new_lines_and_its_method():
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 5)
    order, line, first, method = cart_with_a_method(shop, sku)
    from orders.services import line_item_update

    line_item_update(line_item=line, actor=SYSTEM, quantity=3, integration=True)
    (rebuilt,) = shipments_build(order=order, actor=SYSTEM)
    # the same location and category: the storefront's shipment id stays good
    assert (rebuilt.pk, rebuilt.number) == (first.pk, first.number)
    assert Shipment.objects.get().shipping_method == method
    assert lines_of(rebuilt)[0][1] == 3
    assert StockLineItem.objects.count() == 1


def test_a_kept_shipment_loses_a_method_that_no_longer_serves_what_it_carries():
    shop = shop_create()
    sku = SkuFactory.create(weight=Decimal(400), unit_of_weight="gr")
    shop.stock(sku, 5)
    order, line, first, _ = cart_with_a_method(
        shop, sku, max_weight=Decimal(500), unit_of_weight="gr"
    )
    from orders.services import line_item_update

    line_item_update(line_item=line, actor=SYSTEM, quantity=3, integration=True)  # 1200 g
    (rebuilt,) = shipments_build(order=order, actor=SYSTEM)
    assert rebuilt.pk == first.pk
    assert Shipment.objects.get().shipping_method is None
    assert lines_of(rebuilt)[0][1] == 3


def test_a_kept_shipment_s_method_is_checked_against_the_address_the_change_sets():
    """The order's new address is saved with its totals, after the plan: a kept shipment's
    method is judged by the address in the change (stock sold meanwhile re-plans the cart)."""
    from orders.services import order_shipment_shipping_method_set, order_update
    from tests.orders.factories import STOREFRONT, OrderFactory, line_add, priced_sku

    shop = shop_create(locations=2, strategy="split_shipments")
    sku = priced_sku(shop.market, 1000)
    first, _ = shop.stock(sku, 5, 100)
    italy_only = ShippingMethodFactory.create(
        market=shop.market,
        shipping_zone=ShippingZoneFactory.create(country_code_regex="^IT$"),
        price_amount_cents=700,
        currency_code=shop.market.price_list.currency_code,
    )
    order = OrderFactory.create(
        market=shop.market,
        customer_email="a@example.com",
        shipping_address=AddressFactory.create(country_code="IT"),
    )
    line_add(order, sku, 5)
    (shipment,) = Shipment.objects.filter(order=order)
    order_shipment_shipping_method_set(
        shipment=shipment, shipping_method=italy_only, actor=STOREFRONT
    )
    StockItem.objects.filter(pk=first.pk).update(quantity=3)  # sold elsewhere meanwhile
    order = order_update(
        order=Order.objects.get(pk=order.pk),
        actor=STOREFRONT,
        data={"shipping_address": AddressFactory.create(country_code="US")},
    )
    kept = Shipment.objects.get(pk=shipment.pk)
    assert kept.stock_line_items.get().quantity == 3  # kept, with fewer units
    assert kept.shipping_method_id is None  # the Italy-only method does not ship to the US
    assert not order.line_items.filter(item_type="shipments").exists()
    assert Order.objects.get(pk=order.pk).shipping_amount_cents == 0


def test_a_plan_moving_to_another_location_replaces_the_shipment_without_its_method():
    shop = shop_create(locations=2)
    sku = SkuFactory.create()
    shop.stock(sku, 1, 5)  # the primary has one
    order, line, first, _ = cart_with_a_method(shop, sku)
    from orders.services import line_item_update

    line_item_update(line_item=line, actor=SYSTEM, quantity=3, integration=True)
    (moved,) = shipments_build(order=order, actor=SYSTEM)
    assert moved.pk != first.pk
    assert moved.inventory_stock_location_id != first.inventory_stock_location_id
    assert not Shipment.objects.filter(pk=first.pk).exists()
    # a method is chosen for where a shipment leaves from: the new one waits for its own
    assert (moved.number, moved.shipping_method) == (first.number, None)


def test_shipments_cannot_be_rebuilt_once_upcoming():
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 5)
    order, _ = shop.order((sku, 1))
    (shipment,) = shipments_build(order=order, actor=SYSTEM)
    shipment_upcoming(shipment=shipment, actor=SYSTEM)
    with pytest.raises(ShipmentsNotDraft):
        shipments_build(order=order, actor=SYSTEM)
    assert Shipment.objects.get().pk == shipment.pk


def test_a_shipment_from_an_on_hold_location_waits_on_hold_once_upcoming():
    shop = shop_create(on_hold=(1,))
    sku = SkuFactory.create()
    shop.stock(sku, 5)
    order, _ = shop.order((sku, 1))
    (shipment,) = shipments_build(order=order, actor=SYSTEM)
    shipment = shipment_upcoming(shipment=shipment, actor=SYSTEM)
    assert shipment.status == Shipment.Status.ON_HOLD
    assert shipment.status_before_hold == Shipment.Status.UPCOMING
    assert list(
        OrderEvent.objects.exclude(subject_type="orders")
        .filter(order=order)
        .values_list("trigger", "from_status", "to_status")
    ) == [("_upcoming", "draft", "upcoming"), ("_on_hold", "upcoming", "on_hold")]
    shipment = shipment_upcoming(shipment=shipment, actor=SYSTEM)
    assert shipment.status == Shipment.Status.UPCOMING


# --- shipping zones and methods ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "address", "expected"),
    [
        ({}, {"country_code": "IT"}, True),
        ({"country_code_regex": "^(IT|FR)$"}, {"country_code": "FR"}, True),
        ({"country_code_regex": "^(IT|FR)$"}, {"country_code": "DE"}, False),
        ({"not_country_code_regex": "^IT$"}, {"country_code": "IT"}, False),
        ({"country_code_regex": "US", "state_code_regex": "^(NY|NJ)$"}, {"state_code": "NJ"}, True),
        (
            {"country_code_regex": "US", "not_state_code_regex": "^(AK|HI)$"},
            {"state_code": "HI"},
            False,
        ),
        ({"zip_code_regex": "^20"}, {"zip_code": "20121"}, True),
        ({"zip_code_regex": "^20"}, {"zip_code": "10121"}, False),
        ({"not_zip_code_regex": "^9"}, {"zip_code": "90210"}, False),
    ],
)
def test_shipping_zone_matches_addresses_by_pattern(zone, address, expected):
    fields = {"country_code": "US", "state_code": "", "zip_code": ""} | address
    assert ShippingZoneFactory.create(**zone).matches(Address(**fields)) is expected


def test_invalid_zone_pattern_is_refused():
    with pytest.raises(ValidationError) as exc:
        ShippingZoneFactory.create(country_code_regex="(IT")
    assert "country_code_regex" in exc.value.message_dict


@pytest.fixture
def draft_shipment():
    shop = shop_create()
    sku = SkuFactory.create(weight=Decimal(400), unit_of_weight="gr")
    shop.stock(sku, 10)
    order, _ = shop.order(
        (sku, 2), shipping_address=AddressFactory.create(country_code="IT", zip_code="20121")
    )
    (shipment,) = shipments_build(order=order, actor=SYSTEM)
    return shipment


def test_methods_are_filtered_by_market_zone_category_location_currency_and_state(draft_shipment):
    shipment = draft_shipment
    market = shipment.order.market
    italy = ShippingZoneFactory.create(country_code_regex="^IT$")
    france = ShippingZoneFactory.create(country_code_regex="^FR$")
    served = [
        ShippingMethodFactory.create(market=market, name="market, any zone"),
        ShippingMethodFactory.create(market=None, name="no market", shipping_zone=italy),
        ShippingMethodFactory.create(
            market=market, name="right category", shipping_category=shipment.shipping_category
        ),
        ShippingMethodFactory.create(
            market=market, name="right location", stock_location=shipment.stock_location
        ),
    ]
    ShippingMethodFactory.create(market=MarketFactory.create(), name="other market")
    ShippingMethodFactory.create(market=market, name="other zone", shipping_zone=france)
    ShippingMethodFactory.create(
        market=market, name="other category", shipping_category=ShippingCategoryFactory.create()
    )
    ShippingMethodFactory.create(market=None, name="other currency", currency_code="USD")
    disabled = ShippingMethodFactory.create(market=market, name="disabled")
    shipping_method_disable(shipping_method=disabled)
    assert {m.name for m in shipping_methods_available(shipment=shipment)} == {
        m.name for m in served
    }


def test_methods_respect_weight_limits(draft_shipment):
    # the shipment weighs 2 x 400 g = 800 g, about 1.76 lb
    assert shipment_weight(shipment=draft_shipment) == Decimal(800)
    ShippingMethodFactory.create(name="light", max_weight=Decimal(1), unit_of_weight="lb")
    ShippingMethodFactory.create(name="heavy", min_weight=Decimal(2), unit_of_weight="lb")
    ShippingMethodFactory.create(
        name="fits", min_weight=Decimal(500), max_weight=Decimal(900), unit_of_weight="gr"
    )
    assert [m.name for m in shipping_methods_available(shipment=draft_shipment)] == ["fits"]


def test_flat_cost_and_free_over_the_order_amount(draft_shipment):
    method = ShippingMethodFactory.create(price_amount_cents=700, free_over_amount_cents=5000)
    assert (
        shipment_cost(shipment=draft_shipment, shipping_method=method, subtotal_amount_cents=4999)
        == 700
    )
    assert (
        shipment_cost(shipment=draft_shipment, shipping_method=method, subtotal_amount_cents=5000)
        == 0
    )


def test_weight_tiered_cost_takes_the_lightest_tier_that_holds_the_shipment(draft_shipment):
    method = ShippingMethodFactory.create(
        scheme=ShippingMethod.Scheme.WEIGHT_TIERED, unit_of_weight="gr", price_amount_cents=9900
    )
    ShippingWeightTierFactory.create(
        shipping_method=method, up_to=Decimal(500), price_amount_cents=300
    )
    ShippingWeightTierFactory.create(
        shipping_method=method, up_to=Decimal(1000), price_amount_cents=600
    )
    ShippingWeightTierFactory.create(shipping_method=method, up_to=None, price_amount_cents=1500)
    assert (
        shipment_cost(shipment=draft_shipment, shipping_method=method, subtotal_amount_cents=0)
        == 600
    )
    # heavier than every bounded tier: the open-ended one
    line = draft_shipment.stock_line_items.get()
    StockLineItem.objects.filter(pk=line.pk).update(quantity=5)
    assert (
        shipment_cost(shipment=draft_shipment, shipping_method=method, subtotal_amount_cents=0)
        == 1500
    )


def test_weight_tiered_without_a_matching_tier_costs_the_method_price(draft_shipment):
    method = ShippingMethodFactory.create(
        scheme=ShippingMethod.Scheme.WEIGHT_TIERED, unit_of_weight="gr", price_amount_cents=990
    )
    ShippingWeightTierFactory.create(
        shipping_method=method, up_to=Decimal(100), price_amount_cents=1
    )
    assert (
        shipment_cost(shipment=draft_shipment, shipping_method=method, subtotal_amount_cents=0)
        == 990
    )


def test_setting_an_unavailable_method_is_refused(draft_shipment):
    other_market = ShippingMethodFactory.create(market=MarketFactory.create())
    with pytest.raises(ShippingMethodNotAvailable) as exc:
        shipment_set_shipping_method(
            shipment=draft_shipment, shipping_method=other_market, actor=SYSTEM
        )
    assert exc.value.code == "SHIPPING_METHOD_NOT_AVAILABLE"
    assert Shipment.objects.get().shipping_method is None


def test_placement_check_requires_an_available_method_on_every_shipment(draft_shipment):
    order = draft_shipment.order
    with pytest.raises(NoShippingMethod) as exc:
        shipments_check_shipping_methods(order=order)
    assert exc.value.code == "NO_SHIPPING_METHOD"
    method = ShippingMethodFactory.create()
    shipment_set_shipping_method(shipment=draft_shipment, shipping_method=method, actor=SYSTEM)
    shipments_check_shipping_methods(order=order)
    shipping_method_disable(shipping_method=method)
    with pytest.raises(NoShippingMethod):
        shipments_check_shipping_methods(order=order)


def test_shipping_method_cannot_change_once_picking(draft_shipment):
    method = ShippingMethodFactory.create()
    Shipment.objects.filter(pk=draft_shipment.pk).update(status="picking")
    with pytest.raises(ShipmentNotEditable):
        shipment_set_shipping_method(shipment=draft_shipment, shipping_method=method, actor=SYSTEM)


def test_shipping_method_amounts_are_never_negative_in_the_database():
    method = ShippingMethodFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingMethod.objects.filter(pk=method.pk).update(price_amount_cents=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        ShippingMethod.objects.filter(pk=method.pk).update(free_over_amount_cents=-1)


def test_a_method_without_market_needs_a_currency_and_one_with_inherits_it():
    with pytest.raises(ValidationError) as exc:
        ShippingMethodFactory.create(currency_code="")
    assert "currency_code" in exc.value.message_dict
    market = MarketFactory.create()
    method = ShippingMethodFactory.create(currency_code="", market=market)
    assert method.currency_code == market.currency_code


# --- parcels ----------------------------------------------------------------------------------


def test_parcels_are_numbered_after_their_shipment(draft_shipment):
    with pytest.raises(ShipmentNotEditable):
        parcel_save(
            parcel=Parcel(shipment=draft_shipment, weight=Decimal(1), unit_of_weight="gr"),
            actor=SYSTEM,
        )
    Shipment.objects.filter(pk=draft_shipment.pk).update(status="packing")
    first = parcel_save(
        parcel=Parcel(shipment=draft_shipment, weight=Decimal(800), unit_of_weight="gr"),
        actor=SYSTEM,
    )
    second = parcel_save(
        parcel=Parcel(shipment=draft_shipment, weight=Decimal(1), unit_of_weight="lb"),
        actor=SYSTEM,
    )
    assert [first.number, second.number] == [
        f"{draft_shipment.number}/P/001",
        f"{draft_shipment.number}/P/002",
    ]
    # the first removed, the next parcel takes a number no parcel has (it was count + 1)
    from fulfillment.services import parcel_delete

    parcel_delete(parcel=first, actor=SYSTEM)
    third = parcel_save(
        parcel=Parcel(shipment=draft_shipment, weight=Decimal(2), unit_of_weight="gr"),
        actor=SYSTEM,
    )
    assert third.number == f"{draft_shipment.number}/P/003"
