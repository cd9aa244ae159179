"""The one small interface every payment gateway adapter implements.

Adding Stripe or Adyen means one more class with these methods (four that move money and
`lookup`) and one more entry in `payments.gateways.ADAPTERS`; nothing in orders changes.
Adapters only talk to their gateway: they never write to the database and never raise for a
refused payment, they answer with a `GatewayResult` (an unexpected exception is turned into a
failed result by the services).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.conf import settings

if TYPE_CHECKING:
    from payments.models import PaymentGateway, PaymentSourceModel, Transaction


OPERATIONS = ("authorize", "capture", "void", "refund")
"""The adapter methods that move money, by name (`operation` of `lookup`)."""


@dataclass(frozen=True)
class GatewayResult:
    succeeded: bool
    gateway_transaction_id: str = ""
    message: str = ""
    error_code: str = ""  # one of the stable codes in payments.errors when it failed
    error_detail: str = ""  # the gateway's own code/explanation, for people
    token: str = ""  # the gateway's token for the transaction, when it has one
    amount_cents: int | None = None  # what the gateway actually authorized, if less than asked

    @classmethod
    def failure(cls, error_code: str, message: str, error_detail: str = "") -> GatewayResult:
        return cls(
            succeeded=False, error_code=error_code, message=message, error_detail=error_detail
        )


@dataclass(frozen=True)
class ReusableSource:
    """What a gateway keeps to charge a payment source again, for a customer's wallet: its
    reusable token or reference for the source (never a card number) and, when it has one,
    its own token for the customer; `name` is how a customer recognises it."""

    payment_source_token: str
    customer_token: str = ""
    name: str = ""


def gateway_deadline_seconds(gateway: PaymentGateway) -> float:
    """How long one call to `gateway` may take in all: its own `timeout_ms`, never more than
    `OMS_GATEWAY_TIMEOUT_SECONDS` (the ceiling that keeps a worker from being held)."""
    return min(gateway.timeout_ms / 1000, settings.OMS_GATEWAY_TIMEOUT_SECONDS)


class PaymentGatewayAdapter(Protocol):
    """Each method moves `amount_cents` of `currency_code` with `source`, at most once per
    `idempotency_key` (the gateway must treat a repeated key as the same request).

    `transaction` is the pending row being decided (its number, order and references), for
    adapters that must describe the operation to the gateway; adapters only read it.
    """

    def authorize(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult: ...

    def capture(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult: ...

    def void(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult: ...

    def refund(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult: ...

    def lookup(
        self, *, operation: str, idempotency_key: str, transaction: Transaction
    ) -> GatewayResult | None:
        """What became of an earlier `operation` (one of `OPERATIONS`) sent with
        `idempotency_key` for `transaction` (the pending row; adapters only read it). For a
        recovery that finds a transaction still pending after its process died. Moves no money.

        - a succeeded `GatewayResult` (`gateway_transaction_id`, `token`, `amount_cents` as the
          call would have answered): the gateway did it;
        - a failed `GatewayResult` (`PAYMENT_DECLINED`, `INSUFFICIENT_FUNDS`): the gateway
          refused it, nothing moved;
        - `None`: the gateway has no record of that key, it never saw the call;
        - raises `payments.errors.GatewayLookupFailed` when it cannot tell (no lookup
          configured, timeout, unreachable, a bad answer). The call may have happened: keep the
          transaction pending and ask again later, or re-send `operation` with the *same*
          idempotency key (the gateway answers a known key without moving money twice).
        """
        ...

    def reusable_source(
        self, *, source: PaymentSourceModel, customer_reference: str, idempotency_key: str
    ) -> ReusableSource | None:
        """The gateway's reusable reference for `source`, which it has just authorized, to
        save in the wallet of the customer `customer_reference`; None when the gateway says
        the source cannot be used again (or cannot be asked). Moves no money; like the other
        calls it may reach the network, so it is never called while a row lock is held."""
        ...


class AdapterFactory(Protocol):
    def __call__(self, gateway: PaymentGateway) -> PaymentGatewayAdapter: ...
