"""The promotion, rule, coupon and SKU list services: what they refuse (stable codes and
pointers) and what they keep (counters read under the row's lock, codes trimmed)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from markets import services as catalog
from markets.errors import SkuListItemSkuTaken, SkuMissing
from oms.errors import DomainError
from orders.errors import (
    CouponCodeTaken,
    CouponRuleInvalid,
    InvalidAttribute,
    PromotionCurrencyMismatch,
    PromotionDatesInvalid,
    PromotionRuleTaken,
)
from orders.models import Coupon, Promotion, PromotionRule
from orders.services import promotions as services
from tests import factories
from tests.orders.promotion_factories import (
    coupon_make,
    promotion_make,
    rule_make,
    running,
    sku_list_make,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(db):
    return factories.MarketFactory.create()


def refusal(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_each_kind_is_created_with_the_markets_currency(market):
    for kind in Promotion.Type.values:
        promotion = promotion_make(market, kind)
        assert promotion.type == kind
        assert promotion.currency_code == "EUR"
        assert promotion.status == Promotion.Status.ACTIVE


def test_the_currency_must_be_the_markets(market):
    error = refusal(promotion_make, market, currency_code="usd")
    assert isinstance(error, PromotionCurrencyMismatch)
    assert error.pointer == "/data/attributes/currency_code"
    assert promotion_make(market, currency_code=" eur ").currency_code == "EUR"


def test_expires_at_must_follow_starts_at(market):
    dates = running()
    error = refusal(promotion_make, market, expires_at=dates["starts_at"])
    assert isinstance(error, PromotionDatesInvalid)
    assert error.pointer == "/data/attributes/expires_at"


@pytest.mark.parametrize(
    ("kind", "fields", "pointer"),
    [
        (Promotion.Type.PERCENTAGE_DISCOUNT, {"percentage": 0}, "percentage"),
        (Promotion.Type.PERCENTAGE_DISCOUNT, {"percentage": 101}, "percentage"),
        (Promotion.Type.PERCENTAGE_DISCOUNT, {"percentage": None}, "percentage"),
        (Promotion.Type.FIXED_AMOUNT, {"fixed_amount_cents": -1}, "fixed_amount_cents"),
        (Promotion.Type.FIXED_PRICE, {"fixed_amount_cents": None}, "fixed_amount_cents"),
        (Promotion.Type.BUY_X_PAY_Y, {"x": 2, "y": 2}, "y"),
        (Promotion.Type.BUY_X_PAY_Y, {"x": None}, "x"),
    ],
)
def test_what_each_kind_needs(market, kind, fields, pointer):
    error = refusal(promotion_make, market, kind, **fields)
    assert isinstance(error, InvalidAttribute)
    assert error.pointer == f"/data/attributes/{pointer}"
    assert not Promotion.objects.exists()


def test_only_the_sku_discounts_have_a_sku_list(market):
    sku_list = sku_list_make(factories.SkuFactory.create())
    assert (
        promotion_make(market, Promotion.Type.BUY_X_PAY_Y, sku_list=sku_list).sku_list == sku_list
    )
    error = refusal(promotion_make, market, Promotion.Type.FREE_SHIPPING, sku_list=sku_list)
    assert error.pointer == "/data/relationships/sku_list"


def test_an_update_keeps_the_usage_count_counted_meanwhile(market):
    promotion = promotion_make(market, total_usage_limit=10)
    stale = Promotion.objects.get(pk=promotion.pk)
    Promotion.objects.filter(pk=promotion.pk).update(total_usage_count=3)  # a placement
    updated = services.promotion_update(promotion=stale, data={"name": "Renamed"})
    assert (updated.name, updated.total_usage_count) == ("Renamed", 3)
    promotion.refresh_from_db()
    assert promotion.total_usage_count == 3
    error = refusal(services.promotion_update, promotion=promotion, data={"total_usage_limit": 2})
    assert error.pointer == "/data/attributes/total_usage_limit"


def test_disable_and_enable_are_idempotent(market):
    promotion = promotion_make(market)
    disabled = services.promotion_disable(promotion=promotion)
    moment = disabled.disabled_at
    assert moment is not None
    assert disabled.status == Promotion.Status.DISABLED
    assert services.promotion_disable(promotion=promotion).disabled_at == moment
    enabled = services.promotion_enable(promotion=promotion)
    assert enabled.disabled_at is None
    assert services.promotion_enable(promotion=promotion).disabled_at is None


def test_the_status_follows_dates_and_usage(market):
    now = datetime.datetime.now(tz=datetime.UTC)
    later = promotion_make(
        market,
        starts_at=now + datetime.timedelta(days=1),
        expires_at=now + datetime.timedelta(days=2),
    )
    assert later.status == Promotion.Status.PENDING
    used_up = promotion_make(market, total_usage_limit=1)
    Promotion.objects.filter(pk=used_up.pk).update(total_usage_count=1)
    used_up.refresh_from_db()
    assert used_up.status == Promotion.Status.INACTIVE
    assert used_up.total_usage_reached


# --- rules ------------------------------------------------------------------------------------


def test_a_rule_of_each_kind_once_per_promotion(market):
    promotion = promotion_make(market)
    rule_make(promotion)
    error = refusal(rule_make, promotion)
    assert isinstance(error, PromotionRuleTaken)
    assert error.pointer == "/data/relationships/promotion"
    rule = rule_make(promotion, PromotionRule.Type.ORDER_AMOUNT, order_amount_cents=100)
    assert (
        services.promotion_rule_update(
            promotion_rule=rule, data={"order_amount_cents": 200}
        ).order_amount_cents
        == 200
    )


def test_an_order_amount_rule_needs_its_amount_and_a_sku_list_rule_its_list(market):
    promotion = promotion_make(market)
    error = refusal(rule_make, promotion, PromotionRule.Type.ORDER_AMOUNT)
    assert error.pointer == "/data/attributes/order_amount_cents"
    error = refusal(rule_make, promotion, PromotionRule.Type.SKU_LIST, min_quantity=2)
    assert error.pointer == "/data/relationships/sku_list"
    sku_list = sku_list_make(factories.SkuFactory.create())
    rule = rule_make(promotion, PromotionRule.Type.SKU_LIST, sku_list=sku_list, min_quantity=2)
    assert rule.sku_list == sku_list


# --- coupons ----------------------------------------------------------------------------------


def test_a_coupon_code_is_trimmed_and_unique_in_any_case(market):
    rule = rule_make(promotion_make(market))
    assert coupon_make(rule, "  Spring-10 ").code == "Spring-10"
    error = refusal(coupon_make, rule, "SPRING-10")
    assert isinstance(error, CouponCodeTaken)
    assert error.pointer == "/data/attributes/code"
    error = refusal(coupon_make, rule, "   ")
    assert error.pointer == "/data/attributes/code"
    assert Coupon.objects.count() == 1


def test_a_coupon_belongs_to_a_coupon_codes_rule(market):
    rule = rule_make(promotion_make(market), PromotionRule.Type.ORDER_AMOUNT, order_amount_cents=1)
    error = refusal(coupon_make, rule, "X")
    assert isinstance(error, CouponRuleInvalid)
    assert error.pointer == "/data/relationships/promotion_rule"


def test_a_coupon_update_keeps_its_usage_count(market):
    coupon = coupon_make(rule_make(promotion_make(market)), "SPRING", usage_limit=5)
    Coupon.objects.filter(pk=coupon.pk).update(usage_count=2)
    updated = services.coupon_update(coupon=coupon, data={"code": "spring"})
    assert (updated.code, updated.usage_count) == ("spring", 2)
    error = refusal(services.coupon_update, coupon=coupon, data={"usage_limit": 1})
    assert error.pointer == "/data/attributes/usage_limit"


# --- SKU lists --------------------------------------------------------------------------------


def test_a_sku_list_slug_follows_its_name():
    sku_list = catalog.sku_list_create(data={"name": "Summer Picks 2026"})
    assert sku_list.slug == "summer-picks-2026"
    assert catalog.sku_list_update(sku_list=sku_list, data={"name": "Autumn"}).slug == "autumn"


def test_a_regex_list_needs_a_valid_regex():
    with pytest.raises(ValidationError) as caught:
        catalog.sku_list_create(data={"name": "Shirts", "manual": False})
    assert "sku_code_regex" in caught.value.message_dict
    with pytest.raises(ValidationError):
        catalog.sku_list_create(data={"name": "Shirts", "manual": False, "sku_code_regex": "("})


def test_a_sku_is_in_a_list_once():
    sku = factories.SkuFactory.create(code="HAT")
    sku_list = sku_list_make(sku)
    error = refusal(catalog.sku_list_item_create, data={"sku_list": sku_list, "sku_code": "HAT"})
    assert isinstance(error, SkuListItemSkuTaken)
    error = refusal(catalog.sku_list_item_create, data={"sku_list": sku_list})
    assert isinstance(error, SkuMissing)
    other = factories.SkuFactory.create(code="CAP")
    item = catalog.sku_list_item_create(
        data={"sku_list": sku_list, "sku_code": "CAP", "quantity": 3}
    )
    assert (item.sku, item.quantity) == (other, 3)
    moved = catalog.sku_list_item_update(sku_list_item=item, data={"position": 5})
    assert moved.position == 5
