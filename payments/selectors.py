"""Reads of the payments app that are more than a one-line query."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet, Sum

from markets.models import Market
from orders.models import Order
from payments.models import PaymentMethod, Transaction

Type = Transaction.Type
Status = Transaction.Status


@dataclass(frozen=True)
class PaymentTotals:
    """What an order's succeeded transactions add up to (pending and failed ones do not count)."""

    authorized_cents: int = 0
    captured_cents: int = 0
    voided_cents: int = 0
    refunded_cents: int = 0


def order_payment_totals(*, order_id: str) -> PaymentTotals:
    succeeded = Q(status=Status.SUCCEEDED)
    sums = Transaction.objects.filter(order_id=order_id).aggregate(
        authorized=Sum("amount_cents", filter=succeeded & Q(type=Type.AUTHORIZATIONS)),
        captured=Sum("amount_cents", filter=succeeded & Q(type=Type.CAPTURES)),
        voided=Sum("amount_cents", filter=succeeded & Q(type=Type.VOIDS)),
        refunded=Sum("amount_cents", filter=succeeded & Q(type=Type.REFUNDS)),
    )
    return PaymentTotals(
        authorized_cents=sums["authorized"] or 0,
        captured_cents=sums["captured"] or 0,
        voided_cents=sums["voided"] or 0,
        refunded_cents=sums["refunded"] or 0,
    )


def order_total_cents(order: Order) -> int | None:
    """The order total that payment status is measured against (`total_amount_with_taxes_cents`).

    The orders app owns that field and adds it with its totals; until it exists this answers
    None and the payment services leave `payment_status` to the orders workflows.
    """
    total = getattr(order, "total_amount_with_taxes_cents", None)
    return total if isinstance(total, int) else None


def payment_methods_available(
    *, market: Market, currency_code: str, amount_cents: int
) -> QuerySet[PaymentMethod]:
    """The enabled payment methods an order of `market` in `currency_code` for `amount_cents`
    can be paid with: of the market (or of every market), with an enabled gateway, whose
    minimum and maximum order amounts admit the amount."""
    return (
        PaymentMethod.objects.filter(
            Q(market=market) | Q(market__isnull=True),
            currency_code=currency_code.strip().upper(),
            disabled_at__isnull=True,
            payment_gateway__disabled_at__isnull=True,
        )
        .filter(
            Q(min_order_amount_cents__isnull=True) | Q(min_order_amount_cents__lte=amount_cents)
        )
        .filter(
            Q(max_order_amount_cents__isnull=True) | Q(max_order_amount_cents__gte=amount_cents)
        )
        .select_related("payment_gateway", "market")
        .order_by("name", "pk")
    )


def order_transactions(*, order_id: str) -> QuerySet[Transaction]:
    return (
        Transaction.objects.filter(order_id=order_id)
        .select_related(
            "payment_gateway",
            "payment_method",
            "wire_transfer",
            "external_payment",
            "test_payment",
            "reference_authorization",
            "reference_capture",
        )
        .order_by("created_at", "pk")
    )


def order_capturable_authorizations(*, order_id: str) -> QuerySet[Transaction]:
    return Transaction.objects.filter(
        order_id=order_id,
        type=Type.AUTHORIZATIONS,
        status=Status.SUCCEEDED,
        amount_cents__gt=F("capture_amount_cents") + F("void_amount_cents"),
    ).order_by("pk")


def order_refundable_captures(*, order_id: str) -> QuerySet[Transaction]:
    return Transaction.objects.filter(
        order_id=order_id,
        type=Type.CAPTURES,
        status=Status.SUCCEEDED,
        amount_cents__gt=F("refund_amount_cents"),
    ).order_by("pk")


def transaction_for_gateway(*, transaction_id: str) -> Transaction:
    """A pending transaction with everything an adapter reads, in one query."""
    return Transaction.objects.select_related(
        "order",
        "payment_gateway",
        "wire_transfer",
        "external_payment",
        "test_payment",
        "reference_authorization",
        "reference_capture",
    ).get(pk=transaction_id)
