import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from markets.models import Market, Price, PriceVolumeTier, Sku

pytestmark = pytest.mark.django_db


def snapshot():
    return {
        "markets": sorted(
            Market.objects.values_list("id", "code", "number", "price_list__currency_code")
        ),
        "skus": sorted(
            Sku.objects.values_list("id", "code", "do_not_ship", "shipping_category_id")
        ),
        "prices": sorted(
            Price.objects.values_list("id", "sku_id", "price_list_id", "amount_cents")
        ),
        "tiers": sorted(PriceVolumeTier.objects.values_list("id", "up_to", "price_amount_cents")),
    }


def test_seed_demo_builds_the_demo_catalog(capsys):
    call_command("seed_demo", orders=0)
    markets = {m.code: m for m in Market.objects.select_related("price_list")}
    assert {code: m.price_list.currency_code for code, m in markets.items()} == {
        "eu": "EUR",
        "us": "USD",
        "uk": "GBP",
    }
    assert markets["eu"].price_list.tax_included is True
    assert markets["us"].price_list.tax_included is False
    assert len({m.merchant_id for m in markets.values()}) == 2
    assert Sku.objects.count() >= 40
    assert Sku.objects.filter(do_not_ship=True).exists()
    assert Sku.objects.values("shipping_category").distinct().count() >= 3
    for market in markets.values():
        priced = Price.objects.filter(price_list=market.price_list).count()
        assert priced == Sku.objects.count(), f"every SKU has a price in {market.code}"
    assert PriceVolumeTier.objects.exists()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("oms-demo-2026")
    assert "user: admin  password: oms-demo-2026" in capsys.readouterr().out


def test_seed_demo_is_idempotent():
    call_command("seed_demo", orders=0)
    first = snapshot()
    call_command("seed_demo", orders=0)
    assert snapshot() == first
