"""The one totals function of the order (spec section 3).

`totals_compute` is pure: line amounts in, every order total out, in integer minor units.
`order_totals_compute(order)` feeds it the order's lines; `order_totals_write` (a service in
`orders.services.orders`) is the only writer of the stored totals. Nothing else adds money up.

Rounding happens per line, half up, in minor units (a tax of 12.5 cents is 13 cents); the
order totals are then plain integer sums of the lines, so the parts always add up exactly.

What the recompute pipeline feeds it (orders/services/pipeline.py):
- promotions write `discount_cents` on the lines they discount and add promotion lines
  (`orders.discounts`);
- taxes set `tax_rate` on each line (the market's tax rule decides which lines are taxable);
- the gift card passes what it may pay as `gift_card_balance_cents`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from orders.models import PROMOTION_ITEM_TYPES, PURCHASABLE_ITEM_TYPES

if TYPE_CHECKING:
    from orders.models import LineItem, Order


def round_half_up(value: Decimal) -> int:
    """To whole minor units, halves away from zero (amounts here are never negative)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class LineAmounts:
    """What the totals function needs to know about a line."""

    item_type: str
    unit_amount_cents: int
    quantity: int
    discount_cents: int = 0  # ≤ 0, written by promotions
    tax_rate: Decimal = Decimal(0)  # e.g. Decimal("0.22"), written by the tax calculator


@dataclass(frozen=True)
class LineTotals:
    total_amount_cents: int
    discount_cents: int
    tax_amount_cents: int


@dataclass(frozen=True)
class Totals:
    subtotal_amount_cents: int
    shipping_amount_cents: int
    payment_method_amount_cents: int
    discount_amount_cents: int
    adjustment_amount_cents: int
    gift_card_amount_cents: int
    subtotal_tax_amount_cents: int
    shipping_tax_amount_cents: int
    payment_method_tax_amount_cents: int
    adjustment_tax_amount_cents: int
    total_tax_amount_cents: int
    total_amount_cents: int
    total_amount_with_taxes_cents: int
    subtotal_taxable_amount_cents: int
    shipping_taxable_amount_cents: int
    payment_method_taxable_amount_cents: int
    adjustment_taxable_amount_cents: int
    total_taxable_amount_cents: int
    skus_count: int
    lines: tuple[LineTotals, ...]

    ORDER_FIELDS = (
        "subtotal_amount_cents",
        "shipping_amount_cents",
        "payment_method_amount_cents",
        "discount_amount_cents",
        "adjustment_amount_cents",
        "gift_card_amount_cents",
        "subtotal_tax_amount_cents",
        "shipping_tax_amount_cents",
        "payment_method_tax_amount_cents",
        "adjustment_tax_amount_cents",
        "total_tax_amount_cents",
        "total_amount_cents",
        "total_amount_with_taxes_cents",
        "subtotal_taxable_amount_cents",
        "shipping_taxable_amount_cents",
        "payment_method_taxable_amount_cents",
        "adjustment_taxable_amount_cents",
        "total_taxable_amount_cents",
        "skus_count",
    )

    def order_values(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.ORDER_FIELDS}


def line_tax_cents(*, taxable_cents: int, tax_rate: Decimal, tax_included: bool) -> int:
    """The tax of one line, rounded half up: extracted from a tax-included price, or added."""
    if taxable_cents <= 0 or tax_rate <= 0:
        return 0
    if tax_included:
        net = round_half_up(Decimal(taxable_cents) / (1 + tax_rate))
        return taxable_cents - net
    return round_half_up(Decimal(taxable_cents) * tax_rate)


def _category(item_type: str) -> str:
    if item_type in PURCHASABLE_ITEM_TYPES:
        return "subtotal"
    if item_type in PROMOTION_ITEM_TYPES:
        return "discount"
    if item_type == "shipments":
        return "shipping"
    if item_type == "payment_methods":
        return "payment_method"
    if item_type == "adjustments":
        return "adjustment"
    raise ValueError(f"unknown line item type {item_type!r}")


