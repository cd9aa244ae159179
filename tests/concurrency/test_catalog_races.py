"""Races on the catalog, with real threads on PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from markets.models import Market, Sku
from markets.services import market_create
from oms.services import resource_create
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_thread(fn):
    def run(*args):
        try:
            return fn(*args)
        finally:
            connection.close()

    return run


def test_concurrent_market_creation_hands_out_distinct_numbers():
    merchant = factories.MerchantFactory.create()
    price_list = factories.PriceListFactory.create()

    @in_thread
    def create(i: int) -> int:
        market = market_create(
            data={"name": f"M{i}", "code": f"m{i}", "merchant": merchant, "price_list": price_list}
        )
        return market.number

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(create, range(16)))
    assert sorted(numbers) == list(range(1, 17))
    assert Market.objects.count() == 16


def test_concurrent_duplicate_sku_codes_create_one_row_and_clean_errors():
    category = factories.ShippingCategoryFactory.create()

    @in_thread
    def create(i: int) -> str:
        try:
            resource_create(Sku, {"code": "RACE-1", "name": f"n{i}", "shipping_category": category})
        except ValidationError:
            return "refused"
        return "created"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(create, range(12)))
    assert outcomes.count("created") == 1
    assert outcomes.count("refused") == 11
    assert Sku.objects.filter(code="RACE-1").count() == 1
