"""Typed timeline events (issue 12): every change an order goes through is recorded with the
type of its kind of change, by that type's function, and the migration types the rows written
before it."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as global_apps

from orders import services
from orders.models import OrderEvent
from tests.orders.factories import STAFF, order_in_status

pytestmark = pytest.mark.django_db

# what each kind of change holds, for every type: (subject types, field)
EXPECTED = {
    OrderEvent.Type.ORDER_STATUS_CHANGED: ({"orders"}, "status"),
    OrderEvent.Type.ORDER_PAYMENT_STATUS_CHANGED: ({"orders"}, "payment_status"),
    OrderEvent.Type.ORDER_FULFILLMENT_STATUS_CHANGED: ({"orders"}, "fulfillment_status"),
    OrderEvent.Type.ORDER_ARCHIVED_CHANGED: ({"orders"}, "archived"),
    OrderEvent.Type.ORDER_NOTE_ADDED: ({"orders"}, "note"),
    OrderEvent.Type.TRANSACTION_SETTLED: (
        {"authorizations", "captures", "voids", "refunds"},
        "status",
    ),
    OrderEvent.Type.SHIPMENT_STATUS_CHANGED: ({"shipments"}, "status"),
}


def test_an_order_from_cart_to_archive_records_every_kind_of_change_by_its_type():
    order = order_in_status("approved")
    order = services.order_capture(order=order, actor=STAFF)
    services.order_refund(order=order, actor=STAFF)
    services.order_note_add(order=order, actor=STAFF, message="called the customer")
    cancelled = order_in_status("cancelled")
    services.order_archive(order=cancelled, actor=STAFF)
    events = list(OrderEvent.objects.all())
    types = {event.event_type for event in events}
    assert types >= {
        OrderEvent.Type.ORDER_STATUS_CHANGED,
        OrderEvent.Type.ORDER_PAYMENT_STATUS_CHANGED,
        OrderEvent.Type.ORDER_FULFILLMENT_STATUS_CHANGED,
        OrderEvent.Type.ORDER_ARCHIVED_CHANGED,
        OrderEvent.Type.ORDER_NOTE_ADDED,
        OrderEvent.Type.TRANSACTION_SETTLED,
        OrderEvent.Type.SHIPMENT_STATUS_CHANGED,
    }
    for event in events:
        subjects, field = EXPECTED[OrderEvent.Type(event.event_type)]
        assert event.subject_type in subjects, (event.event_type, event.subject_type)
        assert event.field == field, (event.event_type, event.field)


def test_the_migration_types_the_rows_written_before_it():
    order = services.order_capture(order=order_in_status("approved"), actor=STAFF)
    services.order_note_add(order=order, actor=STAFF, message="a note")
    typed = dict(OrderEvent.objects.values_list("pk", "event_type"))
    OrderEvent.objects.update(event_type="")
    migration = importlib.import_module("orders.migrations.0010_order_event_types")
    migration.types_backfill(global_apps, None)
    assert dict(OrderEvent.objects.values_list("pk", "event_type")) == typed
