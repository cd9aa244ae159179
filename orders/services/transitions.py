"""The order's triggers after checkout (spec 2.1), one service each, all of one shape:

    atomic(durable=True) → lock the order once → re-check the guard on the locked rows →
    stock and shipments → FSM transition → timestamps → event row → `order_statuses_write`
    → topic after commit

Triggers that move money (`_cancel` voids, `_refund` refunds, `_approve_and_capture`
captures) run through `orders.services.money`: the guard and the reservation of every
transaction happen under the order lock in one transaction (so a concurrent capture finds no
balance left once a cancel reserved its voids, and a cancel finds the capture once it was
reserved), the gateways are called with no lock held, and the settle and the transition
happen under the lock again.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from fulfillment.models import Shipment
from fulfillment.services import (
    shipment_cancel,
    shipment_upcoming,
    stock_and_shipments_plan,
    stock_decrement_for_approval,
    stock_release,
)
from oms.actors import Actor
from orders.errors import (
    OrderNotAbandoned,
    OrderNotFulfillable,
    OrderPaymentCaptured,
    OrderTotalExceedsPlaceTotal,
    PaymentInProgress,
    attribute,
    transition_refused,
)
from orders.events import (
    order_archived_changed_event,
    order_status_changed_event,
    order_topic_publish_on_commit,
)
from orders.locks import order_lock
from orders.models import Order
from orders.services.checkout import tracked_stock_lines
from orders.services.discounts import order_redemptions_release
from orders.services.gift_cards import gift_cards_sold_deactivate
from orders.services.money import (
    money_refused,
    order_captures_reserve,
    order_money_run,
    order_refunds_reserve,
    order_voids_reserve,
)
from orders.services.pipeline import order_recompute
from orders.services.statuses import order_statuses_write
from payments.errors import InsufficientRefundBalance
from payments.models import Transaction
from payments.selectors import (
    order_capturable_authorizations,
    order_refundable_captures,
)

# --- what the triggers ask of payments and fulfillment -----------------------------------------


def _cancel_shipments(order: Order, actor: Actor) -> None:
    """Cancel the order's shipments that have not left."""
    for shipment in order.shipments.exclude(
        status__in=[Shipment.Status.CANCELLED, Shipment.Status.SHIPPED, Shipment.Status.DELIVERED]
    ).order_by("pk"):
        shipment_cancel(shipment=shipment, actor=actor)


def _payment_in_flight(order: Order) -> bool:
    return Transaction.objects.filter(order_id=order.pk, status=Transaction.Status.PENDING).exists()


def _refuse_while_payment_changes(order: Order, trigger: str) -> None:
    """On the locked order: refuse (409, nothing changed) while a payment request of the order
    is still with its gateway."""
    if _payment_in_flight(order):
        raise PaymentInProgress(
            f"Order #{order.number}'s payment is changing (another request is in progress); "
            f"send {trigger} again when it is done.",
            pointer=attribute(trigger),
        )


def _has_captures(order: Order) -> bool:
    """Money taken and not all given back (a capture with a refund balance)."""
    return order_refundable_captures(order_id=order.pk).exists()


def _check_fulfillable(order: Order) -> None:
    """`_fulfill` requires every shipment to be cancelled, shipped or delivered."""
    open_shipments = order.shipments.exclude(
        status__in=[Shipment.Status.CANCELLED, Shipment.Status.SHIPPED, Shipment.Status.DELIVERED]
    )
    if open_shipments.exists():
        raise OrderNotFulfillable(
            f"Order #{order.number} still has shipments to send.",
            pointer=attribute("_fulfill"),
        )


# --- the triggers ----------------------------------------------------------------------------


def _status_event(order: Order, *, actor: Actor, trigger: str, from_status: str) -> None:
    order_status_changed_event(
        order=order, actor=actor, trigger=trigger, from_status=from_status, to_status=order.status
    )


