"""The order's triggers after checkout (spec 2.1), one service each, all of one shape:

    atomic → lock the order → re-check the guard on the locked row (TransitionNotAllowed,
    nothing changed) → stock and shipments → FSM transition → timestamps → event row → topic
    after commit

Triggers that move money (`_cancel` voids, `_refund` refunds, `_approve_and_capture`
captures) call payments first, with no lock held (a gateway call never runs under our locks);
the transition then checks, on the locked order, that the money is where it must be: no other
payment request still in flight, nothing left authorized (cancel) or captured (refund). A
concurrent request that found nothing to do itself therefore cannot cancel an order whose
void or refund is still with the gateway.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from fulfillment.models import Shipment
from fulfillment.services import shipment_cancel, stock_decrement_for_approval, stock_release
from oms.actors import Actor
from orders.errors import (
    OrderNotFulfillable,
    OrderPaymentCaptured,
    OrderTotalExceedsPlaceTotal,
    PaymentInProgress,
    attribute,
    transition_refused,
)
from orders.events import order_change_event, order_topic_publish_on_commit
from orders.locks import order_line_items_lock, order_lock
from orders.models import Order
from orders.services.checkout import order_fulfillment_status_sync, order_statuses_sync
from orders.services.orders import order_reload_after_hooks, order_totals_write
from payments import services as payments
from payments.errors import PaymentFailed
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


def _restore_promotions(order: Order) -> None:
    """Give back coupon, promotion and gift-card usage taken at placement."""
    # integrates promotions and gift cards (a later issue): nothing is taken yet.


def _money_refused(transactions: list[Transaction]) -> None:
    failed = [txn for txn in transactions if not txn.succeeded]
    if failed:
        raise PaymentFailed(failed[0])


def _check_money_settled(order: Order, *, trigger: str, authorized: bool, captured: bool) -> None:
    """On the locked order, after the money of `trigger` moved: refuse (409, nothing changed)
    while another payment request of the order is with its gateway, or when money is still
    authorized (`authorized=False`: a cancel must have voided it) or captured
    (`captured=False`: a refund must have refunded it) — moved meanwhile by someone else."""
    pending = Transaction.objects.filter(order_id=order.pk, status=Transaction.Status.PENDING)
    left = (not authorized and order_capturable_authorizations(order_id=order.pk).exists()) or (
        not captured and order_refundable_captures(order_id=order.pk).exists()
    )
    if pending.exists() or left:
        raise PaymentInProgress(
            f"Order #{order.number}'s payment is changing (another request is in progress); "
            f"send {trigger} again when it is done.",
            pointer=attribute(trigger),
        )


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
    order_change_event(
        order=order, actor=actor, trigger=trigger, from_status=from_status, to_status=order.status
    )


def order_pending(*, order: Order, actor: Actor) -> Order:
    """`_pending`: a ready draft, or an order stuck in placing, back to pending."""
    with transaction.atomic():
        locked = order_lock(order.pk)
        from_status = locked.status
        if from_status == Order.Status.DRAFT and can_proceed(locked.become_pending):
            locked.become_pending()
        elif from_status == Order.Status.PLACING:
            locked.abort_placing()
        else:
            raise transition_refused(number=locked.number, status=from_status, trigger="_pending")
        locked.save(update_fields=["status", "updated_at"])
        _status_event(locked, actor=actor, trigger="_pending", from_status=from_status)
    return locked


def order_cancel(*, order: Order, actor: Actor) -> Order:
    """`_cancel`: an abandoned cart (pending), or a placed order — its authorization voided
    (first, with no lock held: if the void fails the order stays as it was), its stock
    released, its shipments cancelled. An approved order is cancelled by a full refund."""
    current = Order.objects.get(pk=order.pk)
    if current.status not in (Order.Status.PENDING, Order.Status.PLACED):
        raise transition_refused(number=current.number, status=current.status, trigger="_cancel")
    if order_refundable_captures(order_id=current.pk).exists():
        # money was taken: cancelling would keep it; it must be refunded (after approval)
        raise OrderPaymentCaptured(
            f"Order #{current.number} has captured payments: refund them instead of cancelling.",
            pointer=attribute("_cancel"),
        )
    # A free order has no authorization to void; a captured one has nothing left to void
    # (payments refuses: NOTHING_TO_VOID) and must be refunded instead.
    # Only what is still held is voided: a cancel sent again after its void went through (or
    # after a crash between the two steps) finishes the cancellation.
    if (
        current.status == Order.Status.PLACED
        and order_capturable_authorizations(order_id=current.pk).exists()
    ):
        _money_refused(payments.order_void_all(order=current, actor=actor))
    with transaction.atomic():
        locked = order_lock(order.pk)
        from_status = locked.status
        if from_status not in (Order.Status.PENDING, Order.Status.PLACED):
            raise transition_refused(number=locked.number, status=from_status, trigger="_cancel")
        _cancel_shipments(locked, actor)  # a cart's draft shipments too
        if from_status == Order.Status.PLACED:
            _check_money_settled(locked, trigger="_cancel", authorized=False, captured=True)
            _restore_promotions(locked)
        stock_release(order=locked, actor=actor)
        order_reload_after_hooks(locked)
        locked.cancel()
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at", "updated_at"])
        _status_event(locked, actor=actor, trigger="_cancel", from_status=from_status)
        order_topic_publish_on_commit(order=locked, topic="orders.cancel")
    payments.order_payment_status_refresh(order=locked, actor=actor)
    return locked


def _order_approve(*, order: Order, actor: Actor, trigger: str, capture: bool) -> Order:
    with transaction.atomic():
        locked = order_lock(order.pk)
        from_status = locked.status
        if from_status != Order.Status.PLACED:
            raise transition_refused(number=locked.number, status=from_status, trigger=trigger)
        # A cancel voids before it takes the lock: never approve an order whose authorization
        # is being voided, or was (spec 4: a concurrent request cannot leave money wrong).
        _check_money_settled(locked, trigger=trigger, authorized=True, captured=True)
        if locked.payment_status in (Order.PaymentStatus.VOIDED, Order.PaymentStatus.UNPAID) and (
            locked.total_amount_with_taxes_cents > 0
        ):
            raise PaymentInProgress(
                f"Order #{locked.number}'s payment is {locked.payment_status}: it is being "
                "cancelled and cannot be approved.",
                pointer=attribute(trigger),
            )
        stock_decrement_for_approval(order=locked, actor=actor)
        order_reload_after_hooks(locked)
        locked.approve()
        locked.approved_at = timezone.now()
        locked.save(update_fields=["status", "approved_at", "updated_at"])
        _status_event(locked, actor=actor, trigger=trigger, from_status=from_status)
        order_fulfillment_status_sync(order=locked, actor=actor, trigger=trigger)
        order_topic_publish_on_commit(order=locked, topic="orders.approve")
    if capture and order_capturable_authorizations(order_id=locked.pk).exists():
        # Approved first; the capture then runs with no lock held. A failed capture leaves
        # the order approved and authorized, and answers with the gateway's reason. (A free
        # or auto-captured order has nothing to capture: it is only approved.)
        captures = payments.order_capture_all(order=locked, actor=actor)
        locked = order_statuses_sync(order=locked, actor=actor, trigger=trigger)
        _money_refused(captures)
    return locked


def order_approve(*, order: Order, actor: Actor) -> Order:
    """`_approve` (integration only): placed → approved; stock is decremented."""
    return _order_approve(order=order, actor=actor, trigger="_approve", capture=False)


def order_approve_and_capture(*, order: Order, actor: Actor) -> Order:
    """`_approve_and_capture` (integration only): approve, and capture the authorization."""
    return _order_approve(order=order, actor=actor, trigger="_approve_and_capture", capture=True)


def order_start_editing(*, order: Order, actor: Actor) -> Order:
    """`_start_editing` (integration only): placed → editing; its lines may change."""
    with transaction.atomic():
        locked = order_lock(order.pk)
        from_status = locked.status
        if from_status != Order.Status.PLACED:
            raise transition_refused(
                number=locked.number, status=from_status, trigger="_start_editing"
            )
        locked.start_editing()
        locked.save(update_fields=["status", "updated_at"])
        _status_event(locked, actor=actor, trigger="_start_editing", from_status=from_status)
    return locked


def order_stop_editing(*, order: Order, actor: Actor) -> Order:
    """`_stop_editing` (integration only): editing → placed, if the recomputed total does not
    exceed `place_total_amount_cents` (what the customer agreed to pay)."""
    with transaction.atomic():
        locked = order_lock(order.pk)
        from_status = locked.status
        if from_status != Order.Status.EDITING:
            raise transition_refused(
                number=locked.number, status=from_status, trigger="_stop_editing"
            )
        order_totals_write(order=locked, lines=order_line_items_lock(locked), reprice=False)
        if not can_proceed(locked.stop_editing):
            raise OrderTotalExceedsPlaceTotal(
                f"The edited total ({locked.total_amount_with_taxes_cents}) exceeds the placed "
                f"total ({locked.place_total_amount_cents}).",
                pointer=attribute("total_amount_with_taxes_cents"),
            )
        locked.stop_editing()
        locked.save(update_fields=["status", "updated_at"])
        _status_event(locked, actor=actor, trigger="_stop_editing", from_status=from_status)
    return locked


def order_refund(*, order: Order, actor: Actor) -> Order:
    """`_refund` of an approved order: everything captured is refunded and what is still
    authorized is voided (first, with no lock held), then the order is cancelled; a
    fulfillment in progress goes back to unfulfilled."""
    current = Order.objects.get(pk=order.pk)
    if current.status != Order.Status.APPROVED:
        raise transition_refused(number=current.number, status=current.status, trigger="_refund")
    _money_refused(payments.order_refund_all(order=current, actor=actor))
    if order_capturable_authorizations(order_id=current.pk).exists():
        # Partly captured: the rest of the authorization would stay held on the card.
        _money_refused(payments.order_void_all(order=current, actor=actor))
    with transaction.atomic():
        locked = order_lock(order.pk)
        from_status = locked.status
        if from_status != Order.Status.APPROVED:
            raise transition_refused(number=locked.number, status=from_status, trigger="_refund")
        _check_money_settled(locked, trigger="_refund", authorized=False, captured=False)
        _cancel_shipments(locked, actor)
        order_reload_after_hooks(locked)
        now = timezone.now()
        locked.cancel()
        locked.cancelled_at = now
        fulfillment_from = locked.fulfillment_status
        if fulfillment_from == Order.FulfillmentStatus.IN_PROGRESS:
            locked.fulfillment_status = Order.FulfillmentStatus.UNFULFILLED
            locked.fulfillment_updated_at = now
        locked.save(
            update_fields=[
                "status",
                "cancelled_at",
                "fulfillment_status",
                "fulfillment_updated_at",
                "updated_at",
            ]
        )
        _status_event(locked, actor=actor, trigger="_refund", from_status=from_status)
        if locked.fulfillment_status != fulfillment_from:
            order_change_event(
                order=locked,
                actor=actor,
                trigger="_refund",
                field="fulfillment_status",
                from_status=fulfillment_from,
                to_status=locked.fulfillment_status,
            )
        order_topic_publish_on_commit(order=locked, topic="orders.refund")
    payments.order_payment_status_refresh(order=locked, actor=actor)
    return locked


def order_fulfill(*, order: Order, actor: Actor) -> Order:
    """`_fulfill` (integration only): mark an approved order fulfilled. Idempotent."""
    with transaction.atomic():
        locked = order_lock(order.pk)
        if locked.status != Order.Status.APPROVED:
            raise transition_refused(number=locked.number, status=locked.status, trigger="_fulfill")
        if locked.fulfillment_status == Order.FulfillmentStatus.FULFILLED:
            return locked
        _check_fulfillable(locked)
        from_status = locked.fulfillment_status
        locked.fulfillment_status = Order.FulfillmentStatus.FULFILLED
        locked.fulfillment_updated_at = timezone.now()
        locked.save(update_fields=["fulfillment_status", "fulfillment_updated_at", "updated_at"])
        order_change_event(
            order=locked,
            actor=actor,
            trigger="_fulfill",
            field="fulfillment_status",
            from_status=from_status,
            to_status=locked.fulfillment_status,
        )
        order_topic_publish_on_commit(order=locked, topic="orders.fulfill")
    return locked


def _order_archive_set(*, order: Order, actor: Actor, archive: bool) -> Order:
    trigger = "_archive" if archive else "_unarchive"
    with transaction.atomic():
        locked = order_lock(order.pk)
        if locked.status not in Order.ARCHIVABLE_STATUSES:
            raise transition_refused(number=locked.number, status=locked.status, trigger=trigger)
        if locked.archived == archive:
            return locked
        locked.archived_at = timezone.now() if archive else None
        locked.save(update_fields=["archived_at", "updated_at"])
        order_change_event(
            order=locked,
            actor=actor,
            trigger=trigger,
            field="archived",
            from_status="active" if archive else "archived",
            to_status="archived" if archive else "active",
        )
    return locked


def order_archive(*, order: Order, actor: Actor) -> Order:
    """`_archive`: a placed, approved or cancelled order leaves the default lists. Idempotent."""
    return _order_archive_set(order=order, actor=actor, archive=True)


def order_unarchive(*, order: Order, actor: Actor) -> Order:
    """`_unarchive`: back into the default lists. Idempotent."""
    return _order_archive_set(order=order, actor=actor, archive=False)
