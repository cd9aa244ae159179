"""Timeline events and after-commit notices of the fulfillment app."""

from __future__ import annotations

import logging

from fulfillment.models import Shipment
from oms.actors import Actor
from orders.events import order_event_record
from orders.models import OrderEvent

logger = logging.getLogger("oms.fulfillment")


def shipment_status_changed_event(
    *, shipment: Shipment, actor: Actor, trigger: str, from_status: str
) -> OrderEvent:
    """A shipment moved: one row on its order's timeline, in the change's transaction."""
    return order_event_record(
        order_id=shipment.order_id,
        actor=actor,
        trigger=trigger,
        subject_type="shipments",
        subject_id=shipment.pk,
        from_status=from_status,
        to_status=shipment.status,
        message=shipment.number,
    )


def shipment_status_changed_notice(
    *, shipment_id: str, number: str, actor: Actor, trigger: str, from_status: str, to_status: str
) -> None:
    """Runs after commit. Webhook deliveries (`shipments.ship`, ...) hook in here once the
    webhooks app exists; for now the change goes to the log."""
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