def totals_compute(
    lines: Sequence[LineAmounts], *, tax_included: bool, gift_card_balance_cents: int = 0
) -> Totals:
    """Every order total from its lines (spec section 3). Pure: no database, no clock."""
    sums = {"subtotal": 0, "shipping": 0, "payment_method": 0, "discount": 0, "adjustment": 0}
    taxes = {"subtotal": 0, "shipping": 0, "payment_method": 0, "adjustment": 0}
    taxable = {"subtotal": 0, "shipping": 0, "payment_method": 0, "adjustment": 0}
    skus_count = 0
    line_totals: list[LineTotals] = []
    for line in lines:
        category = _category(line.item_type)
        total = line.unit_amount_cents * line.quantity
        sums[category] += total
        tax = 0
        if category != "discount":
            # Promotions carry no tax of their own: they lower the taxable amount of the
            # lines they discount (through those lines' discount_cents).
            discounted = total + line.discount_cents
            tax = line_tax_cents(
                taxable_cents=discounted, tax_rate=line.tax_rate, tax_included=tax_included
            )
            taxes[category] += tax
            taxable[category] += discounted - tax if tax_included else discounted
        if line.item_type == "skus":
            skus_count += line.quantity
        line_totals.append(
            LineTotals(
                total_amount_cents=total, discount_cents=line.discount_cents, tax_amount_cents=tax
            )
        )

    before_gift_card = (
        sums["subtotal"]
        + sums["shipping"]
        + sums["payment_method"]
        + sums["discount"]
        + sums["adjustment"]
    )
    # A gift card pays what remains, never more than its balance, never below zero.
    gift_card = -min(max(gift_card_balance_cents, 0), max(before_gift_card, 0))
    total = before_gift_card + gift_card
    total_tax = sum(taxes.values())
    return Totals(
        subtotal_amount_cents=sums["subtotal"],
        shipping_amount_cents=sums["shipping"],
        payment_method_amount_cents=sums["payment_method"],
        discount_amount_cents=sums["discount"],
        adjustment_amount_cents=sums["adjustment"],
        gift_card_amount_cents=gift_card,
        subtotal_tax_amount_cents=taxes["subtotal"],
        shipping_tax_amount_cents=taxes["shipping"],
        payment_method_tax_amount_cents=taxes["payment_method"],
        adjustment_tax_amount_cents=taxes["adjustment"],
        total_tax_amount_cents=total_tax,
        total_amount_cents=total,
        total_amount_with_taxes_cents=total if tax_included else total + total_tax,
        subtotal_taxable_amount_cents=taxable["subtotal"],
        shipping_taxable_amount_cents=taxable["shipping"],
        payment_method_taxable_amount_cents=taxable["payment_method"],
        adjustment_taxable_amount_cents=taxable["adjustment"],
        total_taxable_amount_cents=sum(taxable.values()),
        skus_count=skus_count,
        lines=tuple(line_totals),
    )


def line_amounts(line: LineItem) -> LineAmounts:
    return LineAmounts(
        item_type=line.item_type,
        unit_amount_cents=line.unit_amount_cents,
        quantity=line.quantity,
        discount_cents=line.discount_cents,
        tax_rate=Decimal(line.tax_rate),
    )


def order_totals_compute(
    order: Order,
    lines: Iterable[LineItem] | None = None,
    *,
    gift_card_balance_cents: int | None = None,
) -> Totals:
    """The totals of `order` over `lines` (default: its line items, in their order), its gift
    card paying up to `gift_card_balance_cents` (default: what it pays as stored)."""
    items = list(order.line_items.all() if lines is None else lines)
    if gift_card_balance_cents is None:
        gift_card_balance_cents = -order.gift_card_amount_cents
    return totals_compute(
        [line_amounts(line) for line in items],
        tax_included=order.tax_included,
        gift_card_balance_cents=gift_card_balance_cents,
    )
