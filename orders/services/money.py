"""Every money movement of an order, run by the orders app (spec section 4).

Payments provides the three steps of a movement (reserve, gateway call, settle) and returns
facts; this module runs them in the one shape every money workflow has:

    atomic(durable=True): lock the order once → re-check the guard on the locked rows →
                          reserve (pending transactions, balances taken)
    no transaction:       call the gateway for each reserved transaction
    atomic(durable=True): lock the order once → settle each → timeline events →
                          `order_statuses_write` (and the caller's transition, if any)

`durable=True` makes a call from inside someone else's transaction fail loudly: a gateway call
can never run under a caller's lock, and a rollback of a caller can never forget a transaction
the gateway already carried out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from django.db.transaction import atomic

from oms.actors import Actor
from oms.webhooks.outbox import webhook_deliveries_batched, webhook_deliveries_record
from orders.errors import transition_refused
from orders.events import transaction_settled_event
from orders.locks import order_lock
from orders.models import Order, OrderEvent
from orders.services.return_refunds import return_refund_follow
from orders.services.statuses import StatusesWrite, order_statuses_write
from payments import errors as payment_errors
from payments.gateways import GatewayResult
from payments.models import PaymentMethod, PaymentSourceModel, Transaction
from payments.selectors import order_capturable_authorizations, order_refundable_captures
from payments.services import (
    TRIGGERS,
    Reserved,
    authorization_reserve,
    capture_reserve,
    refund_reserve,
    transaction_forward_result,
    transaction_gateway_call,
    transaction_release_result,
    transaction_settle,
    void_reserve,
)

logger = logging.getLogger(__name__)

Reserve = Callable[[Order], Sequence[Reserved]]
# a step on the locked order after the settle; what it returns goes to the statuses writer
SettledStep = Callable[[Order, list[Transaction]], StatusesWrite | None]


@dataclass(frozen=True)
class Deferring:
    """A settled step that records no timeline row itself: it returns its rows (and the fields
    it left unsaved) for the statuses writer, so the settle's rows, its own and the statuses'
    are recorded in order, in one INSERT."""

    step: Callable[[Order, list[Transaction]], StatusesWrite]


Settled = SettledStep | Deferring


def order_transaction_event(
    *, order: Order, txn: Transaction, actor: Actor, save: bool = True
) -> OrderEvent:
    """The timeline row of a settled transaction (`save=False`: built, for the statuses
    writer to record with its own)."""
    return transaction_settled_event(
        save=save,
        order=order,
        actor=actor,
        trigger=TRIGGERS[Transaction.Type(txn.type)],
        subject_type=txn.type,
        subject_id=txn.pk,
        to_status=txn.status,
        amount_cents=txn.amount_cents,
        currency_code=txn.currency_code,
        message=txn.message if txn.succeeded else f"{txn.error_code}: {txn.message}",
    )


def transaction_topics_publish(*, transactions: Sequence[Transaction]) -> None:
    """`authorizations.create`, `captures.create`, `voids.create`, `refunds.create`: the
    webhook deliveries of settled transactions, in the settle's transaction (one statement
    for all of them)."""
    webhook_deliveries_record(events=[(f"{t.type}.create", t.type, t.pk) for t in transactions])


def order_money_run(
    *,
    order_id: str,
    reserve: Reserve,
    actor: Actor,
    trigger: str,
    settled: Settled | None = None,
) -> list[Transaction]:
    """Reserve under the order lock, call the gateways with no lock, settle under the lock.
    `settled` runs on the locked order after the settle, before the statuses are written (a
    transition that needs the money to have moved). Returns the transactions, settled."""
    with atomic(durable=True):
        order = order_lock(order_id)
        reserved = list(reserve(order))
    calls = [
        (r.transaction, transaction_gateway_call(txn=r.transaction)) for r in reserved if r.created
    ]
    if not calls and settled is None:
        return [r.transaction for r in reserved]
    try:
        return _money_settle(order_id, reserved, calls, actor=actor, trigger=trigger, then=settled)
    except Exception:
        if settled is None or not calls:
            raise
        # The caller's step failed after the gateway answered: the answers are recorded on
        # their own (the money did move, or did not), then the failure goes up.
        _money_settle(order_id, reserved, calls, actor=actor, trigger=trigger, then=None)
        raise


def _money_settle(
    order_id: str,
    reserved: Sequence[Reserved],
    calls: Sequence[tuple[Transaction, GatewayResult]],
    *,
    actor: Actor,
    trigger: str,
    then: Settled | None,
) -> list[Transaction]:
    # the settle's webhook deliveries (the transactions', the shipments', the order's) in one
    # INSERT at its end
    with atomic(durable=True), webhook_deliveries_batched():
        order = order_lock(order_id)
        done: dict[str, Transaction] = {}
        # the settles' timeline rows go first: with the step's and the statuses' in one INSERT
        # when the step records none itself, else at once, before the step records its own
        defer = then is None or isinstance(then, Deferring)
        events: list[OrderEvent] = []
        settled: list[Transaction] = []
        for txn, result in calls:
            settlement = transaction_settle(txn=txn, result=result)
            if settlement.settled:
                event = order_transaction_event(
                    order=order, txn=settlement.transaction, actor=actor, save=not defer
                )
                events += [event] if defer else []
                settled.append(settlement.transaction)
            done[txn.pk] = settlement.transaction
        transaction_topics_publish(transactions=settled)
        transactions = [done.get(r.transaction.pk, r.transaction) for r in reserved]
        known: StatusesWrite | None = None
        if isinstance(then, Deferring):
            known = then.step(order, transactions)
        elif then is not None:
            known = then(order, transactions)
        known = known or StatusesWrite()
        known = replace(known, events=(*events, *known.events))
        order_statuses_write(order=order, actor=actor, trigger=trigger, known=known)
    return transactions


def money_refused(transactions: Sequence[Transaction]) -> None:
    failed = [txn for txn in transactions if not txn.succeeded]
    if failed:
        raise payment_errors.PaymentFailed(failed[0])


# --- one transaction -------------------------------------------------------------------------


def _key(idempotency_key: str | None, suffix: str) -> str | None:
    return f"{idempotency_key}:{suffix}" if idempotency_key else None


def order_payment_authorize(
    *,
    order: Order,
    payment_method: PaymentMethod,
    payment_source: PaymentSourceModel,
    amount_cents: int,
    actor: Actor,
    idempotency_key: str | None = None,
    trigger: str = "_authorize",
    settled: Settled | None = None,
) -> Transaction:
    """Authorize `amount_cents` on the order's payment source. Returns the authorization,
    succeeded or failed. `settled` runs on the locked order with the settled authorization
    (placement places the order there). When the payment method auto-captures this amount, a
    succeeded authorization is captured at once."""
    [authorization] = order_money_run(
        order_id=order.pk,
        reserve=lambda locked: [
            authorization_reserve(
                order=locked,
                payment_method=payment_method,
                payment_source=payment_source,
                amount_cents=amount_cents,
                idempotency_key=idempotency_key,
            )
        ],
        actor=actor,
        trigger=trigger,
        settled=settled,
    )
    if authorization.succeeded and payment_method.auto_captures(authorization.amount_cents):
        order_money_run(
            order_id=order.pk,
            reserve=lambda locked: _reserve_or_nothing(
                lambda: capture_reserve(
                    authorization=authorization,
                    idempotency_key=_key(idempotency_key, "auto_capture"),
                ),
                payment_errors.InsufficientCaptureBalance,
            ),
            actor=actor,
            trigger=trigger,
        )
        authorization.refresh_from_db()
    return authorization


def order_authorization_give_back(*, authorization: Transaction, actor: Actor) -> None:
    """Void what an authorization of a placement that did not complete still holds, so that
    the customer's card is not left with a hold for an order that was not placed (whatever
    the order's status). A void the gateway declines is logged and left to the merchant."""
    voids = order_money_run(
        order_id=authorization.order_id,
        reserve=lambda locked: _reserve_or_nothing(
            lambda: void_reserve(authorization=authorization), payment_errors.NothingToVoid
        ),
        actor=actor,
        trigger="_void",
    )
    for void in voids:
        if not void.succeeded:
            logger.error("could not void %s of a failed placement", authorization.number)


