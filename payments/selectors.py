"""Reads of the payments app that are more than a one-line query."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from markets.models import Market
from payments.models import PaymentMethod, Transaction

Type = Transaction.Type
Status = Transaction.Status


@dataclass(frozen=True)
class PaymentTotals:
    """What an order's succeeded transactions add up to (pending and failed ones do not count).

    `authorized_cents` and `voided_cents` count only the authorizations that are not entirely
    voided (spec 2.3: one given back in full — a refused partial authorization, a void on
    cancel — no longer counts once another is live); `entirely_voided` is set when there were
    succeeded authorizations and every one of them was given back in full. `pending` counts
    the transactions still with their gateway."""

    authorized_cents: int = 0
    captured_cents: int = 0
    voided_cents: int = 0
    refunded_cents: int = 0
    entirely_voided: bool = False
    pending: int = 0
    live_authorizations: int = 0


def order_payment_totals(*, order_id: str) -> PaymentTotals:
    """The order's payment facts, from one query over its transactions."""
    rows = Transaction.objects.filter(order_id=order_id).values_list(
        "pk", "type", "status", "amount_cents", "reference_authorization_id"
    )
    authorizations: dict[str, int] = {}
    voided_by: dict[str, int] = {}
    captured = refunded = pending = 0
    for pk, kind, status, amount, authorization_id in rows:
        if status == Status.PENDING:
            pending += 1
        if status != Status.SUCCEEDED:
            continue
        if kind == Type.AUTHORIZATIONS:
            authorizations[pk] = amount
        elif kind == Type.VOIDS:
            voided_by[authorization_id] = voided_by.get(authorization_id, 0) + amount
        elif kind == Type.CAPTURES:
            captured += amount
        elif kind == Type.REFUNDS:
            refunded += amount
    live = {pk: amount for pk, amount in authorizations.items() if voided_by.get(pk, 0) < amount}
    return PaymentTotals(
        authorized_cents=sum(live.values()),
        captured_cents=captured,
        voided_cents=sum(voided_by.get(pk, 0) for pk in live),
        refunded_cents=refunded,
        entirely_voided=bool(authorizations) and not live,
        pending=pending,
        live_authorizations=len(live),
    )


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
