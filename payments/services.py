"""Every write of the payments app.

Money moves in three steps, so that a gateway call never runs under a row lock and a repeated
or concurrent request can never move money twice. Payments provides the steps; the orders app
runs them (`orders/services/money.py`), because every money movement is also an order-level
decision (the order's lock, its payment and fulfillment statuses, its timeline):

1. **reserve** (`authorization_reserve`, `capture_reserve`, `void_reserve`, `refund_reserve`) —
   inside the caller's transaction, with the order already locked by the caller (the one order
   lock, `orders/locks.py`): lock the parent transaction, re-check its balance, add the amount
   to the parent's running total and insert the transaction as `pending`. A concurrent request
   waits on the order lock and then sees the reduced balance.
2. **call** (`transaction_gateway_call`) — ask the gateway, holding no lock and outside any
   transaction. The transaction's id is the gateway's idempotency key, so a retry of the same
   attempt can be deduplicated by the gateway.
3. **settle** (`transaction_settle`) — inside the caller's transaction, order locked again:
   mark the transaction `succeeded` or `failed` (a failure gives the reserved amount back to
   the parent).

Payments never writes an order column or an order event: it returns transactions and their
balances (`selectors.order_payment_totals`), and the orders workflow decides.

A caller's `idempotency_key` is stored on the transaction (unique): the same key returns the
first transaction as it stands, without calling the gateway again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from django.db import transaction
from django.db.models import CharField, Count, F, Func, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat, Greatest, Length, LPad
from django.utils import timezone

from oms.services import resource_create, resource_update
from orders.models import Order
from payments import errors, locks, selectors
from payments.gateways import GatewayResult, gateway_adapter_for
from payments.gateways.base import ReusableSource
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


@dataclass(frozen=True)
class Reserved:
    """What a reserve step answers: the transaction, and whether this request created it
    (False: an idempotency key replayed an earlier one, which must not be sent again)."""

    transaction: Transaction
    created: bool


def _assert_order_locked() -> None:
    assert transaction.get_connection().in_atomic_block, (
        "payments' reserve and settle steps run inside the orders workflow's transaction, "
        "with the order locked"
    )


# --- step 1: reserve ---------------------------------------------------------------------------


def authorization_reserve(
    *,
    order: Order,
    payment_method: PaymentMethod,
    payment_source: PaymentSourceModel,
    amount_cents: int,
    idempotency_key: str | None = None,
) -> Reserved:
    """A pending authorization of `amount_cents` on `payment_source`, or the one the key made
    before. Raises before anything is written when the request itself is wrong."""
    _assert_order_locked()
    request = _MoneyRequest(idempotency_key, Type.AUTHORIZATIONS, order.pk)
    if (replayed := request.replay()) is not None:
        return Reserved(replayed, created=False)
    _check_authorization_request(order, payment_method, payment_source, amount_cents)
    txn = _transaction_create(
        type=Type.AUTHORIZATIONS,
        order=order,
        payment_gateway=payment_method.payment_gateway,
        payment_method=payment_method,
        payment_source=payment_source,
        amount_cents=amount_cents,
        currency_code=order.currency_code,
        idempotency_key=idempotency_key,
    )
    return Reserved(txn, created=True)


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


def capture_reserve(
    *,
    authorization: Transaction,
    amount_cents: int | None = None,
    limit_cents: int | None = None,
    idempotency_key: str | None = None,
) -> Reserved:
    """A pending capture of `amount_cents` of a succeeded authorization (default: its whole
    capture balance, at most `limit_cents` — what the order still has to collect). Repeatable
    up to the balance; past it, or with nothing to capture, `INSUFFICIENT_CAPTURE_BALANCE`."""
    _assert_order_locked()
    request = _MoneyRequest(
        idempotency_key, Type.CAPTURES, authorization.order_id, authorization.pk, amount_cents
    )
    if (replayed := request.replay()) is not None:
        return Reserved(replayed, created=False)
    _check_requested_amount(amount_cents, "_capture_amount_cents")
    parent = locks.transaction_lock(authorization.pk)
    _guard_parent(parent, Type.AUTHORIZATIONS, "captured")
    balance = parent.capture_balance_cents
    if limit_cents is not None:
        balance = max(0, min(balance, limit_cents))
    amount = balance if amount_cents is None else amount_cents
    if amount == 0 or amount > balance:
        raise errors.InsufficientCaptureBalance(
            f"Cannot capture {amount}: the capture balance of {parent.number} is {balance}.",
            pointer="/data/attributes/_capture_amount_cents",
        )
    Transaction.objects.filter(pk=parent.pk).update(
        capture_amount_cents=F("capture_amount_cents") + amount
    )
    return Reserved(_child_create(Type.CAPTURES, parent, amount, idempotency_key), created=True)


def void_reserve(*, authorization: Transaction, idempotency_key: str | None = None) -> Reserved:
    """A pending void of the uncaptured rest of a succeeded authorization (what is neither
    captured, nor being captured, nor voided). Nothing left: `NOTHING_TO_VOID`."""
    _assert_order_locked()
    request = _MoneyRequest(idempotency_key, Type.VOIDS, authorization.order_id, authorization.pk)
    if (replayed := request.replay()) is not None:
        return Reserved(replayed, created=False)
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
    return Reserved(_child_create(Type.VOIDS, parent, amount, idempotency_key), created=True)


def refund_reserve(
    *, capture: Transaction, amount_cents: int | None = None, idempotency_key: str | None = None
) -> Reserved:
    """A pending refund of `amount_cents` of a succeeded capture (default: its whole refund
    balance). Repeatable up to the balance; past it, `INSUFFICIENT_REFUND_BALANCE`."""
    _assert_order_locked()
    request = _MoneyRequest(
        idempotency_key, Type.REFUNDS, capture.order_id, capture.pk, amount_cents
    )
    if (replayed := request.replay()) is not None:
        return Reserved(replayed, created=False)
    _check_requested_amount(amount_cents, "_refund_amount_cents")
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
    return Reserved(_child_create(Type.REFUNDS, parent, amount, idempotency_key), created=True)


# --- step 2: the gateway call --------------------------------------------------------------------


def _loaded_for_gateway(txn: Transaction) -> bool:
    """Whether `txn` carries everything an adapter reads (as a reserve step returns it: made
    with its order, gateway, source and parent in memory), so it need not be read again."""
    relations = ["order", "payment_gateway", "wire_transfer", "external_payment", "test_payment"]
    relations += ["reference_authorization", "reference_capture"]
    return all(
        getattr(txn, f"{name}_id") is None or Transaction._meta.get_field(name).is_cached(txn)  # type: ignore[union-attr]
        for name in relations
    )


def transaction_gateway_call(*, txn: Transaction) -> GatewayResult:
    """Ask the gateway to carry out a pending transaction: no database transaction, no lock
    (the callers' entry points are `atomic(durable=True)`, so one cannot run under a caller's
    lock). An adapter that raises is a failed call, so a bug in an adapter can never leave an
    amount reserved for ever."""
    loaded = (
        txn
        if _loaded_for_gateway(txn)
        else selectors.transaction_for_gateway(transaction_id=txn.pk)
    )
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


def transaction_gateway_lookup(*, txn: Transaction) -> GatewayResult | None:
    """Ask the gateway what became of a pending transaction's call (a recovery after its
    process died), outside any transaction and holding no lock; it moves no money. Answers as
    `adapter.lookup`: a result to settle with, None when the gateway never saw the call; raises
    `GatewayLookupFailed` when it cannot tell (an adapter's bug included)."""
    loaded = selectors.transaction_for_gateway(transaction_id=txn.pk)
    adapter = gateway_adapter_for(loaded.payment_gateway)
    try:
        return adapter.lookup(
            operation=GATEWAY_OPERATIONS[Type(loaded.type)],
            idempotency_key=loaded.pk,  # the key `transaction_gateway_call` sent
            transaction=loaded,
        )
    except errors.GatewayLookupFailed:
        raise
    except Exception as exc:
        logger.exception("payment gateway lookup failed on %s", loaded.number)
        raise errors.GatewayLookupFailed(
            "The payment gateway adapter's lookup failed.",
            code=errors.GATEWAY_ERROR,
            error_detail=repr(exc)[:1000],
        ) from exc


# --- step 3: settle ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """What a settle step answers: the transaction, and whether this call settled it (False:
    it was settled meanwhile, by hand or by the recovery, and is returned as it is)."""

    transaction: Transaction
    settled: bool


def transaction_settle(*, txn: Transaction, result: GatewayResult) -> Settlement:
    """Record the gateway's answer on a pending transaction (order locked by the caller). A
    failure gives the reserved amount back to the parent. A transaction settled meanwhile
    (forwarded or released by hand, or by the recovery) is returned as it is."""
    _assert_order_locked()
    parent_id = txn.reference_authorization_id or txn.reference_capture_id
    if parent_id is not None:
        locks.transaction_lock(parent_id)  # parent before child
    locked = locks.transaction_lock(txn.pk)
    if locked.status != Status.PENDING:
        return Settlement(locked, settled=False)
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
    return Settlement(locked, settled=True)


def transaction_forward_result(*, txn: Transaction, by: str) -> GatewayResult:
    """`_forward`: the answer to settle a stuck pending transaction with, when the merchant
    checked that the gateway did move the money."""
    _guard_pending(txn)
    return GatewayResult(succeeded=True, message=f"Forwarded to succeeded by {by}")


def transaction_release_result(*, txn: Transaction, by: str) -> GatewayResult:
    """The answer to settle a stuck pending transaction with, when the merchant checked that
    the gateway did not move the money (its reserved amount goes back)."""
    _guard_pending(txn)
    return GatewayResult.failure(errors.GATEWAY_ERROR, f"Released as failed by {by}")


def _guard_pending(txn: Transaction) -> None:
    if txn.status != Status.PENDING:
        raise errors.PaymentTransitionNotAllowed(
            f"{txn.number} is {txn.status}, not pending.", pointer="/data/attributes/_forward"
        )


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


def _transaction_number(order: Order) -> Func:
    """The next number of the order's transactions, `<order number>/T/<sequence, 3 digits at
    least>`, counted by the INSERT itself (the row comes back with it). Numbered under the
    order lock (the callers hold it) and never deleted: one more than how many it has."""
    counted = (
        Transaction.objects.filter(order_id=order.pk)
        .order_by()
        .values("order_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    sequence = Cast(Coalesce(Subquery(counted), 0) + 1, CharField())
    return Concat(
        Value(f"{order.number}/T/"),
        LPad(sequence, Greatest(Length(sequence), 3), Value("0")),
        output_field=CharField(),
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
    return Transaction.objects.create(
        type=type,
        number=_transaction_number(order),
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


def payment_source_reusable(
    *, payment_method: PaymentMethod, source: PaymentSourceModel, customer_reference: str
) -> ReusableSource | None:
    """What the method's gateway keeps to charge `source` again (for a customer's wallet), or
    None when it says it cannot. Calls the gateway: never inside a transaction of the
    caller's (an adapter that raises is a "no", logged)."""
    adapter = gateway_adapter_for(payment_method.payment_gateway)
    try:
        return adapter.reusable_source(
            source=source,
            customer_reference=customer_reference,
            idempotency_key=f"wallet:{source.pk}",
        )
    except Exception:
        logger.exception("payment gateway adapter failed to tokenize %s", source.pk)
        return None


REUSABLE_SOURCE_TYPES = frozenset({TestPayment.source_type, ExternalPayment.source_type})


def payment_source_from_token(
    *, order: Order, payment_source_type: str, payment_source_token: str, customer_token: str
) -> PaymentSourceModel:
    """A new payment source of `order` that charges a saved token again (a wallet entry)."""
    if payment_source_type == TestPayment.source_type:
        return test_payment_create(order=order, token=payment_source_token)
    if payment_source_type == ExternalPayment.source_type:
        options = {"customer_token": customer_token} if customer_token else {}
        return external_payment_create(
            order=order, payment_source_token=payment_source_token, options=options
        )
    raise ValueError(f"{payment_source_type} cannot be charged again from a token")


def test_payment_create(*, order: Order, token: str) -> TestPayment:
    return resource_create(TestPayment, {"order": order, "token": token})


test_payment_create.__test__ = False  # type: ignore[attr-defined]
