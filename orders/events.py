"""The order timeline. Every status change of an order, a payment or a shipment records its
typed event (`OrderEvent.Type`, one `<entity>_<event>_event` function each) inside the
transaction that made the change, so the two commit together."""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction

from oms.actors import Actor
from oms.webhooks.outbox import webhook_deliveries_record
from orders.locks import order_held
from orders.models import Order, OrderEvent

logger = logging.getLogger(__name__)
changes = logging.getLogger("oms.orders")


def _order_number_of(event: OrderEvent) -> int | None:
    """The number of the event's order, without a query: its order is loaded, or locked by
    this transaction (every change locks it)."""
    if OrderEvent._meta.get_field("order").is_cached(event):
        return event.order.number
    held = order_held(event.order_id)
    return held.number if held is not None else None


def order_events_log_on_commit(events: list[OrderEvent]) -> None:
    """A structured log line per state change, once its transaction commits (a change rolled
    back logs nothing)."""
    lines: list[dict[str, object]] = [
        {
            "order_id": event.order_id,
            "order_number": _order_number_of(event),
            "subject": f"{event.subject_type}/{event.subject_id}",
            "field": event.field,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "trigger": event.trigger,
            "actor": event.actor,
        }
        for event in events
        if event.from_status or event.to_status
    ]
    if lines:
        transaction.on_commit(partial(_log_changes, lines))


def _log_changes(lines: list[dict[str, object]]) -> None:
    for line in lines:
        changes.info("state_changed", extra=line)


def _order_event(
    *,
    event_type: OrderEvent.Type,
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
    save: bool = True,
) -> OrderEvent:
    """One timeline row of `event_type`, in the change's transaction (`save=False`: built for
    the caller to record with others in one INSERT, `order_events_record`). Only the typed
    functions below call it."""
    assert transaction.get_connection().in_atomic_block, (
        "record events inside the change's transaction"
    )
    event = OrderEvent(
        event_type=event_type,
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
    if save:
        event.save()
        order_events_log_on_commit([event])
    return event


def order_events_record(events: list[OrderEvent]) -> list[OrderEvent]:
    """Several timeline rows at once, in the change's transaction (one INSERT)."""
    assert transaction.get_connection().in_atomic_block, (
        "record events inside the change's transaction"
    )
    for event in events:
        event.message = event.message[:500]
    recorded = OrderEvent.objects.bulk_create(events)
    order_events_log_on_commit(recorded)
    return recorded


def _order_field_event(
    event_type: OrderEvent.Type,
    field: str,
    *,
    order: Order,
    actor: Actor,
    trigger: str,
    from_status: str,
    to_status: str,
    message: str = "",
    save: bool = True,
) -> OrderEvent:
    return _order_event(
        event_type=event_type,
        save=save,
        order_id=order.pk,
        actor=actor,
        trigger=trigger,
        subject_type="orders",
        subject_id=order.pk,
        field=field,
        from_status=str(from_status),
        to_status=str(to_status),
        amount_cents=order.total_amount_with_taxes_cents,
        currency_code=order.currency_code,
        message=message,
    )


def order_status_changed_event(
    *,
    order: Order,
    actor: Actor,
    trigger: str,
    from_status: str,
    to_status: str,
    message: str = "",
    save: bool = True,
) -> OrderEvent:
    """The order moved (draft → pending → placing → placed → approved, cancelled, …)."""
    return _order_field_event(
        OrderEvent.Type.ORDER_STATUS_CHANGED,
        "status",
        order=order,
        actor=actor,
        trigger=trigger,
        from_status=from_status,
        to_status=to_status,
        message=message,
        save=save,
    )


def order_payment_status_changed_event(
    *, order: Order, actor: Actor, trigger: str, from_status: str, to_status: str, save: bool
) -> OrderEvent:
    """The derived payment status moved (unpaid → authorized → paid → refunded, …)."""
    return _order_field_event(
        OrderEvent.Type.ORDER_PAYMENT_STATUS_CHANGED,
        "payment_status",
        order=order,
        actor=actor,
        trigger=trigger,
        from_status=from_status,
        to_status=to_status,
        save=save,
    )


def order_fulfillment_status_changed_event(
    *, order: Order, actor: Actor, trigger: str, from_status: str, to_status: str, save: bool
) -> OrderEvent:
    """The derived fulfillment status moved (unfulfilled → in_progress → fulfilled, …)."""
    return _order_field_event(
        OrderEvent.Type.ORDER_FULFILLMENT_STATUS_CHANGED,
        "fulfillment_status",
        order=order,
        actor=actor,
        trigger=trigger,
        from_status=from_status,
        to_status=to_status,
        save=save,
    )


def order_archived_changed_event(
    *, order: Order, actor: Actor, trigger: str, archived: bool
) -> OrderEvent:
    """The order was archived (`archived=True`) or brought back."""
    return _order_field_event(
        OrderEvent.Type.ORDER_ARCHIVED_CHANGED,
        "archived",
        order=order,
        actor=actor,
        trigger=trigger,
        from_status="active" if archived else "archived",
        to_status="archived" if archived else "active",
    )


def order_note_added_event(*, order: Order, actor: Actor, message: str) -> OrderEvent:
    """A staff note on the timeline."""
    return _order_event(
        event_type=OrderEvent.Type.ORDER_NOTE_ADDED,
        order_id=order.pk,
        actor=actor,
        trigger="_note",
        subject_type="orders",
        subject_id=order.pk,
        field="note",
        message=message,
    )


def transaction_settled_event(
    *,
    order: Order,
    subject_type: str,
    subject_id: str,
    trigger: str,
    to_status: str,
    amount_cents: int,
    currency_code: str,
    message: str,
    actor: Actor,
    save: bool = True,
) -> OrderEvent:
    """A payment transaction (authorization, capture, void, refund) got the gateway's answer:
    pending → succeeded or failed."""
    return _order_event(
        event_type=OrderEvent.Type.TRANSACTION_SETTLED,
        save=save,
        order_id=order.pk,
        actor=actor,
        trigger=trigger,
        subject_type=subject_type,
        subject_id=subject_id,
        from_status="pending",
        to_status=to_status,
        amount_cents=amount_cents,
        currency_code=currency_code,
        message=message,
    )


def order_topic_publish(*, order_id: str, topic: str) -> None:
    """Run after commit for every webhook topic of an order (`orders.place`, …): the log
    line. The deliveries are already recorded, in the change's transaction."""
    logger.info("order %s: %s", order_id, topic)


def order_topic_publish_on_commit(*, order: Order, topic: str) -> None:
    """Publish `topic` for the order: its webhook deliveries in this transaction (the outbox,
    one statement), the log line after commit."""
    webhook_deliveries_record(events=[(topic, "orders", order.pk)])
    transaction.on_commit(partial(order_topic_publish, order_id=order.pk, topic=topic))
