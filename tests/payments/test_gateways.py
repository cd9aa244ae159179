"""Each gateway's success, decline and timeout; the external one against a real local server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest

from orders.services.money import (
    order_authorization_capture,
    order_authorization_void,
    order_capture_refund,
    order_payment_authorize,
)
from payments.gateways import gateway_adapter_for
from payments.gateways.external import SIGNATURE_HEADER, payload_signature
from payments.gateways.test import TestGateway
from payments.models import PaymentSourceType, Transaction
from tests.payments import factories
from tests.payments.checkouts import ACTOR

pytestmark = pytest.mark.django_db

NO_TRANSACTION = cast(Transaction, None)  # the test gateway never reads it


# --- test gateway -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "operation", "succeeded", "error_code"),
    [
        ("tok_success", "authorize", True, ""),
        ("tok_success", "refund", True, ""),
        ("tok_declined", "authorize", False, "PAYMENT_DECLINED"),
        ("tok_declined", "capture", False, "PAYMENT_DECLINED"),
        ("tok_insufficient_funds", "authorize", False, "INSUFFICIENT_FUNDS"),
        ("tok_timeout", "authorize", False, "GATEWAY_TIMEOUT"),
        ("tok_timeout", "void", False, "GATEWAY_TIMEOUT"),
        ("tok_capture_declined", "authorize", True, ""),
        ("tok_capture_declined", "capture", False, "PAYMENT_DECLINED"),
        ("tok_refund_timeout", "capture", True, ""),
        ("tok_refund_timeout", "refund", False, "GATEWAY_TIMEOUT"),
        ("tok_void_insufficient_funds", "void", False, "INSUFFICIENT_FUNDS"),
        ("something_else", "authorize", False, "PAYMENT_DECLINED"),
    ],
)
def test_test_gateway_outcome_depends_on_the_token(token, operation, succeeded, error_code):
    gateway = factories.PaymentGatewayFactory.create()
    source = factories.TestPaymentFactory.build(token=token)
    started = time.monotonic()
    result = getattr(gateway_adapter_for(gateway), operation)(
        amount_cents=100,
        currency_code="EUR",
        source=source,
        idempotency_key=f"key-{token}-{operation}",
        transaction=NO_TRANSACTION,
    )
    assert (result.succeeded, result.error_code) == (succeeded, error_code)
    assert time.monotonic() - started < 0.5, "a simulated timeout does not really wait"
    assert len(TestGateway.calls) == 1


def test_test_gateway_answers_a_repeated_key_without_moving_money_again():
    gateway = factories.PaymentGatewayFactory.create()
    source = factories.TestPaymentFactory.build(token="tok_partial")
    adapter = gateway_adapter_for(gateway)
    first = adapter.authorize(
        amount_cents=100,
        currency_code="EUR",
        source=source,
        idempotency_key="k",
        transaction=NO_TRANSACTION,
    )
    second = adapter.authorize(
        amount_cents=100,
        currency_code="EUR",
        source=source,
        idempotency_key="k",
        transaction=NO_TRANSACTION,
    )
    assert first == second
    assert first.amount_cents == 50


# --- manual gateway ---------------------------------------------------------------------------


def test_wire_transfer_is_authorized_at_once_and_settled_by_hand():
    order = factories.OrderFactory.create()
    method = factories.PaymentMethodFactory.create(
        market=order.market,
        payment_gateway=factories.ManualGatewayFactory.create(),
        payment_source_type=PaymentSourceType.WIRE_TRANSFERS,
    )
    wire = factories.WireTransferFactory.create(order=order)
    authorization = order_payment_authorize(
        order=order, payment_method=method, payment_source=wire, amount_cents=5000, actor=ACTOR
    )
    assert authorization.succeeded
    assert authorization.payment_source == wire
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=3000, actor=ACTOR
    )
    assert capture.succeeded
    assert order_authorization_void(authorization=authorization, actor=ACTOR).amount_cents == 2000
    assert order_capture_refund(capture=capture, actor=ACTOR).amount_cents == 3000


# --- external gateway against a local HTTP server ---------------------------------------------


@dataclass
class Endpoint:
    status: int = 200
    body: Any = None  # a dict becomes JSON, bytes are sent as they are
    delay_s: float = 0.0


@dataclass
class MerchantServer:
    """The merchant's endpoints: verify the signature, log the request, answer as told."""

    secret: str = ""
    base_url: str = ""
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def merchant() -> Iterator[MerchantServer]:
    state = MerchantServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            expected = base64.b64encode(
                hmac.new(state.secret.encode(), raw, hashlib.sha256).digest()
            ).decode()
            signed = hmac.compare_digest(self.headers.get(SIGNATURE_HEADER, ""), expected)
            state.requests.append(
                {
                    "path": self.path,
                    "signed": signed,
                    "payload": json.loads(raw),
                    "idempotency_key": self.headers.get("Idempotency-Key"),
                }
            )
            endpoint = state.endpoints.get(self.path, Endpoint())
            if not signed:
                endpoint = Endpoint(status=401, body={"error": "bad signature"})
            time.sleep(endpoint.delay_s)
            body = endpoint.body
            if body is None:
                body = {"success": True, "data": {"transaction_token": f"tt{self.path}"}}
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def external(merchant):
    gateway = factories.ExternalGatewayFactory.create(
        authorize_url=f"{merchant.base_url}/authorize",
        capture_url=f"{merchant.base_url}/capture",
        void_url=f"{merchant.base_url}/void",
        refund_url=f"{merchant.base_url}/refund",
        timeout_ms=2000,
    )
    merchant.secret = gateway.shared_secret
    order = factories.OrderFactory.create()
    method = factories.PaymentMethodFactory.create(
        market=order.market,
        payment_gateway=gateway,
        payment_source_type=PaymentSourceType.EXTERNAL_PAYMENTS,
    )
    source = factories.ExternalPaymentFactory.create(
        order=order, payment_source_token="psp-tok-42", options={"channel": "web"}
    )

    def authorize(amount_cents: int = 1500):
        return order_payment_authorize(
            order=order,
            payment_method=method,
            payment_source=source,
            amount_cents=amount_cents,
            actor=ACTOR,
        )

    return gateway, order, source, authorize


