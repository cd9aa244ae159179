"""Which promotions a cart gets and what each takes off which line (spec section 6).

`discounts_compute` is pure, like `orders.totals.totals_compute`: the cart's lines and the
terms of the market's live promotions in, a discount per line and one amount per applied
promotion out, in integer minor units. The recompute pipeline stores the result (the lines'
`discount_cents` and one promotion line each); the totals function then adds it up.

- Every rule of a promotion must match (order amount, SKU list, coupon codes).
- Promotions apply by priority (lower first, then oldest); when the first one that applies
  is exclusive it is the only one, otherwise every non-exclusive one applies, each on what
  the ones before it left of each line. A line never goes below zero.
- Per-line amounts are rounded half up (a percentage), or an order-level amount is spread
  over the lines it discounts in proportion to them, the remainder cents going to the lines
  with the largest fractions: either way the lines' discounts add up exactly to the
  promotion's amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from orders.totals import round_half_up

DISCOUNTABLE_ITEM_TYPES = frozenset({"skus", "bundles"})  # gift cards sold are not discounted
ORDER_AMOUNT_ITEM_TYPES = frozenset(
    {"skus", "bundles", "gift_cards", "shipments", "payment_methods"}
)


@dataclass(frozen=True)
class CartLine:
    item_type: str
    unit_amount_cents: int
    quantity: int
    sku_code: str = ""

    @property
    def amount_cents(self) -> int:
        return self.unit_amount_cents * self.quantity


@dataclass(frozen=True)
class PromotionTerms:
    """A live promotion as the engine needs it (SKU lists resolved to codes)."""

    id: str
    type: str
    name: str
    priority: int | None = None
    exclusive: bool = False
    order: int = 0  # tie-break: creation order
    percentage: int | None = None
    fixed_amount_cents: int | None = None
    x: int | None = None
    y: int | None = None
    cheapest_free: bool = False
    target_codes: frozenset[str] | None = None  # the SKUs it discounts; None: every SKU
    # rules (None: the promotion has no rule of that kind)
    min_amount_cents: int | None = None
    min_amount_use_subtotal: bool = False
    rule_codes: frozenset[str] | None = None
    rule_min_quantity: int | None = None
    rule_all_skus: bool = False
    needs_coupon: bool = False


@dataclass(frozen=True)
class AppliedPromotion:
    promotion_id: str
    type: str
    name: str
    amount_cents: int  # < 0


@dataclass(frozen=True)
class Discounts:
    line_discounts: tuple[int, ...]  # ≤ 0, one per line given
    applied: tuple[AppliedPromotion, ...] = field(default=())
    # per line given: promotion id -> its part of the line's discount (≤ 0)
    breakdowns: tuple[dict[str, int], ...] = field(default=())

    @property
    def total_cents(self) -> int:
        return sum(item.amount_cents for item in self.applied)


def rules_match(
    terms: PromotionTerms, lines: Sequence[CartLine], *, coupon_promotion_id: str | None
) -> bool:
    """Whether every rule of the promotion matches the cart (as it is before discounts)."""
    if terms.needs_coupon and coupon_promotion_id != terms.id:
        return False
    if terms.min_amount_cents is not None:
        kinds = {"skus", "bundles", "gift_cards"} if terms.min_amount_use_subtotal else None
        amount = sum(
            line.amount_cents
            for line in lines
            if line.item_type in (kinds or ORDER_AMOUNT_ITEM_TYPES)
        )
        if amount < terms.min_amount_cents:
            return False
    if terms.rule_codes is not None:
        units: dict[str, int] = {}
        for line in lines:
            if line.item_type in DISCOUNTABLE_ITEM_TYPES and line.sku_code in terms.rule_codes:
                units[line.sku_code] = units.get(line.sku_code, 0) + line.quantity
        if terms.rule_all_skus and set(units) != set(terms.rule_codes):
            return False
        if sum(units.values()) < max(terms.rule_min_quantity or 1, 1):
            return False
    return True


def spread(amount_cents: int, weights: Sequence[int]) -> list[int]:
    """`amount_cents` (≥ 0) split over `weights` (≥ 0) in proportion, in whole cents that add
    up exactly to it (largest remainders first, then the earliest line). Σ weights ≥ amount."""
    total = sum(weights)
    if amount_cents <= 0 or total <= 0:
        return [0] * len(weights)
    shares = [amount_cents * weight // total for weight in weights]
    remainders = sorted(
        range(len(weights)),
        key=lambda i: (-((amount_cents * weights[i]) % total), i),
    )
    for i in remainders[: amount_cents - sum(shares)]:
        shares[i] += 1
    return shares


def _targets(terms: PromotionTerms, lines: Sequence[CartLine]) -> list[int]:
    return [
        i
        for i, line in enumerate(lines)
        if line.item_type in DISCOUNTABLE_ITEM_TYPES
        and (terms.target_codes is None or line.sku_code in terms.target_codes)
    ]


def _promotion_takes(
    terms: PromotionTerms, lines: Sequence[CartLine], left: Sequence[int]
) -> dict[int, int]:
    """What one promotion takes off each line (positive cents, ≤ what is left of it)."""
    takes: dict[int, int] = {}
    if terms.type == "free_shipping_promotions":
        for i, line in enumerate(lines):
            if line.item_type == "shipments":
                takes[i] = left[i]
        return takes
    targets = _targets(terms, lines)
    if terms.type == "percentage_discount_promotions":
        rate = Decimal(terms.percentage or 0) / 100
        for i in targets:
            takes[i] = min(left[i], round_half_up(Decimal(left[i]) * rate))
    elif terms.type == "fixed_amount_promotions":
        weights = [left[i] for i in targets]
        amount = min(terms.fixed_amount_cents or 0, sum(weights))
        for i, share in zip(targets, spread(amount, weights), strict=True):
            takes[i] = share
    elif terms.type == "fixed_price_promotions":
        price = terms.fixed_amount_cents or 0
        for i in targets:
            line = lines[i]
            if line.unit_amount_cents > price:
                takes[i] = min(left[i], (line.unit_amount_cents - price) * line.quantity)
    elif terms.type == "buy_x_pay_y_promotions":
        x, y = terms.x or 0, terms.y or 0
        if x <= y:
            return takes
        if terms.cheapest_free:
            units = sum(lines[i].quantity for i in targets)
            free = units // x * (x - y)
            for i in sorted(targets, key=lambda i: (lines[i].unit_amount_cents, i)):
                if free <= 0:
                    break
                count = min(free, lines[i].quantity)
                takes[i] = min(left[i], count * lines[i].unit_amount_cents)
                free -= count
        else:
            for i in targets:
                line = lines[i]
                free = line.quantity // x * (x - y)
                takes[i] = min(left[i], free * line.unit_amount_cents)
    return {i: amount for i, amount in takes.items() if amount > 0}


def discounts_compute(
    lines: Sequence[CartLine],
    promotions: Sequence[PromotionTerms],
    *,
    coupon_promotion_id: str | None = None,
) -> Discounts:
    """The promotions the cart gets and each line's discount (module docstring)."""
    matching = sorted(
        (p for p in promotions if rules_match(p, lines, coupon_promotion_id=coupon_promotion_id)),
        key=lambda p: (p.priority is None, p.priority or 0, p.order, p.id),
    )
    if matching and matching[0].exclusive:
        matching = matching[:1]
    else:
        matching = [p for p in matching if not p.exclusive]
    left = [max(line.amount_cents, 0) for line in lines]
    line_discounts = [0] * len(lines)
    breakdowns: list[dict[str, int]] = [{} for _ in lines]
    applied: list[AppliedPromotion] = []
    for terms in matching:
        takes = _promotion_takes(terms, lines, left)
        amount = sum(takes.values())
        if amount <= 0:
            continue
        for i, take in takes.items():
            left[i] -= take
            line_discounts[i] -= take
            breakdowns[i][terms.id] = -take
        applied.append(AppliedPromotion(terms.id, terms.type, terms.name, -amount))
    return Discounts(tuple(line_discounts), tuple(applied), tuple(breakdowns))