def order_pending(*, order: Order, actor: Actor) -> Order:
    """`_pending`: a ready draft to pending. An order being placed is not moved: its
    placement finishes by itself, or `orders_recover_placements` resolves it, so that an
    authorization in flight can never be orphaned (and a second one started)."""
    with transaction.atomic(durable=True):
        locked = order_lock(order.pk)
        from_status = locked.status
        if not (from_status == Order.Status.DRAFT and can_proceed(locked.become_pending)):
            raise transition_refused(number=locked.number, status=from_status, trigger="_pending")
        locked.become_pending()
        locked.save(update_fields=["status", "updated_at"])
        _status_event(locked, actor=actor, trigger="_pending", from_status=from_status)
    return locked


def _order_cancelled(locked: Order, *, actor: Actor, trigger: str) -> None:
    """On the locked order whose money is settled: pending/placed → cancelled."""
    from_status = locked.status
    _cancel_shipments(locked, actor)  # a cart's draft shipments too
    order_redemptions_release(order=locked)  # the promotion and coupon uses, the gift card
    stock_release(order=locked, actor=actor)
    if from_status == Order.Status.PLACED:  # a cart's cards were never activated
        gift_cards_sold_deactivate(order=locked)  # the unused cards it sold, switched off
    locked.cancel()
    locked.cancelled_at = timezone.now()
    locked.save(update_fields=["status", "cancelled_at", "redemptions_claimed", "updated_at"])
    _status_event(locked, actor=actor, trigger=trigger, from_status=from_status)
    order_topic_publish_on_commit(order=locked, topic="orders.cancel")


def _require_abandoned(locked: Order, idle_since: datetime | None) -> None:
    """With `idle_since` (the abandoned-carts command): only a pending cart untouched since
    then is cancelled; one the customer came back to meanwhile is left alone."""
    if idle_since is None:
        return
    if locked.status != Order.Status.PENDING or locked.updated_at >= idle_since:
        raise OrderNotAbandoned(
            f"Order #{locked.number} is {locked.status}, updated at "
            f"{locked.updated_at.isoformat()}: not an abandoned cart any more.",
            pointer=attribute("_cancel"),
        )


def order_cancel(*, order: Order, actor: Actor, idle_since: datetime | None = None) -> Order:
    """`_cancel`: an abandoned cart (pending), or a placed order — its authorizations voided,
    its stock released, its shipments cancelled. Refused once money was captured (it must be
    refunded instead). The voids are reserved under the order lock together with the guard,
    so a capture racing the cancel either comes first (and the cancel is refused) or finds
    nothing left to capture. If a void is declined the order stays placed.

    `idle_since`: cancel only a pending cart not updated since then (`OrderNotAbandoned`
    otherwise), checked on the locked order that is cancelled."""

    def reserve(locked: Order) -> list:
        _require_abandoned(locked, idle_since)
        if locked.status not in (Order.Status.PENDING, Order.Status.PLACED):
            raise transition_refused(number=locked.number, status=locked.status, trigger="_cancel")
        if locked.status == Order.Status.PENDING:
            return []
        _refuse_while_payment_changes(locked, "_cancel")
        if _has_captures(locked):
            raise OrderPaymentCaptured(
                f"Order #{locked.number} has captured payments: refund them instead of cancelling.",
                pointer=attribute("_cancel"),
            )
        # Only what is still held is voided: a cancel sent again after its void went through
        # (or after a crash between the two steps) finishes the cancellation.
        return order_voids_reserve(locked)

    def settled(locked: Order, voids: list[Transaction]) -> None:
        _require_abandoned(locked, idle_since)  # (a cart moves no money: nothing to record)
        if locked.status not in (Order.Status.PENDING, Order.Status.PLACED):
            return
        if any(not void.succeeded for void in voids) or _payment_in_flight(locked):
            return  # declined: the order stays as it was, the reason is answered below
        if order_capturable_authorizations(order_id=locked.pk).exists() or _has_captures(locked):
            return
        _order_cancelled(locked, actor=actor, trigger="_cancel")

    voids = order_money_run(
        order_id=order.pk, reserve=reserve, actor=actor, trigger="_cancel", settled=settled
    )
    money_refused(voids)
    return _outcome(order, Order.Status.CANCELLED, "_cancel")


