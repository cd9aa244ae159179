"""The invariants of money, totals and stock (spec 2.3, 3, 4, 5), checked over the database.

`invariant_violations` answers one line per broken invariant, an empty list when everything
holds. The tests run it at the end of every concurrency, fault and whole-lifecycle test;
`manage.py check_integrity` runs the same code over a live database. What is checked:

- every placed order's `payment_status` equals its derivation from the transactions (2.3);
- a cancelled order holds no captured money that was not refunded; nothing captures more than
  the order's total; at most one live authorization per order;
- balances: captured ≤ authorized per authorization, refunded ≤ captured per capture,
  captured + voided ≤ authorized, no negative amount, and each running balance
  (`capture_amount_cents`, `void_amount_cents`, `refund_amount_cents`) equals the sum of its
  succeeded and in-flight children;
- totals add up: every order's stored totals (and each line's amounts) are what the one
  totals function computes from its lines (3);
- stock: 0 ≤ active reserved ≤ quantity for every stock item, no reservation below 1 (5);
- every status change has its event: each checked order's status, payment status and
  fulfillment status is the `to_status` of its latest event of that kind (8);
- every such change has its delivery row: each enabled webhook of an order or shipment topic
  has a delivery for every change of its topic recorded since the webhook was created (8);
- uses and balances (6): each promotion's and coupon's usage count is the number of placed,
  not cancelled orders that used it; each gift card's balance is the last of its balance log;
  an order with its redemptions claimed has had exactly what its gift card paid debited,
  any other order has had nothing (or everything given back);
- returns (5): a return belongs to a fulfilled order and its lines to that order's lines; no
  order line has more units claimed by returns (not cancelled or rejected) than it shipped; a
  refunded return's reference refund succeeded and refunds a capture of its own order, and a
  return whose reference refund succeeded is refunded; a restocked return line belongs to a
  received or refunded return.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from fulfillment.models import Return, ReturnLineItem, StockItem, StockLineItem, StockReservation
from fulfillment.returns import SHIPPED_STATUSES
from oms.webhooks.models import Webhook, WebhookDelivery
from oms.webhooks.outbox import SHIPMENT_STATUS_TOPICS
from orders.models import (
    Coupon,
    GiftCard,
    GiftCardBalanceChange,
    LineItem,
    Order,
    OrderEvent,
    Promotion,
)
from orders.services.statuses import order_payment_status_of
from orders.totals import Totals, order_totals_compute
from payments.models import Transaction
from payments.selectors import order_payment_totals

Type = Transaction.Type
Status = Transaction.Status
CHECKED_STATUSES = (
    Order.Status.PLACED,
    Order.Status.EDITING,
    Order.Status.APPROVED,
    Order.Status.CANCELLED,
)


CHUNK_SIZE = 500
# Wraps the orders as they are checked, given their count (the command's progress bar).
Progress = Callable[[Iterator[Order], int], Iterable[Order]]


def invariant_violations(
    *, order_ids: Iterable[str] | None = None, progress: Progress | None = None
) -> list[str]:
    """Every broken invariant of the orders `order_ids` (default: all) and of all stock."""
    # once, as a list: each check below filters by it (a generator would serve only the first)
    order_ids = list(order_ids) if order_ids is not None else None
    orders = Order.objects.all()
    if order_ids is not None:
        orders = orders.filter(pk__in=order_ids)
    rows = (
        orders.order_by("pk")
        .select_related("payment_method")
        .prefetch_related("line_items")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    checked = progress(rows, orders.count()) if progress is not None else rows
    problems: list[str] = []
    for order in checked:
        problems.extend(_totals_violations(order))
        if order.status in CHECKED_STATUSES:
            problems.extend(_order_violations(order))
    problems.extend(_transaction_violations(order_ids))
    problems.extend(_event_violations(orders))
    problems.extend(_delivery_violations(order_ids))
    problems.extend(_stock_violations())
    problems.extend(_redemption_violations())
    problems.extend(_return_violations(order_ids))
    return problems


def _totals_violations(order: Order) -> list[str]:
    """The stored totals against the one totals function over the order's stored lines."""
    lines = list(order.line_items.all())
    computed: Totals = order_totals_compute(order, lines)
    problems = [
        f"order #{order.number}: {name} {getattr(order, name)}, its lines add up to {value}"
        for name, value in computed.order_values().items()
        if getattr(order, name) != value
    ]
    for line, amounts in zip(lines, computed.lines, strict=True):
        for name in ("total_amount_cents", "discount_cents", "tax_amount_cents"):
            if getattr(line, name) != getattr(amounts, name):
                problems.append(
                    f"order #{order.number}: line {line.pk} {name} {getattr(line, name)}, "
                    f"computed {getattr(amounts, name)}"
                )
    return problems


