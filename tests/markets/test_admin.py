"""The admin refuses bad input with a form message and writes nothing."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from markets.models import Market, Price, PriceList, Sku
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456!")
    client.force_login(user)
    return client


def errors_of(response):
    assert response.status_code == 200, "an invalid admin form re-renders with errors"
    return response.context["adminform"].form.errors


def test_negative_price_is_refused_in_the_admin(staff_client):
    sku, price_list = factories.SkuFactory.create(), factories.PriceListFactory.create()
    response = staff_client.post(
        reverse("admin:markets_price_add"),
        {
            "sku": sku.pk,
            "price_list": price_list.pk,
            "amount": "-1.00",
            "reference": "",
            "reference_origin": "",
            "metadata": "{}",
            "rules": "{}",
            "price_volume_tiers-TOTAL_FORMS": "0",
            "price_volume_tiers-INITIAL_FORMS": "0",
        },
    )
    assert "Ensure this value is greater than or equal to 0." in errors_of(response)["amount"]
    assert not Price.objects.exists()


def test_a_price_is_entered_and_shown_in_major_units_of_its_currency(staff_client):
    sku = factories.SkuFactory.create()
    yen = factories.PriceListFactory.create(currency_code="JPY")
    form = {
        "sku": sku.pk,
        "price_list": yen.pk,
        "amount": "1250.5",
        "metadata": "{}",
        "rules": "{}",
        "price_volume_tiers-TOTAL_FORMS": "0",
        "price_volume_tiers-INITIAL_FORMS": "0",
    }
    response = staff_client.post(reverse("admin:markets_price_add"), form)
    assert errors_of(response)["amount"] == ["JPY has 0 decimal places: 1250.5 has more."]
    response = staff_client.post(reverse("admin:markets_price_add"), {**form, "amount": "1250"})
    assert response.status_code == 302
    price = Price.objects.get()
    assert price.amount_cents == 1250
    page = staff_client.get(reverse("admin:markets_price_change", args=[price.pk]))
    assert 'value="1250"' in page.content.decode()
    assert "In JPY" in page.content.decode()


def test_duplicate_sku_code_is_refused_in_the_admin(staff_client):
    existing = factories.SkuFactory.create(code="DUP-1")
    response = staff_client.post(
        reverse("admin:markets_sku_add"),
        {
            "code": "DUP-1",
            "name": "Duplicate",
            "shipping_category": existing.shipping_category.pk,
            "reference": "",
            "reference_origin": "",
            "metadata": "{}",
            "unit_of_weight": "",
        },
    )
    assert errors_of(response)["code"] == ["SKU with this Code already exists."]
    assert Sku.objects.count() == 1


def test_unknown_currency_is_refused_in_the_admin(staff_client):
    response = staff_client.post(
        reverse("admin:markets_pricelist_add"),
        {"name": "Mars", "currency_code": "XYZ", "metadata": "{}", "rules": "{}"},
    )
    assert errors_of(response)["currency_code"] == ["XYZ is not an ISO 4217 currency code."]
    assert not PriceList.objects.exists()


def test_market_without_price_list_is_refused_in_the_admin(staff_client):
    merchant = factories.MerchantFactory.create()
    response = staff_client.post(
        reverse("admin:markets_market_add"),
        {"name": "Nowhere", "code": "nowhere", "merchant": merchant.pk, "metadata": "{}"},
    )
    assert errors_of(response)["price_list"] == ["This field is required."]
    assert not Market.objects.exists()


def test_valid_price_with_volume_tiers_is_saved_from_the_admin(staff_client):
    sku, price_list = factories.SkuFactory.create(), factories.PriceListFactory.create()
    response = staff_client.post(
        reverse("admin:markets_price_add"),
        {
            "sku": sku.pk,
            "price_list": price_list.pk,
            "amount": "12.00",
            "metadata": "{}",
            "rules": "{}",
            "price_volume_tiers-TOTAL_FORMS": "1",
            "price_volume_tiers-INITIAL_FORMS": "0",
            "price_volume_tiers-0-name": "Ten or fewer",
            "price_volume_tiers-0-up_to": "10",
            "price_volume_tiers-0-price_amount": "10",
        },
    )
    assert response.status_code == 302
    price = Price.objects.get()
    assert price.amount_cents == 1200  # typed in major units of the price list's currency
    assert price.unit_amount_cents_for(3) == 1000


def test_disable_and_enable_market_actions(staff_client):
    market = factories.MarketFactory.create()
    url = reverse("admin:markets_market_changelist")
    staff_client.post(url, {"action": "disable_markets", "_selected_action": [market.pk]})
    market.refresh_from_db()
    assert market.disabled_at is not None
    staff_client.post(url, {"action": "enable_markets", "_selected_action": [market.pk]})
    market.refresh_from_db()
    assert market.disabled_at is None


@pytest.mark.parametrize(
    "model",
    [
        "organization",
        "address",
        "merchant",
        "customergroup",
        "shippingcategory",
        "pricelist",
        "market",
        "sku",
        "price",
    ],
)
def test_every_catalog_admin_page_renders(staff_client, model):
    price = factories.PriceFactory.create()
    factories.PriceVolumeTierFactory.create(price=price)
    factories.MarketFactory.create(price_list=price.price_list)
    factories.OrganizationFactory.create()
    assert staff_client.get(reverse(f"admin:markets_{model}_changelist")).status_code == 200
    assert staff_client.get(reverse(f"admin:markets_{model}_add")).status_code in (200, 403)
