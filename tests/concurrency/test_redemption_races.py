"""Coupons and gift cards under concurrent placements and cancellations, on PostgreSQL with
real threads (issue 10): a coupon limited to 5 uses is used 5 times however many carts race
for it, one gift card is never overdrawn, and a cancellation gives back exactly once —
including when it races another cancellation or a placement wanting the use it frees.
The invariant check of tests/concurrency/conftest.py runs after each test (usage counts
against the orders that used them, each gift card's balance against its log)."""

from __future__ import annotations

import datetime
import time
from collections import Counter

import pytest
from django.utils import timezone

from orders import services
from orders.models import Coupon, GiftCard, GiftCardBalanceChange, Order, Promotion, PromotionRule
from orders.services import discounts, pipeline
from payments.models import Transaction
from tests.concurrency.test_checkout_races import buyer_cart, race, slow_gateway
from tests.fulfillment import factories as stock
from tests.orders.factories import STAFF, STOREFRONT, priced_sku

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def slow_reads(monkeypatch):
    """Every placement reads the coupon and the gift card, then waits: all of them have seen
    the last use (or the balance) free before any claims it, so only the guarded UPDATE of
    the claim can keep the count within the limit (without it, a test below fails)."""

    def slowed(read):
        def wrapper(*args, **kwargs):
            value = read(*args, **kwargs)
            time.sleep(0.3)
            return value

        return wrapper

    monkeypatch.setattr(discounts, "_coupon_promotion_id", slowed(discounts._coupon_promotion_id))
    monkeypatch.setattr(
        pipeline, "order_gift_card_balance", slowed(pipeline.order_gift_card_balance)
    )


def coupon_for(market, code: str, usage_limit: int) -> Coupon:
    now = timezone.now()
    promotion = Promotion.objects.create(
        market=market,
        type=Promotion.Type.PERCENTAGE_DISCOUNT,
        name="10% off",
        percentage=10,
        starts_at=now - datetime.timedelta(days=1),
        expires_at=now + datetime.timedelta(days=1),
    )
    rule = PromotionRule.objects.create(promotion=promotion, type=PromotionRule.Type.COUPON_CODES)
    return Coupon.objects.create(promotion_rule=rule, code=code, usage_limit=usage_limit)


def carts_with(shop, n: int, **codes: str) -> list[Order]:
    """`n` placeable carts of 20.00, each of its own SKU: no stock row is shared, so nothing
    but the coupon and the gift card serializes their placements."""
    carts = []
    for i in range(n):
        sku = priced_sku(shop.market, 2000)
        shop.stock(sku, 10)
        cart = buyer_cart(shop.market, sku, i)
        carts.append(services.order_update(order=cart, actor=STOREFRONT, data=codes))
    return carts


def test_twenty_placements_use_a_coupon_limited_to_five_exactly_five_times(slow_reads):
    shop = stock.shop_create()
    coupon = coupon_for(shop.market, "FIVE", usage_limit=5)
    carts = carts_with(shop, 20, coupon_code="five")
    assert {cart.discount_amount_cents for cart in carts} == {-200}
    slow_gateway(carts[0], latency_ms=20)

    outcomes = race(20, lambda i: services.order_place(order=carts[i], actor=STOREFRONT).status)

    assert Counter(outcomes) == {"placed": 5, "COUPON_USAGE_LIMIT_REACHED": 15}
    coupon.refresh_from_db()
    assert coupon.usage_count == 5
    placed = Order.objects.filter(status="placed")
    assert placed.count() == 5
    assert set(placed.values_list("place_total_amount_cents", flat=True)) == {1800}
    # the refused carts hold nothing and were charged nothing
    refused = Order.objects.exclude(status="placed")
    assert set(refused.values_list("status", flat=True)) == {"pending"}
    assert not refused.filter(redemptions_claimed=True).exists()
    assert not Transaction.objects.filter(order__in=refused).exists()


def test_orders_redeeming_one_gift_card_at_once_never_overdraw_it(slow_reads):
    shop = stock.shop_create()
    carts_seed = carts_with(shop, 1)
    card = GiftCard.objects.create(currency_code=carts_seed[0].currency_code, balance_cents=5000)
    GiftCard.objects.filter(pk=card.pk).update(status=GiftCard.Status.ACTIVE)
    carts = [
        services.order_update(order=cart, actor=STOREFRONT, data={"gift_card_code": card.code})
        for cart in [carts_seed[0], *carts_with(shop, 7)]
    ]
    assert {cart.gift_card_amount_cents for cart in carts} == {-2000}
    slow_gateway(carts[0], latency_ms=20)

    outcomes = race(8, lambda i: services.order_place(order=carts[i], actor=STOREFRONT).status)

    # 2 x 2000 fit in 5000; a third would be paid 1000 less than its cart showed: refused
    assert Counter(outcomes) == {"placed": 2, "GIFT_CARD_NOT_USABLE": 6}
    card = GiftCard.objects.get(pk=card.pk)
    assert card.balance_cents == 1000
    debits = GiftCardBalanceChange.objects.filter(gift_card=card, kind="debit")
    assert sorted(debits.values_list("amount_cents", flat=True)) == [-2000, -2000]


def test_cancelling_twice_at_once_gives_the_coupon_and_the_card_back_once():
    shop = stock.shop_create()
    coupon = coupon_for(shop.market, "BACK", usage_limit=3)
    [cart] = carts_with(shop, 1, coupon_code="BACK")
    card = GiftCard.objects.create(currency_code=cart.currency_code, balance_cents=1000)
    GiftCard.objects.filter(pk=card.pk).update(status=GiftCard.Status.ACTIVE)
    cart = services.order_update(order=cart, actor=STOREFRONT, data={"gift_card_code": card.code})
    order = services.order_place(order=cart, actor=STOREFRONT)
    assert GiftCard.objects.get(pk=card.pk).balance_cents == 0

    outcomes = race(2, lambda i: services.order_cancel(order=order, actor=STAFF).status)

    assert "cancelled" in outcomes
    assert set(outcomes) <= {"cancelled", "TRANSITION_NOT_ALLOWED", "PAYMENT_IN_PROGRESS"}
    coupon.refresh_from_db()
    assert coupon.usage_count == 0
    assert GiftCard.objects.get(pk=card.pk).balance_cents == 1000
    assert GiftCardBalanceChange.objects.filter(gift_card=card, kind="credit").count() == 1


def test_a_cancellation_racing_a_placement_for_the_last_use_counts_right_either_way():
    shop = stock.shop_create()
    coupon = coupon_for(shop.market, "LAST", usage_limit=1)
    first, second = carts_with(shop, 2, coupon_code="LAST")
    first = services.order_place(order=first, actor=STOREFRONT)
    slow_gateway(first, latency_ms=20)

    def work(i: int) -> str:
        if i == 0:
            return services.order_cancel(order=first, actor=STAFF).status
        return services.order_place(order=second, actor=STOREFRONT).status

    outcomes = race(2, work)

    assert outcomes[0] == "cancelled"
    # the placement either came after the use was given back, or found it taken
    assert outcomes[1] in {"placed", "COUPON_USAGE_LIMIT_REACHED"}
    coupon.refresh_from_db()
    assert coupon.usage_count == (1 if outcomes[1] == "placed" else 0)
    if outcomes[1] == "placed":  # with the discount its cart showed, never at full price
        assert Order.objects.get(pk=second.pk).discount_amount_cents == -200
