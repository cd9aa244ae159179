"""Promotions, rules, coupons and SKU lists for tests, built through their services."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from markets import services as catalog
from markets.models import Market, Sku, SkuList, SkuListItem
from orders.models import Coupon, Promotion, PromotionRule
from orders.services import promotions as services

KIND_FIELDS: dict[str, dict[str, Any]] = {
    Promotion.Type.PERCENTAGE_DISCOUNT: {"percentage": 10},
    Promotion.Type.FIXED_AMOUNT: {"fixed_amount_cents": 500},
    Promotion.Type.FREE_SHIPPING: {},
    Promotion.Type.FIXED_PRICE: {"fixed_amount_cents": 990},
    Promotion.Type.BUY_X_PAY_Y: {"x": 3, "y": 2},
}


def running() -> dict[str, datetime.datetime]:
    now = timezone.now()
    return {
        "starts_at": now - datetime.timedelta(days=1),
        "expires_at": now + datetime.timedelta(days=30),
    }


def promotion_make(
    market: Market, kind: str = Promotion.Type.PERCENTAGE_DISCOUNT, **fields: Any
) -> Promotion:
    data = {"name": f"{kind} promo", **running(), **KIND_FIELDS[kind], **fields}
    return services.promotion_create(type=kind, data={"market": market, **data})


def rule_make(
    promotion: Promotion, kind: str = PromotionRule.Type.COUPON_CODES, **fields: Any
) -> PromotionRule:
    return services.promotion_rule_create(type=kind, data={"promotion": promotion, **fields})


def coupon_make(rule: PromotionRule, code: str, **fields: Any) -> Coupon:
    return services.coupon_create(data={"promotion_rule": rule, "code": code, **fields})


def sku_list_make(*skus: Sku, name: str = "Summer picks") -> SkuList:
    sku_list = catalog.sku_list_create(data={"name": name})
    for position, sku in enumerate(skus):
        catalog.sku_list_item_create(data={"sku_list": sku_list, "sku": sku, "position": position})
    return sku_list


def sku_list_item_of(sku_list: SkuList) -> SkuListItem:
    item = sku_list.sku_list_items.first()
    assert item is not None
    return item
