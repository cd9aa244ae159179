"""The shipment state machine, as a table: every trigger from every state.

Allowed triggers move the shipment and write one order event; forbidden ones raise
TRANSITION_NOT_ALLOWED and change nothing (no status change, no event).
"""

import pytest

from fulfillment.errors import FulfillmentNotInProgress, TransitionNotAllowed
from fulfillment.models import Shipment
from fulfillment.services import SHIPMENT_TRIGGERS, shipment_picking, shipments_build
from oms.actors import Actor
from orders.models import Order, OrderEvent
from tests.fulfillment.factories import SkuFactory, shop_create

pytestmark = pytest.mark.django_db

S = Shipment.Status
TRIGGERS = list(SHIPMENT_TRIGGERS)
STAFF = Actor(kind="user", id="7", name="ops")

# (state, the state it was held from) -> {trigger: target}
ALLOWED: dict[tuple[str, str], dict[str, str]] = {
    (S.DRAFT, ""): {"_upcoming": S.UPCOMING, "_cancel": S.CANCELLED},
    (S.UPCOMING, ""): {"_on_hold": S.ON_HOLD, "_picking": S.PICKING, "_cancel": S.CANCELLED},
    (S.ON_HOLD, S.UPCOMING): {"_upcoming": S.UPCOMING, "_cancel": S.CANCELLED},
    (S.ON_HOLD, S.PICKING): {"_picking": S.PICKING, "_cancel": S.CANCELLED},
    (S.ON_HOLD, S.PACKING): {"_packing": S.PACKING, "_cancel": S.CANCELLED},
    (S.PICKING, ""): {"_on_hold": S.ON_HOLD, "_packing": S.PACKING, "_cancel": S.CANCELLED},
    (S.PACKING, ""): {
        "_on_hold": S.ON_HOLD,
        "_ready_to_ship": S.READY_TO_SHIP,
        "_cancel": S.CANCELLED,
    },
    (S.READY_TO_SHIP, ""): {"_ship": S.SHIPPED, "_cancel": S.CANCELLED},
    (S.SHIPPED, ""): {"_deliver": S.DELIVERED},
    (S.DELIVERED, ""): {},
    (S.CANCELLED, ""): {},
}
CASES = [
    pytest.param(
        state,
        held_from,
        trigger,
        allowed.get(trigger),
        id=f"{state}{'<' + held_from if held_from else ''}-{trigger}",
    )
    for (state, held_from), allowed in ALLOWED.items()
    for trigger in TRIGGERS
]
STAMPS = {
    "_on_hold": "on_hold_at",
    "_picking": "picking_at",
    "_packing": "packing_at",
    "_ready_to_ship": "ready_to_ship_at",
    "_ship": "shipped_at",
    "_deliver": "delivered_at",
}


def shipment_in(state: str, held_from: str = "", *, fulfillment: str = "in_progress") -> Shipment:
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 5)
    order, _ = shop.order((sku, 1))
    Order.objects.filter(pk=order.pk).update(fulfillment_status=fulfillment)
    (shipment,) = shipments_build(order=order, actor=STAFF)
    Shipment.objects.filter(pk=shipment.pk).update(status=state, status_before_hold=held_from)
    return Shipment.objects.get(pk=shipment.pk)


def test_every_state_is_in_the_table():
    assert {state for state, _ in ALLOWED} == set(S.values)


