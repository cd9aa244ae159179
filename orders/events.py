"""The order timeline. Every status change of an order, a payment or a shipment calls
`order_event_record` inside the transaction that made the change, so the two commit together."""

from __future__ import annotations

from django.db import transaction

from oms.actors import Actor
from orders.models import OrderEvent


def order_event_record(
    *,
    order_id: str,
    actor: Actor,
    trigger: str,
    subject_type: str,
    subject_id: str,
    field: str = "status",
    from_status: str = "",
    to_status: str = "",
    amount_cents: int | None = None,
    currency_code: str = "",
    message: str = "",
) -> OrderEvent:
    assert transaction.get_connection().in_atomic_block, (
        "record events inside the change's transaction"
    )
    return OrderEvent.objects.create(
        order_id=order_id,
        actor=str(actor),
        trigger=trigger,
        subject_type=subject_type,
        subject_id=subject_id,
        field=field,
        from_status=from_status,
        to_status=to_status,
        amount_cents=amount_cents,
        currency_code=currency_code,
        message=message[:500],
    )
