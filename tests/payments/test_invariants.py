"""The database refuses to break the money invariants even when Python is bypassed, and no
random sequence of captures, refunds and voids (some of them failing) breaks them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.services.money import (
    order_authorization_capture,
    order_authorization_void,
    order_capture_refund,
)
from payments import errors
from payments.models import PaymentSourceType, Transaction
from payments.services import payment_method_create
from tests.payments import factories
from tests.payments.checkouts import ACTOR, make_checkout

pytestmark = pytest.mark.django_db


def refused_by_the_database(on: str = "authorization", **changes):
    checkout = make_checkout()
    authorization = checkout.authorize(1000)
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=600, actor=ACTOR
    )
    target = capture if on == "capture" else authorization
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=target.pk).update(**changes)


def test_database_refuses_capturing_more_than_authorized():
    refused_by_the_database(capture_amount_cents=1001)


def test_database_refuses_voiding_more_than_the_uncaptured_rest():
    refused_by_the_database(void_amount_cents=401)


def test_database_refuses_refunding_more_than_captured():
    refused_by_the_database(on="capture", refund_amount_cents=601)


def test_database_refuses_negative_amounts():
    refused_by_the_database(amount_cents=-1)


def test_database_refuses_negative_running_totals():
    refused_by_the_database(capture_amount_cents=-1)


def test_database_refuses_a_refund_total_on_an_authorization():
    refused_by_the_database(refund_amount_cents=1)


def test_database_refuses_a_capture_total_on_a_capture():
    refused_by_the_database(on="capture", capture_amount_cents=1)


def test_database_refuses_a_capture_without_its_authorization():
    checkout = make_checkout()
    authorization = checkout.authorize(1000)
    capture = order_authorization_capture(authorization=authorization, actor=ACTOR)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=capture.pk).update(reference_authorization=None)


def test_database_refuses_a_transaction_with_two_payment_sources():
    checkout = make_checkout()
    authorization = checkout.authorize(1000)
    wire = factories.WireTransferFactory.create(order=checkout.order)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=authorization.pk).update(wire_transfer=wire)


def test_database_refuses_a_reused_idempotency_key():
    checkout = make_checkout()
    first = checkout.authorize(1000, idempotency_key="same")
    second = checkout.authorize(500)
    assert first.idempotency_key == "same"
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=second.pk).update(idempotency_key="same")


def test_database_refuses_an_unknown_transaction_status():
    checkout = make_checkout()
    authorization = checkout.authorize(1000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=authorization.pk).update(status="maybe")


def test_payment_method_refuses_a_gateway_of_the_wrong_type():
    market = factories.MarketFactory.create()
    with pytest.raises(ValidationError) as exc:
        payment_method_create(
            data={
                "market": market,
                "payment_gateway": factories.ManualGatewayFactory.create(),
                "payment_source_type": PaymentSourceType.TEST_PAYMENTS,
            }
        )
    assert "payment_gateway" in exc.value.message_dict


def test_payment_method_inherits_the_market_currency_and_refuses_another():
    market = factories.MarketFactory.create()
    gateway = factories.PaymentGatewayFactory.create()
    data = {"market": market, "payment_gateway": gateway, "payment_source_type": "test_payments"}
    method = payment_method_create(data=data)
    assert method.currency_code == "EUR"
    assert method.name == "Test Card"
    with pytest.raises(ValidationError) as exc:
        payment_method_create(data={**data, "currency_code": "USD"})
    assert "currency_code" in exc.value.message_dict


def test_database_refuses_a_payment_method_minimum_above_its_maximum():
    method = factories.PaymentMethodFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(method).objects.filter(pk=method.pk).update(
            min_order_amount_cents=10, max_order_amount_cents=5
        )


def test_external_payment_refuses_a_card_number():
    with pytest.raises(ValidationError) as exc:
        factories.ExternalPaymentFactory.create(payment_source_token="4242 4242 4242 4242")
    assert "payment_source_token" in exc.value.message_dict


# --- property: random sequences keep the invariants ---------------------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["capture", "refund", "void", "capture_all", "refund_all"]),
        st.integers(min_value=-5, max_value=1200),
        st.integers(min_value=0, max_value=5),  # which capture a refund picks
    ),
    max_size=12,
)
tokens = st.sampled_from(
    ["tok_success", "tok_capture_declined", "tok_refund_declined", "tok_void_timeout"]
)


def assert_invariants(authorization_id: str) -> None:
    authorization = Transaction.objects.get(pk=authorization_id)
    children = Transaction.objects.filter(reference_authorization=authorization)
    live = ["succeeded", "pending"]

    def total(queryset) -> int:
        return queryset.aggregate(total=Sum("amount_cents"))["total"] or 0

    captured = total(children.filter(type="captures", status__in=live))
    voided = total(children.filter(type="voids", status__in=live))
    assert authorization.capture_amount_cents == captured
    assert authorization.void_amount_cents == voided
    assert 0 <= captured <= authorization.amount_cents
    assert 0 <= voided <= authorization.amount_cents - captured
    for capture in children.filter(type="captures"):
        refunded = total(capture.capture_children.filter(status__in=live))
        assert capture.refund_amount_cents == refunded
        assert 0 <= refunded <= capture.amount_cents
        if capture.status == "failed":
            assert refunded == 0
    assert not Transaction.objects.filter(amount_cents__lt=0).exists()
    assert not Transaction.objects.filter(
        capture_amount_cents__gt=F("amount_cents") - F("void_amount_cents")
    ).exists()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@pytest.mark.django_db(transaction=True)  # money entry points are durable transactions
@given(token=tokens, authorized=st.integers(min_value=1, max_value=1000), steps=operations)
def test_random_money_sequences_never_break_the_invariants(token, authorized, steps):
    checkout = make_checkout(token=token)
    authorization = checkout.authorize(authorized)
    for operation, amount, pick in steps:
        captures = list(
            Transaction.objects.filter(
                reference_authorization=authorization, type="captures", status="succeeded"
            ).order_by("pk")
        )
        try:
            if operation == "capture":
                order_authorization_capture(
                    authorization=authorization, amount_cents=amount, actor=ACTOR
                )
            elif operation == "capture_all":
                order_authorization_capture(authorization=authorization, actor=ACTOR)
            elif operation == "void":
                order_authorization_void(authorization=authorization, actor=ACTOR)
            elif captures:
                capture = captures[pick % len(captures)]
                order_capture_refund(
                    capture=capture,
                    amount_cents=None if operation == "refund_all" else amount,
                    actor=ACTOR,
                )
        except errors.PaymentError:
            pass  # a refusal changes nothing; the invariants below say so
        assert_invariants(authorization.pk)
