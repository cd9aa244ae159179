"""Stable error codes of the payments app.

Two kinds of code live here:

- refusals, raised as `DomainError`s before any money moves (nothing is written): the request
  cannot be honoured as asked (`INSUFFICIENT_CAPTURE_BALANCE`, `NOTHING_TO_VOID`, ...);
- gateway failures, stored in `Transaction.error_code` of a failed transaction (the call was
  made, or tried, and nothing moved). `PaymentFailed` carries one of these for callers that
  want to turn a failed transaction into a refusal (placing an order whose authorization
  failed, for instance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from oms.errors import DomainError, TransitionNotAllowed

if TYPE_CHECKING:
    from payments.models import Transaction

# --- gateway failure codes (Transaction.error_code) ---------------------------------------------
PAYMENT_DECLINED = "PAYMENT_DECLINED"
"""The gateway (or the card issuer) refused the operation."""
INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
"""The issuer refused for lack of funds."""
GATEWAY_TIMEOUT = "GATEWAY_TIMEOUT"
"""The gateway did not answer in time. The operation may or may not have happened there:
nothing is recorded as moved here; reconcile with the gateway before retrying with a new key."""
GATEWAY_UNREACHABLE = "GATEWAY_UNREACHABLE"
"""The gateway could not be connected to."""
GATEWAY_ERROR = "GATEWAY_ERROR"
"""The gateway answered with an error status (non-2xx) or the adapter failed."""
GATEWAY_INVALID_RESPONSE = "GATEWAY_INVALID_RESPONSE"
"""The gateway answered 2xx with a body that is not the expected JSON."""
GATEWAY_NOT_CONFIGURED = "GATEWAY_NOT_CONFIGURED"
"""The gateway has no endpoint for this operation."""

GATEWAY_FAILURE_CODES = frozenset(
    {
        PAYMENT_DECLINED,
        INSUFFICIENT_FUNDS,
        GATEWAY_TIMEOUT,
        GATEWAY_UNREACHABLE,
        GATEWAY_ERROR,
        GATEWAY_INVALID_RESPONSE,
        GATEWAY_NOT_CONFIGURED,
    }
)


# --- refusals ----------------------------------------------------------------------------------
class PaymentError(DomainError):
    code = "PAYMENT_ERROR"


class InsufficientCaptureBalance(PaymentError):
    code = "INSUFFICIENT_CAPTURE_BALANCE"


class InsufficientRefundBalance(PaymentError):
    code = "INSUFFICIENT_REFUND_BALANCE"


class NothingToVoid(PaymentError):
    code = "NOTHING_TO_VOID"


class InvalidAmount(PaymentError):
    code = "INVALID_AMOUNT"


class PaymentMethodNotAvailable(PaymentError):
    code = "PAYMENT_METHOD_NOT_AVAILABLE"


class PaymentSourceMismatch(PaymentError):
    code = "PAYMENT_SOURCE_MISMATCH"


class CurrencyMismatch(PaymentError):
    code = "CURRENCY_MISMATCH"


class IdempotencyKeyReused(PaymentError):
    """The key was first used for a different operation (another type, parent or amount)."""

    code = "IDEMPOTENCY_KEY_REUSED"
    status = 409


class PaymentTransitionNotAllowed(TransitionNotAllowed):
    """The transaction is not in a state (or of a type) that allows this operation."""

    code = "TRANSITION_NOT_ALLOWED"


class GatewayLookupFailed(PaymentError):
    """A gateway lookup could not tell what became of a call: not configured, or it timed out,
    could not be reached or answered something else than a known or an unknown call. `code`
    is one of the gateway failure codes (`GATEWAY_NOT_CONFIGURED`, `GATEWAY_TIMEOUT`, ...).
    The call may or may not have happened: nothing can be concluded from it."""

    status = 502

    def __init__(self, detail: str, *, code: str, error_detail: str = ""):
        super().__init__(detail, code=code)
        self.error_detail = error_detail


class PaymentFailed(PaymentError):
    """A gateway call failed; `code` is the failed transaction's `error_code`."""

    def __init__(self, transaction: Transaction):
        super().__init__(
            transaction.message or f"The {transaction.get_type_display()} failed.",
            code=transaction.error_code or PAYMENT_DECLINED,
        )
        self.transaction = transaction