@pytest.mark.parametrize(("state", "held_from", "trigger", "target"), CASES)
def test_transition_table(state, held_from, trigger, target):
    shipment = shipment_in(state, held_from)
    before = Shipment.objects.filter(pk=shipment.pk).values().get()
    service = SHIPMENT_TRIGGERS[trigger]

    if target is None:
        with pytest.raises(TransitionNotAllowed) as exc:
            service(shipment=shipment, actor=STAFF)
        assert exc.value.code == "TRANSITION_NOT_ALLOWED"
        assert exc.value.pointer == f"/data/attributes/{trigger}"
        assert Shipment.objects.filter(pk=shipment.pk).values().get() == before
        assert not OrderEvent.objects.exclude(subject_type="orders").exists()
        return

    moved = service(shipment=shipment, actor=STAFF)
    stored = Shipment.objects.get(pk=shipment.pk)
    assert moved.status == stored.status == target
    event = OrderEvent.objects.exclude(subject_type="orders").get()
    assert (event.order_id, event.subject_type, event.subject_id) == (
        shipment.order_id,
        "shipments",
        shipment.pk,
    )
    assert (event.trigger, event.from_status, event.to_status) == (trigger, state, target)
    assert event.actor == "user:ops"
    if trigger in STAMPS:
        assert getattr(stored, STAMPS[trigger]) is not None
    assert stored.status_before_hold == (state if target == S.ON_HOLD else "")


WORK_STEPS = [
    (S.UPCOMING, "", "_picking"),
    (S.ON_HOLD, S.PICKING, "_picking"),
    (S.PICKING, "", "_packing"),
    (S.ON_HOLD, S.PACKING, "_packing"),
    (S.PACKING, "", "_ready_to_ship"),
    (S.READY_TO_SHIP, "", "_ship"),
    (S.SHIPPED, "", "_deliver"),
]


@pytest.mark.parametrize(
    ("state", "held_from", "trigger", "fulfillment"),
    [
        (*step, fulfillment)
        for step in WORK_STEPS
        for fulfillment in ["unfulfilled", "not_required", "fulfilled"]
        # the last shipment to ship fulfils the order; it is delivered after (below)
        if (step[2], fulfillment) != ("_deliver", "fulfilled")
    ],
)
def test_picking_and_later_need_fulfillment_in_progress(state, held_from, trigger, fulfillment):
    shipment = shipment_in(state, held_from, fulfillment=fulfillment)
    before = Shipment.objects.filter(pk=shipment.pk).values().get()
    with pytest.raises(FulfillmentNotInProgress) as exc:
        SHIPMENT_TRIGGERS[trigger](shipment=shipment, actor=STAFF)
    assert exc.value.code == "FULFILLMENT_NOT_IN_PROGRESS"
    assert Shipment.objects.filter(pk=shipment.pk).values().get() == before
    assert not OrderEvent.objects.exclude(subject_type="orders").exists()


def test_a_shipment_is_delivered_after_its_order_became_fulfilled():
    # Shipping the last shipment fulfils the order (spec 2.4); delivery comes after that.
    shipment = shipment_in(S.SHIPPED, fulfillment="fulfilled")
    moved = SHIPMENT_TRIGGERS["_deliver"](shipment=shipment, actor=STAFF)
    assert moved.status == S.DELIVERED


@pytest.mark.parametrize(
    ("state", "trigger"),
    [(S.DRAFT, "_upcoming"), (S.UPCOMING, "_on_hold"), (S.UPCOMING, "_cancel")],
)
def test_upcoming_hold_and_cancel_do_not_need_fulfillment_in_progress(state, trigger):
    shipment = shipment_in(state, fulfillment="unfulfilled")
    SHIPMENT_TRIGGERS[trigger](shipment=shipment, actor=STAFF)
    assert OrderEvent.objects.exclude(subject_type="orders").count() == 1


def test_services_act_on_the_stored_state_not_a_stale_copy():
    stale = shipment_in(S.DRAFT)
    Shipment.objects.filter(pk=stale.pk).update(status=S.UPCOMING)
    assert shipment_picking(shipment=stale, actor=STAFF).status == S.PICKING


def test_status_cannot_be_assigned_directly():
    shipment = shipment_in(S.DRAFT)
    with pytest.raises(AttributeError):
        shipment.status = S.SHIPPED


def test_a_shipped_shipment_of_a_fulfilled_order_can_be_delivered():
    """Shipping the last shipment makes the order fulfilled; delivery still has to be told."""
    shipment = shipment_in(S.SHIPPED, "", fulfillment="fulfilled")
    delivered = SHIPMENT_TRIGGERS["_deliver"](shipment=shipment, actor=STAFF)
    assert delivered.status == S.DELIVERED