def _order_violations(order: Order) -> list[str]:
    problems: list[str] = []
    name = f"order #{order.number}"
    totals = order_payment_totals(order_id=order.pk)
    derived = order_payment_status_of(order, totals)
    if order.payment_status != derived:
        problems.append(f"{name}: payment_status {order.payment_status}, derived {derived}")
    refunded = totals.refunded_cents
    if order.status == Order.Status.CANCELLED and totals.captured_cents > refunded:
        problems.append(
            f"{name}: cancelled holding {totals.captured_cents - refunded} captured, not refunded"
        )
    if totals.captured_cents > max(order.total_amount_with_taxes_cents, 0):
        problems.append(
            f"{name}: captured {totals.captured_cents} above its total "
            f"{order.total_amount_with_taxes_cents}"
        )
    if totals.live_authorizations > 1:
        problems.append(f"{name}: {totals.live_authorizations} live authorizations")
    return problems


def _transaction_violations(order_ids: Iterable[str] | None) -> list[str]:
    problems: list[str] = []
    transactions = Transaction.objects.all()
    if order_ids is not None:
        transactions = transactions.filter(order_id__in=list(order_ids))
    succeeded = Q(status=Status.SUCCEEDED)
    held = [Status.SUCCEEDED, Status.PENDING]  # what a running balance counts
    authorizations = transactions.filter(type=Type.AUTHORIZATIONS).annotate(
        captured=Sum(
            "authorization_children__amount_cents",
            filter=Q(
                authorization_children__status=Status.SUCCEEDED,
                authorization_children__type=Type.CAPTURES,
            ),
        ),
        captures_held=Sum(
            "authorization_children__amount_cents",
            filter=Q(
                authorization_children__status__in=held,
                authorization_children__type=Type.CAPTURES,
            ),
        ),
        voids_held=Sum(
            "authorization_children__amount_cents",
            filter=Q(
                authorization_children__status__in=held,
                authorization_children__type=Type.VOIDS,
            ),
        ),
    )
    for authorization in authorizations:
        if authorization.capture_amount_cents != (authorization.captures_held or 0):
            problems.append(
                f"{authorization.number}: capture balance {authorization.capture_amount_cents}, "
                f"its captures add up to {authorization.captures_held or 0}"
            )
        if authorization.void_amount_cents != (authorization.voids_held or 0):
            problems.append(
                f"{authorization.number}: void balance {authorization.void_amount_cents}, "
                f"its voids add up to {authorization.voids_held or 0}"
            )
        if (authorization.captured or 0) > authorization.amount_cents:
            problems.append(
                f"{authorization.number}: captured {authorization.captured} of "
                f"{authorization.amount_cents} authorized"
            )
        if (
            authorization.capture_amount_cents + authorization.void_amount_cents
            > max(authorization.amount_cents, 0)
            and authorization.status == Status.SUCCEEDED
        ):
            problems.append(f"{authorization.number}: captured and voided above authorized")
    captures = transactions.filter(type=Type.CAPTURES).annotate(
        refunded=Sum(
            "capture_children__amount_cents",
            filter=Q(capture_children__status=Status.SUCCEEDED),
        ),
        refunds_held=Sum(
            "capture_children__amount_cents",
            filter=Q(capture_children__status__in=held),
        ),
    )
    for capture in captures:
        if capture.refund_amount_cents != (capture.refunds_held or 0):
            problems.append(
                f"{capture.number}: refund balance {capture.refund_amount_cents}, "
                f"its refunds add up to {capture.refunds_held or 0}"
            )
        if (capture.refunded or 0) > capture.amount_cents:
            problems.append(
                f"{capture.number}: refunded {capture.refunded} of {capture.amount_cents}"
            )
    negative = transactions.filter(amount_cents__lt=0).filter(succeeded)
    problems.extend(f"{txn.number}: negative amount" for txn in negative)
    return problems


