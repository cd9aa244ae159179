"""The catalog refuses bad data at the service layer and, underneath, in the database."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from markets.models import Address, Market, Price, PriceList, Sku
from markets.services import market_create, market_disable, market_enable, price_create
from oms.services import resource_create, resource_update
from tests import factories

pytestmark = pytest.mark.django_db


def test_price_with_negative_amount_is_refused():
    sku = factories.SkuFactory.create()
    price_list = factories.PriceListFactory.create()
    with pytest.raises(ValidationError) as exc:
        price_create(data={"sku": sku, "price_list": price_list, "amount_cents": -1})
    assert "amount_cents" in exc.value.message_dict
    assert not Price.objects.exists()


def test_database_refuses_negative_amount_even_when_validation_is_bypassed():
    price = factories.PriceFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Price.objects.filter(pk=price.pk).update(amount_cents=-5)


def test_duplicate_sku_code_is_refused():
    factories.SkuFactory.create(code="TEE-1")
    category = factories.ShippingCategoryFactory.create()
    with pytest.raises(ValidationError) as exc:
        resource_create(Sku, {"code": "TEE-1", "name": "Another", "shipping_category": category})
    assert "code" in exc.value.message_dict
    assert Sku.objects.filter(code="TEE-1").count() == 1


def test_unknown_currency_is_refused():
    with pytest.raises(ValidationError) as exc:
        resource_create(PriceList, {"name": "Mars", "currency_code": "XYZ"})
    assert exc.value.message_dict["currency_code"] == ["XYZ is not an ISO 4217 currency code."]
    assert not PriceList.objects.exists()


def test_currency_code_is_normalised_to_upper_case():
    price_list = resource_create(PriceList, {"name": "Euro", "currency_code": " eur "})
    assert price_list.currency_code == "EUR"


def test_market_without_price_list_is_refused():
    merchant = factories.MerchantFactory.create()
    with pytest.raises(ValidationError) as exc:
        market_create(data={"name": "Nowhere", "code": "nowhere", "merchant": merchant})
    assert "price_list" in exc.value.message_dict
    assert not Market.objects.exists()


def test_markets_are_numbered_in_creation_order():
    first, second = factories.MarketFactory.create(), factories.MarketFactory.create()
    assert second.number == first.number + 1


def test_market_disable_and_enable():
    market = factories.MarketFactory.create()
    market = market_disable(market=market)
    assert market.disabled_at is not None
    assert not market.is_enabled
    disabled_at = market.disabled_at
    assert (
        market_disable(market=market).disabled_at == disabled_at
    )  # disabling twice changes nothing
    assert market_enable(market=market).disabled_at is None


def test_price_may_name_its_sku_by_code():
    sku = factories.SkuFactory.create(code="MUG-1")
    price = price_create(
        data={
            "sku_code": "MUG-1",
            "price_list": factories.PriceListFactory.create(),
            "amount_cents": 1500,
        }
    )
    assert price.sku == sku
    assert price.sku_code == "MUG-1"


def test_price_with_unknown_sku_code_is_refused():
    with pytest.raises(ValidationError) as exc:
        price_create(
            data={
                "sku_code": "NOPE",
                "price_list": factories.PriceListFactory.create(),
                "amount_cents": 1,
            }
        )
    assert exc.value.message_dict == {"sku_code": ["No SKU has the code 'NOPE'."]}


def test_one_price_per_sku_and_price_list():
    price = factories.PriceFactory.create()
    with pytest.raises(ValidationError):
        price_create(data={"sku": price.sku, "price_list": price.price_list, "amount_cents": 1})


def test_price_renders_float_and_formatted_amounts():
    price = factories.PriceFactory.create(
        amount_cents=123450, price_list=factories.PriceListFactory.create(currency_code="EUR")
    )
    assert price.amount_float == 1234.5
    assert price.formatted_amount == "€1,234.50"
    assert price.currency_code == "EUR"


@pytest.mark.parametrize(
    ("quantity", "unit_cents"),
    [(1, 900), (10, 900), (11, 800), (50, 800), (51, 700), (1000, 700)],
)
def test_unit_price_comes_from_the_volume_tier_of_the_quantity(quantity, unit_cents):
    price = factories.PriceFactory.create(amount_cents=1000)
    factories.PriceVolumeTierFactory.create(price=price, up_to=10, price_amount_cents=900)
    factories.PriceVolumeTierFactory.create(price=price, up_to=50, price_amount_cents=800)
    factories.PriceVolumeTierFactory.create(price=price, up_to=None, price_amount_cents=700)
    assert price.unit_amount_cents_for(quantity) == unit_cents


def test_without_an_open_ended_tier_large_quantities_pay_the_base_price():
    price = factories.PriceFactory.create(amount_cents=1000)
    factories.PriceVolumeTierFactory.create(price=price, up_to=10, price_amount_cents=900)
    assert price.unit_amount_cents_for(5) == 900
    assert price.unit_amount_cents_for(11) == 1000


def test_volume_tier_amount_cannot_be_negative():
    with pytest.raises(ValidationError):
        factories.PriceVolumeTierFactory.create(price_amount_cents=-1)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"business": False, "first_name": "", "last_name": "Doe"}, "first_name"),
        ({"business": False, "first_name": "Jo", "last_name": ""}, "last_name"),
        ({"business": True, "company": ""}, "company"),
        ({"country_code": "XX"}, "country_code"),
        ({"country_code": "ITA"}, "country_code"),
        ({"line_1": ""}, "line_1"),
        ({"city": ""}, "city"),
        ({"phone": ""}, "phone"),
    ],
)
def test_incomplete_address_is_refused(values, field):
    data = {
        "first_name": "Jo",
        "last_name": "Doe",
        "line_1": "Via Roma 1",
        "city": "Milano",
        "zip_code": "20100",
        "country_code": "IT",
        "phone": "+39 02 0000",
        **values,
    }
    with pytest.raises(ValidationError) as exc:
        resource_create(Address, data)
    assert field in exc.value.message_dict


def test_business_address_needs_only_a_company():
    address = resource_create(
        Address,
        {
            "business": True,
            "company": "Acme",
            "line_1": "1 Main St",
            "city": "Springfield",
            "country_code": "us",
            "phone": "555",
        },
    )
    assert address.country_code == "US"
    assert address.full_name == "Acme"


def test_update_goes_through_validation():
    sku = factories.SkuFactory.create()
    with pytest.raises(ValidationError):
        resource_update(sku, {"weight": -1})
    sku.refresh_from_db()
    assert sku.weight == 250


def test_weight_needs_a_unit():
    with pytest.raises(ValidationError) as exc:
        factories.SkuFactory.create(weight=100, unit_of_weight="")
    assert "unit_of_weight" in exc.value.message_dict
