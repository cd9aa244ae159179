"""Promotions, coupons, gift cards and taxes on real orders, through the order services (spec
sections 2.2, 3 and 6): what a code does to a cart's totals, what placement takes and what
cancellation gives back, exactly once."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from markets.models import Market, SkuList, SkuListItem, TaxCalculator, TaxRule
from markets.services import market_save
from oms.errors import DomainError
from orders import services
from orders.invariants import invariant_violations
from orders.models import (
    Coupon,
    GiftCard,
    GiftCardBalanceChange,
    LineItem,
    Order,
    Promotion,
    PromotionRule,
)
from payments.models import Transaction
from tests import factories as catalog
from tests.orders.factories import (
    STAFF,
    STOREFRONT,
    checkout_ready,
    line_add,
    market_in,
    order_pending,
    order_ready,
    priced_sku,
)

pytestmark = pytest.mark.django_db


def promotion(market: Market, kind: str = Promotion.Type.PERCENTAGE_DISCOUNT, **fields: Any):
    now = timezone.now()
    defaults: dict[str, Any] = {
        "name": kind,
        "starts_at": now - datetime.timedelta(days=1),
        "expires_at": now + datetime.timedelta(days=30),
    }
    if kind == Promotion.Type.PERCENTAGE_DISCOUNT:
        defaults["percentage"] = 10
    if kind in (Promotion.Type.FIXED_AMOUNT, Promotion.Type.FIXED_PRICE):
        defaults["fixed_amount_cents"] = 500
    return Promotion.objects.create(market=market, type=kind, **{**defaults, **fields})


def coupon(promo: Promotion, code: str, **fields: Any) -> Coupon:
    rule = PromotionRule.objects.create(promotion=promo, type=PromotionRule.Type.COUPON_CODES)
    return Coupon.objects.create(promotion_rule=rule, code=code, **fields)


def gift_card(market: Market, balance: int, **fields: Any) -> GiftCard:
    card = GiftCard.objects.create(
        currency_code=market.price_list.currency_code, balance_cents=balance, **fields
    )
    GiftCard.objects.filter(pk=card.pk).update(status=GiftCard.Status.ACTIVE)
    return GiftCard.objects.get(pk=card.pk)


def update(order: Order, **data: Any) -> Order:
    return services.order_update(order=order, actor=STOREFRONT, data=data)


def refused(order: Order, **data: Any) -> DomainError:
    before = Order.objects.get(pk=order.pk)
    with pytest.raises(DomainError) as exc:
        update(order, **data)
    after = Order.objects.get(pk=order.pk)
    assert (after.coupon_id, after.gift_card_id, after.total_amount_cents) == (
        before.coupon_id,
        before.gift_card_id,
        before.total_amount_cents,
    )
    return exc.value


def promotion_lines(order: Order) -> list[LineItem]:
    return list(order.line_items.exclude(item_type__in=["skus", "shipments", "payment_methods"]))


def assert_consistent(*orders: Order) -> None:
    assert invariant_violations(order_ids=[o.pk for o in orders]) == []


# --- coupons --------------------------------------------------------------------------------


def test_a_coupon_code_applies_its_promotion_whatever_its_case():
    order = order_ready(amount_cents=10000)
    promo = promotion(order.market, percentage=10)
    coupon(promo, "SAVE10")
    assert order.discount_amount_cents == 0
    order = update(order, coupon_code="save10")
    assert order.coupon_code == "SAVE10"
    assert order.discount_amount_cents == -1000
    assert order.total_amount_cents == 9000
    [line] = promotion_lines(order)
    assert (line.item_type, line.item_id, line.total_amount_cents) == (
        "percentage_discount_promotions",
        promo.pk,
        -1000,
    )
    sku_line = order.line_items.get(item_type="skus")
    assert sku_line.discount_cents == -1000
    assert sku_line.discount_breakdown == {promo.pk: {"cents": -1000}}
    assert line.coupon_code == "SAVE10"
    # taxes are computed on what is left: no tax rule here, so the taxable amount is all of it
    assert order.subtotal_taxable_amount_cents == 9000
    # taking the code off takes the promotion off
    order = update(order, coupon_code="")
    assert (order.discount_amount_cents, promotion_lines(order)) == (0, [])
    assert_consistent(order)


def test_placement_counts_the_uses_and_cancellation_gives_them_back_once():
    order = order_ready(amount_cents=10000)
    promo = promotion(order.market)
    code = coupon(promo, "ONCE", usage_limit=5)
    order = update(order, coupon_code="ONCE")
    placed = services.order_place(order=order, actor=STOREFRONT)
    assert placed.status == Order.Status.PLACED
    assert placed.place_total_amount_cents == 9000
    code.refresh_from_db()
    promo.refresh_from_db()
    assert (code.usage_count, promo.total_usage_count, placed.redemptions_claimed) == (1, 1, True)
    authorization = Transaction.objects.get(order=placed, type="authorizations")
    assert authorization.amount_cents == 9000
    cancelled = services.order_cancel(order=placed, actor=STAFF)
    code.refresh_from_db()
    promo.refresh_from_db()
    assert (code.usage_count, promo.total_usage_count, cancelled.redemptions_claimed) == (
        0,
        0,
        False,
    )
    with pytest.raises(DomainError):
        services.order_cancel(order=cancelled, actor=STAFF)
    code.refresh_from_db()
    assert code.usage_count == 0
    assert_consistent(cancelled)


@pytest.mark.parametrize(
    ("setup", "code", "expected"),
    [
        (lambda promo: None, "NOPE", "COUPON_UNKNOWN"),
        (
            lambda promo: coupon(
                promo, "OLD", expires_at=timezone.now() - datetime.timedelta(minutes=1)
            ),
            "OLD",
            "COUPON_EXPIRED",
        ),
        (lambda promo: coupon(promo, "USED", usage_limit=0), "USED", "COUPON_USAGE_LIMIT_REACHED"),
        (
            lambda promo: (
                coupon(promo, "BIG"),
                PromotionRule.objects.create(
                    promotion=promo,
                    type=PromotionRule.Type.ORDER_AMOUNT,
                    order_amount_cents=50_000,
                ),
            ),
            "BIG",
            "COUPON_RULE_NOT_MET",
        ),
    ],
)
def test_a_bad_coupon_code_is_a_422_with_its_reason_and_pointer(setup, code, expected):
    order = order_pending(amount_cents=10000)
    setup(promotion(order.market))
    error = refused(order, coupon_code=code)
    assert (error.code, error.status, error.pointer) == (
        expected,
        422,
        "/data/attributes/coupon_code",
    )


def test_a_coupon_of_another_market_is_unknown_here():
    order = order_pending()
    coupon(promotion(catalog.MarketFactory.create()), "ELSEWHERE")
    assert refused(order, coupon_code="ELSEWHERE").code == "COUPON_UNKNOWN"


def test_a_disabled_promotions_coupon_is_refused():
    order = order_pending()
    coupon(promotion(order.market, disabled_at=timezone.now()), "OFF")
    assert refused(order, coupon_code="OFF").code == "COUPON_EXPIRED"


def test_a_single_use_coupon_cannot_be_used_twice_by_one_customer():
    first = order_ready(amount_cents=5000, customer_email="ann@example.com")
    coupon(promotion(first.market), "WELCOME", customer_single_use=True)
    services.order_place(order=update(first, coupon_code="WELCOME"), actor=STOREFRONT)
    second = order_pending(market=first.market, customer_email="ANN@example.com")
    assert refused(second, coupon_code="WELCOME").code == "COUPON_ALREADY_USED"
    # another customer may, and the first one may again once her order is cancelled
    other = order_pending(market=first.market, customer_email="bob@example.com")
    assert update(other, coupon_code="WELCOME").coupon_id is not None
    services.order_cancel(order=Order.objects.get(pk=first.pk), actor=STAFF)
    assert update(second, coupon_code="WELCOME").coupon_id is not None


def test_a_coupon_used_up_meanwhile_refuses_the_placement_and_changes_nothing():
    order = order_ready(amount_cents=10000)
    code = coupon(promotion(order.market), "LAST", usage_limit=1)
    order = update(order, coupon_code="LAST")
    Coupon.objects.filter(pk=code.pk).update(usage_count=1)  # another order took the last use
    with pytest.raises(DomainError):
        services.order_place(order=order, actor=STOREFRONT)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not order.redemptions_claimed
    code.refresh_from_db()
    assert code.usage_count == 1
    assert not Transaction.objects.filter(order=order).exists()


def test_a_use_given_back_while_the_placement_ran_is_counted_with_its_discount(monkeypatch):
    """The coupon's last use was taken when the placement recomputed the cart, and given back
    (a cancellation committed) before the placement counted its uses: the placement must
    neither go ahead at full price with the coupon on it and no use counted, nor skip the
    count. It counts the use given back and keeps the discount the cart showed."""
    from orders.services import placement

    order = order_ready(amount_cents=10000)
    code = coupon(promotion(order.market), "LAST", usage_limit=1)
    order = update(order, coupon_code="LAST")
    assert order.discount_amount_cents == -1000
    Coupon.objects.filter(pk=code.pk).update(usage_count=1)  # another order holds the last use
    claim = placement.order_redemptions_claim

    def given_back_first(**kwargs: Any) -> bool:
        Coupon.objects.filter(pk=code.pk).update(usage_count=0)  # that order was cancelled
        return claim(**kwargs)

    monkeypatch.setattr(placement, "order_redemptions_claim", given_back_first)
    placed = services.order_place(order=order, actor=STOREFRONT)

    assert placed.status == Order.Status.PLACED
    assert placed.discount_amount_cents == -1000
    code.refresh_from_db()
    assert code.usage_count == 1
    assert_consistent(placed)


def test_an_expired_coupon_refuses_the_placement_with_its_own_reason():
    order = order_ready(amount_cents=10000)
    code = coupon(promotion(order.market), "SOON")
    order = update(order, coupon_code="SOON")
    Coupon.objects.filter(pk=code.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(DomainError) as exc:
        services.order_place(order=order, actor=STOREFRONT)
    assert exc.value.code == "COUPON_EXPIRED"
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING


# --- automatic promotions ---------------------------------------------------------------------


def test_an_automatic_promotion_applies_until_its_total_usage_limit():
    first = order_ready(amount_cents=4000)
    promo = promotion(
        first.market, Promotion.Type.FIXED_AMOUNT, fixed_amount_cents=500, total_usage_limit=1
    )
    first = services.order_refresh(order=first, actor=STAFF)
    assert first.discount_amount_cents == -500
    services.order_place(order=first, actor=STOREFRONT)
    promo.refresh_from_db()
    assert promo.total_usage_count == 1
    assert promo.status == Promotion.Status.INACTIVE
    second = order_ready(market=first.market, amount_cents=4000)
    assert second.discount_amount_cents == 0
    assert_consistent(first, second)


def test_free_shipping_and_sku_list_rules_on_a_cart():
    market = catalog.MarketFactory.create()
    order = order_pending(market=market, amount_cents=2000)
    tee = priced_sku(market, 1500, code="TEE-RED")
    line_add(order, tee, 3)
    sku_list = SkuList.objects.create(name="Tees")
    SkuListItem.objects.create(sku_list=sku_list, sku=tee)
    three_for_two = promotion(market, Promotion.Type.BUY_X_PAY_Y, x=3, y=2, sku_list=sku_list)
    PromotionRule.objects.create(
        promotion=three_for_two,
        type=PromotionRule.Type.SKU_LIST,
        sku_list=sku_list,
        min_quantity=3,
    )
    order = services.order_refresh(order=order, actor=STAFF)
    assert order.discount_amount_cents == -1500  # one tee free
    assert order.line_items.get(sku_code="TEE-RED").discount_cents == -1500
    assert_consistent(order)


# --- gift cards -------------------------------------------------------------------------------


def test_a_gift_card_pays_part_debited_at_placement_credited_at_cancellation():
    order = order_ready(amount_cents=10000)
    card = gift_card(order.market, 3000)
    order = update(order, gift_card_code=card.code.upper())
    assert (order.gift_card_amount_cents, order.total_amount_cents) == (-3000, 7000)
    placed = services.order_place(order=order, actor=STOREFRONT)
    assert Transaction.objects.get(order=placed, type="authorizations").amount_cents == 7000
    card = GiftCard.objects.get(pk=card.pk)
    assert card.balance_cents == 0
    services.order_cancel(order=placed, actor=STAFF)
    card = GiftCard.objects.get(pk=card.pk)
    assert card.balance_cents == 3000
    log = list(
        GiftCardBalanceChange.objects.filter(order=placed).values_list("kind", "amount_cents")
    )
    assert log == [("debit", -3000), ("credit", 3000)]
    assert_consistent(placed)


def test_an_order_paid_entirely_by_gift_card_needs_no_payment():
    order = order_ready(amount_cents=2500)
    card = gift_card(order.market, 10000, single_use=True)
    order = update(order, gift_card_code=card.code)
    assert order.total_amount_with_taxes_cents == 0
    placed = services.order_place(order=order, actor=STOREFRONT)
    assert placed.status == Order.Status.PLACED
    assert placed.payment_status == Order.PaymentStatus.FREE
    assert not Transaction.objects.filter(order=placed).exists()
    card = GiftCard.objects.get(pk=card.pk)
    assert (card.balance_cents, card.status) == (7500, GiftCard.Status.REDEEMED)
    # cancelled: the single-use card is whole and active again
    services.order_cancel(order=placed, actor=STAFF)
    card = GiftCard.objects.get(pk=card.pk)
    assert (card.balance_cents, card.status) == (10000, GiftCard.Status.ACTIVE)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": GiftCard.Status.INACTIVE}, "inactive"),
        ({"expires_at": timezone.now() - datetime.timedelta(days=1)}, "expired"),
        ({"currency_code": "USD"}, "USD"),
        ({"balance_cents": 0}, "balance"),
    ],
)
def test_an_unusable_gift_card_answers_as_an_unknown_code(change, reason):
    """Trying codes tells nothing about which exist: an inactive, expired, foreign or empty
    card is refused exactly as a code no card has."""
    order = order_pending()
    card = gift_card(order.market, 1000)
    GiftCard.objects.filter(pk=card.pk).update(**change)
    error = refused(order, gift_card_code=card.code)
    unknown = refused(order, gift_card_code="not-a-card")
    assert (error.code, error.pointer, error.detail) == (
        unknown.code,
        unknown.pointer,
        unknown.detail,
    )
    assert (error.code, error.pointer) == ("GIFT_CARD_UNKNOWN", "/data/attributes/gift_card_code")


def test_codes_are_entered_on_a_cart_only():
    order = services.order_place(order=order_ready(amount_cents=5000), actor=STOREFRONT)
    coupon(promotion(order.market), "LATE")
    order = services.order_start_editing(order=order, actor=STAFF)
    for name, code in (("coupon_code", "LATE"), ("gift_card_code", "x")):
        with pytest.raises(DomainError) as exc:
            services.order_update(order=order, actor=STAFF, data={name: code}, integration=True)
        assert (exc.value.code, exc.value.pointer) == (
            "ORDER_NOT_EDITABLE",
            f"/data/attributes/{name}",
        )


def test_a_gift_card_spent_elsewhere_meanwhile_refuses_the_placement():
    order = order_ready(amount_cents=5000)
    card = gift_card(order.market, 2000)
    order = update(order, gift_card_code=card.code)
    GiftCard.objects.filter(pk=card.pk).update(balance_cents=500)
    with pytest.raises(DomainError) as exc:
        services.order_place(order=order, actor=STOREFRONT)
    assert exc.value.code == "GIFT_CARD_NOT_USABLE"
    card = GiftCard.objects.get(pk=card.pk)
    assert card.balance_cents == 500
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


# --- taxes ------------------------------------------------------------------------------------


def taxed_market(*, tax_included: bool, rate: str, **rule: Any) -> Market:
    market = market_in("USD" if not tax_included else "EUR", tax_included=tax_included)
    calculator = TaxCalculator.objects.create(name="Manual")
    TaxRule.objects.create(
        manual_tax_calculator=calculator, name="rate", tax_rate=Decimal(rate), **rule
    )
    market.tax_calculator = calculator
    market_save(market=market)
    return market


def test_a_tax_excluded_market_adds_the_tax_of_the_matching_rule():
    market = taxed_market(tax_included=False, rate="0.08875", country_code_regex="US")
    order = order_pending(market=market, amount_cents=10000)
    address = catalog.AddressFactory.create(country_code="US", state_code="NY", zip_code="10001")
    order = update(order, billing_address=address, _shipping_address_same_as_billing=True)
    line = order.line_items.get(item_type="skus")
    assert (line.tax_rate, line.tax_amount_cents) == (Decimal("0.08875"), 888)  # 887.5 -> 888
    assert order.total_tax_amount_cents == 888
    assert order.subtotal_taxable_amount_cents == 10000
    assert order.total_amount_with_taxes_cents == order.total_amount_cents + 888
    # an address the rule does not match: no tax
    order = update(order, billing_address=catalog.AddressFactory.create(country_code="CA"))
    order = update(order, _shipping_address_same_as_billing=True)
    assert order.total_tax_amount_cents == 0
    assert_consistent(order)


def test_a_tax_included_market_extracts_the_tax_and_freight_when_taxable():
    market = taxed_market(tax_included=True, rate="0.22", freight_taxable=True)
    order = order_pending(market=market, amount_cents=12200)
    order = update(
        order,
        billing_address=catalog.AddressFactory.create(country_code="IT"),
        _shipping_address_same_as_billing=True,
    )
    order = checkout_ready(order)
    line = order.line_items.get(item_type="skus")
    assert line.tax_amount_cents == 2200  # 12200 = 10000 net + 2200
    assert order.subtotal_taxable_amount_cents == 10000
    assert order.total_amount_with_taxes_cents == order.total_amount_cents
    placed = services.order_place(order=order, actor=STOREFRONT)
    assert placed.total_tax_amount_cents == 2200
    assert_consistent(placed)
