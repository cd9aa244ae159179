"""The order status machine (spec 2.1): every trigger from every state.

Allowed → the new state and one event row; idempotent → nothing changes; forbidden →
TransitionNotAllowed with a stable code and a pointer, and nothing changes at all.
"""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict

from oms.errors import TransitionNotAllowed
from orders import services
from orders.errors import OrderTotalExceedsPlaceTotal
from orders.models import Customer, LineItem, Order, OrderEvent
from tests.orders.factories import STAFF, order_in_status

pytestmark = pytest.mark.django_db

STATES = ["draft", "pending", "placing", "placed", "editing", "approved", "cancelled"]
TRIGGERS = [*services.ORDER_TRIGGERS, "place_async"]

# (state, trigger) → the state after it, "same" for allowed without a status change,
# "noop" for an idempotent repeat that changes nothing; anything missing is forbidden.
ALLOWED: dict[tuple[str, str], str] = {
    ("draft", "_refresh"): "same",
    ("pending", "_place"): "placed",
    ("pending", "place_async"): "placing",
    ("pending", "_cancel"): "cancelled",
    ("pending", "_refresh"): "same",
    ("placing", "_pending"): "pending",
    ("placed", "_place"): "noop",
    ("placed", "place_async"): "noop",
    ("placed", "_cancel"): "cancelled",
    ("placed", "_approve"): "approved",
    ("placed", "_approve_and_capture"): "approved",
    ("placed", "_start_editing"): "editing",
    ("placed", "_archive"): "same",
    ("placed", "_unarchive"): "noop",
    ("editing", "_stop_editing"): "placed",
    ("editing", "_refresh"): "same",
    ("approved", "_archive"): "same",
    ("approved", "_unarchive"): "noop",
    ("approved", "_fulfill"): "same",
    ("approved", "_refund"): "cancelled",
    ("cancelled", "_archive"): "same",
    ("cancelled", "_unarchive"): "noop",
}
# Triggers that record an event without changing the status.
EVENT_WITHOUT_STATUS_CHANGE = {"_archive": "archived", "_fulfill": "fulfillment_status"}


def run(trigger: str, order: Order) -> Order:
    if trigger == "place_async":
        return services.order_place_async(order=order, actor=STAFF)
    return services.order_trigger(order=order, actor=STAFF, trigger=trigger)


def snapshot(order: Order) -> dict[str, object]:
    row = Order.objects.get(pk=order.pk)
    return {
        "order": model_to_dict(row, fields=[f.name for f in Order._meta.concrete_fields]),
        "updated_at": row.updated_at,
        "lines": list(LineItem.objects.filter(order=order).values().order_by("pk")),
        "events": OrderEvent.objects.filter(order=order).count(),
        "customers": list(Customer.objects.values("pk", "status", "total_orders_count")),
    }


def test_the_table_covers_only_known_states_and_triggers():
    assert {state for state, _ in ALLOWED} <= set(STATES)
    assert {trigger for _, trigger in ALLOWED} <= set(TRIGGERS)
    assert set(TRIGGERS) == {
        "_pending",
        "_place",
        "place_async",
        "_cancel",
        "_approve",
        "_approve_and_capture",
        "_start_editing",
        "_stop_editing",
        "_archive",
        "_unarchive",
        "_refresh",
        "_fulfill",
        "_refund",
    }


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("state", STATES)
def test_every_trigger_from_every_state(state, trigger):
    order = order_in_status(state)
    assert order.status == state
    before = snapshot(order)
    expected = ALLOWED.get((state, trigger))

    if expected is None:
        with pytest.raises(TransitionNotAllowed) as exc:
            run(trigger, order)
        assert exc.value.code == "TRANSITION_NOT_ALLOWED"
        assert exc.value.status == 422
        assert exc.value.pointer == f"/data/attributes/{trigger}"
        assert snapshot(order) == before
        return

    result = run(trigger, order)
    order.refresh_from_db()
    assert result.status == order.status
    new_events = list(OrderEvent.objects.filter(order=order).order_by("id")[before["events"] :])

    if expected == "noop":
        assert snapshot(order) == before
    elif expected == "same":
        assert order.status == state
        field = EVENT_WITHOUT_STATUS_CHANGE.get(trigger)
        if field is None:
            assert new_events == []
        else:
            assert [event.field for event in new_events] == [field]
    else:
        assert order.status == expected
        status_events = [event for event in new_events if event.field == "status"]
        assert len(status_events) == 1
        event = status_events[0]
        assert (event.from_status, event.to_status) == (state, expected)
        assert event.trigger == ("_place" if trigger == "place_async" else trigger)
        assert event.actor == str(STAFF)
        assert (event.subject_type, event.subject_id) == ("orders", order.pk)