def _stock_violations() -> list[str]:
    problems: list[str] = []
    # Only active reservations hold stock: an expired draft waits to be deleted, and the units
    # it held may be sold again meanwhile.
    now = timezone.now()
    active = Q(stock_reservations__status=StockReservation.Status.PENDING) | Q(
        stock_reservations__status=StockReservation.Status.DRAFT,
        stock_reservations__expires_at__gt=now,
    )
    reserved = (
        StockItem.objects.annotate(reserved=Sum("stock_reservations__quantity", filter=active))
        .filter(Q(quantity__lt=0) | Q(reserved__gt=F("quantity")))
        .values_list("pk", "quantity", "reserved")
    )
    problems.extend(
        f"stock item {pk}: quantity {quantity}, reserved {held}" for pk, quantity, held in reserved
    )
    if StockReservation.objects.filter(quantity__lt=1).exists():
        problems.append("a stock reservation holds less than one unit")
    return problems


Event = OrderEvent.Type
# (event type, field, the value before anything moved: no event needed for it)
STATUS_EVENTS = (
    (Event.ORDER_STATUS_CHANGED, "status", None),
    (Event.ORDER_PAYMENT_STATUS_CHANGED, "payment_status", Order.PaymentStatus.UNPAID),
    (
        Event.ORDER_FULFILLMENT_STATUS_CHANGED,
        "fulfillment_status",
        Order.FulfillmentStatus.UNFULFILLED,
    ),
)


def _event_violations(orders: QuerySet[Order]) -> list[str]:
    """Each checked order's statuses against its latest event of each kind, in one query."""

    def latest(event_type: str) -> Subquery:
        return Subquery(
            OrderEvent.objects.filter(order=OuterRef("pk"), event_type=event_type)
            .order_by("-created_at", "-pk")
            .values("to_status")[:1]
        )

    rows = (
        orders.filter(status__in=CHECKED_STATUSES)
        .annotate(**{f"last_{field}": latest(kind) for kind, field, _ in STATUS_EVENTS})
        .values(
            "number",
            *(field for _, field, _ in STATUS_EVENTS),
            *(f"last_{field}" for _, field, _ in STATUS_EVENTS),
        )
        .order_by("number")
    )
    problems: list[str] = []
    for row in rows.iterator(chunk_size=CHUNK_SIZE):
        for _, field, initial in STATUS_EVENTS:
            value, last = row[field], row[f"last_{field}"]
            if value != last and not (last is None and value == initial):
                problems.append(
                    f"order #{row['number']}: {field} {value}, its latest event says "
                    f"{last or 'nothing'}"
                )
    return problems


# an order topic -> the event that publishes it (type, to_status)
ORDER_TOPIC_EVENTS = {
    "orders.place": (Event.ORDER_STATUS_CHANGED, Order.Status.PLACED),
    "orders.approve": (Event.ORDER_STATUS_CHANGED, Order.Status.APPROVED),
    "orders.cancel": (Event.ORDER_STATUS_CHANGED, Order.Status.CANCELLED),
    "orders.pay": (Event.ORDER_PAYMENT_STATUS_CHANGED, Order.PaymentStatus.PAID),
    "orders.fulfill": (Event.ORDER_FULFILLMENT_STATUS_CHANGED, Order.FulfillmentStatus.FULFILLED),
}
SHIPMENT_TOPIC_EVENTS = {topic: status for status, topic in SHIPMENT_STATUS_TOPICS.items()}