def _reserve_or_nothing(
    reserve: Callable[[], Reserved], nothing: type[payment_errors.PaymentError]
) -> list[Reserved]:
    try:
        return [reserve()]
    except nothing:
        return []


def _capture_limit(order: Order) -> int:
    """What the order may still collect: its total less what is captured (an order edited down
    after placement never captures its old, larger authorization in full)."""
    captured = sum(
        Transaction.objects.filter(
            order_id=order.pk,
            type=Transaction.Type.CAPTURES,
            status__in=[Transaction.Status.SUCCEEDED, Transaction.Status.PENDING],
        ).values_list("amount_cents", flat=True)
    )
    return max(0, order.total_amount_with_taxes_cents - captured)


def _require_status(order: Order, trigger: str, statuses: Sequence[str]) -> None:
    if order.status not in statuses:
        raise transition_refused(number=order.number, status=order.status, trigger=trigger)


MONEY_STATUSES = (Order.Status.PLACED, Order.Status.APPROVED)


def order_authorization_capture(
    *,
    authorization: Transaction,
    amount_cents: int | None = None,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Transaction:
    """`_capture` / `_capture_amount_cents` of one authorization of a placed or approved order
    (the whole balance by default, never more than the order still has to collect). Returns
    the capture, succeeded or failed; nothing to capture is `INSUFFICIENT_CAPTURE_BALANCE`."""

    def reserve(order: Order) -> list[Reserved]:
        _require_status(order, "_capture", MONEY_STATUSES)
        return [
            capture_reserve(
                authorization=authorization,
                amount_cents=amount_cents,
                limit_cents=_capture_limit(order),
                idempotency_key=idempotency_key,
            )
        ]

    [capture] = order_money_run(
        order_id=authorization.order_id, reserve=reserve, actor=actor, trigger="_capture"
    )
    return capture


def order_authorization_void(
    *, authorization: Transaction, actor: Actor, idempotency_key: str | None = None
) -> Transaction:
    """`_void` of one authorization's uncaptured rest; nothing left is `NOTHING_TO_VOID`."""

    def reserve(order: Order) -> list[Reserved]:
        _require_status(order, "_void", MONEY_STATUSES)
        return [void_reserve(authorization=authorization, idempotency_key=idempotency_key)]

    [void] = order_money_run(
        order_id=authorization.order_id, reserve=reserve, actor=actor, trigger="_void"
    )
    return void


def order_capture_refund(
    *,
    capture: Transaction,
    amount_cents: int | None = None,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Transaction:
    """`_refund` / `_refund_amount_cents` of one capture (the whole balance by default)."""

    def reserve(order: Order) -> list[Reserved]:
        _require_status(order, "_refund", MONEY_STATUSES)
        return [
            refund_reserve(
                capture=capture, amount_cents=amount_cents, idempotency_key=idempotency_key
            )
        ]

    [refund] = order_money_run(
        order_id=capture.order_id, reserve=reserve, actor=actor, trigger="_refund"
    )
    return refund


def order_captures_reserve(
    order: Order, *, idempotency_key: str | None, trigger: str = "_capture"
) -> list[Reserved]:
    """On the locked order: a capture of every authorization's balance, never more than the
    order still has to collect. Nothing to capture: `INSUFFICIENT_CAPTURE_BALANCE`."""
    reserved: list[Reserved] = []
    limit = _capture_limit(order)
    for authorization in order_capturable_authorizations(order_id=order.pk):
        if limit <= 0:
            break
        try:
            one = capture_reserve(
                authorization=authorization,
                limit_cents=limit,
                idempotency_key=_key(idempotency_key, authorization.pk),
            )
        except payment_errors.InsufficientCaptureBalance:
            continue
        limit -= one.transaction.amount_cents if one.created else 0
        reserved.append(one)
    if not reserved:
        raise payment_errors.InsufficientCaptureBalance(
            f"Order #{order.number} has nothing left to capture.",
            pointer=f"/data/attributes/{trigger}",
        )
    return reserved


def order_voids_reserve(order: Order, *, idempotency_key: str | None = None) -> list[Reserved]:
    """On the locked order: a void of every authorization's uncaptured rest."""
    return [
        void_reserve(
            authorization=authorization, idempotency_key=_key(idempotency_key, authorization.pk)
        )
        for authorization in order_capturable_authorizations(order_id=order.pk)
    ]


def order_refunds_reserve(order: Order, *, idempotency_key: str | None = None) -> list[Reserved]:
    """On the locked order: a refund of every capture's balance."""
    return [
        refund_reserve(capture=capture, idempotency_key=_key(idempotency_key, capture.pk))
        for capture in order_refundable_captures(order_id=order.pk)
    ]


def order_capture_all(
    *, order: Order, actor: Actor, idempotency_key: str | None = None
) -> list[Transaction]:
    """Capture every authorization's balance of a placed or approved order, at most the
    order's total. Returns the captures, each succeeded or failed."""

    def reserve(locked: Order) -> list[Reserved]:
        _require_status(locked, "_capture", MONEY_STATUSES)
        return order_captures_reserve(locked, idempotency_key=idempotency_key)

    return order_money_run(order_id=order.pk, reserve=reserve, actor=actor, trigger="_capture")


def order_void_all(
    *, order: Order, actor: Actor, idempotency_key: str | None = None
) -> list[Transaction]:
    """Void the uncaptured rest of every authorization of a placed or approved order."""

    def reserve(locked: Order) -> list[Reserved]:
        _require_status(locked, "_void", MONEY_STATUSES)
        reserved = order_voids_reserve(locked, idempotency_key=idempotency_key)
        if not reserved:
            raise payment_errors.NothingToVoid(
                "The order has no authorization left to void.", pointer="/data/attributes/_void"
            )
        return reserved

    return order_money_run(order_id=order.pk, reserve=reserve, actor=actor, trigger="_void")


def order_refund_all(
    *, order: Order, actor: Actor, idempotency_key: str | None = None
) -> list[Transaction]:
    """Refund every capture's balance of a placed or approved order (the order stays as it
    is: `_refund` of an approved order also cancels it, see `transitions.order_refund`)."""

    def reserve(locked: Order) -> list[Reserved]:
        _require_status(locked, "_refund", MONEY_STATUSES)
        reserved = order_refunds_reserve(locked, idempotency_key=idempotency_key)
        if not reserved:
            raise payment_errors.InsufficientRefundBalance(
                "The order has nothing left to refund.", pointer="/data/attributes/_refund"
            )
        return reserved

    return order_money_run(order_id=order.pk, reserve=reserve, actor=actor, trigger="_refund")


def order_capture(*, order: Order, actor: Actor, idempotency_key: str | None = None) -> Order:
    """`_capture` of a placed or approved order: every authorization's balance, at most the
    order's total. A declined capture answers the gateway's reason (`PaymentFailed`)."""
    money_refused(order_capture_all(order=order, actor=actor, idempotency_key=idempotency_key))
    return Order.objects.select_related("market__price_list").get(pk=order.pk)


def order_transaction_forward(*, transaction: Transaction, actor: Actor) -> Transaction:
    """`_forward`: settle a stuck pending transaction as succeeded (the merchant checked the
    gateway did move the money)."""
    return _settle_by_hand(transaction, transaction_forward_result, actor)


def order_transaction_release(*, transaction: Transaction, actor: Actor) -> Transaction:
    """Settle a stuck pending transaction as failed, its reserved amount given back."""
    return _settle_by_hand(transaction, transaction_release_result, actor)


def _settle_by_hand(
    txn: Transaction, result_for: Callable[..., object], actor: Actor
) -> Transaction:
    with atomic(durable=True):
        order = order_lock(txn.order_id)
        locked = Transaction.objects.get(pk=txn.pk)
        result = result_for(txn=locked, by=str(actor))
        settled = transaction_settle(txn=locked, result=result).transaction  # type: ignore[arg-type]
        order_transaction_event(order=order, txn=settled, actor=actor)
        transaction_topics_publish(transactions=[settled])
        # a return waiting on this refund follows it
        return_refund_follow(refund=settled, actor=actor)
        order_statuses_write(
            order=order, actor=actor, trigger=TRIGGERS[Transaction.Type(settled.type)]
        )
    return settled
