"""Order, line item and shipment endpoints cost the same number of queries with 1 line or 50."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders import services
from orders.models import Order
from tests import factories
from tests.orders.factories import STAFF, checkout_ready, priced_sku

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/orders/{order}?include=line_items,shipments,market,customer,billing_address,shipping_address",
    "/api/orders/{order}?include=line_items.sku,shipments.stock_line_items,available_payment_methods",
    "/api/orders/{order}/line_items?page[size]=25&include=sku",
    "/api/orders/{order}/shipments?include=stock_line_items,shipping_method,available_shipping_methods",
    "/api/line_items/{line}?include=order,sku",
    "/api/shipments/{shipment}?include=stock_line_items.sku,order",
    "/api/orders?include=line_items,shipments&page[size]=25",
    "/api/orders/{order}/authorizations",
    "/api/orders/{order}?include=authorizations,captures,voids,refunds",
    "/api/orders?include=authorizations,line_items&page[size]=25",
]


def placed_order(lines: int) -> Order:
    market = factories.MarketFactory.create()
    order = services.order_create(
        market=market, actor=STAFF, data={"customer_email": "q@example.com"}
    )
    category = factories.ShippingCategoryFactory.create()
    for _ in range(lines):
        sku = priced_sku(market, 1000, shipping_category=category)
        services.line_item_create(order=order, actor=STAFF, sku=sku, quantity=1)
    order = services.order_update(
        order=order,
        actor=STAFF,
        data={
            "billing_address": factories.AddressFactory.create(),
            "_shipping_address_same_as_billing": True,
        },
    )
    order = checkout_ready(order)
    return services.order_place(order=order, actor=STAFF)


def count(api, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    assert response.status_code == 200, (path, response.doc)
    # a list's COUNT is left out: it is not asked when the page read is the last one
    return len([q for q in captured.captured_queries if not q["sql"].startswith("SELECT COUNT(")])


@pytest.mark.parametrize("template", ENDPOINTS)
def test_order_endpoints_do_not_grow_with_the_lines(as_role, template):
    api = as_role("admin")
    counts = []
    for lines in (1, 50):
        order = placed_order(lines)
        line = order.line_items.filter(item_type="skus").first()
        shipment = order.shipments.first()
        assert line is not None
        assert shipment is not None
        path = template.format(order=order.pk, line=line.pk, shipment=shipment.pk)
        counts.append(count(api, path))
    assert counts[0] == counts[1], (
        f"{template}: {counts[0]} queries with 1 line, {counts[1]} with 50"
    )


# The benchmark's read (`python -m bench get-order`), past authentication (one more statement
# for a bearer token): the order (market, addresses and customer joined), its line items with
# their SKUs joined, its shipments with their stock location joined, its authorizations and
# the shipments' stock line items.
GET_ORDER_STATEMENT_BUDGET = 5


def test_the_benchmarked_order_read_stays_within_its_statement_budget(as_role):
    api = as_role("admin")
    order = placed_order(3)
    statements = count(api, f"/api/orders/{order.pk}?include=line_items,shipments,authorizations")
    assert statements <= GET_ORDER_STATEMENT_BUDGET
