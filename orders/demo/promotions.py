"""The demo's promotions, coupons, gift cards and taxes (issue 10), through their services.

Every market gets live promotions of each kind (two unlocked by coupons), three active gift
cards with balances, and the US market — whose price list excludes tax — a manual tax
calculator with state rules. Rows are found by `reference` before they are created, so a
second run changes nothing.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from markets.demo import PRICE_LISTS, SEED_ORIGIN
from markets.models import Market, SkuList, TaxCalculator, TaxRule
from markets.services import (
    market_save,
    sku_list_create,
    tax_calculator_create,
    tax_rule_create,
)
from orders.models import Coupon, GiftCard, Promotion, PromotionRule
from orders.services.gift_cards import gift_card_activate, gift_card_create, gift_card_purchase
from orders.services.promotions import coupon_create, promotion_create, promotion_rule_create

# (reference, name, regex of the SKU codes)
SKU_LISTS = [
    ("tees", "T-shirts", r"TSHIRT-.*"),
    ("hoodies", "Hoodies", r"HOODIE-.*"),
]

# (reference suffix, kind, name, fields, coupon code or None, minimum order amount in EUR cents)
PROMOTIONS: list[tuple[str, str, str, dict[str, Any], str | None, int | None]] = [
    (
        "tees",
        Promotion.Type.PERCENTAGE_DISCOUNT,
        "10% off T-shirts",
        {"percentage": 10},
        None,
        None,
    ),
    (
        "hoodies",
        Promotion.Type.BUY_X_PAY_Y,
        "Hoodies: 3 for 2",
        {"x": 3, "y": 2, "cheapest_free": True},
        None,
        None,
    ),
    ("ship", Promotion.Type.FREE_SHIPPING, "Free shipping over 100", {}, None, 10000),
    (
        "welcome",
        Promotion.Type.PERCENTAGE_DISCOUNT,
        "Welcome: 15% off",
        {"percentage": 15},
        "WELCOME15",
        None,
    ),
    (
        "ten",
        Promotion.Type.FIXED_AMOUNT,
        "10 off over 50",
        {"fixed_amount_cents": 1000},
        "TENOFF",
        5000,
    ),
]
LIST_OF = {"tees": "tees", "hoodies": "hoodies"}
GIFT_CARD_BALANCES = (2500, 5000, 10000)  # in EUR cents, scaled like the prices

# (reference, name, rate, patterns) of the US market's tax rules, first match wins
US_TAX_RULES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("us-ny", "New York", "0.08875", {"state_code_regex": "NY", "freight_taxable": True}),
    ("us-ca", "California", "0.0725", {"state_code_regex": "CA"}),
    ("us", "Other states", "0.06", {"country_code_regex": "US"}),
]


def _seeded(reference: str) -> dict[str, str]:
    return {"reference": reference, "reference_origin": SEED_ORIGIN}


def _sku_lists() -> dict[str, SkuList]:
    lists = {}
    for reference, name, regex in SKU_LISTS:
        lists[reference] = SkuList.objects.filter(**_seeded(f"list-{reference}")).first() or (
            sku_list_create(
                data={
                    "name": name,
                    "manual": False,
                    "sku_code_regex": regex,
                    **_seeded(f"list-{reference}"),
                }
            )
        )
    return lists


def _scaled(market: Market, eur_cents: int) -> int:
    factors = {code: factor for code, _, _, _, factor in PRICE_LISTS}
    return eur_cents * factors.get(market.price_list.code, 100) // 100


def _market_promotions(market: Market, lists: dict[str, SkuList]) -> None:
    now = timezone.now()
    for suffix, kind, name, fields, coupon_code, min_amount in PROMOTIONS:
        reference = f"promo-{market.code}-{suffix}"
        if Promotion.objects.filter(**_seeded(reference)).exists():
            continue
        values = dict(fields)
        if "fixed_amount_cents" in values:
            values["fixed_amount_cents"] = _scaled(market, values["fixed_amount_cents"])
        promotion = promotion_create(
            type=kind,
            data={
                "market": market,
                "name": name,
                "starts_at": now - datetime.timedelta(days=7),
                "expires_at": now + datetime.timedelta(days=365),
                "sku_list": lists.get(LIST_OF.get(suffix, "")),
                **values,
                **_seeded(reference),
            },
        )
        if min_amount is not None:
            promotion_rule_create(
                type=PromotionRule.Type.ORDER_AMOUNT,
                data={"promotion": promotion, "order_amount_cents": _scaled(market, min_amount)},
            )
        if coupon_code is not None:
            rule = promotion_rule_create(
                type=PromotionRule.Type.COUPON_CODES, data={"promotion": promotion}
            )
            code = f"{coupon_code}-{market.code.upper()}"
            if not Coupon.objects.filter(code__iexact=code).exists():
                coupon_create(
                    data={
                        "promotion_rule": rule,
                        "code": code,
                        "usage_limit": 1000,
                        "customer_single_use": suffix == "welcome",
                    }
                )


def _market_gift_cards(market: Market) -> None:
    for balance in GIFT_CARD_BALANCES:
        reference = f"gift-{market.code}-{balance}"
        if GiftCard.objects.filter(**_seeded(reference)).exists():
            continue
        card = gift_card_create(
            data={
                "market": market,
                "currency_code": market.price_list.currency_code,
                "balance_cents": _scaled(market, balance),
                "recipient_email": f"gift-{balance}@example.com",
                **_seeded(reference),
            }
        )
        gift_card_activate(gift_card=gift_card_purchase(gift_card=card))


def _us_taxes() -> None:
    market = Market.objects.filter(code="us").first()
    if market is None or market.price_list.tax_included:
        return
    calculator = TaxCalculator.objects.filter(**_seeded("tax-us")).first() or (
        tax_calculator_create(data={"name": "US sales tax", **_seeded("tax-us")})
    )
    for reference, name, rate, patterns in US_TAX_RULES:
        if not TaxRule.objects.filter(**_seeded(reference)).exists():
            tax_rule_create(
                data={
                    "manual_tax_calculator": calculator,
                    "name": name,
                    "tax_rate": rate,
                    **patterns,
                    **_seeded(reference),
                }
            )
    if market.tax_calculator_id != calculator.pk:
        market.tax_calculator = calculator
        market_save(market=market)


def promotions_seed() -> list[str]:
    """Create the demo's promotions, coupons, gift cards and US taxes where missing."""
    lists = _sku_lists()
    for market in Market.objects.select_related("price_list").order_by("code"):
        _market_promotions(market, lists)
        _market_gift_cards(market)
    _us_taxes()
    return [
        f"{Promotion.objects.count()} promotions",
        f"{Coupon.objects.count()} coupons",
        f"{GiftCard.objects.filter(status=GiftCard.Status.ACTIVE).count()} active gift cards",
        f"{TaxRule.objects.count()} tax rules",
    ]
