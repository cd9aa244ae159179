"""Money services: authorize, capture, void, refund, and what they refuse."""

import pytest

from orders.models import Order, OrderEvent
from orders.services.money import (
    order_authorization_capture,
    order_authorization_void,
    order_capture_all,
    order_capture_refund,
    order_refund_all,
    order_transaction_forward,
    order_transaction_release,
    order_void_all,
)
from orders.services.statuses import order_statuses_refresh
from payments import errors, selectors
from payments.gateways.test import TestGateway
from payments.models import Transaction
from payments.services import Settlement, payment_method_disable, payment_method_enable
from tests.payments import factories
from tests.payments.checkouts import ACTOR, make_checkout

pytestmark = pytest.mark.django_db


def reload(txn: Transaction) -> Transaction:
    return Transaction.objects.get(pk=txn.pk)


# --- authorize --------------------------------------------------------------------------------


def test_authorize_with_a_good_card_succeeds(checkout):
    authorization = checkout.authorize(1500)
    assert authorization.succeeded
    assert authorization.type == "authorizations"
    assert authorization.amount_cents == 1500
    assert authorization.currency_code == "EUR"
    assert authorization.number == f"{checkout.order.number}/T/001"
    assert authorization.gateway_transaction_id
    assert authorization.capture_balance_cents == 1500
    assert authorization.void_balance_cents == 1500
    assert authorization.payment_source == checkout.source
    assert authorization.payment_method_type == "test_payments"


def test_transactions_are_numbered_in_order_three_digits_at_least(checkout):
    authorization = checkout.authorize(1500)
    capture = order_authorization_capture(
        authorization=authorization, actor=ACTOR, amount_cents=500
    )
    assert capture.number == f"{checkout.order.number}/T/002"
    assert reload(capture).number == capture.number  # as stored
    Transaction.objects.bulk_create(
        Transaction(
            **{
                field.attname: getattr(authorization, field.attname)
                for field in Transaction._meta.concrete_fields
                if not field.primary_key
            }
            | {"number": f"{checkout.order.number}/T/x{i}", "idempotency_key": None}
        )
        for i in range(997)
    )
    thousandth = order_authorization_capture(
        authorization=authorization, actor=ACTOR, amount_cents=500
    )
    assert thousandth.number == f"{checkout.order.number}/T/1000"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("tok_declined", "PAYMENT_DECLINED"),
        ("tok_insufficient_funds", "INSUFFICIENT_FUNDS"),
        ("tok_timeout", "GATEWAY_TIMEOUT"),
        ("tok_unheard_of", "PAYMENT_DECLINED"),
    ],
)
def test_authorize_failure_records_a_failed_transaction(token, code, actor):
    checkout = make_checkout(token=token)
    authorization = checkout.authorize(1500)
    assert authorization.status == "failed"
    assert authorization.error_code == code
    assert authorization.capture_balance_cents == 0
    assert selectors.order_payment_totals(order_id=checkout.order.pk).authorized_cents == 0
    with pytest.raises(errors.PaymentTransitionNotAllowed):
        order_authorization_capture(authorization=authorization, actor=actor)


def test_partial_authorization_keeps_what_the_gateway_authorized():
    checkout = make_checkout(token="tok_partial")
    authorization = checkout.authorize(1001)
    assert authorization.succeeded
    assert authorization.amount_cents == 500


def test_failed_authorization_can_be_turned_into_a_refusal():
    checkout = make_checkout(token="tok_declined")
    error = errors.PaymentFailed(checkout.authorize(100))
    assert error.code == "PAYMENT_DECLINED"
    assert error.transaction.status == "failed"


@pytest.mark.parametrize("amount", [0, -5])
def test_authorize_refuses_a_non_positive_amount(checkout, amount):
    with pytest.raises(errors.InvalidAmount):
        checkout.authorize(amount)
    assert not Transaction.objects.exists()
    assert TestGateway.calls == []


def test_authorize_refuses_a_disabled_payment_method(checkout):
    payment_method_disable(payment_method=checkout.payment_method)
    checkout.payment_method.refresh_from_db()
    with pytest.raises(errors.PaymentMethodNotAvailable):
        checkout.authorize(100)
    payment_method_enable(payment_method=checkout.payment_method)
    checkout.payment_method.refresh_from_db()
    assert checkout.authorize(100).succeeded


