"""The promotions engine (`orders.discounts`), worked by hand, and its invariants over random
carts (hypothesis): the lines' discounts add up exactly to the promotions' amounts, no line
goes below zero, and the order totals built on them never go negative."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from orders.discounts import CartLine, PromotionTerms, discounts_compute, spread
from orders.totals import LineAmounts, totals_compute

PCT = "percentage_discount_promotions"
FIXED = "fixed_amount_promotions"
FREE_SHIPPING = "free_shipping_promotions"
FIXED_PRICE = "fixed_price_promotions"
BXPY = "buy_x_pay_y_promotions"


def sku(code: str, unit: int, quantity: int = 1) -> CartLine:
    return CartLine("skus", unit, quantity, code)


def test_percentage_rounds_each_line_half_up():
    lines = [sku("A", 1999, 2), sku("B", 505)]
    result = discounts_compute(lines, [PromotionTerms("p", PCT, "10%", percentage=10)])
    # 10% of 3998 = 399.8 -> 400; 10% of 505 = 50.5 -> 51 (half up)
    assert result.line_discounts == (-400, -51)
    assert [a.amount_cents for a in result.applied] == [-451]


def test_fixed_amount_is_spread_in_proportion_with_the_remainder_to_the_largest_fractions():
    lines = [sku("A", 3000), sku("B", 1000), sku("C", 333)]
    result = discounts_compute(
        lines, [PromotionTerms("p", FIXED, "10 off", fixed_amount_cents=1000)]
    )
    # exact shares 692.36, 230.79, 76.85: floors 692 + 230 + 76 = 998, the 2 cents left go to
    # C (.85) and B (.79)
    assert result.line_discounts == (-692, -231, -77)
    assert result.total_cents == -1000


def test_fixed_amount_never_takes_more_than_the_cart():
    result = discounts_compute(
        [sku("A", 300)], [PromotionTerms("p", FIXED, "f", fixed_amount_cents=1000)]
    )
    assert result.line_discounts == (-300,)


def test_free_shipping_takes_the_shipping_lines():
    lines = [sku("A", 2500), CartLine("shipments", 700, 1), CartLine("payment_methods", 100, 1)]
    result = discounts_compute(lines, [PromotionTerms("p", FREE_SHIPPING, "ship free")])
    assert result.line_discounts == (0, -700, 0)


def test_fixed_price_sets_the_unit_price_of_the_listed_skus():
    lines = [sku("A", 1500, 3), sku("B", 800, 1)]
    terms = PromotionTerms(
        "p", FIXED_PRICE, "A at 10", fixed_amount_cents=1000, target_codes=frozenset({"A", "B"})
    )
    # A: (1500 - 1000) x 3; B is cheaper than the fixed price already
    assert discounts_compute(lines, [terms]).line_discounts == (-1500, 0)


def test_buy_3_pay_2_per_sku():
    terms = PromotionTerms("p", BXPY, "3x2", x=3, y=2)
    assert discounts_compute([sku("A", 1000, 7)], [terms]).line_discounts == (-2000,)


def test_buy_3_pay_2_cheapest_free_across_skus():
    terms = PromotionTerms("p", BXPY, "3x2", x=3, y=2, cheapest_free=True)
    lines = [sku("A", 1000, 2), sku("B", 500, 2)]
    # 4 units: one free, the cheapest (a B)
    assert discounts_compute(lines, [terms]).line_discounts == (0, -500)


def test_promotions_stack_by_priority_each_on_what_is_left():
    lines = [sku("A", 10000)]
    promotions = [
        PromotionTerms("fixed", FIXED, "5 off", priority=2, fixed_amount_cents=500),
        PromotionTerms("pct", PCT, "10%", priority=1, percentage=10),
    ]
    result = discounts_compute(lines, promotions)
    assert [(a.promotion_id, a.amount_cents) for a in result.applied] == [
        ("pct", -1000),
        ("fixed", -500),
    ]
    assert result.line_discounts == (-1500,)


def test_an_exclusive_promotion_first_by_priority_is_the_only_one():
    lines = [sku("A", 10000)]
    promotions = [
        PromotionTerms("excl", PCT, "20%", priority=1, exclusive=True, percentage=20),
        PromotionTerms("other", FIXED, "5 off", priority=2, fixed_amount_cents=500),
    ]
    assert [a.promotion_id for a in discounts_compute(lines, promotions).applied] == ["excl"]
    # behind a non-exclusive one of higher priority, the exclusive one does not apply
    promotions[1] = PromotionTerms("other", FIXED, "5 off", priority=0, fixed_amount_cents=500)
    assert [a.promotion_id for a in discounts_compute(lines, promotions).applied] == ["other"]


def test_rules_order_amount_sku_list_and_coupon():
    lines = [sku("A", 2000, 2), sku("B", 999)]
    at_least = PromotionTerms("p", PCT, "10%", percentage=10, min_amount_cents=5000)
    assert discounts_compute(lines, [at_least]).applied == ()
    enough = PromotionTerms("p", PCT, "10%", percentage=10, min_amount_cents=4999)
    assert discounts_compute(lines, [enough]).applied != ()
    needs_two_b = PromotionTerms(
        "p", PCT, "10%", percentage=10, rule_codes=frozenset({"B"}), rule_min_quantity=2
    )
    assert discounts_compute(lines, [needs_two_b]).applied == ()
    all_of = PromotionTerms(
        "p", PCT, "10%", percentage=10, rule_codes=frozenset({"A", "C"}), rule_all_skus=True
    )
    assert discounts_compute(lines, [all_of]).applied == ()
    coupon = PromotionTerms("p", PCT, "10%", percentage=10, needs_coupon=True)
    assert discounts_compute(lines, [coupon]).applied == ()
    assert discounts_compute(lines, [coupon], coupon_promotion_id="p").applied != ()


def test_jpy_has_no_decimals_to_lose():
    # ¥1,234 x 3 at 15%: 555.3 -> ¥555; the currency's exponent is 0, cents are yen
    result = discounts_compute(
        [sku("A", 1234, 3)], [PromotionTerms("p", PCT, "15%", percentage=15)]
    )
    assert result.line_discounts == (-555,)


def test_worked_order_with_a_discount_spread_and_taxes_added():
    """A tax-excluded (US-like) order, 8.875% on goods and freight, 10.00 off spread over the
    lines, free shipping not applied. Every figure by hand."""
    cart = [sku("A", 3000), sku("B", 1000), sku("C", 333), CartLine("shipments", 700, 1)]
    discounts = discounts_compute(
        cart, [PromotionTerms("p", FIXED, "10 off", fixed_amount_cents=1000)]
    )
    assert discounts.line_discounts == (-692, -231, -77, 0)
    rate = Decimal("0.08875")
    lines = [
        LineAmounts(line.item_type, line.unit_amount_cents, line.quantity, discount, rate)
        for line, discount in zip(cart, discounts.line_discounts, strict=True)
    ] + [LineAmounts(FIXED, -1000, 1)]
    totals = totals_compute(lines, tax_included=False)
    # taxes: 2308 x .08875 = 204.835 -> 205; 769 -> 68.24 -> 68; 256 -> 22.72 -> 23;
    # freight 700 -> 62.125 -> 62
    assert [line.tax_amount_cents for line in totals.lines] == [205, 68, 23, 62, 0]
    assert totals.subtotal_amount_cents == 4333
    assert totals.discount_amount_cents == -1000
    assert totals.shipping_amount_cents == 700
    assert totals.total_amount_cents == 4033
    assert totals.subtotal_tax_amount_cents == 296
    assert totals.shipping_tax_amount_cents == 62
    assert totals.total_tax_amount_cents == 358
    assert totals.total_amount_with_taxes_cents == 4391


def test_worked_order_tax_included_with_a_percentage_and_a_gift_card():
    """A tax-included (EU-like) order at 22%: 20% off, then a gift card of 50.00 pays part."""
    cart = [sku("A", 12200), sku("B", 6100, 2)]
    discounts = discounts_compute(cart, [PromotionTerms("p", PCT, "20%", percentage=20)])
    assert discounts.line_discounts == (-2440, -2440)
    rate = Decimal("0.22")
    lines = [
        LineAmounts("skus", 12200, 1, -2440, rate),
        LineAmounts("skus", 6100, 2, -2440, rate),
        LineAmounts(PCT, -4880, 1),
    ]
    totals = totals_compute(lines, tax_included=True, gift_card_balance_cents=5000)
    # each line 9760 gross after discount: net 8000, tax 1760
    assert [line.tax_amount_cents for line in totals.lines] == [1760, 1760, 0]
    assert totals.subtotal_amount_cents == 24400
    assert totals.discount_amount_cents == -4880
    assert totals.gift_card_amount_cents == -5000
    assert totals.total_amount_cents == 14520
    assert totals.total_tax_amount_cents == 3520
    assert totals.total_amount_with_taxes_cents == 14520


# --- properties -----------------------------------------------------------------------------

codes = st.sampled_from(["A", "B", "C", "D"])


@st.composite
def cart_lines(draw):
    kind = draw(st.sampled_from(["skus", "skus", "skus", "shipments", "payment_methods"]))
    return CartLine(
        kind,
        draw(st.integers(min_value=0, max_value=500_000)),
        draw(st.integers(min_value=1, max_value=20)) if kind == "skus" else 1,
        draw(codes) if kind == "skus" else "",
    )


@st.composite
def promotions(draw, index):
    kind = draw(st.sampled_from([PCT, FIXED, FREE_SHIPPING, FIXED_PRICE, BXPY]))
    x = draw(st.integers(min_value=1, max_value=5))
    return PromotionTerms(
        id=f"p{index}",
        type=kind,
        name=kind,
        priority=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=5))),
        exclusive=draw(st.booleans()),
        order=index,
        percentage=draw(st.integers(min_value=1, max_value=100)),
        fixed_amount_cents=draw(st.integers(min_value=0, max_value=1_000_000)),
        x=x,
        y=draw(st.integers(min_value=0, max_value=x - 1)),
        cheapest_free=draw(st.booleans()),
        target_codes=draw(st.one_of(st.none(), st.frozensets(codes))),
        min_amount_cents=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=200_000))),
    )


@st.composite
def promotion_sets(draw):
    return [draw(promotions(i)) for i in range(draw(st.integers(min_value=0, max_value=4)))]


@given(
    lines=st.lists(cart_lines(), max_size=10),
    terms=promotion_sets(),
    tax_included=st.booleans(),
    rate=st.sampled_from([Decimal(0), Decimal("0.1"), Decimal("0.22"), Decimal("0.08875")]),
    gift_card=st.integers(min_value=0, max_value=3_000_000),
)
def test_discounts_add_up_and_totals_never_go_negative(lines, terms, tax_included, rate, gift_card):
    result = discounts_compute(lines, terms)
    assert len(result.line_discounts) == len(lines)
    # every line's discount is within the line, and they add up to the promotions' amounts
    for line, discount in zip(lines, result.line_discounts, strict=True):
        assert -line.amount_cents <= discount <= 0
    assert sum(result.line_discounts) == result.total_cents
    # each line's breakdown adds up to its discount, each promotion's parts to its amount
    for discount, parts in zip(result.line_discounts, result.breakdowns, strict=True):
        assert sum(parts.values()) == discount
    for item in result.applied:
        assert sum(parts.get(item.promotion_id, 0) for parts in result.breakdowns) == (
            item.amount_cents
        )
    assert all(item.amount_cents < 0 for item in result.applied)
    amounts = [
        LineAmounts(line.item_type, line.unit_amount_cents, line.quantity, discount, rate)
        for line, discount in zip(lines, result.line_discounts, strict=True)
    ] + [LineAmounts(item.type, item.amount_cents, 1) for item in result.applied]
    totals = totals_compute(amounts, tax_included=tax_included, gift_card_balance_cents=gift_card)
    assert totals.total_amount_cents >= 0
    assert totals.total_amount_with_taxes_cents >= 0
    assert totals.discount_amount_cents == sum(result.line_discounts)
    # the gift card pays at most its balance and at most what is due
    due = totals.total_amount_cents - totals.gift_card_amount_cents
    assert 0 <= -totals.gift_card_amount_cents <= min(gift_card, due)
    assert all(line.tax_amount_cents >= 0 for line in totals.lines)


@given(
    amount=st.integers(min_value=0, max_value=10_000_000),
    weights=st.lists(st.integers(min_value=0, max_value=1_000_000), min_size=1, max_size=12),
)
def test_spread_adds_up_exactly_and_stays_within_each_weight(amount, weights):
    amount = min(amount, sum(weights))
    shares = spread(amount, weights)
    assert sum(shares) == amount
    assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))
