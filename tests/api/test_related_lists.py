"""Related lists (`/api/orders/{id}/line_items`, `/api/orders/{id}/shipments`, …) are the
children's list: `filter`, `sort`, `page` and `include` apply to the children, on the child
resource's own filterable and sortable attributes, and never to the parent."""

from __future__ import annotations

import pytest

from orders.models import Order
from tests import factories
from tests.orders.factories import OrderFactory, checkout_ready, line_add, priced_sku

pytestmark = pytest.mark.django_db


def order_with_lines(market, codes_and_quantities: list[tuple[str, int]]) -> Order:
    """A cart of SKU lines, each SKU in its own shipping category (so one shipment each)."""
    order = OrderFactory.create(
        market=market,
        customer_email="buyer@example.com",
        shipping_address=factories.AddressFactory.create(),  # a cart is planned once it has one
    )
    for code, quantity in codes_and_quantities:
        category = factories.ShippingCategoryFactory.create()
        line_add(order, priced_sku(market, 1000, code=code, shipping_category=category), quantity)
    return checkout_ready(order)


@pytest.fixture
def orders(market):
    first = order_with_lines(market, [("TEE", 1), ("MUG", 3), ("CAP", 2)])
    second = order_with_lines(market, [("HAT", 5), ("BAG", 4)])
    return first, second


def codes(response) -> list[str]:
    assert response.status_code == 200, response.doc
    return [item["attributes"]["sku_code"] for item in response.doc["data"]]


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.doc
    return [item["attributes"]["number"] for item in response.doc["data"]]


SKU_LINES = "filter[q][item_type_eq]=skus"


def test_a_line_item_filter_applies_to_the_orders_lines(as_role, orders):
    first, _ = orders
    api = as_role("admin")
    assert codes(api.get(f"/api/orders/{first.pk}/line_items?filter[q][sku_code_eq]=MUG")) == [
        "MUG"
    ]
    assert codes(api.get(f"/api/orders/{first.pk}/line_items?filter[q][quantity_gteq]=2")) == [
        "MUG",
        "CAP",
    ]


def test_a_line_item_filter_never_reaches_the_other_orders_lines(as_role, orders):
    first, second = orders
    api = as_role("admin")
    assert codes(api.get(f"/api/orders/{first.pk}/line_items?filter[q][sku_code_eq]=HAT")) == []
    response = api.get(f"/api/orders/{second.pk}/line_items?filter[q][sku_code_in]=HAT,MUG")
    assert codes(response) == ["HAT"]


def test_line_items_sort_by_their_own_attributes(as_role, orders):
    first, _ = orders
    api = as_role("admin")
    response = api.get(f"/api/orders/{first.pk}/line_items?{SKU_LINES}&sort=-quantity")
    assert codes(response) == ["MUG", "CAP", "TEE"]
    response = api.get(f"/api/orders/{first.pk}/line_items?{SKU_LINES}&sort=sku_code")
    assert codes(response) == ["CAP", "MUG", "TEE"]


def test_line_items_paginate_as_a_list_of_their_own(as_role, orders):
    first, _ = orders
    response = as_role("admin").get(
        f"/api/orders/{first.pk}/line_items?{SKU_LINES}&sort=sku_code&page[size]=2&page[number]=2"
    )
    assert codes(response) == ["TEE"]
    assert response.doc["meta"] == {"record_count": 3, "page_count": 2}
    assert f"/api/orders/{first.pk}/line_items?" in response.doc["links"]["prev"]
    assert "next" not in response.doc["links"]


@pytest.mark.parametrize(
    ("query", "code", "parameter"),
    [
        ("filter[q][status_eq]=pending", "FILTER_NOT_ALLOWED", "filter[q][status_eq]"),
        ("filter[q][number_eq]=1", "FILTER_NOT_ALLOWED", "filter[q][number_eq]"),
        ("sort=-placed_at", "INVALID_SORT_CRITERIA", "sort"),
        ("sort=number", "INVALID_SORT_CRITERIA", "sort"),
        ("page[size]=26", "INVALID_PAGE_VALUE", "page[size]"),
    ],
)
def test_an_order_attribute_is_no_line_item_filter_or_sort(as_role, orders, query, code, parameter):
    first, _ = orders
    response = as_role("admin").get(f"/api/orders/{first.pk}/line_items?{query}")
    assert response.status_code == 400, response.doc
    [error] = response.doc["errors"]
    assert error["code"] == code
    assert error["source"] == {"parameter": parameter}


def test_a_shipment_filter_applies_to_the_orders_shipments(as_role, orders):
    first, second = orders
    api = as_role("admin")
    own, other = first.shipments.order_by("number")[0], second.shipments.order_by("number")[0]
    path = f"/api/orders/{first.pk}/shipments"
    assert numbers(api.get(f"{path}?filter[q][status_eq]=draft")) == [
        s.number for s in first.shipments.order_by("number")
    ]
    assert numbers(api.get(f"{path}?filter[q][number_eq]={other.number}")) == []
    assert numbers(api.get(f"{path}?filter[q][number_in]={own.number},{other.number}")) == [
        own.number
    ]


def test_shipments_sort_and_paginate_as_their_own_list(as_role, orders):
    first, _ = orders
    api = as_role("admin")
    expected = sorted((s.number for s in first.shipments.all()), reverse=True)
    path = f"/api/orders/{first.pk}/shipments"
    assert numbers(api.get(f"{path}?sort=-number")) == expected
    response = api.get(f"{path}?sort=-number&page[size]=1&page[number]=3")
    assert numbers(response) == expected[2:]
    assert response.doc["meta"] == {"record_count": 3, "page_count": 3}
    response = api.get(f"{path}?sort=-payment_status")
    assert response.status_code == 400
    assert response.doc["errors"][0]["code"] == "INVALID_SORT_CRITERIA"


def test_a_related_list_includes_on_the_children(as_role, orders):
    first, _ = orders
    response = as_role("admin").get(
        f"/api/orders/{first.pk}/line_items?{SKU_LINES}&include=sku&sort=sku_code"
    )
    assert codes(response) == ["CAP", "MUG", "TEE"]
    included = sorted(i["attributes"]["code"] for i in response.doc["included"])
    assert included == ["CAP", "MUG", "TEE"]


def test_a_storefront_filters_its_cart_lines_too(as_role, orders):
    first, _ = orders
    response = as_role("sales_channel").get(
        f"/api/orders/{first.pk}/line_items?filter[q][sku_code_eq]=CAP"
    )
    assert codes(response) == ["CAP"]