def test_authorize_refuses_a_method_of_another_market(checkout):
    checkout.payment_method = factories.PaymentMethodFactory.create(
        payment_gateway=checkout.gateway
    )
    with pytest.raises(errors.PaymentMethodNotAvailable) as exc:
        checkout.authorize(100)
    assert exc.value.pointer == "/data/relationships/payment_method"


def test_authorize_refuses_a_source_of_another_order(checkout):
    checkout.source = factories.TestPaymentFactory.create()
    with pytest.raises(errors.PaymentSourceMismatch):
        checkout.authorize(100)


def test_authorize_refuses_an_amount_outside_the_method_limits():
    checkout = make_checkout(min_order_amount_cents=100, max_order_amount_cents=200)
    with pytest.raises(errors.PaymentMethodNotAvailable):
        checkout.authorize(201)
    with pytest.raises(errors.PaymentMethodNotAvailable):
        checkout.authorize(99)
    assert checkout.authorize(200).succeeded


def test_auto_capture_captures_right_after_authorization():
    checkout = make_checkout(auto_capture=True, auto_capture_max_amount_cents=1000)
    authorization = checkout.authorize(1000)
    assert authorization.capture_amount_cents == 1000
    assert authorization.capture_balance_cents == 0
    assert selectors.order_payment_totals(order_id=checkout.order.pk).captured_cents == 1000


def test_auto_capture_stops_above_its_maximum():
    checkout = make_checkout(auto_capture=True, auto_capture_max_amount_cents=1000)
    authorization = checkout.authorize(1001)
    assert authorization.capture_amount_cents == 0
    assert not Transaction.objects.filter(type="captures").exists()


# --- capture ----------------------------------------------------------------------------------


def test_partial_captures_repeat_up_to_the_balance_then_are_refused(checkout, actor):
    authorization = checkout.authorize(1000)
    for expected_balance in (700, 400, 100):
        capture = order_authorization_capture(
            authorization=authorization, amount_cents=300, actor=actor
        )
        assert capture.succeeded
        assert capture.reference_authorization_id == authorization.pk
        assert reload(authorization).capture_balance_cents == expected_balance
    with pytest.raises(errors.InsufficientCaptureBalance) as exc:
        order_authorization_capture(authorization=authorization, amount_cents=101, actor=actor)
    assert exc.value.code == "INSUFFICIENT_CAPTURE_BALANCE"
    assert exc.value.pointer == "/data/attributes/_capture_amount_cents"
    last = order_authorization_capture(authorization=authorization, actor=actor)
    assert last.amount_cents == 100
    with pytest.raises(errors.InsufficientCaptureBalance):
        order_authorization_capture(authorization=authorization, actor=actor)
    assert reload(authorization).capture_amount_cents == 1000
    assert len(TestGateway.calls_of("capture")) == 4


def test_capture_defaults_to_the_whole_balance(checkout, actor):
    authorization = checkout.authorize(1234)
    capture = order_authorization_capture(authorization=authorization, actor=actor)
    assert capture.amount_cents == 1234
    assert reload(authorization).capture_balance_cents == 0


@pytest.mark.parametrize("amount", [0, -1])
def test_capture_refuses_a_non_positive_amount(checkout, actor, amount):
    authorization = checkout.authorize(1000)
    with pytest.raises(errors.InvalidAmount):
        order_authorization_capture(authorization=authorization, amount_cents=amount, actor=actor)


def test_failed_capture_leaves_the_balance_as_it_was(actor):
    checkout = make_checkout(token="tok_capture_declined")
    authorization = checkout.authorize(1000)
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=400, actor=actor
    )
    assert capture.status == "failed"
    assert capture.error_code == "PAYMENT_DECLINED"
    assert reload(authorization).capture_balance_cents == 1000
    assert reload(authorization).capture_amount_cents == 0
    assert selectors.order_payment_totals(order_id=checkout.order.pk).captured_cents == 0


def test_capture_timeout_is_a_failed_capture_with_a_stable_code(actor):
    checkout = make_checkout(token="tok_capture_timeout")
    authorization = checkout.authorize(1000)
    capture = order_authorization_capture(authorization=authorization, actor=actor)
    assert capture.error_code == "GATEWAY_TIMEOUT"
    assert reload(authorization).capture_balance_cents == 1000


