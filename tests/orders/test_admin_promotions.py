"""The promotions, coupons and SKU lists pages: forms that refuse what the services refuse (as
a message on the field), saves and actions through the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from markets.models import SkuList
from orders.models import Coupon, Promotion, PromotionRule
from tests import factories
from tests.orders.promotion_factories import coupon_make, promotion_make, rule_make, sku_list_make
from tests.orders.test_admin_order_page import login_as

pytestmark = pytest.mark.django_db

ADD = "admin:orders_promotion_add"


@pytest.fixture
def boss(client):
    return login_as(client, None)


@pytest.fixture
def market(db):
    return factories.MarketFactory.create(code="eu")


def inline_management(client: Any, url: str) -> dict[str, str]:
    """The management forms of the page's inlines, each with no form sent."""
    response = client.get(url)
    assert response.status_code == 200
    data: dict[str, str] = {}
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = "0"
        data[f"{formset.prefix}-INITIAL_FORMS"] = str(formset.initial_form_count())
        for index, form in enumerate(formset.initial_forms):
            data[f"{formset.prefix}-{index}-id"] = str(form.instance.pk)
        if formset.initial_form_count():
            data[f"{formset.prefix}-TOTAL_FORMS"] = str(formset.initial_form_count())
    return data


def prefix_of(client: Any, url: str, model_fields: set[str]) -> str:
    response = client.get(url)
    for inline in response.context["inline_admin_formsets"]:
        if model_fields <= set(inline.formset.form.base_fields):
            return str(inline.formset.prefix)
    raise AssertionError(f"no inline with {model_fields}")


def promotion_form(market: Any, **fields: Any) -> dict[str, Any]:
    return {
        "kind": Promotion.Type.PERCENTAGE_DISCOUNT,
        "name": "Spring sale",
        "market": market.pk,
        "currency_code": "",
        "starts_at_0": "2026-01-01",
        "starts_at_1": "00:00:00",
        "expires_at_0": "2027-01-01",
        "expires_at_1": "00:00:00",
        "percentage": "15",
        "metadata": "{}",
        **fields,
    }


def test_a_promotion_is_created_with_its_kind_and_a_rule(boss, market):
    url = reverse(ADD)
    data = {**inline_management(boss, url), **promotion_form(market)}
    amount = prefix_of(boss, url, {"order_amount", "use_subtotal"})
    data.update(
        {
            f"{amount}-TOTAL_FORMS": "1",
            f"{amount}-0-order_amount": "50.00",
            f"{amount}-0-use_subtotal": "on",
        }
    )
    response = boss.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    promotion = Promotion.objects.get()
    assert promotion.type == Promotion.Type.PERCENTAGE_DISCOUNT
    assert promotion.percentage == 15
    assert promotion.currency_code == "EUR"  # the market's
    rule = promotion.promotion_rules.get()
    assert (rule.type, rule.order_amount_cents, rule.use_subtotal) == (
        PromotionRule.Type.ORDER_AMOUNT,
        5000,
        True,
    )


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"percentage": "0"}, "percentage", "percentage must be from 1 to 100"),
        ({"currency_code": "USD"}, "currency_code", "must be the market's currency"),
        ({"expires_at_0": "2025-01-01"}, "expires_at", "expires_at must be after starts_at"),
    ],
)
def test_the_form_refuses_what_the_service_refuses(boss, market, fields, field, words):
    url = reverse(ADD)
    response = boss.post(url, {**inline_management(boss, url), **promotion_form(market, **fields)})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(words in message for message in errors[field]), errors
    assert not Promotion.objects.exists()


def test_the_list_shows_kind_status_and_usage(boss, market):
    active = promotion_make(market, name="Now")
    disabled = promotion_make(market, Promotion.Type.FREE_SHIPPING, name="Off")
    url = reverse("admin:orders_promotion_changelist")
    response = boss.post(
        url,
        {"action": "disable_promotions", "_selected_action": [disabled.pk]},
        follow=True,
    )
    assert "1 promotion(s) disabled." in [str(m) for m in get_messages(response.wsgi_request)]
    disabled.refresh_from_db()
    assert disabled.disabled_at is not None
    response = boss.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "free shipping" in page
    assert "0 / ∞" in page
    response = boss.get(url, {"status": "disabled"})
    assert list(response.context["cl"].result_list) == [disabled]
    response = boss.get(url, {"status": "active"})
    assert list(response.context["cl"].result_list) == [active]
    boss.post(url, {"action": "enable_promotions", "_selected_action": [disabled.pk]})
    disabled.refresh_from_db()
    assert disabled.disabled_at is None


def test_a_promotion_page_shows_its_rules_and_coupons(boss, market):
    promotion = promotion_make(market)
    coupon_make(rule_make(promotion), "SPRING")
    response = boss.get(reverse("admin:orders_promotion_change", args=[promotion.pk]))
    assert response.status_code == 200
    assert "1 coupon(s)" in response.content.decode()
    coupons = boss.get(
        reverse("admin:orders_coupon_changelist"),
        {"promotion_rule__id__exact": promotion.promotion_rules.get().pk},
    )
    assert coupons.status_code == 200
    assert [c.code for c in coupons.context["cl"].result_list] == ["SPRING"]


def test_read_only_cannot_disable_a_promotion(client, market):
    promotion = promotion_make(market)
    reader = login_as(client, "Read only")
    url = reverse("admin:orders_promotion_changelist")
    listing = reader.get(url)
    assert listing.status_code == 200
    assert "disable_promotions" not in listing.content.decode()
    reader.post(url, {"action": "disable_promotions", "_selected_action": [promotion.pk]})
    promotion.refresh_from_db()
    assert promotion.disabled_at is None


def test_a_coupon_code_taken_in_another_case_is_a_form_error(boss, market):
    rule = rule_make(promotion_make(market))
    coupon_make(rule, "SPRING")
    response = boss.post(
        reverse("admin:orders_coupon_add"),
        {"promotion_rule": rule.pk, "code": " spring ", "metadata": "{}"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "has already been taken" in errors["code"][0]
    assert Coupon.objects.count() == 1
    response = boss.post(
        reverse("admin:orders_coupon_add"),
        {"promotion_rule": rule.pk, "code": " summer ", "metadata": "{}"},
    )
    assert response.status_code == 302
    assert Coupon.objects.filter(code="summer").exists()


def test_a_sku_list_with_items_gets_its_slug(boss):
    sku = factories.SkuFactory.create()
    url = reverse("admin:markets_skulist_add")
    prefix = prefix_of(boss, url, {"sku", "quantity"})
    response = boss.post(
        url,
        {
            "name": "Summer Picks",
            "manual": "on",
            "sku_code_regex": "",
            "description": "",
            "image_url": "",
            "metadata": "{}",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-sku": sku.pk,
            f"{prefix}-0-quantity": "2",
            f"{prefix}-0-position": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    sku_list = SkuList.objects.get()
    assert sku_list.slug == "summer-picks"
    assert [(i.sku_id, i.quantity) for i in sku_list.sku_list_items.all()] == [(sku.pk, 2)]
    assert boss.get(reverse("admin:markets_skulist_changelist")).status_code == 200
    assert sku_list_make(sku, name="Other").slug == "other"
