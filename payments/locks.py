"""The row locks of the payments app.

Every money operation locks in one fixed order, so two of them (or a payment operation and an
order workflow of the orders app, which locks the order first) can never wait on each other in a
circle: the order first, then the authorization, then the capture. The order comes first even
when only a transaction changes because inserting a transaction (or an order event) takes a key
share lock on the order row: taking it later than the authorization would invert the order.
Rows of the same kind are locked in primary-key order.
"""

from __future__ import annotations

from django.db.models import QuerySet

from orders.models import Order
from payments.models import Transaction


def order_lock(order_id: str) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def transaction_lock(transaction_id: str) -> Transaction:
    return Transaction.objects.select_for_update().get(pk=transaction_id)


def transactions_lock(transaction_ids: list[str]) -> QuerySet[Transaction]:
    return Transaction.objects.select_for_update().filter(pk__in=transaction_ids).order_by("pk")
