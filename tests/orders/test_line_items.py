"""Line items: priced from the market, added to by `_update_quantity`, changed only while the
order is a cart (or being edited, by an integration)."""

import pytest
from django.db import IntegrityError, transaction

from oms.errors import DomainError
from orders import services
from orders.models import LineItem, Order
from tests import factories as catalog
from tests.orders.factories import (
    STAFF,
    STOREFRONT,
    OrderFactory,
    line_add,
    market_in,
    order_in_status,
    priced_sku,
)

pytestmark = pytest.mark.django_db


def test_sku_line_is_created_by_sku_code_and_priced_from_the_market():
    market = market_in("EUR")
    sku = priced_sku(market, amount_cents=1990, name="Tee")
    order = OrderFactory.create(market=market)
    line = services.line_item_create(order=order, actor=STOREFRONT, sku_code=sku.code, quantity=2)
    assert (line.item_type, line.sku_id, line.sku_code, line.name) == (
        "skus",
        sku.pk,
        sku.code,
        "Tee",
    )
    assert (line.unit_amount_cents, line.total_amount_cents) == (1990, 3980)
    assert (line.tax_amount_cents, line.discount_cents, line.tax_rate) == (0, 0, 0)
    assert line.currency_code == "EUR"
    assert line.formatted_total_amount == "€39.80"


def test_unknown_sku_code_is_refused_with_a_pointer():
    order = OrderFactory.create()
    with pytest.raises(DomainError) as exc:
        services.line_item_create(order=order, actor=STOREFRONT, sku_code="NOPE")
    assert (exc.value.code, exc.value.pointer) == ("SKU_NOT_FOUND", "/data/attributes/sku_code")


def test_sku_not_priced_in_the_market_is_refused_with_a_pointer():
    order = OrderFactory.create()
    sku = catalog.SkuFactory.create()
    with pytest.raises(DomainError) as exc:
        services.line_item_create(order=order, actor=STOREFRONT, sku_code=sku.code)
    assert (exc.value.code, exc.value.status) == ("SKU_NOT_PRICED", 422)
    assert exc.value.pointer == "/data/attributes/sku_code"
    with pytest.raises(DomainError) as exc:
        services.line_item_create(order=order, actor=STOREFRONT, sku=sku)
    assert exc.value.pointer == "/data/relationships/sku"
    assert not LineItem.objects.exists()


def test_price_of_another_market_does_not_count():
    market, other = market_in("EUR"), market_in("EUR")
    sku = priced_sku(other)
    order = OrderFactory.create(market=market)
    with pytest.raises(DomainError) as exc:
        line_add(order, sku)
    assert exc.value.code == "SKU_NOT_PRICED"


@pytest.mark.parametrize("quantity", [0, -1])
def test_quantity_below_one_is_refused(quantity):
    market = market_in("EUR")
    order = OrderFactory.create(market=market)
    with pytest.raises(DomainError) as exc:
        line_add(order, priced_sku(market), quantity=quantity)
    assert (exc.value.code, exc.value.pointer) == ("QUANTITY_INVALID", "/data/attributes/quantity")


def test_database_refuses_a_quantity_below_one():
    market = market_in("EUR")
    order = OrderFactory.create(market=market)
    line = line_add(order, priced_sku(market))
    with pytest.raises(IntegrityError), transaction.atomic():
        LineItem.objects.filter(pk=line.pk).update(quantity=0, total_amount_cents=0)


def test_update_quantity_adds_to_the_existing_line_of_the_same_sku():
    market = market_in("EUR")
    sku = priced_sku(market)
    order = OrderFactory.create(market=market)
    first = line_add(order, sku, quantity=2)
    again = line_add(order, sku, quantity=3, update_quantity=True)
    assert again.pk == first.pk
    assert again.quantity == 5
    assert again.total_amount_cents == 5000
    assert order.line_items.count() == 1


def test_without_update_quantity_the_same_sku_gets_a_new_line():
    market = market_in("EUR")
    sku = priced_sku(market)
    order = OrderFactory.create(market=market)
    line_add(order, sku)
    line_add(order, sku)
    assert order.line_items.count() == 2
    order.refresh_from_db()
    assert order.skus_count == 2


def test_a_sales_channel_cannot_set_the_unit_amount():
    market = market_in("EUR")
    order = OrderFactory.create(market=market)
    with pytest.raises(DomainError) as exc:
        line_add(order, priced_sku(market), unit_amount_cents=1)
    assert exc.value.code == "UNIT_AMOUNT_NOT_ALLOWED"
    assert exc.value.pointer == "/data/attributes/unit_amount_cents"


def test_an_integration_sets_the_unit_amount_and_refresh_keeps_it():
    market = market_in("EUR")
    order = OrderFactory.create(market=market)
    line = line_add(order, priced_sku(market, 1000), unit_amount_cents=750, integration=True)
    assert line.unit_amount_cents == 750
    order = services.order_refresh(order=order, actor=STAFF)
    assert order.subtotal_amount_cents == 750


def test_an_integration_may_price_a_sku_the_market_does_not():
    order = OrderFactory.create()
    sku = catalog.SkuFactory.create()
    line = services.line_item_create(
        order=order, actor=STAFF, sku=sku, unit_amount_cents=500, integration=True
    )
    assert line.total_amount_cents == 500


