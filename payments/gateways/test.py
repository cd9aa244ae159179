"""The test gateway: a simulated card gateway whose outcome is decided by the card token, so
every path (success, decline, lack of funds, timeout, a failure at a later step) can be tried
without a network.

Tokens: `tok_<outcome>` applies to every operation, `tok_<operation>_<outcome>` only to that
one (the others succeed):

| outcome | the caller hears | the gateway did |
|---|---|---|
| `success` | succeeded | the operation |
| `declined` | `PAYMENT_DECLINED` | nothing (it recorded the decline) |
| `insufficient_funds` | `INSUFFICIENT_FUNDS` | nothing (it recorded the refusal) |
| `timeout` | `GATEWAY_TIMEOUT`, after a few milliseconds | the operation: its answer was lost |
| `slow_<seconds>` | succeeded after `<seconds>` (`slow_2`, `slow_0.5`); `GATEWAY_TIMEOUT` at the deadline if that is longer | the operation |
| `unreachable` | `GATEWAY_UNREACHABLE` | nothing: it never saw the call |

plus `tok_partial` (authorizes half the amount asked, rounded down). Any other token is declined.

Every card can be saved to a wallet (`reusable_source` gives back the card's token and a
customer token), except the tokens that contain `single_use` (`tok_single_use`, which
otherwise succeeds like `tok_success`).
Examples: `tok_success`, `tok_declined`, `tok_timeout`, `tok_capture_declined`,
`tok_refund_timeout`, `tok_slow_3`, `tok_authorize_slow_0.2`.

A slow token never waits longer than the deadline of a real call
(`base.gateway_deadline_seconds`: the gateway's `timeout_ms`, at most
`OMS_GATEWAY_TIMEOUT_SECONDS`), so a fault test cannot hang: give the gateway a short
`timeout_ms` to try a gateway slower than the deadline.

Like a real gateway, a repeated idempotency key returns what the gateway recorded the first time
without moving money again: the retry of a `timeout` succeeds, as the operation did happen.
Every call is logged in `TestGateway.calls` (process-wide, thread-safe) so tests can count how
often money was asked to move.

`lookup` answers from the same record (the last column above): the first answer to the key
(`tok_timeout`, `tok_slow_*`: the success the caller never heard; `tok_declined`: the decline),
or None for a key the gateway never saw (never sent, `tok_unreachable`, or sent to another
process: the record is per process). `tok_lookup_timeout` and `tok_lookup_unreachable` make the
lookup itself fail (`GatewayLookupFailed`), their operations succeed. Lookups are logged in
`TestGateway.lookups`. To simulate a process that died after the gateway did the operation,
stop the services from settling (or call the adapter directly with the pending transaction's
id); for one that died before calling, stop them from calling.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from payments import errors
from payments.gateways.base import (
    OPERATIONS,
    GatewayResult,
    ReusableSource,
    gateway_deadline_seconds,
)

if TYPE_CHECKING:
    from payments.models import PaymentGateway, PaymentSourceModel, Transaction

SIMULATED_TIMEOUT_SECONDS = 0.005
LOOKUP_FAILURES = {
    "timeout": (errors.GATEWAY_TIMEOUT, "The test gateway's lookup did not answer in time"),
    "unreachable": (errors.GATEWAY_UNREACHABLE, "The test gateway's lookup could not be reached"),
}


@dataclass(frozen=True)
class TestGatewayLookup:
    __test__ = False

    operation: str
    idempotency_key: str


@dataclass(frozen=True)
class TestGatewayCall:
    __test__ = False

    operation: str
    amount_cents: int
    currency_code: str
    token: str
    idempotency_key: str


SINGLE_USE = "single_use"


def _outcome_for(token: str, operation: str) -> str:
    name = token.removeprefix("tok_") if token.startswith("tok_") else ""
    if name == "partial":
        return "partial" if operation == "authorize" else "success"
    if name == SINGLE_USE:
        return "success"
    for prefix in (*OPERATIONS, "lookup"):
        if name.startswith(f"{prefix}_"):
            return name.removeprefix(f"{prefix}_") if prefix == operation else "success"
    return name or "unknown"


def _slow_seconds(outcome: str) -> float | None:
    """`slow_2` → 2.0, `slow_0.5` → 0.5; None for any other outcome."""
    if not outcome.startswith("slow_"):
        return None
    try:
        seconds = float(outcome.removeprefix("slow_"))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


class TestGateway:
    __test__ = False  # not a pytest test class, whatever its name

    calls: ClassVar[list[TestGatewayCall]] = []
    lookups: ClassVar[list[TestGatewayLookup]] = []
    _answers: ClassVar[dict[str, GatewayResult]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, gateway: PaymentGateway) -> None:
        self.gateway = gateway

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.calls.clear()
            cls.lookups.clear()
            cls._answers.clear()

    @classmethod
    def calls_of(cls, operation: str) -> list[TestGatewayCall]:
        with cls._lock:
            return [call for call in cls.calls if call.operation == operation]

    def _run(
        self,
        operation: str,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
    ) -> GatewayResult:
        token = source.gateway_token
        with self._lock:
            self.calls.append(
                TestGatewayCall(operation, amount_cents, currency_code, token, idempotency_key)
            )
            replay = self._answers.get(f"{operation}:{idempotency_key}")
        if replay is not None:
            return replay
        if self.gateway.test_latency_ms:
            time.sleep(self.gateway.test_latency_ms / 1000)
        outcome = _outcome_for(token, operation)
        if outcome == "unreachable":
            return GatewayResult.failure(
                errors.GATEWAY_UNREACHABLE, "The test gateway could not be reached"
            )
        answer_lost = False
        if outcome == "timeout":
            time.sleep(SIMULATED_TIMEOUT_SECONDS)
            outcome, answer_lost = "success", True
        elif (seconds := _slow_seconds(outcome)) is not None:
            deadline = gateway_deadline_seconds(self.gateway)
            time.sleep(min(seconds, deadline))
            outcome, answer_lost = "success", seconds > deadline
        result = self._decide(outcome, token, operation, amount_cents, idempotency_key)
        with self._lock:
            result = self._answers.setdefault(f"{operation}:{idempotency_key}", result)
        if answer_lost:
            return GatewayResult.failure(
                errors.GATEWAY_TIMEOUT, "The test gateway did not answer in time"
            )
        return result

    def _decide(
        self, outcome: str, token: str, operation: str, amount_cents: int, idempotency_key: str
    ) -> GatewayResult:
        """What the gateway does (and records) for `outcome`."""
        gateway_id = f"test_{operation}_{idempotency_key}"
        if outcome == "success":
            return GatewayResult(True, gateway_id, "Accepted", token=gateway_id)
        if outcome == "partial":
            return GatewayResult(
                True,
                gateway_id,
                "Partially authorized",
                token=gateway_id,
                amount_cents=amount_cents // 2,
            )
        if outcome == "declined":
            return GatewayResult.failure(errors.PAYMENT_DECLINED, "Card declined", "05")
        if outcome == "insufficient_funds":
            return GatewayResult.failure(errors.INSUFFICIENT_FUNDS, "Insufficient funds", "51")
        return GatewayResult.failure(
            errors.PAYMENT_DECLINED, "Card declined", f"unknown test token {token!r}"
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
        return self._run(
            "authorize",
            amount_cents=amount_cents,
            currency_code=currency_code,
            source=source,
            idempotency_key=idempotency_key,
        )

    def capture(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult:
        return self._run(
            "capture",
            amount_cents=amount_cents,
            currency_code=currency_code,
            source=source,
            idempotency_key=idempotency_key,
        )

    def void(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult:
        return self._run(
            "void",
            amount_cents=amount_cents,
            currency_code=currency_code,
            source=source,
            idempotency_key=idempotency_key,
        )

    def refund(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult:
        return self._run(
            "refund",
            amount_cents=amount_cents,
            currency_code=currency_code,
            source=source,
            idempotency_key=idempotency_key,
        )

    def lookup(
        self, *, operation: str, idempotency_key: str, transaction: Transaction
    ) -> GatewayResult | None:
        if operation not in OPERATIONS:
            raise ValueError(f"not a gateway operation: {operation!r}")
        token = transaction.payment_source.gateway_token
        with self._lock:
            self.lookups.append(TestGatewayLookup(operation, idempotency_key))
            recorded = self._answers.get(f"{operation}:{idempotency_key}")
        name = token.removeprefix("tok_lookup_") if token.startswith("tok_lookup_") else ""
        if name in LOOKUP_FAILURES:
            code, message = LOOKUP_FAILURES[name]
            raise errors.GatewayLookupFailed(message, code=code)
        return recorded

    def reusable_source(
        self, *, source: PaymentSourceModel, customer_reference: str, idempotency_key: str
    ) -> ReusableSource | None:
        token = source.gateway_token
        with self._lock:
            self.calls.append(TestGatewayCall("reusable_source", 0, "", token, idempotency_key))
        if SINGLE_USE in token:
            return None
        return ReusableSource(
            payment_source_token=token,
            customer_token=f"cus_test_{customer_reference}",
            name=f"Test card {token}",
        )
