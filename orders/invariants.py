"""The invariants of money and stock (spec 2.3, 4, 5), checked over the database.

`invariant_violations` answers one line per broken invariant, an empty list when everything
holds. The tests run it at the end of every concurrency, fault and whole-lifecycle test; an
ops command (`check_integrity`, its own issue) will run the same code over a live database.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, Q, Sum

from fulfillment.models import StockItem, StockReservation
from orders.models import Order
from orders.services.statuses import order_payment_status_of
from payments.models import Transaction
from payments.selectors import order_payment_totals

Type = Transaction.Type
Status = Transaction.Status
CHECKED_STATUSES = (
    Order.Status.PLACED,
    Order.Status.EDITING,
    Order.Status.APPROVED,
    Order.Status.CANCELLED,
)


def invariant_violations(*, order_ids: Iterable[str] | None = None) -> list[str]:
    orders = Order.objects.filter(status__in=CHECKED_STATUSES)
    if order_ids is not None:
        orders = orders.filter(pk__in=list(order_ids))
    problems: list[str] = []
    for order in orders.select_related("payment_method").iterator():
        problems.extend(_order_violations(order))
    problems.extend(_transaction_violations(order_ids))
    problems.extend(_stock_violations())
    return problems


def _order_violations(order: Order) -> list[str]:
    problems: list[str] = []
    name = f"order #{order.number}"
    totals = order_payment_totals(order_id=order.pk)
    derived = order_payment_status_of(order, totals)
    if order.payment_status != derived:
        problems.append(f"{name}: payment_status {order.payment_status}, derived {derived}")
    refunded = totals.refunded_cents
    if order.status == Order.Status.CANCELLED and totals.captured_cents > refunded:
        problems.append(
            f"{name}: cancelled holding {totals.captured_cents - refunded} captured, not refunded"
        )
    if totals.captured_cents > max(order.total_amount_with_taxes_cents, 0):
        problems.append(
            f"{name}: captured {totals.captured_cents} above its total "
            f"{order.total_amount_with_taxes_cents}"
        )
    if totals.live_authorizations > 1:
        problems.append(f"{name}: {totals.live_authorizations} live authorizations")
    return problems


def _transaction_violations(order_ids: Iterable[str] | None) -> list[str]:
    problems: list[str] = []
    transactions = Transaction.objects.all()
    if order_ids is not None:
        transactions = transactions.filter(order_id__in=list(order_ids))
    succeeded = Q(status=Status.SUCCEEDED)
    authorizations = transactions.filter(type=Type.AUTHORIZATIONS).annotate(
        captured=Sum(
            "authorization_children__amount_cents",
            filter=Q(
                authorization_children__status=Status.SUCCEEDED,
                authorization_children__type=Type.CAPTURES,
            ),
        ),
    )
    for authorization in authorizations:
        if (authorization.captured or 0) > authorization.amount_cents:
            problems.append(
                f"{authorization.number}: captured {authorization.captured} of "
                f"{authorization.amount_cents} authorized"
            )
        if (
            authorization.capture_amount_cents + authorization.void_amount_cents
            > max(authorization.amount_cents, 0)
            and authorization.status == Status.SUCCEEDED
        ):
            problems.append(f"{authorization.number}: captured and voided above authorized")
    captures = transactions.filter(type=Type.CAPTURES).annotate(
        refunded=Sum(
            "capture_children__amount_cents",
            filter=Q(capture_children__status=Status.SUCCEEDED),
        ),
    )
    for capture in captures:
        if (capture.refunded or 0) > capture.amount_cents:
            problems.append(
                f"{capture.number}: refunded {capture.refunded} of {capture.amount_cents}"
            )
    negative = transactions.filter(amount_cents__lt=0).filter(succeeded)
    problems.extend(f"{txn.number}: negative amount" for txn in negative)
    return problems


def _stock_violations() -> list[str]:
    problems: list[str] = []
    reserved = (
        StockItem.objects.annotate(reserved=Sum("stock_reservations__quantity"))
        .filter(Q(quantity__lt=0) | Q(reserved__gt=F("quantity")))
        .values_list("pk", "quantity", "reserved")
    )
    problems.extend(
        f"stock item {pk}: quantity {quantity}, reserved {held}" for pk, quantity, held in reserved
    )
    if StockReservation.objects.filter(quantity__lt=0).exists():
        problems.append("a stock reservation holds a negative quantity")
    return problems
