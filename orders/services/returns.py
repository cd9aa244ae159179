"""Returns, as the order workflow runs them (spec section 5): every face (API, admin) calls
these, and these alone lock the order, then the return, and call fulfillment for the moves.

    create / lines      atomic: lock the order → the return (→ its lines' shipped quantities)
    status triggers     atomic: lock the order → the return → transition → event + topic
    _restock            atomic: lock the order → the return → stock items (pk order) → events
    _refund             the money workflow (`order_money_run`): reserve a refund of a capture
                        under the locks, call the gateway with none, settle and move the return
                        to `refunded` under them again

A return never changes the order's status; its refund moves the payment status, through the
statuses writer the money workflow ends in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from fulfillment import errors as fulfillment_errors
from fulfillment.events import return_line_items_restocked_event, return_status_changed_event
from fulfillment.locks import return_lock
from fulfillment.models import Return, ReturnLineItem, StockLocation
from fulfillment.returns import (
    RETURN_STATUS_TRIGGERS,
    return_create,
    return_fire,
    return_line_item_delete,
    return_line_item_save,
    return_line_items_restock,
)
from oms.actors import Actor
from oms.errors import DomainError
from orders.errors import transition_refused
from orders.locks import order_lock
from orders.models import LineItem, Order
from orders.services.money import MONEY_STATUSES, money_refused, order_money_run
from orders.services.return_refunds import return_refund_follow
from payments.errors import InsufficientRefundBalance
from payments.models import Transaction
from payments.services import Reserved, refund_reserve


def _reference_capture_check(*, order: Order, capture: Transaction | None) -> None:
    """A return's capture must be a succeeded capture of its own order."""
    if capture is None:
        return
    if (
        capture.order_id != order.pk
        or capture.type != Transaction.Type.CAPTURES
        or not capture.succeeded
    ):
        raise DomainError(
            "The reference capture must be a succeeded capture of the return's order.",
            pointer="/data/relationships/reference_capture",
        )


def order_return_create(
    *,
    order: Order,
    actor: Actor,
    stock_location: StockLocation | None = None,
    reference_capture: Transaction | None = None,
    reference: str = "",
    reference_origin: str = "",
    metadata: dict[str, Any] | None = None,
) -> Return:
    """A draft return of a fulfilled order (`returns.create`)."""
    with transaction.atomic():
        locked = order_lock(order.pk)
        _reference_capture_check(order=locked, capture=reference_capture)
        ret = return_create(
            order=locked,
            stock_location=stock_location,
            reference_capture_id=reference_capture.pk if reference_capture else None,
            reference=reference,
            reference_origin=reference_origin,
            metadata=metadata,
        )
        return_status_changed_event(
            ret=ret, trigger="_create", from_status="", to_status=ret.status, actor=actor
        )
    return ret


# the attributes and relationships a return's owner may change, by the return's status
_RETURN_EDITABLE = {"reference", "reference_origin", "metadata"}
_RETURN_EDITABLE_UNTIL_RECEIVED = {"stock_location", "reference_capture"}


def order_return_update(*, ret: Return, data: dict[str, Any], actor: Actor) -> Return:
    """Change a return's references, metadata, stock location (until it is received) and the
    capture its refund goes against (until it is refunded)."""
    with transaction.atomic():
        order = order_lock(ret.order_id)
        locked = return_lock(ret.pk)
        unknown = set(data) - _RETURN_EDITABLE - _RETURN_EDITABLE_UNTIL_RECEIVED
        if unknown:
            raise DomainError(f"{sorted(unknown)[0]} cannot be changed.")
        late = locked.status in (
            Return.Status.RECEIVED,
            Return.Status.REFUNDED,
            Return.Status.REJECTED,
            Return.Status.CANCELLED,
        )
        for name in _RETURN_EDITABLE_UNTIL_RECEIVED & set(data):
            if late:
                raise fulfillment_errors.ReturnNotEditable(
                    f"Return {locked.number} is {locked.status}: its {name} is set.",
                    pointer=f"/data/relationships/{name}",
                )
        if "reference_capture" in data:
            _reference_capture_check(order=order, capture=data["reference_capture"])
        for name, value in data.items():
            setattr(locked, name, value)
        locked.save()
    return locked