def test_only_authorizations_can_be_captured(checkout, actor):
    authorization = checkout.authorize(1000)
    capture = order_authorization_capture(authorization=authorization, actor=actor)
    with pytest.raises(errors.PaymentTransitionNotAllowed) as exc:
        order_authorization_capture(authorization=capture, actor=actor)
    assert exc.value.code == "TRANSITION_NOT_ALLOWED"


# --- void -------------------------------------------------------------------------------------


def test_void_after_partial_capture_releases_only_the_rest(checkout, actor):
    authorization = checkout.authorize(1000)
    order_authorization_capture(authorization=authorization, amount_cents=300, actor=actor)
    void = order_authorization_void(authorization=authorization, actor=actor)
    assert void.succeeded
    assert void.amount_cents == 700
    assert void.reference_authorization_id == authorization.pk
    authorization = reload(authorization)
    assert (authorization.capture_amount_cents, authorization.void_amount_cents) == (300, 700)
    assert authorization.capture_balance_cents == 0
    with pytest.raises(errors.InsufficientCaptureBalance):
        order_authorization_capture(authorization=authorization, amount_cents=1, actor=actor)
    with pytest.raises(errors.NothingToVoid) as exc:
        order_authorization_void(authorization=authorization, actor=actor)
    assert exc.value.code == "NOTHING_TO_VOID"


def test_fully_captured_authorization_has_nothing_to_void(checkout, actor):
    authorization = checkout.authorize(1000)
    order_authorization_capture(authorization=authorization, actor=actor)
    with pytest.raises(errors.NothingToVoid):
        order_authorization_void(authorization=authorization, actor=actor)
    assert TestGateway.calls_of("void") == []


def test_failed_void_leaves_the_authorization_capturable(actor):
    checkout = make_checkout(token="tok_void_declined")
    authorization = checkout.authorize(1000)
    void = order_authorization_void(authorization=authorization, actor=actor)
    assert void.status == "failed"
    assert reload(authorization).void_amount_cents == 0
    assert order_authorization_capture(authorization=authorization, actor=actor).succeeded


# --- refund -----------------------------------------------------------------------------------


def test_partial_refunds_repeat_up_to_the_balance_then_are_refused(checkout, actor):
    capture = order_authorization_capture(authorization=checkout.authorize(1000), actor=actor)
    for expected_balance in (750, 500, 250, 0):
        refund = order_capture_refund(capture=capture, amount_cents=250, actor=actor)
        assert refund.succeeded
        assert refund.reference_capture_id == capture.pk
        assert reload(capture).refund_balance_cents == expected_balance
    with pytest.raises(errors.InsufficientRefundBalance) as exc:
        order_capture_refund(capture=capture, amount_cents=1, actor=actor)
    assert exc.value.code == "INSUFFICIENT_REFUND_BALANCE"
    with pytest.raises(errors.InsufficientRefundBalance):
        order_capture_refund(capture=capture, actor=actor)
    assert len(TestGateway.calls_of("refund")) == 4


def test_refund_more_than_captured_is_refused(checkout, actor):
    capture = order_authorization_capture(
        authorization=checkout.authorize(1000), amount_cents=600, actor=actor
    )
    with pytest.raises(errors.InsufficientRefundBalance):
        order_capture_refund(capture=capture, amount_cents=601, actor=actor)
    assert order_capture_refund(capture=capture, actor=actor).amount_cents == 600


def test_failed_refund_leaves_the_balance_as_it_was(actor):
    checkout = make_checkout(token="tok_refund_insufficient_funds")
    capture = order_authorization_capture(authorization=checkout.authorize(1000), actor=actor)
    refund = order_capture_refund(capture=capture, amount_cents=300, actor=actor)
    assert refund.status == "failed"
    assert refund.error_code == "INSUFFICIENT_FUNDS"
    assert reload(capture).refund_balance_cents == 1000


def test_only_captures_can_be_refunded(checkout, actor):
    authorization = checkout.authorize(1000)
    with pytest.raises(errors.PaymentTransitionNotAllowed):
        order_capture_refund(capture=authorization, actor=actor)


