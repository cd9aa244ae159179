"""The one totals function (spec section 3): parts add up exactly, rounding per line, half up."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders import services
from orders.models import LineItem, Order
from orders.totals import LineAmounts, line_tax_cents, round_half_up, totals_compute
from tests import factories as catalog
from tests.orders.factories import STAFF, OrderFactory, line_add, market_in, priced_sku

ITEM_TYPES = [
    "skus",
    "bundles",
    "gift_cards",
    "shipments",
    "payment_methods",
    "adjustments",
    "percentage_discount_promotions",
    "fixed_amount_promotions",
]
PROMOTIONS = {"percentage_discount_promotions", "fixed_amount_promotions"}


@st.composite
def line_amounts(draw: st.DrawFn) -> LineAmounts:
    item_type = draw(st.sampled_from(ITEM_TYPES))
    quantity = draw(st.integers(min_value=1, max_value=50))
    if item_type in PROMOTIONS:
        unit = -draw(st.integers(min_value=0, max_value=5_000))
    elif item_type == "adjustments":
        unit = draw(st.integers(min_value=-1_000, max_value=1_000))
    else:
        unit = draw(st.integers(min_value=0, max_value=10_000_000))
    total = unit * quantity
    discount = 0 if item_type in PROMOTIONS else -draw(st.integers(0, max(total, 0)))
    rate = draw(st.sampled_from([Decimal(0), Decimal("0.04"), Decimal("0.1"), Decimal("0.22")]))
    return LineAmounts(
        item_type=item_type,
        unit_amount_cents=unit,
        quantity=quantity,
        discount_cents=discount,
        tax_rate=rate,
    )


@given(
    lines=st.lists(line_amounts(), max_size=12),
    tax_included=st.booleans(),
    gift_card_balance=st.integers(min_value=0, max_value=10_000_000),
)
def test_the_parts_always_add_up_exactly(lines, tax_included, gift_card_balance):
    totals = totals_compute(
        lines, tax_included=tax_included, gift_card_balance_cents=gift_card_balance
    )

    def category_sum(types):
        return sum(
            line_totals.total_amount_cents
            for line, line_totals in zip(lines, totals.lines, strict=True)
            if line.item_type in types
        )

    assert totals.subtotal_amount_cents == category_sum({"skus", "bundles", "gift_cards"})
    assert totals.shipping_amount_cents == category_sum({"shipments"})
    assert totals.payment_method_amount_cents == category_sum({"payment_methods"})
    assert totals.discount_amount_cents == category_sum(PROMOTIONS) <= 0
    assert totals.adjustment_amount_cents == category_sum({"adjustments"})
    assert totals.total_amount_cents == (
        totals.subtotal_amount_cents
        + totals.shipping_amount_cents
        + totals.payment_method_amount_cents
        + totals.discount_amount_cents
        + totals.adjustment_amount_cents
        + totals.gift_card_amount_cents
    )
    assert totals.total_tax_amount_cents == sum(lt.tax_amount_cents for lt in totals.lines)
    assert totals.total_tax_amount_cents == (
        totals.subtotal_tax_amount_cents
        + totals.shipping_tax_amount_cents
        + totals.payment_method_tax_amount_cents
        + totals.adjustment_tax_amount_cents
    )
    expected_with_taxes = totals.total_amount_cents + (
        0 if tax_included else totals.total_tax_amount_cents
    )
    assert totals.total_amount_with_taxes_cents == expected_with_taxes
    # A gift card pays at most its balance and never more than what remains to pay.
    before_gift_card = totals.total_amount_cents - totals.gift_card_amount_cents
    assert -totals.gift_card_amount_cents == min(gift_card_balance, max(before_gift_card, 0))
    for line_totals in totals.lines:
        assert isinstance(line_totals.tax_amount_cents, int)
        assert 0 <= line_totals.tax_amount_cents <= max(line_totals.total_amount_cents, 0)
    assert totals.skus_count == sum(line.quantity for line in lines if line.item_type == "skus")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.5", 1), ("1.5", 2), ("2.4999", 2), ("2.5", 3), ("12.5", 13), ("0", 0)],
)
def test_rounding_is_half_up(value, expected):
    assert round_half_up(Decimal(value)) == expected


def test_tax_is_rounded_per_line_half_up():
    # 22% of 1250 = 275 exactly; 22% of 1234 = 271.48 → 271; 10% of 125 = 12.5 → 13.
    assert line_tax_cents(taxable_cents=1250, tax_rate=Decimal("0.22"), tax_included=False) == 275
    assert line_tax_cents(taxable_cents=1234, tax_rate=Decimal("0.22"), tax_included=False) == 271
    assert line_tax_cents(taxable_cents=125, tax_rate=Decimal("0.1"), tax_included=False) == 13
    # Included: 1220 gross at 22% is 1000 net + 220 tax.
    assert line_tax_cents(taxable_cents=1220, tax_rate=Decimal("0.22"), tax_included=True) == 220


def test_two_lines_are_rounded_separately_not_on_the_sum():
    lines = [
        LineAmounts(item_type="skus", unit_amount_cents=125, quantity=1, tax_rate=Decimal("0.1")),
        LineAmounts(item_type="skus", unit_amount_cents=125, quantity=1, tax_rate=Decimal("0.1")),
    ]
    totals = totals_compute(lines, tax_included=False)
    # 12.5 + 12.5 rounded per line = 13 + 13, not round(25.0) = 25.
    assert totals.total_tax_amount_cents == 26
    assert totals.total_amount_with_taxes_cents == 276


pytestmark_db = pytest.mark.django_db


@pytestmark_db
def test_volume_tiers_price_the_line_by_its_quantity():
    market = market_in("EUR")
    sku = priced_sku(market, amount_cents=1000)
    price = sku.prices.get()
    catalog.PriceVolumeTierFactory.create(price=price, up_to=9, price_amount_cents=1000)
    catalog.PriceVolumeTierFactory.create(price=price, up_to=None, price_amount_cents=800)
    order = OrderFactory.create(market=market)

    line = line_add(order, sku, quantity=5)
    assert (line.unit_amount_cents, line.total_amount_cents) == (1000, 5000)

    line = services.line_item_update(line_item=line, actor=STAFF, quantity=10)
    assert (line.unit_amount_cents, line.total_amount_cents) == (800, 8000)
    order.refresh_from_db()
    assert order.subtotal_amount_cents == 8000
    assert order.total_amount_cents == 8000
    assert order.skus_count == 10


@pytestmark_db
def test_yen_totals_have_no_decimals():
    market = market_in("JPY")
    order = OrderFactory.create(market=market)
    line_add(order, priced_sku(market, amount_cents=1500), quantity=3)
    order.refresh_from_db()
    assert order.currency_code == "JPY"
    assert order.total_amount_with_taxes_cents == 4500
    assert order.total_amount_with_taxes_float == 4500.0
    assert order.formatted_total_amount_with_taxes == "¥4,500"


@pytestmark_db
def test_kuwaiti_dinar_totals_have_three_decimals():
    market = market_in("KWD", tax_included=False)
    order = OrderFactory.create(market=market)
    line = line_add(order, priced_sku(market, amount_cents=1250), quantity=2)
    order.refresh_from_db()
    assert order.tax_included is False
    assert order.subtotal_amount_cents == 2500
    assert order.subtotal_amount_float == 2.5
    assert order.formatted_subtotal_amount == "KWD2.500"
    assert line.formatted_unit_amount == "KWD1.250"


@pytestmark_db
def test_each_line_change_of_a_cart_recomputes_the_totals():
    market = market_in("EUR")
    order = OrderFactory.create(market=market)
    first = line_add(order, priced_sku(market, amount_cents=1000), quantity=2)
    line_add(order, priced_sku(market, amount_cents=250), quantity=1)
    order.refresh_from_db()
    assert order.subtotal_amount_cents == 2250

    services.line_item_delete(line_item=first, actor=STAFF)
    order.refresh_from_db()
    assert order.subtotal_amount_cents == 250
    assert order.total_amount_with_taxes_cents == 250


@pytestmark_db
def test_without_autorefresh_totals_wait_for_refresh():
    market = market_in("EUR")
    order = OrderFactory.create(market=market, autorefresh=False)
    line_add(order, priced_sku(market, amount_cents=1000), quantity=2)
    order.refresh_from_db()
    assert order.subtotal_amount_cents == 0

    order = services.order_refresh(order=order, actor=STAFF)
    assert order.subtotal_amount_cents == 2000
    assert order.refreshed_at is not None


@pytestmark_db
def test_refresh_reprices_a_cart_when_the_price_list_changed():
    market = market_in("EUR")
    sku = priced_sku(market, amount_cents=1000)
    order = OrderFactory.create(market=market)
    line_add(order, sku, quantity=1)
    sku.prices.update(amount_cents=1200)

    order = services.order_refresh(order=order, actor=STAFF)
    assert order.subtotal_amount_cents == 1200
    assert LineItem.objects.get(order=order).unit_amount_cents == 1200


@pytestmark_db
def test_shipping_and_payment_lines_add_to_their_totals():
    market = market_in("EUR")
    order = OrderFactory.create(market=market)
    line_add(order, priced_sku(market, amount_cents=1000))
    services.line_item_charge_set(
        order=order,
        actor=STAFF,
        item_type="shipments",
        item_id="shp1",
        name="Express",
        amount_cents=700,
    )
    services.line_item_charge_set(
        order=order,
        actor=STAFF,
        item_type="payment_methods",
        item_id="pm1",
        name="Cash on delivery",
        amount_cents=300,
    )
    # Setting the same shipment again updates its one line.
    services.line_item_charge_set(
        order=order,
        actor=STAFF,
        item_type="shipments",
        item_id="shp1",
        name="Express",
        amount_cents=500,
    )
    order.refresh_from_db()
    assert order.line_items.filter(item_type="shipments").count() == 1
    assert (order.subtotal_amount_cents, order.shipping_amount_cents) == (1000, 500)
    assert order.payment_method_amount_cents == 300
    assert order.total_amount_cents == 1800

    services.line_item_charge_remove(
        order=order, actor=STAFF, item_type="payment_methods", item_id="pm1"
    )
    order.refresh_from_db()
    assert order.total_amount_cents == 1500


@pytestmark_db
def test_the_database_refuses_totals_that_do_not_add_up():
    from django.db import IntegrityError, transaction

    order = OrderFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(subtotal_amount_cents=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(
            discount_amount_cents=100, total_amount_cents=100, total_amount_with_taxes_cents=100
        )