def order_return_line_item_create(
    *,
    ret: Return,
    line_item: LineItem,
    quantity: int,
    actor: Actor,
    return_reason: dict[str, Any] | None = None,
    reference: str = "",
    reference_origin: str = "",
    metadata: dict[str, Any] | None = None,
) -> ReturnLineItem:
    """A line of a draft return: `quantity` units of one of the order's shipped SKU lines."""
    with transaction.atomic():
        order_lock(ret.order_id)
        locked = return_lock(ret.pk)
        line = ReturnLineItem(
            order_return=locked,
            line_item=line_item,
            quantity=quantity,
            return_reason=return_reason or {},
            reference=reference,
            reference_origin=reference_origin,
            metadata=metadata or {},
        )
        return return_line_item_save(ret=locked, line=line)


def order_return_line_item_update(
    *, line: ReturnLineItem, data: dict[str, Any], actor: Actor
) -> ReturnLineItem:
    """Change a return line: its quantity while the return is a draft; its reason, references
    and metadata whenever. `_restock` restocks it."""
    restock = bool(data.pop("_restock", False))
    with transaction.atomic():
        order_lock(line.order_return.order_id)
        locked = return_lock(line.order_return_id)
        current = ReturnLineItem.objects.select_related("line_item").get(pk=line.pk)
        if "quantity" in data and data["quantity"] != current.quantity:
            current = return_line_item_save(ret=locked, line=current, quantity=data["quantity"])
        rest = {k: v for k, v in data.items() if k != "quantity"}
        if rest:
            for name, value in rest.items():
                setattr(current, name, value)
            current.save(update_fields=[*rest, "updated_at"])
        if restock:
            _restock(locked, [current], actor)
    return current


def order_return_line_item_delete(*, line: ReturnLineItem, actor: Actor) -> None:
    with transaction.atomic():
        order_lock(line.order_return.order_id)
        locked = return_lock(line.order_return_id)
        return_line_item_delete(ret=locked, line=line)


def _restock(ret: Return, lines: list[ReturnLineItem], actor: Actor) -> list[ReturnLineItem]:
    done = return_line_items_restock(ret=ret, lines=lines, actor=actor)
    return_line_items_restocked_event(ret=ret, lines=done, actor=actor)
    return done


def order_return_status_trigger(*, ret: Return, trigger: str, actor: Actor) -> Return:
    """`_request`, `_approve`, `_cancel`, `_ship`, `_reject` or `_receive` on the locked
    return, with its timeline row and topic."""
    assert trigger in RETURN_STATUS_TRIGGERS, trigger
    with transaction.atomic():
        order_lock(ret.order_id)
        locked = return_lock(ret.pk)
        from_status, to_status = return_fire(ret=locked, trigger=trigger)
        return_status_changed_event(
            ret=locked, trigger=trigger, from_status=from_status, to_status=to_status, actor=actor
        )
    return locked


def order_return_restock(*, ret: Return, actor: Actor) -> Return:
    """`_restock` of a received (or refunded) return: every line not restocked yet goes back
    to the return's stock location. None left: `ALREADY_RESTOCKED`."""
    with transaction.atomic():
        order_lock(ret.order_id)
        locked = return_lock(ret.pk)
        lines = list(
            ReturnLineItem.objects.select_related("line_item__sku").filter(
                order_return=locked, restocked_at__isnull=True
            )
        )
        if not lines and locked.status in Return.RESTOCKABLE:
            raise fulfillment_errors.AlreadyRestocked(
                f"Every line of return {locked.number} is restocked already.",
                pointer="/data/attributes/_restock",
            )
        _restock(locked, lines, actor)
    return locked


def order_return_archive(*, ret: Return, actor: Actor, archive: bool = True) -> Return:
    """`_archive` / `_unarchive`: out of (back into) the default lists. Idempotent."""
    with transaction.atomic():
        order_lock(ret.order_id)
        locked = return_lock(ret.pk)
        locked.archived_at = (locked.archived_at or timezone.now()) if archive else None
        locked.save(update_fields=["archived_at", "updated_at"])
    return locked