def test_a_ready_draft_moves_to_pending_by_the_pending_trigger():
    order = order_in_status("pending")
    # A draft that is ready (here: made so behind the services' back) can be pushed by hand.
    Order.objects.filter(pk=order.pk).update(status="draft")
    order = services.order_pending(order=Order.objects.get(pk=order.pk), actor=STAFF)
    assert order.status == "pending"


def test_placing_sets_the_placement_facts():
    order = order_in_status("pending", amount_cents=1234)
    order = services.order_place(order=order, actor=STAFF)
    assert order.placed_at is not None
    assert order.place_total_amount_cents == 1234
    assert order.formatted_place_total_amount == "€12.34"


def test_approving_sets_approved_at_and_cancelling_sets_cancelled_at():
    order = services.order_approve(order=order_in_status("placed"), actor=STAFF)
    assert order.approved_at is not None
    order = services.order_cancel(order=order_in_status("placed"), actor=STAFF)
    assert order.cancelled_at is not None


def test_archiving_sets_archived_at_and_leaves_the_default_list():
    from orders.selectors import orders_default_list

    order = services.order_archive(order=order_in_status("approved"), actor=STAFF)
    assert order.archived_at is not None
    assert order not in orders_default_list()
    events = order.events.count()
    again = services.order_archive(order=order, actor=STAFF)
    assert again.archived_at == order.archived_at
    assert order.events.count() == events
    order = services.order_unarchive(order=order, actor=STAFF)
    assert order.archived_at is None
    assert order in orders_default_list()
    assert order.events.latest("id").to_status == "active"


def test_fulfill_marks_an_approved_order_fulfilled_once():
    order = services.order_fulfill(order=order_in_status("approved"), actor=STAFF)
    assert order.fulfillment_status == Order.FulfillmentStatus.FULFILLED
    assert order.fulfillment_updated_at is not None
    events = order.events.count()
    services.order_fulfill(order=order, actor=STAFF)
    assert order.events.count() == events


def test_stop_editing_refuses_a_total_above_the_placed_total():
    order = order_in_status("editing", amount_cents=1000)
    services.line_item_create(
        order=order, actor=STAFF, sku=order.line_items.get().sku, quantity=1, integration=True
    )
    before = snapshot(order)
    with pytest.raises(OrderTotalExceedsPlaceTotal) as exc:
        services.order_stop_editing(order=order, actor=STAFF)
    assert exc.value.code == "ORDER_TOTAL_EXCEEDS_PLACE_TOTAL"
    assert exc.value.pointer == "/data/attributes/total_amount_with_taxes_cents"
    assert snapshot(order) == before

    services.line_item_delete(
        line_item=order.line_items.order_by("-created_at", "-id")[0], actor=STAFF, integration=True
    )
    order = services.order_stop_editing(order=order, actor=STAFF)
    assert order.status == "placed"


def test_stop_editing_accepts_a_lower_total():
    order = order_in_status("editing", amount_cents=1000)
    line = order.line_items.get()
    services.line_item_update(line_item=line, actor=STAFF, unit_amount_cents=800, integration=True)
    order = services.order_stop_editing(order=order, actor=STAFF)
    assert (order.status, order.total_amount_with_taxes_cents) == ("placed", 800)
    assert order.place_total_amount_cents == 1000


def test_the_status_field_cannot_be_assigned_directly():
    order = order_in_status("pending")
    with pytest.raises(AttributeError):
        order.status = "placed"


def test_the_database_refuses_a_placed_order_without_its_placement_facts():
    from django.db import IntegrityError, transaction

    order = order_in_status("pending")
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(status="placed")


def test_refresh_from_db_reloads_the_status_and_keeps_it_protected():
    order = order_in_status("pending")
    stale = Order.objects.get(pk=order.pk)
    services.order_place(order=order, actor=STAFF)
    stale.refresh_from_db(fields=["payment_status"])
    assert stale.status == "pending"  # not asked for: left as it was
    stale.refresh_from_db()
    assert stale.status == "placed"
    with pytest.raises(AttributeError):
        stale.status = "approved"
    deferred = Order.objects.only("id").get(pk=order.pk)
    assert deferred.payment_status == "unpaid"
    assert deferred.status == "placed"
