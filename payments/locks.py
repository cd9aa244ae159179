"""The row locks of the payments app.

Every money operation locks in one fixed order, so two of them can never wait on each other in a
circle: the order first (taken once by the orders workflow, `orders/locks.py`: payments never
locks an order itself), then the authorization, then the capture. The order comes first even
when only a transaction changes because inserting a transaction (or an order event) takes a key
share lock on the order row: taking it later than the authorization would invert the order.
Rows of the same kind are locked in primary-key order.
"""

from __future__ import annotations

from django.db.models import QuerySet

from payments.models import Transaction


def transaction_lock(transaction_id: str) -> Transaction:
    return Transaction.objects.select_for_update().get(pk=transaction_id)


def transactions_lock(transaction_ids: list[str]) -> QuerySet[Transaction]:
    return Transaction.objects.select_for_update().filter(pk__in=transaction_ids).order_by("pk")