# --- idempotency ------------------------------------------------------------------------------


def test_same_idempotency_key_returns_the_first_capture_without_calling_again(checkout, actor):
    authorization = checkout.authorize(1000)
    first = order_authorization_capture(
        authorization=authorization, amount_cents=400, actor=actor, idempotency_key="cap-1"
    )
    again = order_authorization_capture(
        authorization=authorization, amount_cents=400, actor=actor, idempotency_key="cap-1"
    )
    assert again.pk == first.pk
    assert len(TestGateway.calls_of("capture")) == 1
    assert reload(authorization).capture_balance_cents == 600


def test_same_idempotency_key_returns_a_failed_result_as_it_was(actor):
    checkout = make_checkout(token="tok_declined")
    first = checkout.authorize(1000, idempotency_key="auth-1")
    again = checkout.authorize(1000, idempotency_key="auth-1")
    assert again.pk == first.pk
    assert again.status == "failed"
    assert len(TestGateway.calls_of("authorize")) == 1


def test_idempotency_key_reused_for_another_request_is_refused(checkout, actor):
    authorization = checkout.authorize(1000)
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=400, actor=actor, idempotency_key="k"
    )
    with pytest.raises(errors.IdempotencyKeyReused):
        order_authorization_capture(
            authorization=authorization, amount_cents=500, actor=actor, idempotency_key="k"
        )
    with pytest.raises(errors.IdempotencyKeyReused):
        order_capture_refund(capture=capture, actor=actor, idempotency_key="k")


def test_same_key_on_refund_and_void_moves_money_once(checkout, actor):
    authorization = checkout.authorize(1000)
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=500, actor=actor
    )
    refunds = [
        order_capture_refund(capture=capture, actor=actor, idempotency_key="r") for _ in "ab"
    ]
    voids = [
        order_authorization_void(authorization=authorization, actor=actor, idempotency_key="v")
    ]
    voids.append(
        order_authorization_void(authorization=authorization, actor=actor, idempotency_key="v")
    )
    assert refunds[0].pk == refunds[1].pk
    assert voids[0].pk == voids[1].pk
    assert len(TestGateway.calls_of("refund")) == len(TestGateway.calls_of("void")) == 1


# --- the whole order --------------------------------------------------------------------------


def test_order_capture_all_captures_every_balance(checkout, actor):
    first = checkout.authorize(600)
    second = checkout.authorize(400)
    order_authorization_capture(authorization=first, amount_cents=100, actor=actor)
    captures = order_capture_all(order=checkout.order, actor=actor)
    assert sorted(capture.amount_cents for capture in captures) == [400, 500]
    assert reload(first).capture_balance_cents == reload(second).capture_balance_cents == 0
    with pytest.raises(errors.InsufficientCaptureBalance):
        order_capture_all(order=checkout.order, actor=actor)


def test_order_refund_all_refunds_every_capture(checkout, actor):
    authorization = checkout.authorize(1000)
    order_authorization_capture(authorization=authorization, amount_cents=300, actor=actor)
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=700, actor=actor
    )
    order_capture_refund(capture=capture, amount_cents=200, actor=actor)
    refunds = order_refund_all(order=checkout.order, actor=actor)
    assert sorted(refund.amount_cents for refund in refunds) == [300, 500]
    assert selectors.order_payment_totals(order_id=checkout.order.pk).refunded_cents == 1000
    with pytest.raises(errors.InsufficientRefundBalance):
        order_refund_all(order=checkout.order, actor=actor)


def test_order_void_all_voids_what_is_left(checkout, actor):
    first = checkout.authorize(600)
    checkout.authorize(400)
    order_authorization_capture(authorization=first, amount_cents=600, actor=actor)
    voids = order_void_all(order=checkout.order, actor=actor)
    assert [void.amount_cents for void in voids] == [400]
    with pytest.raises(errors.NothingToVoid):
        order_void_all(order=checkout.order, actor=actor)


# --- events and payment status ----------------------------------------------------------------


