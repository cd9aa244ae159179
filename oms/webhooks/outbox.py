"""The outbox: a change that publishes a topic records its deliveries in its own transaction.

Whatever commits the change commits its delivery rows, and a rolled-back change leaves none,
so a crash between the commit and the send loses nothing: the sender finds the rows later.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from oms.webhooks.models import Webhook, WebhookDelivery

# A shipment's new status -> its Commerce Layer topic (`draft` publishes nothing).
SHIPMENT_STATUS_TOPICS = {
    "upcoming": "shipments.upcoming",
    "cancelled": "shipments.cancel",
    "on_hold": "shipments.on_hold",
    "picking": "shipments.picking",
    "packing": "shipments.packing",
    "ready_to_ship": "shipments.ready_to_ship",
    "shipped": "shipments.ship",
    "delivered": "shipments.deliver",
}


# A return's new status -> its topic; creation and restocking publish their own.
RETURN_STATUS_TOPICS = {
    "draft": "returns.create",
    "requested": "returns.request",
    "approved": "returns.approve",
    "cancelled": "returns.cancel",
    "shipped": "returns.ship",
    "rejected": "returns.reject",
    "received": "returns.receive",
    "refunded": "returns.refund",
}
RETURN_RESTOCK_TOPIC = "returns.restock"


def webhook_deliveries_record(*, events: list[tuple[str, str, str]]) -> None:
    """One pending delivery per enabled webhook of each event's topic, in the caller's
    transaction. `events`: (topic, resource type, resource id).

    One `INSERT ... SELECT` for all of them, so a change costs one statement whether no
    webhook or a hundred listen (and none at all when it publishes nothing)."""
    if not events:
        return
    assert transaction.get_connection().in_atomic_block, (
        "record deliveries inside the change's transaction"
    )
    now = timezone.now()
    # The events as a derived table: SELECT ... UNION ALL SELECT ..., which SQLite and
    # PostgreSQL both read (parameters of unknown type resolve to text in a UNION).
    rows = " UNION ALL ".join(["SELECT %s AS topic, %s AS rtype, %s AS rid"] * len(events))
    params = [value for event in events for value in event]
    delivery = WebhookDelivery._meta.db_table
    webhook = Webhook._meta.db_table
    # Only table names and placeholders are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {delivery} (webhook_id, topic, resource_type, resource_id, created_at,"  # noqa: S608
        " status, attempts, next_attempt_at)"
        " SELECT w.id, e.topic, e.rtype, e.rid, %s, %s, 0, %s"
        f" FROM {webhook} w JOIN ({rows}) e ON w.topic = e.topic"
        " WHERE w.disabled_at IS NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, str(WebhookDelivery.Status.PENDING), now, *params])