def _refund_capture(order: Order, ret: Return) -> Transaction:
    """The capture a return's refund goes against: its reference capture, else the order's
    last succeeded capture."""
    if ret.reference_capture_id is not None:
        return Transaction.objects.get(pk=ret.reference_capture_id)
    capture = (
        Transaction.objects.filter(
            order_id=order.pk,
            type=Transaction.Type.CAPTURES,
            status=Transaction.Status.SUCCEEDED,
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if capture is None:
        raise InsufficientRefundBalance(
            f"Order #{order.number} has no capture to refund return {ret.number} against.",
            pointer="/data/attributes/_refund",
        )
    return capture


def order_return_refund(
    *,
    ret: Return,
    actor: Actor,
    amount_cents: int | None = None,
    idempotency_key: str | None = None,
) -> Return:
    """`_refund` (with `_refund_amount_cents`, else what the returned lines cost) of a
    received return, against its capture. Once: a refund pending at the gateway or done
    refuses a second (`RETURN_REFUND_IN_PROGRESS`); a failed one may be tried again. The
    return is `refunded` when the gateway says the money went back."""

    def reserve(order: Order) -> list[Reserved]:
        if order.status not in MONEY_STATUSES:
            raise transition_refused(number=order.number, status=order.status, trigger="_refund")
        locked = return_lock(ret.pk)
        if locked.status != Return.Status.RECEIVED:
            raise fulfillment_errors.TransitionNotAllowed(
                f"Return {locked.number} is {locked.status}: _refund is not allowed.",
                pointer="/data/attributes/_refund",
            )
        if locked.reference_refund_id is not None:
            prior = Transaction.objects.get(pk=locked.reference_refund_id)
            if prior.status != Transaction.Status.FAILED:
                raise fulfillment_errors.ReturnRefundInProgress(
                    f"Return {locked.number} has refund {prior.number} ({prior.status}) already.",
                    pointer="/data/attributes/_refund",
                )
        capture = _refund_capture(order, locked)
        amount = amount_cents
        if amount is None:
            if capture.refund_balance_cents <= 0:
                # taken by another refund (perhaps still with the gateway): the capture's
                # refusal, not an invalid amount of the `_refund_amount_cents` nobody sent
                raise InsufficientRefundBalance(
                    f"Capture {capture.number} has nothing left to refund return "
                    f"{locked.number} against.",
                    pointer="/data/attributes/_refund",
                )
            amount = min(locked.estimated_refund_amount_cents, capture.refund_balance_cents)
        reserved = refund_reserve(
            capture=capture,
            amount_cents=amount,
            # the key is the caller's per request; a refund is this return's own, so a key
            # reused for another return can never replay (and follow) this one's refund
            idempotency_key=f"{idempotency_key}:return:{locked.pk}" if idempotency_key else None,
        )
        Return.objects.filter(pk=locked.pk).update(
            reference_refund=reserved.transaction, updated_at=timezone.now()
        )
        return [reserved]

    def settled(order: Order, transactions: list[Transaction]) -> None:
        [refund] = transactions
        return_refund_follow(refund=refund, actor=actor)

    transactions = order_money_run(
        order_id=ret.order_id, reserve=reserve, actor=actor, trigger="_refund", settled=settled
    )
    money_refused(transactions)
    return Return.objects.get(pk=ret.pk)


def _status_trigger(trigger: str) -> Callable[..., Return]:
    def run(*, ret: Return, actor: Actor) -> Return:
        return order_return_status_trigger(ret=ret, trigger=trigger, actor=actor)

    return run


# The return's trigger attributes (as sent with PATCH) and what each runs (`_refund` takes an
# amount and runs `order_return_refund`).
RETURN_TRIGGERS: dict[str, Callable[..., Return]] = {
    **{trigger: _status_trigger(trigger) for trigger in RETURN_STATUS_TRIGGERS},
    "_restock": order_return_restock,
    "_archive": lambda *, ret, actor: order_return_archive(ret=ret, actor=actor),
    "_unarchive": lambda *, ret, actor: order_return_archive(ret=ret, actor=actor, archive=False),
}

__all__ = [
    "RETURN_TRIGGERS",
    "order_return_archive",
    "order_return_create",
    "order_return_line_item_create",
    "order_return_line_item_delete",
    "order_return_line_item_update",
    "order_return_refund",
    "order_return_restock",
    "order_return_status_trigger",
    "order_return_update",
]