@pytest.mark.parametrize("status", ["placing", "placed", "editing", "approved", "cancelled"])
def test_a_sales_channel_changes_lines_only_while_the_order_is_a_cart(status):
    order = order_in_status(status)
    line = order.line_items.get(item_type="skus")
    sku = priced_sku(order.market)
    before = list(LineItem.objects.values().order_by("pk"))
    with pytest.raises(DomainError) as exc:
        line_add(order, sku)
    assert exc.value.code == "ORDER_NOT_EDITABLE"
    with pytest.raises(DomainError):
        services.line_item_update(line_item=line, actor=STOREFRONT, quantity=3)
    with pytest.raises(DomainError):
        services.line_item_delete(line_item=line, actor=STOREFRONT)
    assert list(LineItem.objects.values().order_by("pk")) == before


def test_an_integration_changes_lines_while_editing_and_totals_follow():
    order = order_in_status("editing", amount_cents=1000)
    line = order.line_items.get(item_type="skus")
    services.line_item_update(line_item=line, actor=STAFF, quantity=1, integration=True)
    line_add(order, priced_sku(order.market, 200), integration=True)
    order.refresh_from_db()
    assert order.status == "editing"
    assert order.subtotal_amount_cents == 1200


def test_removing_the_last_sku_line_moves_a_pending_order_back_to_draft():
    order = order_in_status("pending")
    line = order.line_items.get(item_type="skus")
    services.line_item_delete(line_item=line, actor=STOREFRONT)
    order.refresh_from_db()
    assert order.status == Order.Status.DRAFT
    assert order.subtotal_amount_cents == 0
    # Nothing to ship any more: the shipment and its shipping line went with the last SKU.
    assert not order.shipments.exists()
    assert not order.line_items.filter(item_type="shipments").exists()
    event = order.events.latest("id")
    assert (event.from_status, event.to_status, event.trigger) == (
        "pending",
        "draft",
        "line_item_delete",
    )


def test_adding_a_line_to_a_draft_with_a_customer_makes_it_pending():
    market = market_in("EUR")
    order = OrderFactory.create(market=market, customer_email="lee@example.com")
    assert order.status == Order.Status.DRAFT
    line_add(order, priced_sku(market))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.events.filter(from_status="draft", to_status="pending").count() == 1


def test_setting_the_customer_of_a_draft_with_lines_makes_it_pending():
    market = market_in("EUR")
    order = OrderFactory.create(market=market)
    line_add(order, priced_sku(market))
    order.refresh_from_db()
    assert order.status == Order.Status.DRAFT
    order = services.order_update(
        order=order, actor=STOREFRONT, data={"customer_email": "mo@example.com"}
    )
    assert order.status == Order.Status.PENDING


def test_shipment_lines_are_not_changed_as_sku_lines():
    order = order_in_status("pending")
    # The cart's shipment has a shipping method: its cost is a line the workflow keeps.
    line = order.line_items.get(item_type="shipments")
    assert line.item_id == order.shipments.get().pk
    with pytest.raises(DomainError):
        services.line_item_delete(line_item=line, actor=STOREFRONT)
    with pytest.raises(DomainError) as exc:
        services.line_item_charge_set(
            order=order,
            actor=STAFF,
            item_type="shipments",
            item_id=line.item_id,
            name="x",
            amount_cents=-1,
        )
    assert exc.value.code == "VALIDATION_ERROR"
    assert LineItem.objects.filter(pk=line.pk).exists()


def test_a_shipping_line_alone_does_not_make_an_order_pending():
    order = OrderFactory.create(customer_email="ned@example.com")
    services.line_item_charge_set(
        order=order, actor=STAFF, item_type="shipments", item_id="s1", name="Std", amount_cents=500
    )
    order.refresh_from_db()
    assert order.status == Order.Status.DRAFT
    assert order.shipping_amount_cents == 500


def test_database_refuses_a_line_total_that_is_not_unit_times_quantity():
    market = market_in("EUR")
    order = OrderFactory.create(market=market)
    line = line_add(order, priced_sku(market), quantity=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        LineItem.objects.filter(pk=line.pk).update(total_amount_cents=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        LineItem.objects.filter(pk=line.pk).update(unit_amount_cents=-1, total_amount_cents=-2)


def test_a_cart_is_planned_into_shipments_once_it_has_a_shipping_address():
    """Lines added to a cart with nowhere to go cost no plan; the shipping address plans it
    (its methods are matched to where it goes); taking the address away takes the plan."""
    from tests.orders.factories import order_ready

    ready = order_ready(amount_cents=1000)  # the market's stock, shipping and payment
    sku = ready.line_items.get(item_type="skus").sku
    assert sku is not None
    cart = OrderFactory.create(market=ready.market)
    line_add(cart, sku, 2)
    assert not cart.shipments.exists()
    cart = services.order_update(
        order=cart, actor=STOREFRONT, data={"shipping_address": catalog.AddressFactory.create()}
    )
    (shipment,) = cart.shipments.all()
    assert [(s.sku_id, s.quantity) for s in shipment.stock_line_items.all()] == [(sku.pk, 2)]
    services.order_update(order=cart, actor=STOREFRONT, data={"shipping_address": None})
    assert not cart.shipments.exists()