def test_every_transaction_writes_an_order_event_with_amount_and_currency(checkout, actor):
    authorization = checkout.authorize(1000)
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=600, actor=actor
    )
    order_capture_refund(capture=capture, amount_cents=100, actor=actor)
    order_authorization_void(authorization=authorization, actor=actor)
    events = list(
        OrderEvent.objects.exclude(subject_type="orders")
        .filter(order=checkout.order, field="status")
        .values_list(
            "trigger", "subject_type", "to_status", "amount_cents", "currency_code", "actor"
        )
    )
    assert events == [
        ("_authorize", "authorizations", "succeeded", 1000, "EUR", "user:cashier"),
        ("_capture", "captures", "succeeded", 600, "EUR", "user:cashier"),
        ("_refund", "refunds", "succeeded", 100, "EUR", "user:cashier"),
        ("_void", "voids", "succeeded", 400, "EUR", "user:cashier"),
    ]


def test_failed_transaction_event_says_why(actor):
    checkout = make_checkout(token="tok_declined")
    checkout.authorize(1000)
    event = OrderEvent.objects.exclude(subject_type="orders").get(order=checkout.order)
    assert (event.to_status, event.amount_cents) == ("failed", 1000)
    assert event.message.startswith("PAYMENT_DECLINED")


def test_payment_status_follows_the_money_when_the_order_total_is_known(
    checkout, actor, monkeypatch
):
    order = checkout.order
    Order.objects.filter(pk=order.pk).update(
        subtotal_amount_cents=1000, total_amount_cents=1000, total_amount_with_taxes_cents=1000
    )

    def status():
        order.refresh_from_db()
        return order.payment_status

    authorization = checkout.authorize(1000)
    assert status() == "authorized"
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=400, actor=actor
    )
    assert status() == "partially_paid"
    order_authorization_capture(authorization=authorization, actor=actor)
    assert status() == "paid"
    order_capture_refund(capture=capture, amount_cents=100, actor=actor)
    assert status() == "partially_refunded"
    order_refund_all(order=order, actor=actor)
    assert status() == "refunded"
    moves = list(
        OrderEvent.objects.filter(order=order, field="payment_status").values_list(
            "from_status", "to_status"
        )
    )
    assert moves == [
        ("unpaid", "authorized"),
        ("authorized", "partially_paid"),
        ("partially_paid", "paid"),
        ("paid", "partially_refunded"),
        ("partially_refunded", "refunded"),
    ]


def test_an_authorization_voided_in_full_makes_the_order_voided(checkout, actor):
    authorization = checkout.authorize(1000)
    order_authorization_void(authorization=authorization, actor=actor)
    checkout.order.refresh_from_db()
    assert checkout.order.payment_status == "voided"
    refreshed = order_statuses_refresh(order=checkout.order, actor=actor)
    assert refreshed.payment_status == "voided"


# --- stuck transactions -----------------------------------------------------------------------


def stuck_capture(checkout, actor, monkeypatch, amount):
    """A capture reserved but never settled, as if the process died during the gateway call."""
    authorization = checkout.authorize(1000)
    with monkeypatch.context() as patch:
        patch.setattr(
            "orders.services.money.transaction_settle",
            lambda txn, result: Settlement(txn, settled=False),
        )
        capture = order_authorization_capture(
            authorization=authorization, amount_cents=amount, actor=actor
        )
    assert capture.status == "pending"
    return authorization, capture


def test_stuck_capture_keeps_its_amount_reserved_until_forwarded(checkout, actor, monkeypatch):
    authorization, capture = stuck_capture(checkout, actor, monkeypatch, 700)
    assert reload(authorization).capture_balance_cents == 300
    with pytest.raises(errors.InsufficientCaptureBalance):
        order_authorization_capture(authorization=authorization, amount_cents=301, actor=actor)
    forwarded = order_transaction_forward(transaction=capture, actor=actor)
    assert forwarded.succeeded
    assert selectors.order_payment_totals(order_id=checkout.order.pk).captured_cents == 700
    with pytest.raises(errors.PaymentTransitionNotAllowed):
        order_transaction_forward(transaction=forwarded, actor=actor)


def test_released_stuck_capture_gives_the_amount_back(checkout, actor, monkeypatch):
    authorization, capture = stuck_capture(checkout, actor, monkeypatch, 700)
    released = order_transaction_release(transaction=capture, actor=actor)
    assert released.status == "failed"
    assert reload(authorization).capture_balance_cents == 1000
