"""The order's `payment_status`, derived from its transactions (spec section 2.3).

`payment_status_for` is the one place that decides it; everything that writes an order's
payment status calls it.
"""

from __future__ import annotations

from orders.models import Order

PaymentStatus = Order.PaymentStatus


def payment_status_for(
    *,
    order_total_cents: int,
    order_placed: bool,
    authorized_cents: int,
    captured_cents: int,
    voided_cents: int,
    refunded_cents: int,
) -> str:
    """T = order total, A/C/V/R = succeeded authorized/captured/voided/refunded amounts.
    The rows of the spec's table, evaluated top-down."""
    amounts = (order_total_cents, authorized_cents, captured_cents, voided_cents, refunded_cents)
    if any(amount < 0 for amount in amounts):
        raise ValueError(f"amounts are never negative: {amounts}")
    total = order_total_cents
    if order_placed and total == 0:
        return PaymentStatus.FREE
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
