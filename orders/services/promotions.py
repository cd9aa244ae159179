"""Promotions, their rules and coupons: every write of them (the API, the admin, commands).

How a promotion applies to an order (discounts, a coupon code on an order, usage counts) is
the recompute pipeline's (`orders.services.pipeline`, `orders.services.discounts`); here are
only the records a merchant sets up, checked before they are saved.

`total_usage_count` and a coupon's `usage_count` move at placement and back at cancellation
while a merchant may be editing the record: an update re-reads the row under its lock, so the
save writes the counter it read there, never one read before the page was opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from oms.services import resource_save
from orders.errors import (
    CouponCodeTaken,
    CouponRuleInvalid,
    InvalidAttribute,
    PromotionCurrencyMismatch,
    PromotionDatesInvalid,
    PromotionRuleTaken,
    attribute,
    relationship,
)
from orders.models import Coupon, Promotion, PromotionRule

PERCENTAGE_MIN, PERCENTAGE_MAX = 1, 100
# the kinds whose discount is limited to the SKUs of a list (all SKUs when it has none)
SKU_LIST_PROMOTIONS = frozenset(
    {
        Promotion.Type.PERCENTAGE_DISCOUNT,
        Promotion.Type.FIXED_PRICE,
        Promotion.Type.BUY_X_PAY_Y,
    }
)
FIXED_AMOUNT_PROMOTIONS = frozenset({Promotion.Type.FIXED_AMOUNT, Promotion.Type.FIXED_PRICE})


# --- promotions -------------------------------------------------------------------------------


def promotion_check(*, promotion: Promotion) -> None:
    """Refuse what the model cannot say well: a currency that is not the market's (an empty
    one becomes the market's), dates the wrong way round, and what the kind needs."""
    if promotion.type not in Promotion.Type.values:
        raise InvalidAttribute(f"{promotion.type!r} is not a kind of promotion.", pointer="/data")
    if promotion.market_id is not None:
        currency = promotion.market.price_list.currency_code
        given = (promotion.currency_code or "").strip().upper()
        if not given:
            promotion.currency_code = currency
        elif given != currency:
            raise PromotionCurrencyMismatch(
                f"currency_code must be the market's currency, {currency} (not {given}).",
                pointer=attribute("currency_code"),
            )
    if (
        promotion.starts_at is not None
        and promotion.expires_at is not None
        and promotion.expires_at <= promotion.starts_at
    ):
        raise PromotionDatesInvalid(
            "expires_at must be after starts_at.", pointer=attribute("expires_at")
        )
    limit = promotion.total_usage_limit
    if limit is not None and limit < promotion.total_usage_count:
        raise InvalidAttribute(
            f"total_usage_limit cannot be below the uses so far ({promotion.total_usage_count}).",
            pointer=attribute("total_usage_limit"),
        )
    _promotion_kind_check(promotion)


def _promotion_kind_check(promotion: Promotion) -> None:
    kind = promotion.type
    if kind == Promotion.Type.PERCENTAGE_DISCOUNT:
        percentage = promotion.percentage
        if percentage is None or not PERCENTAGE_MIN <= percentage <= PERCENTAGE_MAX:
            raise InvalidAttribute(
                f"percentage must be from {PERCENTAGE_MIN} to {PERCENTAGE_MAX}.",
                pointer=attribute("percentage"),
            )
    if kind in FIXED_AMOUNT_PROMOTIONS and (
        promotion.fixed_amount_cents is None or promotion.fixed_amount_cents < 0
    ):
        raise InvalidAttribute(
            "fixed_amount_cents is required and cannot be negative.",
            pointer=attribute("fixed_amount_cents"),
        )
    if kind == Promotion.Type.BUY_X_PAY_Y:
        if promotion.x is None or promotion.x < 1:
            raise InvalidAttribute("x is required and at least 1.", pointer=attribute("x"))
        if promotion.y is None or not 0 <= promotion.y < promotion.x:
            raise InvalidAttribute(
                "y is required, at least 0 and less than x.", pointer=attribute("y")
            )
    if promotion.sku_list_id is not None and kind not in SKU_LIST_PROMOTIONS:
        raise InvalidAttribute(
            "Only percentage discount, fixed price and buy X pay Y promotions have a SKU list.",
            pointer=relationship("sku_list"),
        )


def promotion_save(*, promotion: Promotion) -> Promotion:
    """Check and save a new promotion, or one whose row the caller holds locked."""
    promotion_check(promotion=promotion)
    return resource_save(promotion)


def promotion_create(*, type: str, data: Mapping[str, Any]) -> Promotion:
    return promotion_save(promotion=Promotion(type=type, **data))