def _delivery_violations(order_ids: Iterable[str] | None) -> list[str]:
    """For each enabled webhook of an order or shipment topic: the changes of its topic
    recorded since it was created that have no delivery for it (one query per webhook)."""
    problems: list[str] = []
    webhooks = Webhook.objects.filter(
        disabled_at__isnull=True, topic__in=[*ORDER_TOPIC_EVENTS, *SHIPMENT_TOPIC_EVENTS]
    ).order_by("pk")
    for webhook in webhooks:
        events = OrderEvent.objects.filter(created_at__gte=webhook.created_at)
        if order_ids is not None:
            events = events.filter(order_id__in=list(order_ids))
        if webhook.topic in ORDER_TOPIC_EVENTS:
            kind, to_status = ORDER_TOPIC_EVENTS[webhook.topic]
            events = events.filter(event_type=kind, to_status=to_status)
            subject = OuterRef("order_id")
        else:
            events = events.filter(
                event_type=Event.SHIPMENT_STATUS_CHANGED,
                to_status=SHIPMENT_TOPIC_EVENTS[webhook.topic],
            )
            subject = OuterRef("subject_id")
        delivered = WebhookDelivery.objects.filter(
            webhook=webhook, topic=webhook.topic, resource_id=subject
        )
        missing = events.filter(~Exists(delivered)).values_list("order__number", "subject_id")
        problems.extend(
            f"order #{number}: {webhook.topic} ({subject_id}) has no delivery for webhook "
            f"{webhook.pk}"
            for number, subject_id in missing[:100]
        )
    return problems


def _redemption_violations() -> list[str]:
    """Usage counters and gift-card balances against the orders that claimed them (a few
    aggregate queries, whatever the number of orders)."""
    problems: list[str] = []
    claimed_lines = LineItem.objects.filter(
        order__redemptions_claimed=True, item_type__in=sorted(Promotion.Type.values)
    )
    uses = dict(
        claimed_lines.values("item_id")
        .annotate(n=Count("order_id", distinct=True))
        .values_list("item_id", "n")
    )
    for pk, count in Promotion.objects.values_list("pk", "total_usage_count"):
        if count != uses.get(pk, 0):
            problems.append(
                f"promotion {pk}: used {count}, placed orders using it {uses.get(pk, 0)}"
            )
    coupon_uses = Counter(
        Order.objects.filter(
            redemptions_claimed=True,
            coupon__isnull=False,
            line_items__item_id=F("coupon__promotion_rule__promotion_id"),
        )
        .distinct()
        .values_list("coupon_id", flat=True)
    )
    for pk, count in Coupon.objects.values_list("pk", "usage_count"):
        if count != coupon_uses.get(pk, 0):
            problems.append(f"coupon {pk}: used {count}, placed orders using it {coupon_uses[pk]}")
    last_balance = Subquery(
        GiftCardBalanceChange.objects.filter(gift_card=OuterRef("pk"))
        .order_by("-created_at", "-pk")
        .values("balance_cents")[:1]
    )
    for pk, balance, logged in (
        GiftCard.objects.annotate(logged=last_balance)
        .filter(logged__isnull=False)
        .exclude(balance_cents=F("logged"))
        .values_list("pk", "balance_cents", "logged")
    ):
        problems.append(f"gift card {pk}: balance {balance}, its log says {logged}")
    debited = (
        GiftCardBalanceChange.objects.filter(order__isnull=False)
        .values("order_id", "order__number", "order__redemptions_claimed")
        .annotate(net=Sum("amount_cents"), paid=F("order__gift_card_amount_cents"))
    )
    for row in debited:
        expected = row["paid"] if row["order__redemptions_claimed"] else 0
        if row["net"] != expected:
            problems.append(
                f"order #{row['order__number']}: its gift card moved {row['net']}, "
                f"expected {expected}"
            )
    return problems


