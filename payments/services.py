"""Every write of the payments app.

Money moves in three steps, so that a gateway call never runs under a row lock and a repeated
or concurrent request can never move money twice:

1. **reserve** — in a short transaction: lock the rows (`locks`), re-check the balance on the
   locked parent, add the amount to the parent's running total and insert the transaction as
   `pending`. A concurrent request now sees the reduced balance (or waits for the lock and then
   sees it). Commit.
2. **call** — ask the gateway, holding no lock. The transaction's id is the gateway's
   idempotency key.
3. **settle** — in a short transaction: lock again, mark the transaction `succeeded` or
   `failed` (a failure gives the reserved amount back to the parent), write the order event and
   refresh the order's payment status.

A caller's `idempotency_key` is stored on the transaction (unique): the same key returns the
first transaction as it stands, without calling the gateway again.

When called inside an outer `transaction.atomic()` (an orders workflow holding the order lock),
the three steps simply run inside it: still correct, but the gateway call then happens under the
caller's locks and a rollback of the caller also forgets the transaction row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from oms.actors import Actor
from oms.sequences import sequence_next
from oms.services import resource_create, resource_update
from orders.events import order_event_record
from orders.models import Order
from payments import errors, locks, selectors
from payments.gateways import GatewayResult, gateway_adapter_for
from payments.models import (
    ExternalPayment,
    PaymentGateway,
    PaymentMethod,
    PaymentSourceModel,
    TestPayment,
    Transaction,
    WireTransfer,
    new_gateway_shared_secret,
)
from payments.status import payment_status_for

logger = logging.getLogger(__name__)

Type = Transaction.Type
Status = Transaction.Status

TRIGGERS = {
    Type.AUTHORIZATIONS: "_authorize",
    Type.CAPTURES: "_capture",
    Type.VOIDS: "_void",
    Type.REFUNDS: "_refund",
}
GATEWAY_OPERATIONS = {
    Type.AUTHORIZATIONS: "authorize",
    Type.CAPTURES: "capture",
    Type.VOIDS: "void",
    Type.REFUNDS: "refund",
}
# Order statuses in which the order counts as placed for the payment status table.
PLACED_ORDER_STATUSES = frozenset(
    {
        Order.Status.PLACED,
        Order.Status.EDITING,
        Order.Status.APPROVED,
        Order.Status.CANCELLED,
    }
)


# --- authorizations ---------------------------------------------------------------------------


def payment_authorize(
    *,
    order: Order,
    payment_method: PaymentMethod,
    payment_source: PaymentSourceModel,
    amount_cents: int,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Transaction:
    """Authorize `amount_cents` (the order's recomputed total) on `payment_source`.

    Returns the authorization, succeeded or failed (`error_code`); raises before calling the
    gateway when the request itself is wrong. When the payment method auto-captures this
    amount, a succeeded authorization is captured at once (see `Transaction.capture_amount_cents`).
    """
    request = _MoneyRequest(idempotency_key, Type.AUTHORIZATIONS, order.pk)
    if (replayed := request.replay()) is not None:
        return replayed
    _check_authorization_request(order, payment_method, payment_source, amount_cents)

    def reserve() -> Transaction:
        locks.order_lock(order.pk)
        return _transaction_create(
            type=Type.AUTHORIZATIONS,
            order=order,
            payment_gateway=payment_method.payment_gateway,
            payment_method=payment_method,
            payment_source=payment_source,
            amount_cents=amount_cents,
            currency_code=order.currency_code,
            idempotency_key=idempotency_key,
        )

    authorization, reserved = _reserve(reserve, request)
    if not reserved:
        return authorization
    authorization = _settle(authorization, _gateway_call(authorization), actor=actor)
    if authorization.succeeded and payment_method.auto_captures(authorization.amount_cents):
        authorization_capture(
            authorization=authorization,
            actor=actor,
            idempotency_key=f"{idempotency_key}:auto_capture" if idempotency_key else None,
        )
        authorization.refresh_from_db()
    return authorization


def _check_authorization_request(
    order: Order,
    payment_method: PaymentMethod,
    payment_source: PaymentSourceModel,
    amount_cents: int,
) -> None:
    if amount_cents <= 0:
        raise errors.InvalidAmount(
            "Only a positive amount can be authorized (an order with a total of 0 is free).",
            pointer="/data/attributes/amount_cents",
        )
    gateway = payment_method.payment_gateway
    if not payment_method.is_enabled or not gateway.is_enabled:
        raise errors.PaymentMethodNotAvailable(
            "The payment method is disabled.", pointer="/data/relationships/payment_method"
        )
    if payment_method.market_id is not None and payment_method.market_id != order.market_id:
        raise errors.PaymentMethodNotAvailable(
            "The payment method is not offered in the order's market.",
            pointer="/data/relationships/payment_method",
        )
    if payment_method.currency_code != order.currency_code:
        raise errors.CurrencyMismatch(
            f"The payment method takes {payment_method.currency_code}, "
            f"the order is in {order.currency_code}.",
            pointer="/data/relationships/payment_method",
        )
    if not payment_method.accepts_amount(amount_cents):
        raise errors.PaymentMethodNotAvailable(
            "The order amount is outside the payment method's minimum and maximum.",
            pointer="/data/relationships/payment_method",
        )
    if payment_source.order_id != order.pk:
        raise errors.PaymentSourceMismatch(
            "The payment source belongs to another order.",
            pointer="/data/relationships/payment_source",
        )
    if payment_source.source_type != payment_method.payment_source_type:
        raise errors.PaymentSourceMismatch(
            f"The payment method takes {payment_method.payment_source_type}, "
            f"not {payment_source.source_type}.",
            pointer="/data/relationships/payment_source",
        )


# --- captures, voids, refunds -----------------------------------------------------------------


def authorization_capture(
    *,
    authorization: Transaction,
    amount_cents: int | None = None,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Transaction:
    """Capture `amount_cents` of a succeeded authorization (default: its whole capture balance).
    Repeatable up to the balance; past it, `INSUFFICIENT_CAPTURE_BALANCE`."""
    request = _MoneyRequest(
        idempotency_key, Type.CAPTURES, authorization.order_id, authorization.pk, amount_cents
    )
    if (replayed := request.replay()) is not None:
        return replayed
    _check_requested_amount(amount_cents, "_capture_amount_cents")

    def reserve() -> Transaction:
        locks.order_lock(authorization.order_id)
        parent = locks.transaction_lock(authorization.pk)
        _guard_parent(parent, Type.AUTHORIZATIONS, "captured")
        balance = parent.capture_balance_cents
        amount = balance if amount_cents is None else amount_cents
        if amount == 0 or amount > balance:
            raise errors.InsufficientCaptureBalance(
                f"Cannot capture {amount}: the capture balance of {parent.number} is {balance}.",
                pointer="/data/attributes/_capture_amount_cents",
            )
        Transaction.objects.filter(pk=parent.pk).update(
            capture_amount_cents=F("capture_amount_cents") + amount
        )
        return _child_create(Type.CAPTURES, parent, amount, idempotency_key)

    return _run(reserve, request, actor=actor)


def authorization_void(
    *, authorization: Transaction, actor: Actor, idempotency_key: str | None = None
) -> Transaction:
    """Release the uncaptured rest of a succeeded authorization (what is neither captured, nor
    being captured, nor voided). Nothing left: `NOTHING_TO_VOID`."""
    request = _MoneyRequest(idempotency_key, Type.VOIDS, authorization.order_id, authorization.pk)
    if (replayed := request.replay()) is not None:
        return replayed

    def reserve() -> Transaction:
        locks.order_lock(authorization.order_id)
        parent = locks.transaction_lock(authorization.pk)
        _guard_parent(parent, Type.AUTHORIZATIONS, "voided")
        amount = parent.void_balance_cents
        if amount == 0:
            raise errors.NothingToVoid(
                f"{parent.number} has nothing left to void: it is captured or voided.",
                pointer="/data/attributes/_void",
            )
        Transaction.objects.filter(pk=parent.pk).update(
            void_amount_cents=F("void_amount_cents") + amount
        )
        return _child_create(Type.VOIDS, parent, amount, idempotency_key)

    return _run(reserve, request, actor=actor)


def capture_refund(
    *,
    capture: Transaction,
    amount_cents: int | None = None,
    actor: Actor,
    idempotency_key: str | None = None,
) -> Transaction:
    """Refund `amount_cents` of a succeeded capture (default: its whole refund balance).
    Repeatable up to the balance; past it, `INSUFFICIENT_REFUND_BALANCE`."""
    request = _MoneyRequest(
        idempotency_key, Type.REFUNDS, capture.order_id, capture.pk, amount_cents
    )
    if (replayed := request.replay()) is not None:
        return replayed
    _check_requested_amount(amount_cents, "_refund_amount_cents")

    def reserve() -> Transaction:
        locks.order_lock(capture.order_id)
        parent = locks.transaction_lock(capture.pk)
        _guard_parent(parent, Type.CAPTURES, "refunded")
        balance = parent.refund_balance_cents
        amount = balance if amount_cents is None else amount_cents
        if amount == 0 or amount > balance:
            raise errors.InsufficientRefundBalance(
                f"Cannot refund {amount}: the refund balance of {parent.number} is {balance}.",
                pointer="/data/attributes/_refund_amount_cents",
            )
        Transaction.objects.filter(pk=parent.pk).update(
            refund_amount_cents=F("refund_amount_cents") + amount
        )
        return _child_create(Type.REFUNDS, parent, amount, idempotency_key)

    return _run(reserve, request, actor=actor)


# --- the whole order --------------------------------------------------------------------------


def order_capture_all(
    *, order: Order, actor: Actor, idempotency_key: str | None = None
) -> list[Transaction]:
    """Capture the whole balance of every authorization of the order (the order's `_capture`).
    Returns the captures made (each succeeded or failed)."""
    return _for_each(
        selectors.order_capturable_authorizations(order_id=order.pk),
        lambda authorization, key: authorization_capture(
            authorization=authorization, actor=actor, idempotency_key=key
        ),
        idempotency_key=idempotency_key,
        skip=errors.InsufficientCaptureBalance,
        nothing=errors.InsufficientCaptureBalance(
            "The order has nothing left to capture.", pointer="/data/attributes/_capture"
        ),
    )


def order_refund_all(
    *, order: Order, actor: Actor, idempotency_key: str | None = None
) -> list[Transaction]:
    """Refund the whole balance of every capture of the order (the order's `_refund`)."""
    return _for_each(
        selectors.order_refundable_captures(order_id=order.pk),
        lambda capture, key: capture_refund(capture=capture, actor=actor, idempotency_key=key),
        idempotency_key=idempotency_key,
        skip=errors.InsufficientRefundBalance,
        nothing=errors.InsufficientRefundBalance(
            "The order has nothing left to refund.", pointer="/data/attributes/_refund"
        ),
    )


def order_void_all(
    *, order: Order, actor: Actor, idempotency_key: str | None = None
) -> list[Transaction]:
    """Void the uncaptured rest of every authorization of the order (on cancellation)."""
    return _for_each(
        selectors.order_capturable_authorizations(order_id=order.pk),
        lambda authorization, key: authorization_void(
            authorization=authorization, actor=actor, idempotency_key=key
        ),
        idempotency_key=idempotency_key,
        skip=errors.NothingToVoid,
        nothing=errors.NothingToVoid(
            "The order has no authorization left to void.", pointer="/data/attributes/_cancel"
        ),
    )


def _for_each(
    parents: QuerySet[Transaction],
    operation: Callable[[Transaction, str | None], Transaction],
    *,
    idempotency_key: str | None,
    skip: type[errors.PaymentError],
    nothing: errors.PaymentError,
) -> list[Transaction]:
    candidates = list(parents)
    if not candidates:
        raise nothing
    done: list[Transaction] = []
    for parent in candidates:  # primary-key order, as every lock of this app
        key = f"{idempotency_key}:{parent.pk}" if idempotency_key else None
        try:
            done.append(operation(parent, key))
        except skip:
            continue  # a concurrent request took this balance meanwhile
    return done


# --- stuck transactions -----------------------------------------------------------------------


def transaction_forward(*, transaction: Transaction, actor: Actor) -> Transaction:
    """Mark a stuck `pending` transaction succeeded (`_forward`): the process died between the
    gateway call and the settle step, and the merchant checked that the gateway did move the
    money."""
    _guard_pending(transaction)
    return _settle(
        transaction,
        GatewayResult(succeeded=True, message=f"Forwarded to succeeded by {actor}"),
        actor=actor,
    )


def transaction_release(*, transaction: Transaction, actor: Actor) -> Transaction:
    """Mark a stuck `pending` transaction failed, giving its reserved amount back: the merchant
    checked that the gateway did not move the money."""
    _guard_pending(transaction)
    return _settle(
        transaction,
        GatewayResult.failure(errors.GATEWAY_ERROR, f"Released as failed by {actor}"),
        actor=actor,
    )


def _guard_pending(txn: Transaction) -> None:
    if txn.status != Status.PENDING:
        raise errors.PaymentTransitionNotAllowed(
            f"{txn.number} is {txn.status}, not pending.", pointer="/data/attributes/_forward"
        )


# --- payment status ---------------------------------------------------------------------------


def order_payment_status_refresh(
    *, order: Order, actor: Actor, order_total_cents: int | None = None
) -> str:
    """Recompute and store the order's `payment_status` from its succeeded transactions.

    `order_total_cents` defaults to the order's total (`selectors.order_total_cents`); when
    neither is known the status is left as it is. Locks the order.
    """
    with transaction.atomic():
        locked = locks.order_lock(order.pk)
        status = _order_payment_status_sync(locked, actor, order_total_cents)
    order.payment_status = status
    return status


def _order_payment_status_sync(
    order: Order, actor: Actor, order_total_cents: int | None = None
) -> str:
    """On the locked order: write the derived payment status (and its event) if it moved."""
    total = (
        order_total_cents if order_total_cents is not None else selectors.order_total_cents(order)
    )
    if total is None:
        return order.payment_status
    totals = selectors.order_payment_totals(order_id=order.pk)
    status = payment_status_for(
        order_total_cents=total,
        order_placed=order.status in PLACED_ORDER_STATUSES,
        authorized_cents=totals.authorized_cents,
        captured_cents=totals.captured_cents,
        voided_cents=totals.voided_cents,
        refunded_cents=totals.refunded_cents,
    )
    if status != order.payment_status:
        Order.objects.filter(pk=order.pk).update(payment_status=status, updated_at=timezone.now())
        order_event_record(
            order_id=order.pk,
            actor=actor,
            trigger="payment",
            subject_type="orders",
            subject_id=order.pk,
            field="payment_status",
            from_status=order.payment_status,
            to_status=status,
        )
        order.payment_status = status
    return status


# --- the three steps --------------------------------------------------------------------------


def _run(
    reserve: Callable[[], Transaction], request: _MoneyRequest, *, actor: Actor
) -> Transaction:
    txn, reserved = _reserve(reserve, request)
    if not reserved:
        return txn
    return _settle(txn, _gateway_call(txn), actor=actor)


def _reserve(
    reserve: Callable[[], Transaction], request: _MoneyRequest
) -> tuple[Transaction, bool]:
    """Step 1, in its own short transaction: (the pending transaction, True). A concurrent
    request with the same idempotency key loses the race on the unique key: it answers
    (the winner's transaction, False) and must not call the gateway."""
    try:
        with transaction.atomic():
            return reserve(), True
    except IntegrityError:
        existing = request.replay()
        if existing is not None:
            return existing, False
        raise


def _gateway_call(txn: Transaction) -> GatewayResult:
    """Step 2: no transaction, no lock. An adapter that raises is a failed call, so a bug in
    an adapter can never leave an amount reserved for ever."""
    loaded = selectors.transaction_for_gateway(transaction_id=txn.pk)
    adapter = gateway_adapter_for(loaded.payment_gateway)
    operation = getattr(adapter, GATEWAY_OPERATIONS[Type(loaded.type)])
    try:
        result: GatewayResult = operation(
            amount_cents=loaded.amount_cents,
            currency_code=loaded.currency_code,
            source=loaded.payment_source,
            idempotency_key=loaded.pk,
            transaction=loaded,
        )
    except Exception as exc:
        logger.exception("payment gateway adapter failed on %s", loaded.number)
        return GatewayResult.failure(
            errors.GATEWAY_ERROR, "The payment gateway adapter failed.", repr(exc)[:1000]
        )
    if not result.succeeded and result.error_code not in errors.GATEWAY_FAILURE_CODES:
        result = replace(result, error_detail=result.error_code, error_code=errors.GATEWAY_ERROR)
    return result


def _settle(txn: Transaction, result: GatewayResult, *, actor: Actor) -> Transaction:
    """Step 3: record the gateway's answer. A failure gives the reserved amount back."""
    with transaction.atomic():
        order = locks.order_lock(txn.order_id)
        parent_id = txn.reference_authorization_id or txn.reference_capture_id
        if parent_id is not None:
            locks.transaction_lock(parent_id)
        locked = locks.transaction_lock(txn.pk)
        if locked.status != Status.PENDING:
            return locked  # settled meanwhile (forwarded or released by hand)
        if result.succeeded:
            locked.succeed()
            locked.gateway_transaction_id = result.gateway_transaction_id
            locked.token = result.token
            locked.message = result.message[:500]
            if (
                locked.type == Type.AUTHORIZATIONS
                and result.amount_cents is not None
                and 0 < result.amount_cents < locked.amount_cents
            ):
                locked.amount_cents = result.amount_cents  # a partial authorization
        else:
            locked.fail()
            locked.error_code = result.error_code
            locked.error_detail = result.error_detail[:1000]
            locked.message = result.message[:500]
            _release(locked)
        locked.save(
            update_fields=[
                "status",
                "amount_cents",
                "gateway_transaction_id",
                "token",
                "message",
                "error_code",
                "error_detail",
                "updated_at",
            ]
        )
        order_event_record(
            order_id=locked.order_id,
            actor=actor,
            trigger=TRIGGERS[Type(locked.type)],
            subject_type=locked.type,
            subject_id=locked.pk,
            from_status=Status.PENDING,
            to_status=locked.status,
            amount_cents=locked.amount_cents,
            currency_code=locked.currency_code,
            message=locked.message
            if locked.succeeded
            else f"{locked.error_code}: {locked.message}",
        )
        _order_payment_status_sync(order, actor)
    return locked


def _release(txn: Transaction) -> None:
    """Give a failed child's reserved amount back to its parent's running total."""
    amount = txn.amount_cents
    if txn.type == Type.CAPTURES:
        Transaction.objects.filter(pk=txn.reference_authorization_id).update(
            capture_amount_cents=F("capture_amount_cents") - amount
        )
    elif txn.type == Type.VOIDS:
        Transaction.objects.filter(pk=txn.reference_authorization_id).update(
            void_amount_cents=F("void_amount_cents") - amount
        )
    elif txn.type == Type.REFUNDS:
        Transaction.objects.filter(pk=txn.reference_capture_id).update(
            refund_amount_cents=F("refund_amount_cents") - amount
        )


# --- helpers of the reserve step --------------------------------------------------------------


@dataclass(frozen=True)
class _MoneyRequest:
    """What an idempotency key stands for: a repeated key must ask for the same thing."""

    idempotency_key: str | None
    type: str
    order_id: str
    parent_id: str | None = None
    amount_cents: int | None = None  # None: the whole balance

    def replay(self) -> Transaction | None:
        """The transaction the key was first used for, if any; a key reused for another
        request (another type, order, parent or amount) is refused."""
        if self.idempotency_key is None:
            return None
        if not self.idempotency_key.strip():
            raise errors.PaymentError(
                "An idempotency key cannot be blank.", code="VALIDATION_ERROR"
            )
        existing = Transaction.objects.filter(idempotency_key=self.idempotency_key).first()
        if existing is None:
            return None
        existing_parent = existing.reference_authorization_id or existing.reference_capture_id
        if (
            existing.type != self.type
            or existing.order_id != self.order_id
            or existing_parent != self.parent_id
            or (self.amount_cents is not None and existing.amount_cents != self.amount_cents)
        ):
            raise errors.IdempotencyKeyReused(
                f"The idempotency key was already used for {existing.number}, a different request."
            )
        return existing


def _check_requested_amount(amount_cents: int | None, attribute: str) -> None:
    if amount_cents is not None and (isinstance(amount_cents, bool) or amount_cents <= 0):
        raise errors.InvalidAmount(
            "The amount must be a positive number of cents.",
            pointer=f"/data/attributes/{attribute}",
        )


def _guard_parent(parent: Transaction, expected: str, verb: str) -> None:
    if parent.type != expected:
        raise errors.PaymentTransitionNotAllowed(
            f"{parent.number} is a {parent.get_type_display()}: only {expected} can be {verb}."
        )
    if parent.status != Status.SUCCEEDED:
        raise errors.PaymentTransitionNotAllowed(
            f"{parent.number} is {parent.status}: only a succeeded one can be {verb}."
        )


def _child_create(
    type: str, parent: Transaction, amount_cents: int, idempotency_key: str | None
) -> Transaction:
    return _transaction_create(
        type=type,
        order=parent.order,
        payment_gateway=parent.payment_gateway,
        payment_method=parent.payment_method,
        payment_source=parent.payment_source,
        amount_cents=amount_cents,
        currency_code=parent.currency_code,
        idempotency_key=idempotency_key,
        reference_authorization=parent if type in (Type.CAPTURES, Type.VOIDS) else None,
        reference_capture=parent if type == Type.REFUNDS else None,
    )


def _transaction_create(
    *,
    type: str,
    order: Order,
    payment_gateway: PaymentGateway,
    payment_method: PaymentMethod | None,
    payment_source: PaymentSourceModel,
    amount_cents: int,
    currency_code: str,
    idempotency_key: str | None,
    reference_authorization: Transaction | None = None,
    reference_capture: Transaction | None = None,
) -> Transaction:
    sequence = sequence_next(f"order_transactions:{order.pk}")
    return Transaction.objects.create(
        type=type,
        number=f"{order.number}/T/{sequence:03d}",
        order=order,
        payment_gateway=payment_gateway,
        payment_method=payment_method,
        payment_method_type=payment_source.source_type,
        wire_transfer=payment_source if isinstance(payment_source, WireTransfer) else None,
        external_payment=payment_source if isinstance(payment_source, ExternalPayment) else None,
        test_payment=payment_source if isinstance(payment_source, TestPayment) else None,
        amount_cents=amount_cents,
        currency_code=currency_code,
        idempotency_key=idempotency_key,
        reference_authorization=reference_authorization,
        reference_capture=reference_capture,
    )


# --- gateways, methods and sources ------------------------------------------------------------


def payment_gateway_create(*, data: Mapping[str, Any]) -> PaymentGateway:
    return resource_create(PaymentGateway, data)


def payment_gateway_update(
    *, payment_gateway: PaymentGateway, data: Mapping[str, Any]
) -> PaymentGateway:
    return resource_update(payment_gateway, data)


def payment_gateway_disable(*, payment_gateway: PaymentGateway) -> PaymentGateway:
    return _set_disabled(PaymentGateway, payment_gateway.pk, disabled=True)


def payment_gateway_enable(*, payment_gateway: PaymentGateway) -> PaymentGateway:
    return _set_disabled(PaymentGateway, payment_gateway.pk, disabled=False)


def payment_gateway_regenerate_shared_secret(*, payment_gateway: PaymentGateway) -> PaymentGateway:
    with transaction.atomic():
        locked = PaymentGateway.objects.select_for_update().get(pk=payment_gateway.pk)
        locked.shared_secret = new_gateway_shared_secret()
        locked.save(update_fields=["shared_secret", "updated_at"])
    return locked


def payment_method_create(*, data: Mapping[str, Any]) -> PaymentMethod:
    return resource_create(PaymentMethod, data)


def payment_method_update(
    *, payment_method: PaymentMethod, data: Mapping[str, Any]
) -> PaymentMethod:
    return resource_update(payment_method, data)


def payment_method_disable(*, payment_method: PaymentMethod) -> PaymentMethod:
    return _set_disabled(PaymentMethod, payment_method.pk, disabled=True)


def payment_method_enable(*, payment_method: PaymentMethod) -> PaymentMethod:
    return _set_disabled(PaymentMethod, payment_method.pk, disabled=False)


def _set_disabled[M: PaymentGateway | PaymentMethod](
    model: type[M], pk: str, *, disabled: bool
) -> M:
    with transaction.atomic():
        locked = cast(M, model._default_manager.select_for_update().get(pk=pk))
        if (locked.disabled_at is None) == disabled:
            locked.disabled_at = timezone.now() if disabled else None
            locked.save(update_fields=["disabled_at", "updated_at"])
    return locked


def wire_transfer_create(*, order: Order) -> WireTransfer:
    return resource_create(WireTransfer, {"order": order})


def external_payment_create(
    *, order: Order, payment_source_token: str, options: Mapping[str, Any] | None = None
) -> ExternalPayment:
    return resource_create(
        ExternalPayment,
        {
            "order": order,
            "payment_source_token": payment_source_token,
            "options": dict(options or {}),
        },
    )


def test_payment_create(*, order: Order, token: str) -> TestPayment:
    return resource_create(TestPayment, {"order": order, "token": token})


test_payment_create.__test__ = False  # type: ignore[attr-defined]
