"""The outbox: a change that publishes a topic records its deliveries in its own transaction.

Whatever commits the change commits its delivery rows, and a rolled-back change leaves none,
so a crash between the commit and the send loses nothing: the sender finds the rows later.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


_BATCH = "_oms_outbox_batch"


@contextmanager
def webhook_deliveries_batched() -> Iterator[None]:
    """Inside the block, the deliveries recorded are kept and written in one INSERT as it
    ends (still in the caller's transaction: open the block inside the `atomic`). An error
    writes none: its transaction rolls back anyway. Nested blocks join the outermost. A
    delivery recorded inside a savepoint opened within the block is written at once, so
    that rolling the savepoint back takes it too."""
    if getattr(connection, _BATCH, None) is not None:
        yield
        return
    events: list[tuple[str, str, str]] = []
    setattr(connection, _BATCH, (_savepoints(), events))
    try:
        yield
    finally:
        setattr(connection, _BATCH, None)
    webhook_deliveries_record(events=events)


def _savepoints() -> int:
    """How many savepoints are open (an `atomic(savepoint=False)` block has none of its own:
    an error in it fails its whole transaction)."""
    return sum(1 for sid in connection.savepoint_ids if sid is not None)


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
    batch = getattr(connection, _BATCH, None)
    if batch is not None and batch[0] == _savepoints():
        batch[1].extend(events)
        return
    now = timezone.now()
    # The events as a derived table: SELECT ... UNION ALL SELECT ..., which SQLite and
    # PostgreSQL both read (parameters of unknown type resolve to text in a UNION).
    rows = " UNION ALL ".join(
        ["SELECT %s AS topic, %s AS rtype, %s AS rid, %s AS ord"] * len(events)
    )
    params = [value for n, event in enumerate(events) for value in (*event, n)]
    delivery = WebhookDelivery._meta.db_table
    webhook = Webhook._meta.db_table
    # Only table names and placeholders are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {delivery} (webhook_id, topic, resource_type, resource_id, created_at,"  # noqa: S608
        " status, attempts, next_attempt_at)"
        " SELECT w.id, e.topic, e.rtype, e.rid, %s, %s, 0, %s"
        f" FROM {webhook} w JOIN ({rows}) e ON w.topic = e.topic"
        " WHERE w.disabled_at IS NULL"
        " ORDER BY e.ord, w.id"  # ids in the order the changes were made
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, str(WebhookDelivery.Status.PENDING), now, *params])
