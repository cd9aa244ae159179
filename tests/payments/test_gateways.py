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

from oms.http import MAX_RESPONSE_BYTES, SIGNATURE_HEADER, payload_signature
from orders.services import money
from orders.services.money import (
    order_authorization_capture,
    order_authorization_void,
    order_capture_refund,
    order_payment_authorize,
)
from payments import errors
from payments.gateways import GatewayResult, gateway_adapter_for
from payments.gateways.test import TestGateway
from payments.models import PaymentSourceType, Transaction
from payments.services import Settlement
from tests.payments import factories
from tests.payments.checkouts import ACTOR, make_checkout

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
        ("tok_unreachable", "authorize", False, "GATEWAY_UNREACHABLE"),
        ("tok_slow_0.01", "authorize", True, ""),
        ("tok_refund_slow_0.01", "refund", True, ""),
        ("tok_slow_forever", "authorize", False, "PAYMENT_DECLINED"),
        ("tok_slow_nan", "authorize", False, "PAYMENT_DECLINED"),
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


def _test_authorize(gateway, token: str, key: str = "k"):
    return gateway_adapter_for(gateway).authorize(
        amount_cents=100,
        currency_code="EUR",
        source=factories.TestPaymentFactory.build(token=token),
        idempotency_key=key,
        transaction=NO_TRANSACTION,
    )


def test_test_gateway_slow_token_answers_after_its_seconds():
    gateway = factories.PaymentGatewayFactory.create(timeout_ms=5000)
    started = time.monotonic()
    result = _test_authorize(gateway, "tok_slow_0.3")
    assert 0.3 <= time.monotonic() - started < 3
    assert result.succeeded


def test_test_gateway_slower_than_the_deadline_times_out_at_the_deadline():
    gateway = factories.PaymentGatewayFactory.create(timeout_ms=200)
    started = time.monotonic()
    result = _test_authorize(gateway, "tok_slow_600")
    assert 0.2 <= time.monotonic() - started < 3, "waits the deadline, not ten minutes"
    assert result.error_code == "GATEWAY_TIMEOUT"


def test_test_gateway_slow_token_is_capped_by_the_deadline_setting(settings):
    settings.OMS_GATEWAY_TIMEOUT_SECONDS = 0.2
    gateway = factories.PaymentGatewayFactory.create(timeout_ms=30_000)
    started = time.monotonic()
    assert _test_authorize(gateway, "tok_slow_600").error_code == "GATEWAY_TIMEOUT"
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("token", ["tok_timeout", "tok_slow_600"])
def test_test_gateway_timeout_happened_there_so_a_retry_with_the_key_succeeds(token):
    """A timeout is a lost answer, not a refusal: the gateway did authorize, and a retry with
    the same idempotency key gets that authorization without a second one."""
    gateway = factories.PaymentGatewayFactory.create(timeout_ms=200)
    assert _test_authorize(gateway, token).error_code == "GATEWAY_TIMEOUT"
    started = time.monotonic()
    retry = _test_authorize(gateway, token)
    assert time.monotonic() - started < 0.1, "answered from the record"
    assert retry.succeeded
    assert retry.gateway_transaction_id == "test_authorize_k"
    assert _test_authorize(gateway, token, key="another").error_code == "GATEWAY_TIMEOUT"


def test_test_gateway_unreachable_never_saw_the_call_so_a_retry_is_unreachable_again():
    gateway = factories.PaymentGatewayFactory.create()
    assert _test_authorize(gateway, "tok_unreachable").error_code == "GATEWAY_UNREACHABLE"
    assert _test_authorize(gateway, "tok_unreachable").error_code == "GATEWAY_UNREACHABLE"
    assert len(TestGateway.calls) == 2


def test_authorization_slower_than_the_deadline_is_a_failed_transaction():
    checkout = make_checkout(
        token="tok_authorize_slow_600",
        payment_gateway=factories.PaymentGatewayFactory.create(timeout_ms=200),
    )
    started = time.monotonic()
    authorization = checkout.authorize(1500)
    assert time.monotonic() - started < 3
    assert authorization.status == "failed"
    assert authorization.error_code == "GATEWAY_TIMEOUT"


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


# No fault handler outlives this, whatever the client does: the server stops itself.
HANDLER_MAX_SECONDS = 8.0


@dataclass
class Endpoint:
    status: int = 200
    body: Any = None  # a dict becomes JSON, bytes are sent as they are
    delay_s: float = 0.0
    drip_s: float = 0.0  # send the answer one byte every `drip_s` seconds...
    drip_headers: bool = True  # ...from its status line on, or only its body
    hang: bool = False  # accept and read the request, then answer nothing
    announce_length: bool = True  # False: no Content-Length, the body ends when we close


