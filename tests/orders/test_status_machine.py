"""The order status machine (spec 2.1): every trigger from every state.

Allowed → the new state and one status event of the order; idempotent → nothing changes;
forbidden → TransitionNotAllowed with a stable code and a pointer (or, where the state allows
the trigger but this order cannot take it, that refusal's own code), and nothing changes at all:
not the order, its lines, its transactions, its reservations nor its shipments.
"""

from __future__ import annotations

from itertools import pairwise

import pytest
from django.forms.models import model_to_dict

from fulfillment.models import Shipment, StockReservation
from oms.errors import DomainError, TransitionNotAllowed
from orders import services
from orders.errors import OrderTotalExceedsPlaceTotal
from orders.models import Customer, LineItem, Order, OrderEvent
from payments.models import Transaction
from tests.orders.factories import STAFF, order_in_status

pytestmark = pytest.mark.django_db

# "paid" is an approved order whose authorization is captured: what `_refund` needs (and what
# `_capture` has nothing left to do on).
STATES = ["draft", "pending", "placing", "placed", "editing", "approved", "paid", "cancelled"]
STATUS_OF = {state: "approved" if state == "paid" else state for state in STATES}
TRIGGERS = [*services.ORDER_TRIGGERS, "place_async"]

# (state, trigger) → the state after it, "same" for allowed without a status change,
# "noop" for an idempotent repeat that changes nothing; anything missing is forbidden.
ALLOWED: dict[tuple[str, str], str] = {
    ("draft", "_refresh"): "same",
    ("draft", "_update_taxes"): "same",
    ("pending", "_place"): "placed",
    ("pending", "place_async"): "placing",
    ("pending", "_cancel"): "cancelled",
    ("pending", "_refresh"): "same",
    ("pending", "_update_taxes"): "same",
    # ("placing", "_pending") is refused: a placement in flight is finished by itself or by
    # `orders_recover_placements`, never aborted by a storefront (an authorization could be
    # orphaned and a second one started).
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
    ("editing", "_update_taxes"): "same",
    ("placed", "_capture"): "same",
    ("approved", "_archive"): "same",
    ("approved", "_unarchive"): "noop",
    ("approved", "_capture"): "same",
    ("paid", "_archive"): "same",
    ("paid", "_unarchive"): "noop",
    ("paid", "_refund"): "cancelled",
    ("cancelled", "_archive"): "same",
    ("cancelled", "_unarchive"): "noop",
}
# Allowed in the state, refused for this order (code, HTTP status), changing nothing.
REFUSED: dict[tuple[str, str], tuple[str, int]] = {
    ("placing", "_place"): ("PLACEMENT_IN_PROGRESS", 409),
    ("placing", "place_async"): ("PLACEMENT_IN_PROGRESS", 409),
    # its shipments are still upcoming (`_fulfill` is tested where they have left)
    ("approved", "_fulfill"): ("ORDER_NOT_FULFILLABLE", 422),
    ("paid", "_fulfill"): ("ORDER_NOT_FULFILLABLE", 422),
    ("approved", "_refund"): ("INSUFFICIENT_REFUND_BALANCE", 422),  # nothing captured
    ("paid", "_capture"): ("INSUFFICIENT_CAPTURE_BALANCE", 422),  # nothing left
}
# The states an allowed trigger passes through on its way (each with its own event).
VIA = {("pending", "_place"): ["placing"]}
# Triggers that record order events without changing the status: the fields that moved.
EVENTS_WITHOUT_STATUS_CHANGE = {
    "_archive": ["archived"],
    "_capture": ["payment_status", "fulfillment_status"],
}


def order_for(state: str) -> Order:
    if state == "paid":
        order = order_in_status("approved")
        return services.order_capture(order=order, actor=STAFF)
    return order_in_status(state)


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
        "transactions": list(Transaction.objects.filter(order=order).values().order_by("pk")),
        "reservations": list(StockReservation.objects.filter(order=order).values().order_by("pk")),
        "shipments": list(Shipment.objects.filter(order=order).values().order_by("pk")),
    }


def test_the_table_covers_only_known_states_and_triggers():
    assert {state for state, _ in [*ALLOWED, *REFUSED]} <= set(STATES)
    assert {trigger for _, trigger in [*ALLOWED, *REFUSED]} <= set(TRIGGERS)
    assert not set(ALLOWED) & set(REFUSED)
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
        "_update_taxes",
        "_fulfill",
        "_refund",
        "_capture",
    }


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("state", STATES)
def test_every_trigger_from_every_state(state, trigger):
    order = order_for(state)
    assert order.status == STATUS_OF[state]
    before = snapshot(order)
    expected = ALLOWED.get((state, trigger))
    # `place_async` is `_place` run in the background: a refusal names `_place`.
    trigger_name = "_place" if trigger == "place_async" else trigger

    if expected is None:
        code, status = REFUSED.get((state, trigger), ("TRANSITION_NOT_ALLOWED", 422))
        with pytest.raises(DomainError) as exc:
            run(trigger, order)
        if code == "TRANSITION_NOT_ALLOWED":
            assert isinstance(exc.value, TransitionNotAllowed)
            assert exc.value.pointer == f"/data/attributes/{trigger_name}"
        assert exc.value.code == code
        assert exc.value.status == status
        assert snapshot(order) == before
        return

    result = run(trigger, order)
    order.refresh_from_db()
    assert result.status == order.status
    new_events = list(OrderEvent.objects.filter(order=order).order_by("id")[before["events"] :])
    order_events = [event for event in new_events if event.subject_type == "orders"]

    if expected == "noop":
        assert snapshot(order) == before
    elif expected == "same":
        assert order.status == STATUS_OF[state]
        fields = EVENTS_WITHOUT_STATUS_CHANGE.get(trigger, [])
        assert [event.field for event in order_events] == fields
        if not fields:
            assert new_events == []
    else:
        assert order.status == expected
        status_events = [event for event in order_events if event.field == "status"]
        path = [STATUS_OF[state], *VIA.get((state, trigger), []), expected]
        assert [(event.from_status, event.to_status) for event in status_events] == list(
            pairwise(path)
        )
        for event in status_events:
            assert event.trigger == trigger_name
            assert event.actor == str(STAFF)
            assert event.subject_id == order.pk


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
    order = order_in_status("approved")
    # Its goods left another way (handed over at the counter): the shipment is cancelled.
    for shipment in order.shipments.all():
        services.order_shipment_trigger(shipment=shipment, trigger="_cancel", actor=STAFF)
    order = services.order_fulfill(order=order, actor=STAFF)
    assert order.fulfillment_status == Order.FulfillmentStatus.FULFILLED
    assert order.fulfillment_updated_at is not None
    events = order.events.count()
    services.order_fulfill(order=order, actor=STAFF)
    assert order.events.count() == events


def test_fulfill_is_refused_while_a_shipment_has_not_left():
    order = order_in_status("approved")
    before = snapshot(order)
    with pytest.raises(DomainError) as exc:
        services.order_fulfill(order=order, actor=STAFF)
    assert exc.value.code == "ORDER_NOT_FULFILLABLE"
    assert exc.value.pointer == "/data/attributes/_fulfill"
    assert snapshot(order) == before


def test_stop_editing_refuses_a_total_above_the_placed_total():
    order = order_in_status("editing", amount_cents=1000)
    services.line_item_create(
        order=order,
        actor=STAFF,
        sku=order.line_items.get(item_type="skus").sku,
        quantity=1,
        integration=True,
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
    line = order.line_items.get(item_type="skus")
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
    assert deferred.payment_status == "authorized"
    assert deferred.status == "placed"
