"""The order's derived statuses: THE one derivation of `payment_status` (spec 2.3) and of
`fulfillment_status` (spec 2.4), as pure functions of the facts payments and fulfillment
return. `orders.services.statuses.order_statuses_write` is the one writer that stores them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orders.models import Order

PaymentStatus = Order.PaymentStatus
FulfillmentStatus = Order.FulfillmentStatus

# Order statuses in which the order counts as placed for the payment status table.
PLACED_ORDER_STATUSES = frozenset(
    {Order.Status.PLACED, Order.Status.EDITING, Order.Status.APPROVED, Order.Status.CANCELLED}
)
# Order statuses whose fulfillment status follows the shipments and the payment.
FULFILLING_ORDER_STATUSES = frozenset(
    {Order.Status.PLACED, Order.Status.APPROVED, Order.Status.CANCELLED}
)
SHIPPED_SHIPMENT_STATUSES = frozenset({"shipped", "delivered"})
CAPTURED_PAYMENT_STATUSES = frozenset(
    {
        PaymentStatus.PAID,
        PaymentStatus.PARTIALLY_PAID,
        # Some of the captured money was given back, the rest still pays for the goods.
        PaymentStatus.PARTIALLY_REFUNDED,
    }
)


def payment_status_for(
    *,
    order_total_cents: int,
    order_placed: bool,
    authorized_cents: int,
    captured_cents: int,
    voided_cents: int,
    refunded_cents: int,
    entirely_voided: bool = False,
) -> str:
    """T = order total, A/C/V/R = succeeded authorized/captured/voided/refunded amounts, where
    A and V count only the authorizations that are not entirely voided; `entirely_voided`:
    there were succeeded authorizations and every one was given back in full. The rows of the
    spec's table, evaluated top-down."""
    amounts = (order_total_cents, authorized_cents, captured_cents, voided_cents, refunded_cents)
    if any(amount < 0 for amount in amounts):
        raise ValueError(f"amounts are never negative: {amounts}")
    total = order_total_cents
    if order_placed and total == 0:
        return PaymentStatus.FREE
    if entirely_voided:
        return PaymentStatus.VOIDED
    if authorized_cents == 0:
        return PaymentStatus.UNPAID
    if refunded_cents > 0:
        if refunded_cents >= captured_cents:
            return PaymentStatus.REFUNDED
        return PaymentStatus.PARTIALLY_REFUNDED
    if captured_cents > 0:
        return PaymentStatus.PAID if captured_cents >= total else PaymentStatus.PARTIALLY_PAID
    if voided_cents > 0:
        if voided_cents >= authorized_cents:
            return PaymentStatus.VOIDED
        return PaymentStatus.PARTIALLY_VOIDED
    if authorized_cents >= total:
        return PaymentStatus.AUTHORIZED
    return PaymentStatus.PARTIALLY_AUTHORIZED


@dataclass(frozen=True)
class FulfillmentFacts:
    """What fulfillment and the lines say about shipping an order."""

    needs_shipping: bool
    shipment_statuses: tuple[str, ...]  # of the non-cancelled shipments


def fulfillment_status_for(
    *,
    order_status: str,
    payment_status: str,
    current: str,
    facts: FulfillmentFacts,
    payment_requires_capture: bool,
    fulfill: bool = False,
) -> str:
    """The fulfillment status (spec 2.4), evaluated top-down (`fulfill`: the merchant's
    `_fulfill` of an approved order whose shipments have all left or been cancelled):

    0. carts (and orders being placed or edited) keep theirs: it is decided from placement on;
    1. not_required — no line item needs shipping (every SKU is do_not_ship);
    2. fulfilled — the order has non-cancelled shipments and all are shipped or delivered, or
       it was fulfilled already (`_fulfill`, a manual override, is final);
    3. a cancelled order: back to unfulfilled if its fulfillment was in progress (a full
       refund ends it), else as it was;
    4. in_progress — payment is captured (paid, partially_paid, or partially_refunded), or the
       order is approved and nothing needs capturing (`payment_requires_capture` False, or the
       order was free);
    5. unfulfilled otherwise.
    """
    if order_status not in FULFILLING_ORDER_STATUSES:
        return current
    if not facts.needs_shipping:
        return FulfillmentStatus.NOT_REQUIRED
    statuses = facts.shipment_statuses
    if (
        current == FulfillmentStatus.FULFILLED
        or (fulfill and order_status == Order.Status.APPROVED)
        or (statuses and all(status in SHIPPED_SHIPMENT_STATUSES for status in statuses))
    ):
        return FulfillmentStatus.FULFILLED
    if order_status == Order.Status.CANCELLED:
        if current == FulfillmentStatus.IN_PROGRESS:
            return FulfillmentStatus.UNFULFILLED
        return current
    if payment_status in CAPTURED_PAYMENT_STATUSES:
        return FulfillmentStatus.IN_PROGRESS
    if order_status == Order.Status.APPROVED and (
        not payment_requires_capture or payment_status == PaymentStatus.FREE
    ):
        return FulfillmentStatus.IN_PROGRESS
    return FulfillmentStatus.UNFULFILLED


def active_shipment_statuses(statuses: Iterable[str]) -> tuple[str, ...]:
    return tuple(status for status in statuses if status != "cancelled")
