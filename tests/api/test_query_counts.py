"""Every list endpoint runs a constant number of SQL queries, whatever the page holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories

pytestmark = pytest.mark.django_db

LISTS = [
    ("sales_channel", "/api/skus"),
    ("sales_channel", "/api/skus?include=prices"),
    ("sales_channel", "/api/skus?include=prices.price_volume_tiers,shipping_category"),
    ("admin", "/api/skus?include=prices.price_volume_tiers"),
    ("sales_channel", "/api/prices?include=sku,price_list,price_volume_tiers"),
    ("sales_channel", "/api/price_volume_tiers?include=price"),
    ("sales_channel", "/api/price_lists?include=prices"),
    ("sales_channel", "/api/markets?include=merchant,price_list"),
    ("sales_channel", "/api/shipping_categories?include=skus"),
    ("admin", "/api/merchants?include=address"),
    ("admin", "/api/customer_groups?include=markets"),
    ("admin", "/api/addresses"),
    ("admin", "/api/markets?include=customer_group"),
]


def grow_catalog(market, count: int) -> None:
    category = factories.ShippingCategoryFactory.create()
    for _ in range(count):
        sku = factories.SkuFactory.create(shipping_category=category)
        price = factories.PriceFactory.create(sku=sku, price_list=market.price_list)
        factories.PriceVolumeTierFactory.create(price=price)
        factories.MerchantFactory.create()
        factories.CustomerGroupFactory.create()
        factories.MarketFactory.create(
            price_list=market.price_list, customer_group=factories.CustomerGroupFactory.create()
        )


def queries_for(api, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"{path}{'&' if '?' in path else '?'}page[size]=25")
    assert response.status_code == 200, response.doc
    # a list's COUNT is left out: it is not asked when the page read is the last one
    return len([q for q in captured.captured_queries if not q["sql"].startswith("SELECT COUNT(")])


@pytest.mark.parametrize(("role", "path"), LISTS)
def test_list_query_count_does_not_grow_with_the_page(as_role, market, role, path):
    api = as_role(role)
    grow_catalog(market, 1)
    small = queries_for(api, path)
    grow_catalog(market, 20)
    large = queries_for(api, path)
    assert large == small, f"{path}: {small} queries for 1 record, {large} for 21"
    assert small <= 8