def _outcome(order: Order, expected: str, trigger: str) -> Order:
    current = Order.objects.select_related("market__price_list").get(pk=order.pk)
    if current.status != expected:
        raise PaymentInProgress(
            f"Order #{current.number}'s payment is changing (another request is in progress); "
            f"send {trigger} again when it is done.",
            pointer=attribute(trigger),
        )
    return current


def _order_approve(locked: Order, *, actor: Actor, trigger: str) -> None:
    from_status = locked.status
    if from_status != Order.Status.PLACED:
        raise transition_refused(number=locked.number, status=from_status, trigger=trigger)
    # A cancel reserves its voids before it settles: never approve an order whose
    # authorization is being voided, or was (spec 4: a concurrent request cannot leave money
    # wrong).
    _refuse_while_payment_changes(locked, trigger)
    if locked.payment_status in (Order.PaymentStatus.VOIDED, Order.PaymentStatus.UNPAID) and (
        locked.total_amount_with_taxes_cents > 0
    ):
        raise PaymentInProgress(
            f"Order #{locked.number}'s payment is {locked.payment_status}: it is being "
            "cancelled and cannot be approved.",
            pointer=attribute(trigger),
        )
    stock_decrement_for_approval(order=locked, actor=actor)
    locked.approve()
    locked.approved_at = timezone.now()
    locked.save(update_fields=["status", "approved_at", "updated_at"])
    _status_event(locked, actor=actor, trigger=trigger, from_status=from_status)
    order_statuses_write(order=locked, actor=actor, trigger=trigger)
    order_topic_publish_on_commit(order=locked, topic="orders.approve")


def order_approve(*, order: Order, actor: Actor) -> Order:
    """`_approve` (integration only): placed → approved; stock is decremented."""
    with transaction.atomic(durable=True):
        locked = order_lock(order.pk)
        _order_approve(locked, actor=actor, trigger="_approve")
    return locked


def order_approve_and_capture(*, order: Order, actor: Actor) -> Order:
    """`_approve_and_capture` (integration only): approve, and capture every authorization's
    balance in the same step — the approval and the captures' reservation share one locked
    transaction, so nothing can slip between them. A declined capture leaves the order
    approved and authorized, and answers with the gateway's reason. (A free or auto-captured
    order has nothing to capture: it is only approved.)"""
    trigger = "_approve_and_capture"

    def reserve(locked: Order) -> list:
        _order_approve(locked, actor=actor, trigger=trigger)
        if not order_capturable_authorizations(order_id=locked.pk).exists():
            return []
        return order_captures_reserve(locked, idempotency_key=None, trigger=trigger)

    captures = order_money_run(order_id=order.pk, reserve=reserve, actor=actor, trigger=trigger)
    money_refused(captures)
    return Order.objects.select_related("market__price_list").get(pk=order.pk)


def order_start_editing(*, order: Order, actor: Actor) -> Order:
    """`_start_editing` (integration only): placed → editing; its lines may change."""
    with transaction.atomic(durable=True):
        locked = order_lock(order.pk)
        from_status = locked.status
        if from_status != Order.Status.PLACED:
            raise transition_refused(
                number=locked.number, status=from_status, trigger="_start_editing"
            )
        _refuse_while_payment_changes(locked, "_start_editing")
        locked.start_editing()
        locked.save(update_fields=["status", "updated_at"])
        _status_event(locked, actor=actor, trigger="_start_editing", from_status=from_status)
    return locked


def order_stop_editing(*, order: Order, actor: Actor) -> Order:
    """`_stop_editing` (integration only): editing → placed, if the recomputed total does not
    exceed `place_total_amount_cents` (what the customer agreed to pay). The stock and the
    shipments are planned again for the edited lines (reservations follow the new quantities,
    shipments not yet picked are laid out anew), so approval decrements what is bought now;
    captures never exceed the new total (`orders.services.money`)."""
    with transaction.atomic(durable=True):
        locked = order_lock(order.pk)
        from_status = locked.status
        if from_status != Order.Status.EDITING:
            raise transition_refused(
                number=locked.number, status=from_status, trigger="_stop_editing"
            )
        lines, _ = order_recompute(order=locked, actor=actor, reprice=False)
        if not can_proceed(locked.stop_editing):
            raise OrderTotalExceedsPlaceTotal(
                f"The edited total ({locked.total_amount_with_taxes_cents}) exceeds the placed "
                f"total ({locked.place_total_amount_cents}).",
                pointer=attribute("total_amount_with_taxes_cents"),
            )
        shipments = stock_and_shipments_plan(
            order=locked, lines=tracked_stock_lines(lines), actor=actor
        )
        for shipment in shipments:
            if shipment.status == Shipment.Status.DRAFT:
                shipment_upcoming(shipment=shipment, actor=actor)
        locked.stop_editing()
        locked.save(update_fields=["status", "updated_at"])
        _status_event(locked, actor=actor, trigger="_stop_editing", from_status=from_status)
        order_statuses_write(order=locked, actor=actor, trigger="_stop_editing", lines=lines)
    return locked