def test_external_authorization_posts_a_signed_payload_and_keeps_the_token(merchant, external):
    _, order, source, authorize = external
    authorization = authorize(1500)
    assert authorization.succeeded
    assert authorization.token == authorization.gateway_transaction_id == "tt/authorize"
    [request] = merchant.requests
    assert request["path"] == "/authorize"
    assert request["signed"], "the server recomputed the HMAC-SHA256 with the shared secret"
    assert request["idempotency_key"] == authorization.pk
    payload = request["payload"]
    assert payload["data"]["type"] == "authorizations"
    assert payload["data"]["attributes"]["amount_cents"] == 1500
    assert payload["data"]["attributes"]["currency_code"] == "EUR"
    included = {(item["type"], item["id"]): item for item in payload["included"]}
    assert included["orders", order.pk]["attributes"]["number"] == order.number
    assert included["external_payments", source.pk]["attributes"] == {
        "payment_source_token": "psp-tok-42",
        "options": {"channel": "web"},
    }


def test_external_capture_void_and_refund_reference_their_parent(merchant, external):
    _, _, _, authorize = external
    authorization = authorize(1000)
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=600, actor=ACTOR
    )
    void = order_authorization_void(authorization=authorization, actor=ACTOR)
    refund = order_capture_refund(capture=capture, amount_cents=100, actor=ACTOR)
    assert [capture.status, void.status, refund.status] == ["succeeded"] * 3
    assert [request["path"] for request in merchant.requests] == [
        "/authorize",
        "/capture",
        "/void",
        "/refund",
    ]
    capture_payload = merchant.requests[1]["payload"]
    assert capture_payload["data"]["attributes"]["amount_cents"] == 600
    reference = capture_payload["data"]["relationships"]["reference_authorization"]["data"]
    assert reference == {"type": "authorizations", "id": authorization.pk}
    parent = next(item for item in capture_payload["included"] if item["id"] == authorization.pk)
    assert parent["attributes"]["token"] == "tt/authorize"
    refund_payload = merchant.requests[3]["payload"]
    assert refund_payload["data"]["relationships"]["reference_capture"]["data"]["id"] == capture.pk


def test_external_partial_authorization(merchant, external):
    merchant.endpoints["/authorize"] = Endpoint(
        body={"success": True, "data": {"transaction_token": "t", "amount_cents": 700}}
    )
    assert external[3](1000).amount_cents == 700


