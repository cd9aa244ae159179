"""The million-order generator on a small N: every row is one the order workflows could have
written (constraints hold, lines add up, statuses are the derived ones)."""

from __future__ import annotations

import pytest
from django.db.models import Count, F, Q, Sum

from bench._million_data import (
    LINES_PER_ORDER,
    ORIGIN,
    SCENARIOS,
    generated_orders_count,
    million_generate,
)
from markets.models import Market
from orders import services
from orders.models import Customer, LineItem, Order
from orders.statuses import FulfillmentFacts, fulfillment_status_for, payment_status_for
from tests.orders.factories import STAFF

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ORDERS = 2_000


@pytest.fixture
def generated():
    return million_generate(orders=ORDERS)


def implied_payment_status(order: Order) -> str:
    """What `orders.statuses` derives from the money movement the order's state implies: a
    placed order authorized its total, an approved one captured it, a cancelled placed one had
    its authorization voided in full (which then counts in neither A nor V)."""
    total = order.total_amount_with_taxes_cents
    placed = order.placed_at is not None
    voided = placed and order.status == Order.Status.CANCELLED
    return payment_status_for(
        order_total_cents=total,
        order_placed=order.status in {"placed", "approved", "cancelled"},
        authorized_cents=total if placed and not voided else 0,
        captured_cents=total if order.status == Order.Status.APPROVED else 0,
        voided_cents=0,
        refunded_cents=0,
        entirely_voided=voided,
    )


def test_generator_writes_the_orders_lines_and_customers(generated):
    assert generated.orders == ORDERS
    assert Order.objects.count() == ORDERS == generated_orders_count()
    assert LineItem.objects.count() == ORDERS * LINES_PER_ORDER
    assert Customer.objects.count() == generated.customers
    assert not Order.objects.exclude(reference_origin=ORIGIN).exists()
    # every market and every scenario's state is there
    assert set(Order.objects.values_list("market_id", flat=True).distinct()) == set(
        Market.objects.values_list("id", flat=True)
    )
    states = set(Order.objects.values_list("status", "payment_status", "fulfillment_status"))
    expected = {(s.status, s.payment_status, s.fulfillment_status) for s in SCENARIOS}
    assert states == expected


def test_every_order_has_three_lines_that_add_up_to_its_totals(generated):
    orders = Order.objects.annotate(
        lines=Count("line_items"),
        lines_total=Sum("line_items__total_amount_cents"),
        quantity=Sum("line_items__quantity"),
    )
    assert not orders.exclude(lines=LINES_PER_ORDER).exists()
    assert not orders.exclude(subtotal_amount_cents=F("lines_total")).exists()
    assert not orders.exclude(skus_count=F("quantity")).exists()
    assert not orders.exclude(total_amount_with_taxes_cents=F("total_amount_cents")).exists()
    # each line is priced from its market's price list
    for line in LineItem.objects.select_related("order__market__price_list", "sku")[:200]:
        assert line.sku is not None
        price = line.sku.prices.get(price_list=line.order.market.price_list)
        assert line.unit_amount_cents == price.amount_cents
        assert line.sku_code == line.sku.code
        assert not line.sku.do_not_ship


def test_statuses_are_the_derived_ones_and_timestamps_follow_the_state(generated):
    facts = FulfillmentFacts(needs_shipping=True, shipment_statuses=())
    for order in Order.objects.all():
        assert order.payment_status == implied_payment_status(order), order.number
        assert order.fulfillment_status == fulfillment_status_for(
            order_status=order.status,
            payment_status=order.payment_status,
            current=order.fulfillment_status,
            facts=facts,
            payment_requires_capture=True,
        )
        placed = order.placed_at is not None
        assert placed == (order.place_total_amount_cents is not None)
        if order.status in {"placed", "approved"}:
            assert placed
        if order.status in {"draft", "pending"}:
            assert not placed
            assert order.archived_at is None
        assert (order.approved_at is not None) == (order.status == "approved")
        assert (order.cancelled_at is not None) == (order.status == "cancelled")
        assert (order.customer_id is None) == (order.status == "draft")
        if order.customer is not None:
            assert order.customer_email == order.customer.email
    # a sample passes field validation (the status is the state machine's: not assignable)
    for order in Order.objects.all()[:50]:
        order.clean_fields(exclude=["status"])


def test_customers_count_their_placed_orders(generated):
    customers = Customer.objects.annotate(
        placed=Count("orders", filter=Q(orders__placed_at__isnull=False))
    )
    assert not customers.exclude(total_orders_count=F("placed")).exists()
    assert customers.filter(status="repeat").exists()


def test_a_new_order_is_numbered_after_the_generated_ones(generated):
    market = Market.objects.get(code="eu")
    order = services.order_create(market=market, actor=STAFF)
    assert order.number == ORDERS + 1


def test_generating_again_replaces_the_orders(generated):
    again = million_generate(orders=500)
    assert again.orders == 500
    assert Order.objects.count() == 500 == generated_orders_count()


def test_generator_refuses_a_database_with_orders_of_its_own(generated):
    market = Market.objects.get(code="eu")
    services.order_create(market=market, actor=STAFF)  # not the generator's
    with pytest.raises(RuntimeError, match="did not write"):
        million_generate(orders=10)