def order_refund(*, order: Order, actor: Actor) -> Order:
    """`_refund` of an approved order: everything captured is refunded and what is still
    authorized is voided, then the order is cancelled; a fulfillment in progress goes back to
    unfulfilled. The refunds and voids are reserved under the order lock with the guard."""

    def reserve(locked: Order) -> list:
        if locked.status != Order.Status.APPROVED:
            raise transition_refused(number=locked.number, status=locked.status, trigger="_refund")
        _refuse_while_payment_changes(locked, "_refund")
        refunds = order_refunds_reserve(locked)
        if not refunds:
            raise InsufficientRefundBalance(
                f"Order #{locked.number} has nothing captured to refund.",
                pointer=attribute("_refund"),
            )
        return [*refunds, *order_voids_reserve(locked)]

    def settled(locked: Order, transactions: list[Transaction]) -> None:
        if locked.status != Order.Status.APPROVED:
            return
        if any(not txn.succeeded for txn in transactions) or _payment_in_flight(locked):
            return
        if _has_captures(locked) or order_capturable_authorizations(order_id=locked.pk).exists():
            return
        from_status = locked.status
        _cancel_shipments(locked, actor)
        locked.cancel()
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at", "updated_at"])
        _status_event(locked, actor=actor, trigger="_refund", from_status=from_status)
        order_topic_publish_on_commit(order=locked, topic="orders.refund")

    transactions = order_money_run(
        order_id=order.pk, reserve=reserve, actor=actor, trigger="_refund", settled=settled
    )
    money_refused(transactions)
    return _outcome(order, Order.Status.CANCELLED, "_refund")


def order_fulfill(*, order: Order, actor: Actor) -> Order:
    """`_fulfill` (integration only): mark an approved order fulfilled. Idempotent."""
    with transaction.atomic(durable=True):
        locked = order_lock(order.pk)
        if locked.status != Order.Status.APPROVED:
            raise transition_refused(number=locked.number, status=locked.status, trigger="_fulfill")
        if locked.fulfillment_status == Order.FulfillmentStatus.FULFILLED:
            return locked
        _check_fulfillable(locked)
        order_statuses_write(order=locked, actor=actor, trigger="_fulfill", fulfill=True)
        order_topic_publish_on_commit(order=locked, topic="orders.fulfill")
    return locked


def _order_archive_set(*, order: Order, actor: Actor, archive: bool) -> Order:
    trigger = "_archive" if archive else "_unarchive"
    with transaction.atomic(durable=True):
        locked = order_lock(order.pk)
        if locked.status not in Order.ARCHIVABLE_STATUSES:
            raise transition_refused(number=locked.number, status=locked.status, trigger=trigger)
        if locked.archived == archive:
            return locked
        locked.archived_at = timezone.now() if archive else None
        locked.save(update_fields=["archived_at", "updated_at"])
        order_archived_changed_event(order=locked, actor=actor, trigger=trigger, archived=archive)
    return locked


def order_archive(*, order: Order, actor: Actor) -> Order:
    """`_archive`: a placed, approved or cancelled order leaves the default lists. Idempotent."""
    return _order_archive_set(order=order, actor=actor, archive=True)


def order_unarchive(*, order: Order, actor: Actor) -> Order:
    """`_unarchive`: back into the default lists. Idempotent."""
    return _order_archive_set(order=order, actor=actor, archive=False)
