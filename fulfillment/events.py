"""Timeline events and after-commit notices of the fulfillment app."""

from __future__ import annotations

import logging
from functools import partial

from django.db import transaction

from fulfillment.models import Return, ReturnLineItem, Shipment
from oms.actors import Actor
from oms.webhooks.outbox import (
    RETURN_RESTOCK_TOPIC,
    RETURN_STATUS_TOPICS,
    SHIPMENT_STATUS_TOPICS,
    webhook_deliveries_record,
)
from orders.events import order_events_record
from orders.models import OrderEvent

logger = logging.getLogger("oms.fulfillment")


def shipment_status_changed_events(
    *, moves: list[tuple[Shipment, str, str, str]], actor: Actor, save: bool = True
) -> list[OrderEvent]:
    """Shipments moved (several at once at placement): their timeline rows in one insert, in
    the change's transaction, and their after-commit notices. `moves`: (shipment, trigger, from
    status, to status). `save=False`: the rows are built for the order workflow to record."""
    events = [
        OrderEvent(
            event_type=OrderEvent.Type.SHIPMENT_STATUS_CHANGED,
            order_id=shipment.order_id,
            actor=str(actor),
            trigger=trigger,
            subject_type="shipments",
            subject_id=shipment.pk,
            field="status",
            from_status=from_status,
            to_status=to_status,
            message=shipment.number,
        )
        for shipment, trigger, from_status, to_status in moves
    ]
    webhook_deliveries_record(
        events=[
            (SHIPMENT_STATUS_TOPICS[to_status], "shipments", shipment.pk)
            for shipment, _trigger, _from_status, to_status in moves
            if to_status in SHIPMENT_STATUS_TOPICS
        ]
    )
    for shipment, trigger, from_status, to_status in moves:
        transaction.on_commit(
            partial(
                shipment_status_changed_notice,
                shipment_id=shipment.pk,
                number=shipment.number,
                actor=actor,
                trigger=trigger,
                from_status=from_status,
                to_status=to_status,
            )
        )
    return order_events_record(events) if save else events


def shipment_status_changed_notice(
    *, shipment_id: str, number: str, actor: Actor, trigger: str, from_status: str, to_status: str
) -> None:
    """Runs after commit: the change goes to the log (its webhook deliveries were recorded
    in the change's transaction by `shipment_status_changed_events`)."""
    logger.info(
        "shipment %s %s: %s -> %s by %s",
        number,
        trigger,
        from_status,
        to_status,
        actor,
        extra={"shipment_id": shipment_id},
    )


def stock_changed_notice(*, what: str, order_id: str, units: int, actor: Actor) -> None:
    """Runs after commit: stock reserved, released or decremented for an order."""
    logger.info("stock %s for order %s: %d units by %s", what, order_id, units, actor)


def return_status_changed_event(
    *, ret: Return, trigger: str, from_status: str, to_status: str, actor: Actor
) -> OrderEvent:
    """A return was created or moved: its timeline row on the order and its webhook
    deliveries, in the change's transaction."""
    webhook_deliveries_record(events=[(RETURN_STATUS_TOPICS[to_status], "returns", ret.pk)])
    transaction.on_commit(
        partial(
            logger.info,
            "return %s %s: %s -> %s by %s",
            ret.number,
            trigger,
            from_status or "-",
            to_status,
            actor,
        )
    )
    [event] = order_events_record(
        [
            OrderEvent(
                event_type=OrderEvent.Type.RETURN_STATUS_CHANGED,
                order_id=ret.order_id,
                actor=str(actor),
                trigger=trigger,
                subject_type="returns",
                subject_id=ret.pk,
                field="status",
                from_status=from_status,
                to_status=to_status,
                message=ret.number,
            )
        ]
    )
    return event


def return_line_items_restocked_event(
    *, ret: Return, lines: list[ReturnLineItem], actor: Actor
) -> list[OrderEvent]:
    """Return lines put back in stock: one timeline row each and one `returns.restock`
    delivery, in the change's transaction."""
    webhook_deliveries_record(events=[(RETURN_RESTOCK_TOPIC, "returns", ret.pk)])
    return order_events_record(
        [
            OrderEvent(
                event_type=OrderEvent.Type.RETURN_LINE_ITEM_RESTOCKED,
                order_id=ret.order_id,
                actor=str(actor),
                trigger="_restock",
                subject_type="return_line_items",
                subject_id=line.pk,
                field="restocked_at",
                to_status="restocked",
                message=f"{ret.number}: {line.quantity} x {line.sku_code}",
            )
            for line in lines
        ]
    )
