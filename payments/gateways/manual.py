"""The manual gateway: wire transfers and other offline payments.

Authorizing succeeds at once (the customer is told how to pay); captures, voids and refunds
succeed at once too: the money itself is settled out of band, and the merchant records here
what happened there.

`lookup` answers every call as succeeded, with the id the call itself answers: nothing outside
happened or can be asked about, so a pending manual transaction was accepted as soon as it was
asked for, and completing it is what the merchant asked (the money, if any, is still settled
by hand, as for any manual transaction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from payments.gateways.base import OPERATIONS, GatewayResult, ReusableSource

if TYPE_CHECKING:
    from payments.models import PaymentGateway, PaymentSourceModel, Transaction


class ManualGateway:
    def __init__(self, gateway: PaymentGateway) -> None:
        self.gateway = gateway

    def _accept(self, action: str, idempotency_key: str) -> GatewayResult:
        return GatewayResult(
            succeeded=True,
            gateway_transaction_id=f"manual-{action}-{idempotency_key}",
            message="Accepted: settled out of band",
        )

    def authorize(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult:
        return self._accept("authorize", idempotency_key)

    def capture(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult:
        return self._accept("capture", idempotency_key)

    def void(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult:
        return self._accept("void", idempotency_key)

    def refund(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult:
        return self._accept("refund", idempotency_key)

    def lookup(
        self, *, operation: str, idempotency_key: str, transaction: Transaction
    ) -> GatewayResult | None:
        if operation not in OPERATIONS:
            raise ValueError(f"not a gateway operation: {operation!r}")
        return self._accept(operation, idempotency_key)

    def reusable_source(
        self, *, source: PaymentSourceModel, customer_reference: str, idempotency_key: str
    ) -> ReusableSource | None:
        return None  # a wire transfer is paid by hand each time: nothing to reuse
