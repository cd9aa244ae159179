"""A few demo returns on fulfilled demo orders, in the statuses a merchant meets: one the
customer asked for (requested), one that arrived and went back on the shelf (received), one
refunded. Built only through the returns workflow (`orders.services.returns`).

Run after the demo orders' dates were spread over the past month (`orders_seed`): a return is
made today, after its order. Deterministic (the first fulfilled, paid orders by number) and
idempotent: when demo returns exist (`reference="seed_demo"`), none are added.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from django.db.models import QuerySet

from fulfillment.models import Return, ReturnLineItem
from fulfillment.returns import line_item_returnable_quantity
from orders.demo import SEED_ACTOR
from orders.demo.orders import ORDER_REFERENCE, demo_orders
from orders.models import LineItem, Order
from orders.services.returns import (
    order_return_create,
    order_return_line_item_create,
    order_return_refund,
    order_return_restock,
    order_return_status_trigger,
)

# The status each demo return is walked to, and the steps that take it there.
RETURN_PLAN: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("requested", ("_request",)),
    ("received", ("_request", "_approve", "_ship", "_receive", "_restock")),
    ("refunded", ("_request", "_approve", "_ship", "_receive", "_restock", "_refund")),
)


def demo_returns() -> QuerySet[Return]:
    return Return.objects.filter(reference=ORDER_REFERENCE)


def _candidates() -> Iterator[tuple[Order, LineItem]]:
    """Fulfilled, paid demo orders without a return, each with the first line one unit of
    which can come back for less than the order cost: its refund leaves the order partially
    refunded, as a return of one item does."""
    orders = demo_orders().filter(
        fulfillment_status=Order.FulfillmentStatus.FULFILLED,
        payment_status=Order.PaymentStatus.PAID,
        returns__isnull=True,
    )
    for order in orders.order_by("number"):
        lines = LineItem.objects.filter(order=order, item_type=LineItem.ItemType.SKUS)
        for line in lines.order_by("created_at", "pk"):
            one_unit = ReturnLineItem(line_item=line, quantity=1).total_amount_cents
            if (
                line_item_returnable_quantity(line) >= 1
                and 0 < one_unit < order.total_amount_with_taxes_cents
            ):
                yield order, line
                break


def _return_walk(order: Order, line: LineItem, steps: tuple[str, ...]) -> Return:
    ret = order_return_create(
        order=order, actor=SEED_ACTOR, reference=ORDER_REFERENCE, reference_origin="seed_demo"
    )
    order_return_line_item_create(
        ret=ret,
        line_item=line,
        quantity=1,
        actor=SEED_ACTOR,
        return_reason={"reason": "does not fit"},
    )
    for step in steps:
        if step == "_restock":
            ret = order_return_restock(ret=ret, actor=SEED_ACTOR)
        elif step == "_refund":
            ret = order_return_refund(ret=ret, actor=SEED_ACTOR)
        else:
            ret = order_return_status_trigger(ret=ret, trigger=step, actor=SEED_ACTOR)
    return ret


def returns_seed() -> dict[str, int]:
    """Build the demo returns (none if demo returns exist, fewer when there are fewer
    fulfilled demo orders). Returns the number of demo returns per status."""
    if not demo_returns().exists():
        for (_, steps), (order, line) in zip(RETURN_PLAN, _candidates(), strict=False):
            _return_walk(order, line, steps)
    return dict(Counter(demo_returns().values_list("status", flat=True)))