def test_external_decline_is_a_failed_transaction_with_the_gateway_reason(merchant, external):
    merchant.endpoints["/authorize"] = Endpoint(
        body={"success": False, "data": {"error": {"code": "DO_NOT_HONOR", "message": "No"}}}
    )
    authorization = external[3]()
    assert authorization.status == "failed"
    assert authorization.error_code == "PAYMENT_DECLINED"
    assert authorization.error_detail == "DO_NOT_HONOR"
    assert authorization.message == "No"


@pytest.mark.parametrize(
    ("endpoint", "error_code"),
    [
        (Endpoint(status=500, body={"oops": True}), "GATEWAY_ERROR"),
        (Endpoint(status=302, body=b""), "GATEWAY_ERROR"),
        (Endpoint(status=404, body=b"not here"), "GATEWAY_ERROR"),
        (Endpoint(body=b"<html>not json</html>"), "GATEWAY_INVALID_RESPONSE"),
        (Endpoint(body=[1, 2]), "GATEWAY_INVALID_RESPONSE"),
        (Endpoint(body={"success": "yes"}), "GATEWAY_INVALID_RESPONSE"),
        (Endpoint(body={"success": True, "data": {}}), "GATEWAY_INVALID_RESPONSE"),
        (
            Endpoint(
                body={"success": True, "data": {"transaction_token": "t", "amount_cents": 9e9}}
            ),
            "GATEWAY_INVALID_RESPONSE",
        ),
    ],
    ids=[
        "500",
        "redirect",
        "404",
        "html",
        "array",
        "success-not-bool",
        "no-token",
        "more-than-asked",
    ],
)
def test_external_bad_answers_are_failed_transactions(merchant, external, endpoint, error_code):
    merchant.endpoints["/authorize"] = endpoint
    authorization = external[3]()
    assert authorization.status == "failed"
    assert authorization.error_code == error_code


def test_external_timeout_is_a_failed_transaction(merchant, external):
    gateway, _, _, authorize = external
    gateway.timeout_ms = 100
    gateway.save(update_fields=["timeout_ms"])
    merchant.endpoints["/authorize"] = Endpoint(delay_s=0.5)
    started = time.monotonic()
    authorization = authorize()
    assert time.monotonic() - started < 0.45
    assert authorization.status == "failed"
    assert authorization.error_code == "GATEWAY_TIMEOUT"


def test_external_capture_timeout_leaves_the_balance_as_it_was(merchant, external):
    gateway, _, _, authorize = external
    authorization = authorize(1000)
    gateway.timeout_ms = 100
    gateway.save(update_fields=["timeout_ms"])
    merchant.endpoints["/capture"] = Endpoint(delay_s=0.5)
    capture = order_authorization_capture(authorization=authorization, actor=ACTOR)
    assert capture.error_code == "GATEWAY_TIMEOUT"
    authorization.refresh_from_db()
    assert authorization.capture_balance_cents == 1000


def test_external_endpoint_refuses_a_wrong_signature(merchant, external):
    merchant.secret = "not-the-shared-secret"
    authorization = external[3]()
    assert merchant.requests[0]["signed"] is False
    assert authorization.error_code == "GATEWAY_ERROR"
    assert "401" in authorization.message


def test_external_unreachable_endpoint_is_a_failed_transaction(external):
    gateway, _, _, authorize = external
    gateway.authorize_url = "http://127.0.0.1:9/authorize"  # discard port: nobody listens
    gateway.save(update_fields=["authorize_url"])
    assert authorize().error_code == "GATEWAY_UNREACHABLE"


def test_external_gateway_without_the_url_is_not_configured(merchant, external):
    gateway, _, _, authorize = external
    gateway.void_url = ""
    gateway.save(update_fields=["void_url"])
    void = order_authorization_void(authorization=authorize(), actor=ACTOR)
    assert void.error_code == "GATEWAY_NOT_CONFIGURED"
    assert [request["path"] for request in merchant.requests] == ["/authorize"]


def test_payload_signature_is_base64_hmac_sha256():
    expected = base64.b64encode(hmac.new(b"s3cret", b"{}", hashlib.sha256).digest()).decode()
    assert payload_signature(b"{}", "s3cret") == expected
