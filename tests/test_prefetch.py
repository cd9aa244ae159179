"""`with_children_if_any`: children most records lack are read only for those that have any."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from markets.models import Price
from oms.prefetch import with_children_if_any
from tests import factories

pytestmark = pytest.mark.django_db


def test_only_records_with_children_have_them_read_and_none_asks_again():
    price_list = factories.PriceListFactory.create()
    plain, tiered = factories.PriceFactory.create_batch(2, price_list=price_list)
    tiers = [
        factories.PriceVolumeTierFactory.create(price=tiered, up_to=up_to, price_amount_cents=c)
        for up_to, c in ((9, 900), (None, 800))
    ]
    with CaptureQueriesContext(connection) as captured:
        prices = {
            p.pk: p
            for p in with_children_if_any(
                Price.objects.filter(price_list=price_list), "price_volume_tiers"
            )
        }
        assert list(prices[plain.pk].price_volume_tiers.all()) == []
        assert sorted(t.pk for t in prices[tiered.pk].price_volume_tiers.all()) == sorted(
            t.pk for t in tiers
        )
        assert prices[tiered.pk].unit_amount_cents_for(20) == 800
        assert prices[plain.pk].unit_amount_cents_for(20) == plain.amount_cents
    assert len(captured.captured_queries) == 2  # the prices, the tiered one's tiers


def test_records_without_any_children_cost_one_query():
    price_list = factories.PriceListFactory.create()
    factories.PriceFactory.create_batch(3, price_list=price_list)
    with CaptureQueriesContext(connection) as captured:
        prices = with_children_if_any(
            Price.objects.filter(price_list=price_list), "price_volume_tiers"
        )
        assert [list(p.price_volume_tiers.all()) for p in prices] == [[], [], []]
    assert len(captured.captured_queries) == 1
