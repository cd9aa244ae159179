"""The external gateway: the merchant's own endpoints, as Commerce Layer's external gateways.

For each operation the gateway POSTs a JSON:API document to the URL configured for it
(`authorize_url`, `capture_url`, `void_url`, `refund_url`):

- `data` is the transaction being decided (`authorizations`, `captures`, `voids` or `refunds`),
  with `amount_cents`, `currency_code`, `number` and its relationships;
- `included` carries the order, the external payment (with `payment_source_token`) and, for a
  capture, void or refund, the transaction it refers to (with its `token`);
- `meta` is `{"operation": "authorize", "idempotency_key": "<transaction id>"}`;

signed with `X-CommerceLayer-Signature: base64(HMAC-SHA256(raw body, shared_secret))` and sent
with the same key in an `Idempotency-Key` header. The key is the transaction's id, so a retry of
the same attempt (after a timeout, by a recovery) sends the same key: the endpoint must answer a
key it has seen with its first answer, without moving money again. It answers 2xx with

    {"success": true, "data": {"transaction_token": "...", "amount_cents": 1000}}
    {"success": false, "data": {"error": {"code": "...", "message": "..."}}}

(`amount_cents` of an authorization may be lower than asked: a partial authorization).

`lookup` POSTs the same signed document (same `meta`, same `Idempotency-Key`: the key asked
about) to `lookup_url`, asking what became of that earlier call. The endpoint answers 2xx with
the answer it gave (or would have given) to that key, as above, or `{"found": false}` when it
never saw the key. Only that explicit body means "never saw it": no `lookup_url`, a timeout, a
non-2xx status (a 404 included: a wrong URL must not read as "never happened") or any other
body raises `GatewayLookupFailed`, as nothing can be concluded from it.
`reusable_source` (saving a customer's payment source to its wallet) POSTs a signed document to
`token_url`: `data` is the external payment (with `payment_source_token`), `meta` is
`{"operation": "tokenize", "idempotency_key": ..., "customer_reference": ...}`. The endpoint
answers `{"success": true, "data": {"payment_source_token": "...", "customer_token": "...",
"name": "..."}}` for a source it can charge again, anything else (or no `token_url`) when it
cannot: the source is then not saved.
A call has one deadline in all, connect to last byte (`base.gateway_deadline_seconds`: the
gateway's `timeout_ms`, at most `OMS_GATEWAY_TIMEOUT_SECONDS`), and an answer of at most
`MAX_RESPONSE_BYTES`. A timeout, a connection failure, a non-2xx status, a larger answer or a
body that is not such JSON is a failed transaction with a stable `error_code`
(`GATEWAY_TIMEOUT`, `GATEWAY_UNREACHABLE`, `GATEWAY_ERROR`, `GATEWAY_INVALID_RESPONSE`), never
an exception.
"""

from __future__ import annotations

import http.client
import json
from typing import TYPE_CHECKING, Any

from oms.http import (
    MAX_RESPONSE_BYTES,
    SIGNATURE_HEADER,
    HttpAnswer,
    ResponseTooLarge,
    http_post,
    payload_signature,
)
from payments import errors
from payments.gateways.base import (
    OPERATIONS,
    GatewayResult,
    ReusableSource,
    gateway_deadline_seconds,
)

if TYPE_CHECKING:
    from payments.models import PaymentGateway, PaymentSourceModel, Transaction


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