def _return_violations(order_ids: list[str] | None) -> list[str]:
    """Returns against their order, its shipments and their refunds (a few queries, whatever
    the number of returns)."""
    returns = Return.objects.all()
    return_lines = ReturnLineItem.objects.all()
    line_items = LineItem.objects.filter(item_type=LineItem.ItemType.SKUS)
    if order_ids is not None:
        returns = returns.filter(order_id__in=order_ids)
        return_lines = return_lines.filter(order_return__order_id__in=order_ids)
        line_items = line_items.filter(order_id__in=order_ids)
    problems: list[str] = []

    for order_number, number, status in returns.exclude(
        order__fulfillment_status=Order.FulfillmentStatus.FULFILLED
    ).values_list("order__number", "number", "order__fulfillment_status"):
        problems.append(
            f"order #{order_number}: return {number} of an order {status}, not fulfilled"
        )

    for number, pk, order_number in return_lines.exclude(
        line_item__order_id=F("order_return__order_id")
    ).values_list("order_return__number", "pk", "line_item__order__number"):
        problems.append(f"return {number}: line {pk} returns a line of order #{order_number}")

    def units(rows: QuerySet[StockLineItem] | QuerySet[ReturnLineItem]) -> Subquery:
        return Subquery(
            rows.filter(line_item_id=OuterRef("pk"))
            .values("line_item_id")
            .annotate(units=Sum("quantity"))
            .values("units")
        )

    over = (
        line_items.annotate(
            shipped=Coalesce(
                units(StockLineItem.objects.filter(shipment__status__in=SHIPPED_STATUSES)), 0
            ),
            claimed=units(ReturnLineItem.objects.filter(order_return__status__in=Return.CLAIMING)),
        )
        .filter(claimed__gt=F("shipped"))
        .values_list("order__number", "pk", "sku_code", "claimed", "shipped")
    )
    for order_number, pk, sku_code, claimed, shipped in over:
        problems.append(
            f"order #{order_number}: line {pk} ({sku_code}): returns claim {claimed} units, "
            f"{shipped} shipped"
        )

    refunded_ok = Q(
        reference_refund__type=Type.REFUNDS,
        reference_refund__status=Status.SUCCEEDED,
        reference_refund__order_id=F("order_id"),
        reference_refund__reference_capture__type=Type.CAPTURES,
        reference_refund__reference_capture__order_id=F("order_id"),
    )
    for ret in (
        returns.filter(status=Return.Status.REFUNDED)
        .exclude(refunded_ok)
        .select_related("reference_refund__reference_capture")
        .order_by("number")
    ):
        problems.append(f"return {ret.number}: refunded, {_refund_described(ret)}")
    for number, refund_number in (
        returns.filter(
            status=Return.Status.RECEIVED,
            reference_refund__type=Type.REFUNDS,
            reference_refund__status=Status.SUCCEEDED,
        )
        .order_by("number")
        .values_list("number", "reference_refund__number")
    ):
        problems.append(f"return {number}: received, yet its refund {refund_number} succeeded")

    for number, status, pk in (
        return_lines.filter(restocked_at__isnull=False)
        .exclude(order_return__status__in=Return.RESTOCKABLE)
        .values_list("order_return__number", "order_return__status", "pk")
    ):
        problems.append(f"return {number}: {status}, yet its line {pk} is restocked")
    return problems


def _refund_described(ret: Return) -> str:
    """What is wrong with a refunded return's reference refund."""
    refund = ret.reference_refund
    if refund is None:
        return "with no reference refund"
    if refund.type != Type.REFUNDS:
        return f"its reference refund {refund.number} is one of the {refund.type}"
    if refund.status != Status.SUCCEEDED:
        return f"its reference refund {refund.number} is {refund.status}"
    capture = refund.reference_capture
    if refund.order_id != ret.order_id or capture is None or capture.order_id != ret.order_id:
        return f"its reference refund {refund.number} refunds another order's capture"
    return f"its reference refund {refund.number} does not refund a capture"