@dataclass
class MerchantServer:
    """The merchant's endpoints: verify the signature, log the request, answer as told."""

    secret: str = ""
    base_url: str = ""
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


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
            if endpoint.hang:
                state.stop.wait(HANDLER_MAX_SECONDS)
                return
            body = endpoint.body
            if body is None:
                body = {"success": True, "data": {"transaction_token": f"tt{self.path}"}}
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            head = f"HTTP/1.1 {endpoint.status} Whatever\r\nContent-Type: application/json\r\n"
            if endpoint.announce_length:
                head += f"Content-Length: {len(data)}\r\n"
            raw = f"{head}Connection: close\r\n\r\n".encode() + data
            try:
                if not endpoint.drip_s:
                    self.wfile.write(raw)
                    return
                dripped_from = 0 if endpoint.drip_headers else len(raw) - len(data)
                self.wfile.write(raw[:dripped_from])
                until = time.monotonic() + HANDLER_MAX_SECONDS
                for byte in raw[dripped_from:]:
                    if state.stop.wait(endpoint.drip_s) or time.monotonic() > until:
                        return
                    self.wfile.write(bytes([byte]))
            except OSError:
                pass  # the client gave up (timeout tests)

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
        state.stop.set()
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


# --- one deadline per external call -----------------------------------------------------------


def _with_timeout_ms(gateway, timeout_ms: int) -> None:
    gateway.timeout_ms = timeout_ms
    gateway.save(update_fields=["timeout_ms"])


@pytest.mark.parametrize("drip_headers", [True, False], ids=["drips-headers", "drips-body"])
def test_external_gateway_that_drips_its_answer_times_out_at_the_deadline(
    merchant, external, drip_headers
):
    """Every byte arrives well within a socket timeout: only a deadline over the whole call
    stops the endpoint from holding the worker."""
    gateway, _, _, authorize = external
    _with_timeout_ms(gateway, 1000)
    merchant.endpoints["/authorize"] = Endpoint(drip_s=0.5, drip_headers=drip_headers)
    started = time.monotonic()
    authorization = authorize()
    assert time.monotonic() - started < 3, "a 1 s deadline"
    assert authorization.status == "failed"
    assert authorization.error_code == "GATEWAY_TIMEOUT"
    [request] = merchant.requests
    assert request["idempotency_key"] == authorization.pk
    assert request["payload"]["meta"]["idempotency_key"] == authorization.pk


def test_external_gateway_that_hangs_after_accepting_times_out_at_the_deadline(merchant, external):
    gateway, _, _, authorize = external
    _with_timeout_ms(gateway, 1000)
    merchant.endpoints["/authorize"] = Endpoint(hang=True)
    started = time.monotonic()
    authorization = authorize()
    assert time.monotonic() - started < 3
    assert authorization.error_code == "GATEWAY_TIMEOUT"
    assert merchant.requests[0]["idempotency_key"] == authorization.pk


def test_external_call_never_outlasts_the_deadline_setting(merchant, external, settings):
    gateway, _, _, authorize = external
    _with_timeout_ms(gateway, 10_000)
    settings.OMS_GATEWAY_TIMEOUT_SECONDS = 1
    merchant.endpoints["/authorize"] = Endpoint(drip_s=0.5)
    started = time.monotonic()
    authorization = authorize()
    assert time.monotonic() - started < 3, "the setting caps the gateway's 10 s"
    assert authorization.error_code == "GATEWAY_TIMEOUT"
    assert "1 s" in authorization.message


@pytest.mark.parametrize("announce_length", [True, False], ids=["announced", "unannounced"])
def test_external_answer_larger_than_the_cap_is_refused(merchant, external, announce_length):
    padding = "x" * (MAX_RESPONSE_BYTES + 1)
    merchant.endpoints["/authorize"] = Endpoint(
        body={"success": True, "data": {"transaction_token": "t", "padding": padding}},
        announce_length=announce_length,
    )
    authorization = external[3]()
    assert authorization.status == "failed"
    assert authorization.error_code == "GATEWAY_INVALID_RESPONSE"
    assert f"more than {MAX_RESPONSE_BYTES} bytes" in authorization.message


def test_external_answer_without_content_length_is_read_to_its_end(merchant, external):
    merchant.endpoints["/authorize"] = Endpoint(
        body={"success": True, "data": {"transaction_token": "whole"}}, announce_length=False
    )
    authorization = external[3]()
    assert authorization.succeeded
    assert authorization.gateway_transaction_id == "whole"