def promotion_update(*, promotion: Promotion, data: Mapping[str, Any]) -> Promotion:
    with transaction.atomic():
        locked = Promotion.objects.select_for_update().get(pk=promotion.pk)
        for field, value in data.items():
            setattr(locked, field, value)
        return promotion_save(promotion=locked)


def promotion_disable(*, promotion: Promotion) -> Promotion:
    with transaction.atomic():
        locked = Promotion.objects.select_for_update().get(pk=promotion.pk)
        if locked.disabled_at is None:
            locked.disabled_at = timezone.now()
            locked.save(update_fields=["disabled_at", "updated_at"])
    return locked


def promotion_enable(*, promotion: Promotion) -> Promotion:
    with transaction.atomic():
        locked = Promotion.objects.select_for_update().get(pk=promotion.pk)
        if locked.disabled_at is not None:
            locked.disabled_at = None
            locked.save(update_fields=["disabled_at", "updated_at"])
    return locked


# --- promotion rules --------------------------------------------------------------------------


def promotion_rule_check(*, promotion_rule: PromotionRule) -> None:
    """What each kind of rule needs, and one rule of a kind per promotion."""
    rule = promotion_rule
    if rule.type not in PromotionRule.Type.values:
        raise InvalidAttribute(f"{rule.type!r} is not a kind of promotion rule.", pointer="/data")
    if rule.type == PromotionRule.Type.ORDER_AMOUNT and (
        rule.order_amount_cents is None or rule.order_amount_cents < 0
    ):
        raise InvalidAttribute(
            "order_amount_cents is required and cannot be negative.",
            pointer=attribute("order_amount_cents"),
        )
    if rule.type == PromotionRule.Type.SKU_LIST and rule.sku_list_id is None:
        raise InvalidAttribute(
            "A SKU list rule needs its SKU list.", pointer=relationship("sku_list")
        )
    if rule.promotion_id is not None:
        others = PromotionRule.objects.filter(promotion_id=rule.promotion_id, type=rule.type)
        if rule.pk is not None:
            others = others.exclude(pk=rule.pk)
        if others.exists():
            raise PromotionRuleTaken(
                f"This promotion has a {rule.get_type_display()} rule already.",
                pointer=relationship("promotion"),
            )


def promotion_rule_save(*, promotion_rule: PromotionRule) -> PromotionRule:
    promotion_rule_check(promotion_rule=promotion_rule)
    return resource_save(promotion_rule)


def promotion_rule_create(*, type: str, data: Mapping[str, Any]) -> PromotionRule:
    return promotion_rule_save(promotion_rule=PromotionRule(type=type, **data))


def promotion_rule_update(
    *, promotion_rule: PromotionRule, data: Mapping[str, Any]
) -> PromotionRule:
    for field, value in data.items():
        setattr(promotion_rule, field, value)
    return promotion_rule_save(promotion_rule=promotion_rule)


# --- coupons ----------------------------------------------------------------------------------


def coupon_check(*, coupon: Coupon) -> None:
    """A trimmed code no other coupon has in any case, on a coupon-codes rule."""
    coupon.code = (coupon.code or "").strip()
    if not coupon.code:
        raise InvalidAttribute("code can't be blank.", pointer=attribute("code"))
    rule = coupon.promotion_rule if coupon.promotion_rule_id is not None else None
    if rule is not None and rule.type != PromotionRule.Type.COUPON_CODES:
        raise CouponRuleInvalid(
            "A coupon belongs to a coupon codes promotion rule, not to a "
            f"{rule.get_type_display()} rule.",
            pointer=relationship("promotion_rule"),
        )
    taken = Coupon.objects.filter(code__iexact=coupon.code)
    if coupon.pk is not None:
        taken = taken.exclude(pk=coupon.pk)
    if taken.exists():
        raise CouponCodeTaken(
            f"The code {coupon.code} has already been taken.", pointer=attribute("code")
        )
    limit = coupon.usage_limit
    if limit is not None and limit < coupon.usage_count:
        raise InvalidAttribute(
            f"usage_limit cannot be below the uses so far ({coupon.usage_count}).",
            pointer=attribute("usage_limit"),
        )


def coupon_save(*, coupon: Coupon) -> Coupon:
    """Check and save a new coupon, or one whose row the caller holds locked."""
    coupon_check(coupon=coupon)
    return resource_save(coupon)


def coupon_create(*, data: Mapping[str, Any]) -> Coupon:
    return coupon_save(coupon=Coupon(**data))


def coupon_update(*, coupon: Coupon, data: Mapping[str, Any]) -> Coupon:
    with transaction.atomic():
        locked = Coupon.objects.select_for_update().get(pk=coupon.pk)
        for field, value in data.items():
            setattr(locked, field, value)
        return coupon_save(coupon=locked)
