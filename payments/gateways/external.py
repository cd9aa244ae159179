"""The external gateway: the merchant's own endpoints, as Commerce Layer's external gateways.

For each operation the gateway POSTs a JSON:API document to the URL configured for it
(`authorize_url`, `capture_url`, `void_url`, `refund_url`):

- `data` is the transaction being decided (`authorizations`, `captures`, `voids` or `refunds`),
  with `amount_cents`, `currency_code`, `number` and its relationships;
- `included` carries the order, the external payment (with `payment_source_token`) and, for a
  capture, void or refund, the transaction it refers to (with its `token`);

signed with `X-CommerceLayer-Signature: base64(HMAC-SHA256(raw body, shared_secret))` and sent
with an `Idempotency-Key` header. The endpoint answers 2xx with

    {"success": true, "data": {"transaction_token": "...", "amount_cents": 1000}}
    {"success": false, "data": {"error": {"code": "...", "message": "..."}}}

(`amount_cents` of an authorization may be lower than asked: a partial authorization).
A timeout, a connection failure, a non-2xx status or a body that is not such JSON is a failed
transaction with a stable `error_code` (`GATEWAY_TIMEOUT`, `GATEWAY_UNREACHABLE`,
`GATEWAY_ERROR`, `GATEWAY_INVALID_RESPONSE`), never an exception.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from payments import errors
from payments.gateways.base import GatewayResult

if TYPE_CHECKING:
    from payments.models import PaymentGateway, PaymentSourceModel, Transaction

SIGNATURE_HEADER = "X-CommerceLayer-Signature"
MAX_RESPONSE_BYTES = 1024 * 1024


def payload_signature(body: bytes, shared_secret: str) -> str:
    """base64(HMAC-SHA256(body, shared_secret)): what the endpoint recomputes to trust us."""
    digest = hmac.new(shared_secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _transaction_resource(transaction: Transaction) -> dict[str, Any]:
    return {
        "id": transaction.pk,
        "type": transaction.type,
        "attributes": {
            "number": transaction.number,
            "amount_cents": transaction.amount_cents,
            "currency_code": transaction.currency_code,
            "payment_method_type": transaction.payment_method_type,
            "token": transaction.token,
            "gateway_transaction_id": transaction.gateway_transaction_id,
        },
    }


def transaction_payload(transaction: Transaction, source: PaymentSourceModel) -> dict[str, Any]:
    order = transaction.order
    resource = _transaction_resource(transaction)
    relationships: dict[str, Any] = {
        "order": {"data": {"type": "orders", "id": order.pk}},
        "payment_source": {"data": {"type": source.source_type, "id": source.pk}},
    }
    included: list[dict[str, Any]] = [
        {
            "id": order.pk,
            "type": "orders",
            "attributes": {
                "number": order.number,
                "status": order.status,
                "payment_status": order.payment_status,
                "currency_code": order.currency_code,
                "customer_email": order.customer_email,
                "language_code": order.language_code,
            },
            "relationships": {"market": {"data": {"type": "markets", "id": order.market_id}}},
        },
        {
            "id": source.pk,
            "type": source.source_type,
            "attributes": {
                "payment_source_token": source.gateway_token,
                "options": getattr(source, "options", {}),
            },
        },
    ]
    for name in ("reference_authorization", "reference_capture"):
        parent = getattr(transaction, name)
        if parent is not None:
            relationships[name] = {"data": {"type": parent.type, "id": parent.pk}}
            included.append(_transaction_resource(parent))
    resource["relationships"] = relationships
    return {"data": resource, "included": included}


class ExternalGateway:
    def __init__(self, gateway: PaymentGateway) -> None:
        self.gateway = gateway

    def _post(
        self,
        url: str,
        *,
        operation: str,
        amount_cents: int,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult:
        if not url:
            return GatewayResult.failure(
                errors.GATEWAY_NOT_CONFIGURED, f"The external gateway has no {operation} URL."
            )
        if not url.startswith(("https://", "http://")):
            return GatewayResult.failure(
                errors.GATEWAY_NOT_CONFIGURED, f"The {operation} URL is not an http(s) URL."
            )
        body = json.dumps(transaction_payload(transaction, source), separators=(",", ":")).encode()
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                SIGNATURE_HEADER: payload_signature(body, self.gateway.shared_secret),
                "Idempotency-Key": idempotency_key,
                "User-Agent": "oms-external-gateway/1",
            },
        )
        timeout = self.gateway.timeout_ms / 1000
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                raw = response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as exc:
            return GatewayResult.failure(
                errors.GATEWAY_ERROR,
                f"The {operation} endpoint answered HTTP {exc.code}.",
                _snippet(exc.read(2000)),
            )
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                return _timeout(operation, timeout)
            return GatewayResult.failure(
                errors.GATEWAY_UNREACHABLE,
                f"The {operation} endpoint could not be reached.",
                str(exc.reason)[:1000],
            )
        except TimeoutError:
            return _timeout(operation, timeout)
        except OSError as exc:  # connection reset half-way, and friends
            return GatewayResult.failure(
                errors.GATEWAY_UNREACHABLE,
                f"The {operation} endpoint could not be reached.",
                str(exc)[:1000],
            )
        return _parse(raw, operation=operation, amount_cents=amount_cents)

    def authorize(
        self,
        *,
        amount_cents: int,
        currency_code: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction,
    ) -> GatewayResult:
        return self._post(
            self.gateway.authorize_url,
            operation="authorize",
            amount_cents=amount_cents,
            source=source,
            idempotency_key=idempotency_key,
            transaction=transaction,
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
        return self._post(
            self.gateway.capture_url,
            operation="capture",
            amount_cents=amount_cents,
            source=source,
            idempotency_key=idempotency_key,
            transaction=transaction,
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
        return self._post(
            self.gateway.void_url,
            operation="void",
            amount_cents=amount_cents,
            source=source,
            idempotency_key=idempotency_key,
            transaction=transaction,
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
        return self._post(
            self.gateway.refund_url,
            operation="refund",
            amount_cents=amount_cents,
            source=source,
            idempotency_key=idempotency_key,
            transaction=transaction,
        )


def _timeout(operation: str, timeout: float) -> GatewayResult:
    return GatewayResult.failure(
        errors.GATEWAY_TIMEOUT, f"The {operation} endpoint did not answer within {timeout:g} s."
    )


def _snippet(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")[:1000]


def _parse(raw: bytes, *, operation: str, amount_cents: int) -> GatewayResult:
    def invalid(why: str) -> GatewayResult:
        return GatewayResult.failure(
            errors.GATEWAY_INVALID_RESPONSE,
            f"The {operation} endpoint answered with an invalid body: {why}.",
            _snippet(raw),
        )

    try:
        document = json.loads(raw)
    except ValueError:
        return invalid("not JSON")
    if not isinstance(document, dict) or not isinstance(document.get("success"), bool):
        return invalid('no boolean "success"')
    data = document.get("data") or {}
    if not isinstance(data, dict):
        return invalid('"data" is not an object')
    if not document["success"]:
        error = data.get("error")
        if not isinstance(error, dict):
            error = {}
        code, message = str(error.get("code", "")), str(error.get("message", ""))
        return GatewayResult.failure(
            errors.PAYMENT_DECLINED,
            message[:500] or f"The {operation} was declined.",
            code[:1000],
        )
    token = data.get("transaction_token")
    if not isinstance(token, str) or not token:
        return invalid('no "transaction_token"')
    authorized = data.get("amount_cents")
    if operation == "authorize" and authorized is not None:
        if isinstance(authorized, bool) or not isinstance(authorized, int):
            return invalid('"amount_cents" is not an integer')
        if not 0 < authorized <= amount_cents:
            return invalid(f"authorized {authorized} of {amount_cents} asked")
    else:
        authorized = None
    return GatewayResult(
        succeeded=True,
        gateway_transaction_id=token[:255],
        token=token[:255],
        message=str(data.get("message", "Accepted"))[:500],
        amount_cents=authorized,
    )