def test_retry_after_a_timeout_sends_the_same_signed_idempotency_key(merchant, external):
    """The attempt's key (its transaction id) is in the header and in the signed body, so the
    endpoint can tell a retry from a new authorization and answer it without moving money."""
    gateway, _, source, authorize = external
    _with_timeout_ms(gateway, 1000)
    merchant.endpoints["/authorize"] = Endpoint(hang=True)
    authorization = authorize()
    assert authorization.error_code == "GATEWAY_TIMEOUT"
    merchant.endpoints["/authorize"] = Endpoint()
    retry = gateway_adapter_for(gateway).authorize(
        amount_cents=authorization.amount_cents,
        currency_code=authorization.currency_code,
        source=source,
        idempotency_key=authorization.pk,
        transaction=authorization,
    )
    assert retry.succeeded
    first, second = merchant.requests
    assert first["signed"]
    assert second["signed"]
    assert first["idempotency_key"] == second["idempotency_key"] == authorization.pk
    assert first["payload"]["meta"] == second["payload"]["meta"]
    assert second["payload"]["meta"] == {
        "operation": "authorize",
        "idempotency_key": authorization.pk,
    }


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


# --- lookup: what became of a call whose answer was never recorded ----------------------------


def _lookup(transaction: Transaction, operation: str = "authorize") -> GatewayResult | None:
    return gateway_adapter_for(transaction.payment_gateway).lookup(
        operation=operation, idempotency_key=transaction.pk, transaction=transaction
    )


def _died_after_the_call(monkeypatch, authorize):
    """The gateway answered, then the process died before recording it: still pending."""
    with monkeypatch.context() as patch:
        patch.setattr(money, "transaction_settle", lambda txn, result: Settlement(txn, False))
        authorization = authorize()
    assert authorization.status == "pending"
    return authorization


def _died_before_the_call(monkeypatch, authorize):
    """The process died after reserving, before the gateway heard of it: still pending."""
    with monkeypatch.context() as patch:
        patch.setattr(money, "transaction_settle", lambda txn, result: Settlement(txn, False))
        patch.setattr(money, "transaction_gateway_call", lambda txn: GatewayResult(succeeded=True))
        authorization = authorize()
    assert authorization.status == "pending"
    return authorization


def test_manual_lookup_answers_what_the_call_answers(monkeypatch):
    """Nothing outside happened or can be asked: a pending wire transfer was accepted."""
    order = factories.OrderFactory.create()
    method = factories.PaymentMethodFactory.create(
        market=order.market,
        payment_gateway=factories.ManualGatewayFactory.create(),
        payment_source_type=PaymentSourceType.WIRE_TRANSFERS,
    )
    wire = factories.WireTransferFactory.create(order=order)
    authorization = _died_before_the_call(
        monkeypatch,
        lambda: order_payment_authorize(
            order=order, payment_method=method, payment_source=wire, amount_cents=500, actor=ACTOR
        ),
    )
    found = _lookup(authorization)
    assert found is not None
    assert found.succeeded
    assert found == gateway_adapter_for(authorization.payment_gateway).authorize(
        amount_cents=500,
        currency_code="EUR",
        source=wire,
        idempotency_key=authorization.pk,
        transaction=authorization,
    )
    assert _lookup(authorization, "refund") == GatewayResult(
        True, f"manual-refund-{authorization.pk}", "Accepted: settled out of band"
    )


def test_test_gateway_lookup_finds_what_it_did_for_a_process_that_died(checkout, monkeypatch):
    authorization = _died_after_the_call(monkeypatch, lambda: checkout.authorize(1500))
    found = _lookup(authorization)
    assert found is not None
    assert found.succeeded
    assert found.gateway_transaction_id == f"test_authorize_{authorization.pk}"
    assert _lookup(authorization, "capture") is None, "a call it did not get"
    assert [(call.operation, call.idempotency_key) for call in TestGateway.lookups] == [
        ("authorize", authorization.pk),
        ("capture", authorization.pk),
    ]
    assert len(TestGateway.calls_of("authorize")) == 1, "a lookup moves no money"


def test_test_gateway_lookup_never_saw_a_call_that_was_never_sent(checkout, monkeypatch):
    authorization = _died_before_the_call(monkeypatch, lambda: checkout.authorize(1500))
    assert _lookup(authorization) is None
    assert TestGateway.calls == []


@pytest.mark.parametrize(
    ("token", "heard", "found"),
    [
        ("tok_timeout", "GATEWAY_TIMEOUT", (True, "")),
        ("tok_declined", "PAYMENT_DECLINED", (False, "PAYMENT_DECLINED")),
        ("tok_insufficient_funds", "INSUFFICIENT_FUNDS", (False, "INSUFFICIENT_FUNDS")),
        ("tok_unreachable", "GATEWAY_UNREACHABLE", None),
    ],
)
def test_test_gateway_lookup_after_a_failed_call(token, heard, found):
    """What the caller heard and what the gateway did differ exactly for a lost answer."""
    authorization = make_checkout(token=token).authorize(1500)
    assert authorization.error_code == heard
    result = _lookup(authorization)
    assert (result if result is None else (result.succeeded, result.error_code)) == found


