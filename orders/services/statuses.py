"""The one writer of an order's derived statuses.

`order_statuses_write` runs at the end of every workflow that may move money or shipments, on
the order its caller locked: it asks payments and fulfillment for their facts, derives
`payment_status` and `fulfillment_status` with `orders.statuses` (the one derivation of each)
and stores what moved, with its timeline event. Nothing else writes those two columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fulfillment.models import Shipment
from oms.actors import Actor
from orders.events import (
    order_events_record,
    order_fulfillment_status_changed_event,
    order_payment_status_changed_event,
    order_topic_publish_on_commit,
)
from orders.locks import order_lock
from orders.models import LineItem, Order, OrderEvent
from orders.statuses import (
    PLACED_ORDER_STATUSES,
    FulfillmentFacts,
    active_shipment_statuses,
    fulfillment_status_for,
    payment_status_for,
)
from payments.selectors import PaymentTotals, order_payment_totals


def lines_need_shipping(lines: Sequence[LineItem]) -> bool:
    """Whether anything bought must be shipped: SKUs not `do_not_ship`, and bundles."""
    for line in lines:
        if line.item_type == LineItem.ItemType.SKUS and line.sku is not None:
            if not line.sku.do_not_ship:
                return True
        elif line.item_type == LineItem.ItemType.BUNDLES:
            return True
    return False


def order_needs_shipping(*, order: Order) -> bool:
    return order.line_items.filter(
        Q(item_type=LineItem.ItemType.BUNDLES)
        | Q(item_type=LineItem.ItemType.SKUS, sku__isnull=False, sku__do_not_ship=False)
    ).exists()


def order_fulfillment_facts(
    *, order: Order, lines: Sequence[LineItem] | None = None
) -> FulfillmentFacts:
    needs = lines_need_shipping(lines) if lines is not None else order_needs_shipping(order=order)
    statuses = Shipment.objects.filter(order_id=order.pk).values_list("status", flat=True)
    return FulfillmentFacts(
        needs_shipping=needs, shipment_statuses=active_shipment_statuses(statuses)
    )


@dataclass(frozen=True)
class StatusesWrite:
    """What a workflow step hands on to the `order_statuses_write` that follows it: fulfillment
    facts it already knows (sparing the writer's reads) and the fields it changed on the order
    and left for the writer to save, with the statuses, in one statement."""

    facts: FulfillmentFacts | None = None
    unsaved: tuple[str, ...] = ()
    events: tuple[OrderEvent, ...] = ()  # built, recorded with the writer's own in one INSERT


def order_payment_status_of(order: Order, totals: PaymentTotals) -> str:
    return payment_status_for(
        order_total_cents=order.total_amount_with_taxes_cents,
        order_placed=order.status in PLACED_ORDER_STATUSES,
        authorized_cents=totals.authorized_cents,
        captured_cents=totals.captured_cents,
        voided_cents=totals.voided_cents,
        refunded_cents=totals.refunded_cents,
        entirely_voided=totals.entirely_voided,
    )


def order_fulfillment_status_of(
    order: Order, *, payment_status: str, facts: FulfillmentFacts, fulfill: bool = False
) -> str:
    method = order.payment_method
    return fulfillment_status_for(
        order_status=order.status,
        payment_status=payment_status,
        current=order.fulfillment_status,
        facts=facts,
        payment_requires_capture=method.require_capture if method is not None else True,
        fulfill=fulfill,
    )


def fulfillment_status_derived(*, order: Order, payment_requires_capture: bool) -> str:
    """The fulfillment status the facts give `order` now (as `order_statuses_write` derives
    it, for a given payment method's `require_capture`)."""
    return fulfillment_status_for(
        order_status=order.status,
        payment_status=order.payment_status,
        current=order.fulfillment_status,
        facts=order_fulfillment_facts(order=order),
        payment_requires_capture=payment_requires_capture,
    )


def order_statuses_write(
    *,
    order: Order,
    actor: Actor,
    trigger: str,
    lines: Sequence[LineItem] | None = None,
    fulfill: bool = False,
    known: StatusesWrite | None = None,
) -> Order:
    """On the locked `order`: derive both statuses from the facts and store what moved, each
    with its event. `lines`, when the caller has them loaded, spare a query; `fulfill` is the
    merchant's `_fulfill`; `known`: what the step before knows and left unsaved."""
    assert transaction.get_connection().in_atomic_block, "write statuses on the locked order"
    payment = order_payment_status_of(order, order_payment_totals(order_id=order.pk))
    if known is not None and known.facts is not None:
        facts = known.facts
    else:
        facts = order_fulfillment_facts(order=order, lines=lines)
    fulfillment = order_fulfillment_status_of(
        order, payment_status=payment, facts=facts, fulfill=fulfill
    )
    now = timezone.now()
    values: dict[str, object] = {}
    events = list(known.events) if known is not None else []
    for field, derived in (("payment_status", payment), ("fulfillment_status", fulfillment)):
        before = getattr(order, field)
        if derived == before:
            continue
        setattr(order, field, derived)
        stamp = f"{field.removesuffix('_status')}_updated_at"
        setattr(order, stamp, now)
        values |= {field: derived, stamp: now}
        typed_event = (
            order_payment_status_changed_event
            if field == "payment_status"
            else order_fulfillment_status_changed_event
        )
        events.append(
            typed_event(
                order=order,
                actor=actor,
                trigger=trigger,
                from_status=before,
                to_status=derived,
                save=False,
            )
        )
    if events:
        order_events_record(events)
    if values.get("payment_status") == Order.PaymentStatus.PAID:
        order_topic_publish_on_commit(order=order, topic="orders.pay")
    if known is not None and known.unsaved:
        # the step's own fields and the statuses in one UPDATE (through the model's save, so
        # its status transition keeps its concurrency guard)
        order.save(update_fields=[*known.unsaved, *values, "updated_at"])
    elif values:
        order.updated_at = now
        Order.objects.filter(pk=order.pk).update(**values, updated_at=now)
    return order


def order_statuses_refresh(*, order: Order, actor: Actor, trigger: str = "_refresh") -> Order:
    """Lock the order and write its derived statuses (a repair after a transaction was
    settled by hand, or a check of the invariants)."""
    with transaction.atomic(durable=True):
        locked = order_lock(order.pk)
        order_statuses_write(order=locked, actor=actor, trigger=trigger)
    order.payment_status = locked.payment_status
    order.fulfillment_status = locked.fulfillment_status
    return locked