def _source_resource(source: PaymentSourceModel) -> dict[str, Any]:
    return {
        "id": source.pk,
        "type": source.source_type,
        "attributes": {
            "payment_source_token": source.gateway_token,
            "options": getattr(source, "options", {}),
        },
    }


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
        answer = self._send(
            url,
            endpoint=operation,
            operation=operation,
            source=source,
            idempotency_key=idempotency_key,
            transaction=transaction,
        )
        if isinstance(answer, GatewayResult):
            return answer
        return _parse(answer.body, operation=operation, amount_cents=amount_cents)

    def _send(
        self,
        url: str,
        *,
        endpoint: str,
        operation: str,
        source: PaymentSourceModel,
        idempotency_key: str,
        transaction: Transaction | None,
        meta: dict[str, str] | None = None,
    ) -> HttpAnswer | GatewayResult:
        """POST the signed document of `operation` to the `endpoint` URL: its 2xx answer, or
        why there is none as a failed result. Without a `transaction`, the document is the
        payment source alone."""
        if not url:
            return GatewayResult.failure(
                errors.GATEWAY_NOT_CONFIGURED, f"The external gateway has no {endpoint} URL."
            )
        if not url.startswith(("https://", "http://")):
            return GatewayResult.failure(
                errors.GATEWAY_NOT_CONFIGURED, f"The {endpoint} URL is not an http(s) URL."
            )
        document = (
            transaction_payload(transaction, source)
            if transaction is not None
            else {"data": _source_resource(source)}
        )
        # In the signed body too (headers are not signed): a retry of this attempt sends the
        # same key, so the endpoint can answer it without moving money twice.
        document["meta"] = {
            "operation": operation,
            "idempotency_key": idempotency_key,
            **(meta or {}),
        }
        body = json.dumps(document, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            SIGNATURE_HEADER: payload_signature(body, self.gateway.shared_secret),
            "Idempotency-Key": idempotency_key,
            "User-Agent": "oms-external-gateway/1",
        }
        timeout = gateway_deadline_seconds(self.gateway)
        try:
            answer = http_post(url, body=body, headers=headers, timeout=timeout)
        except TimeoutError:
            return _timeout(endpoint, timeout)
        except ResponseTooLarge:
            return GatewayResult.failure(
                errors.GATEWAY_INVALID_RESPONSE,
                f"The {endpoint} endpoint answered with more than {MAX_RESPONSE_BYTES} bytes.",
            )
        except OSError as exc:  # refused, reset half-way, DNS, TLS, and friends
            return GatewayResult.failure(
                errors.GATEWAY_UNREACHABLE,
                f"The {endpoint} endpoint could not be reached.",
                str(exc)[:1000],
            )
        except http.client.HTTPException as exc:  # not HTTP, or cut short
            return GatewayResult.failure(
                errors.GATEWAY_INVALID_RESPONSE,
                f"The {endpoint} endpoint did not answer with valid HTTP.",
                repr(exc)[:1000],
            )
        if not 200 <= answer.status < 300:
            return GatewayResult.failure(
                errors.GATEWAY_ERROR,
                f"The {endpoint} endpoint answered HTTP {answer.status}.",
                _snippet(answer.body),
            )
        return answer

    def lookup(
        self, *, operation: str, idempotency_key: str, transaction: Transaction
    ) -> GatewayResult | None:
        if operation not in OPERATIONS:
            raise ValueError(f"not a gateway operation: {operation!r}")
        answer = self._send(
            self.gateway.lookup_url,
            endpoint="lookup",
            operation=operation,
            source=transaction.payment_source,
            idempotency_key=idempotency_key,
            transaction=transaction,
        )
        if isinstance(answer, GatewayResult):
            raise errors.GatewayLookupFailed(
                answer.message, code=answer.error_code, error_detail=answer.error_detail
            )
        try:
            document = json.loads(answer.body)
        except ValueError:
            document = None
        if isinstance(document, dict) and document.get("found") is False:
            return None
        result = _parse(
            answer.body,
            operation=operation,
            amount_cents=transaction.amount_cents,
            endpoint="lookup",
        )
        if result.error_code == errors.GATEWAY_INVALID_RESPONSE:
            raise errors.GatewayLookupFailed(
                result.message, code=result.error_code, error_detail=result.error_detail
            )
        return result

    def reusable_source(
        self, *, source: PaymentSourceModel, customer_reference: str, idempotency_key: str
    ) -> ReusableSource | None:
        answer = self._send(
            self.gateway.token_url,
            endpoint="token",
            operation="tokenize",
            source=source,
            idempotency_key=idempotency_key,
            transaction=None,
            meta={"customer_reference": customer_reference},
        )
        if isinstance(answer, GatewayResult):
            return None  # no token_url, or no answer: the source is not saved
        return _parse_reusable(answer.body)

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


def _parse(raw: bytes, *, operation: str, amount_cents: int, endpoint: str = "") -> GatewayResult:
    def invalid(why: str) -> GatewayResult:
        return GatewayResult.failure(
            errors.GATEWAY_INVALID_RESPONSE,
            f"The {endpoint or operation} endpoint answered with an invalid body: {why}.",
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


def _parse_reusable(raw: bytes) -> ReusableSource | None:
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("success") is not True:
        return None
    data = document.get("data")
    if not isinstance(data, dict):
        return None
    token, customer, name = (
        data.get("payment_source_token"),
        data.get("customer_token", ""),
        data.get("name", ""),
    )
    if not isinstance(token, str) or not token or not isinstance(customer, str):
        return None
    return ReusableSource(
        payment_source_token=token[:512],
        customer_token=customer[:512],
        name=str(name)[:255],
    )