@pytest.mark.parametrize(
    ("token", "code"),
    [("tok_lookup_timeout", "GATEWAY_TIMEOUT"), ("tok_lookup_unreachable", "GATEWAY_UNREACHABLE")],
)
def test_test_gateway_lookup_that_cannot_tell_raises(token, code):
    authorization = make_checkout(token=token).authorize(1500)
    assert authorization.succeeded, "only the lookup fails"
    with pytest.raises(errors.GatewayLookupFailed) as failure:
        _lookup(authorization)
    assert failure.value.code == code


@pytest.mark.parametrize("gateway_type", ["manual", "test", "external"])
def test_lookup_of_something_else_than_an_operation_is_a_programming_error(gateway_type):
    gateway = factories.PaymentGatewayFactory.build(type=gateway_type)
    with pytest.raises(ValueError, match="not a gateway operation"):
        gateway_adapter_for(gateway).lookup(
            operation="_capture", idempotency_key="k", transaction=NO_TRANSACTION
        )


@pytest.fixture
def external_lookup(merchant, external):
    gateway = external[0]
    gateway.lookup_url = f"{merchant.base_url}/lookup"
    gateway.save(update_fields=["lookup_url"])
    return external


def test_external_lookup_posts_the_signed_call_and_finds_it(merchant, external_lookup, monkeypatch):
    _, _, _, authorize = external_lookup
    authorization = _died_after_the_call(monkeypatch, lambda: authorize(1000))
    merchant.endpoints["/lookup"] = Endpoint(
        body={"success": True, "data": {"transaction_token": "tt/authorize", "amount_cents": 800}}
    )
    found = _lookup(authorization)
    assert found is not None
    assert found.succeeded
    assert (found.gateway_transaction_id, found.token, found.amount_cents) == (
        "tt/authorize",
        "tt/authorize",
        800,
    )
    call, lookup = merchant.requests
    assert lookup["path"] == "/lookup"
    assert lookup["signed"]
    assert lookup["idempotency_key"] == call["idempotency_key"] == authorization.pk
    assert lookup["payload"] == call["payload"], "the same document, asked about"
    assert lookup["payload"]["meta"] == {
        "operation": "authorize",
        "idempotency_key": authorization.pk,
    }


def test_external_lookup_of_a_call_it_never_saw(merchant, external_lookup, monkeypatch):
    authorization = _died_before_the_call(monkeypatch, external_lookup[3])
    merchant.endpoints["/lookup"] = Endpoint(body={"found": False})
    assert _lookup(authorization) is None
    assert [request["path"] for request in merchant.requests] == ["/lookup"]


def test_external_lookup_of_a_declined_call(merchant, external_lookup):
    merchant.endpoints["/authorize"] = merchant.endpoints["/lookup"] = Endpoint(
        body={"success": False, "data": {"error": {"code": "DO_NOT_HONOR", "message": "No"}}}
    )
    authorization = external_lookup[3]()
    found = _lookup(authorization)
    assert found is not None
    assert (found.succeeded, found.error_code, found.error_detail) == (
        False,
        "PAYMENT_DECLINED",
        "DO_NOT_HONOR",
    )


def test_external_lookup_without_a_lookup_url_cannot_tell(merchant, external):
    authorization = external[3]()
    with pytest.raises(errors.GatewayLookupFailed) as failure:
        _lookup(authorization)
    assert failure.value.code == "GATEWAY_NOT_CONFIGURED"
    assert [request["path"] for request in merchant.requests] == ["/authorize"]


@pytest.mark.parametrize(
    ("endpoint", "code"),
    [
        (Endpoint(status=404, body={"found": False}), "GATEWAY_ERROR"),
        (Endpoint(status=500, body=b"oops"), "GATEWAY_ERROR"),
        (Endpoint(body={"found": True}), "GATEWAY_INVALID_RESPONSE"),
        (Endpoint(body=b"not json"), "GATEWAY_INVALID_RESPONSE"),
        (Endpoint(hang=True), "GATEWAY_TIMEOUT"),
    ],
    ids=["404-is-not-never-saw-it", "500", "no-answer", "not-json", "hangs"],
)
def test_external_lookup_that_cannot_tell_raises(merchant, external_lookup, endpoint, code):
    gateway, _, _, authorize = external_lookup
    authorization = authorize()
    _with_timeout_ms(gateway, 1000)
    merchant.endpoints["/lookup"] = endpoint
    started = time.monotonic()
    with pytest.raises(errors.GatewayLookupFailed) as failure:
        _lookup(authorization)
    assert time.monotonic() - started < 3
    assert failure.value.code == code
