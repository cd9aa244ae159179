"""Returning customers (issue 11): the order triggers that save to the address book and the
wallet act at placement, a second order reuses both, and the gateways say what is reusable."""

from __future__ import annotations

import json
from typing import Any

import pytest

from markets.models import Address
from oms.errors import DomainError
from orders import services
from orders.models import Customer, CustomerAddress, CustomerPaymentSource, Order
from orders.services.checkout import payment_source_of
from orders.services.wallet import customer_payment_source_create, order_wallet_save
from payments.gateways import external
from payments.gateways.test import TestGateway
from payments.models import ExternalPayment, PaymentSourceType, TestPayment
from payments.services import external_payment_create, payment_source_reusable
from tests import factories as catalog
from tests.orders.factories import STOREFRONT, checkout_ready, order_pending, order_ready
from tests.payments import factories as money

pytestmark = pytest.mark.django_db

SAVE_ALL: dict[str, Any] = {
    "_save_shipping_address_to_customer_address_book": True,
    "_save_billing_address_to_customer_address_book": True,
    "_save_payment_source_to_customer_wallet": True,
}


def _ready(
    email: str = "ada@example.com",
    *,
    card_token: str = "tok_success",  # noqa: S107
    **data: Any,
) -> Order:
    order = order_ready(customer_email=email, card_token=card_token)
    if data:
        order = services.order_update(order=order, actor=STOREFRONT, data=data)
    return order


def _place(order: Order) -> Order:
    return services.order_place(order=order, actor=STOREFRONT)


# --- the address book -------------------------------------------------------------------------


def test_save_shipping_address_trigger_saves_a_clone_at_placement():
    order = _ready(_save_shipping_address_to_customer_address_book=True)
    assert order.save_shipping_address_to_customer_address_book
    assert not CustomerAddress.objects.exists()  # nothing before placement
    placed = _place(order)
    [entry] = CustomerAddress.objects.filter(customer=placed.customer)
    assert placed.shipping_address is not None
    assert entry.address_id != placed.shipping_address_id  # a clone, never shared
    assert entry.address.line_1 == placed.shipping_address.line_1


def test_save_billing_address_trigger_saves_a_clone_at_placement():
    order = _ready(_save_billing_address_to_customer_address_book=True)
    placed = _place(order)
    [entry] = CustomerAddress.objects.filter(customer=placed.customer)
    assert placed.billing_address is not None
    assert entry.address_id not in (placed.billing_address_id, placed.shipping_address_id)


def test_saving_both_identical_addresses_keeps_one_entry():
    # order_ready's shipping address is a copy of the billing one
    placed = _place(_ready(**SAVE_ALL))
    assert CustomerAddress.objects.filter(customer=placed.customer).count() == 1


def test_save_triggers_sent_false_save_nothing():
    order = _ready(**SAVE_ALL)
    order = services.order_update(
        order=order, actor=STOREFRONT, data=dict.fromkeys(SAVE_ALL, False)
    )
    _place(order)
    assert not CustomerAddress.objects.exists()
    assert not CustomerPaymentSource.objects.exists()


def test_save_trigger_without_a_customer_is_refused_with_its_pointer():
    order = services.order_create(market=catalog.MarketFactory.create(), actor=STOREFRONT)
    with pytest.raises(DomainError) as refused:
        services.order_update(
            order=order,
            actor=STOREFRONT,
            data={"_save_payment_source_to_customer_wallet": True},
        )
    assert refused.value.pointer == "/data/attributes/_save_payment_source_to_customer_wallet"
    order.refresh_from_db()
    assert not order.save_payment_source_to_customer_wallet


def test_a_failed_placement_saves_nothing():
    order = _ready(card_token="tok_declined", **SAVE_ALL)
    with pytest.raises(DomainError):
        _place(order)
    assert not CustomerAddress.objects.exists()
    assert not CustomerPaymentSource.objects.exists()


def test_shipping_and_billing_clone_ids_reuse_an_address_book_entry():
    first = _place(_ready(**SAVE_ALL))
    [entry] = CustomerAddress.objects.filter(customer=first.customer)
    second = order_pending(market=first.market, customer_email="ada@example.com")
    second = services.order_update(
        order=second,
        actor=STOREFRONT,
        data={
            "_shipping_address_clone_id": entry.address_id,
            "_billing_address_clone_id": entry.address_id,
            "_save_shipping_address_to_customer_address_book": True,
        },
    )
    assert second.shipping_address_id not in (None, entry.address_id)
    assert second.billing_address_id not in (None, entry.address_id, second.shipping_address_id)
    assert second.shipping_address is not None
    assert second.shipping_address.line_1 == entry.address.line_1
    placed = _place(checkout_ready(second))
    assert placed.status == Order.Status.PLACED
    # the same address again: the book does not grow
    assert CustomerAddress.objects.filter(customer=first.customer).count() == 1


# --- the wallet -------------------------------------------------------------------------------


def test_save_payment_source_trigger_saves_the_gateways_token_at_placement():
    order = _ready(_save_payment_source_to_customer_wallet=True)
    assert not CustomerPaymentSource.objects.exists()
    placed = _place(order)
    [entry] = CustomerPaymentSource.objects.filter(customer=placed.customer)
    assert entry.payment_method_id == placed.payment_method_id
    assert entry.payment_source_type == PaymentSourceType.TEST_PAYMENTS
    assert entry.payment_source_token == "tok_success"
    assert entry.customer_token == f"cus_test_{placed.customer_id}"
    assert TestGateway.calls_of("reusable_source")


def test_a_source_the_gateway_will_not_reuse_is_not_saved():
    placed = _place(
        _ready(card_token="tok_single_use", _save_payment_source_to_customer_wallet=True)
    )
    assert placed.status == Order.Status.PLACED
    assert not CustomerPaymentSource.objects.exists()


def test_without_the_trigger_the_wallet_is_not_asked():
    TestGateway.reset()
    _place(_ready())
    assert not TestGateway.calls_of("reusable_source")
    assert not CustomerPaymentSource.objects.exists()


def test_the_wallet_gateway_call_runs_with_the_order_unlocked(monkeypatch):
    from orders.locks import _held

    held: list[bool] = []
    original = TestGateway.reusable_source

    def spy(self: TestGateway, **kwargs: Any) -> Any:
        held.append(_held(order.pk) is not None)
        return original(self, **kwargs)

    monkeypatch.setattr(TestGateway, "reusable_source", spy)
    order = _ready(_save_payment_source_to_customer_wallet=True)
    placed = _place(order)
    assert placed.status == Order.Status.PLACED
    assert held == [False]


def test_customer_payment_source_id_pays_a_second_order_with_the_saved_token():
    first = _place(_ready(**SAVE_ALL))
    [entry] = CustomerPaymentSource.objects.filter(customer=first.customer)
    second = order_pending(market=first.market, customer_email="ada@example.com")
    book = CustomerAddress.objects.get(customer=first.customer)
    second = services.order_update(
        order=second,
        actor=STOREFRONT,
        data={
            "_shipping_address_clone_id": book.address_id,
            "_billing_address_clone_id": book.address_id,
            "_customer_payment_source_id": entry.pk,
        },
    )
    assert second.payment_method_id == entry.payment_method_id
    source = payment_source_of(second)
    assert isinstance(source, TestPayment)
    assert source.order_id == second.pk
    assert source.token == entry.payment_source_token
    second = checkout_ready(second)  # stock and shipping; its own card would come last
    TestPayment.objects.filter(order=second).exclude(pk=source.pk).delete()
    placed = _place(second)
    assert placed.status == Order.Status.PLACED
    assert placed.transactions.get(type="authorizations").test_payment_id == source.pk
    customer = Customer.objects.get(pk=first.customer_id)
    assert customer.status == Customer.Status.REPEAT


def test_another_customers_payment_source_cannot_pay_an_order():
    other = _place(_ready("bob@example.com", _save_payment_source_to_customer_wallet=True))
    [bobs] = CustomerPaymentSource.objects.filter(customer=other.customer)
    order = order_pending(market=other.market, customer_email="ada@example.com")
    with pytest.raises(DomainError) as refused:
        services.order_update(
            order=order, actor=STOREFRONT, data={"_customer_payment_source_id": bobs.pk}
        )
    assert refused.value.code == "CUSTOMER_PAYMENT_SOURCE_NOT_FOUND"
    assert refused.value.pointer == "/data/attributes/_customer_payment_source_id"
    order.refresh_from_db()
    assert order.payment_method_id is None
    assert payment_source_of(order) is None


def test_a_wire_transfer_method_cannot_be_saved():
    customer = services.customer_find_or_create(email="cy@example.com")
    method = money.PaymentMethodFactory.create(
        payment_gateway=money.ManualGatewayFactory.create(),
        payment_source_type=PaymentSourceType.WIRE_TRANSFERS,
    )
    with pytest.raises(DomainError) as refused:
        customer_payment_source_create(
            customer=customer, payment_method=method, payment_source_token="anything"
        )
    assert refused.value.code == "PAYMENT_SOURCE_NOT_REUSABLE"


def test_a_card_number_is_never_stored_in_a_wallet():
    from django.core.exceptions import ValidationError

    customer = services.customer_find_or_create(email="cy@example.com")
    method = money.PaymentMethodFactory.create()
    with pytest.raises(ValidationError):
        customer_payment_source_create(
            customer=customer, payment_method=method, payment_source_token="4242 4242 4242 4242"
        )
    assert not CustomerPaymentSource.objects.exists()


# --- the external gateway's reusable sources ----------------------------------------------------


TOKEN_URL = "http://127.0.0.1:9/token"


def _external_order(token_url: str = TOKEN_URL) -> tuple[Order, ExternalPayment]:
    order = order_pending(customer_email="ext@example.com")
    method = money.PaymentMethodFactory.create(
        market=order.market,
        payment_gateway=money.ExternalGatewayFactory.create(token_url=token_url),
        payment_source_type=PaymentSourceType.EXTERNAL_PAYMENTS,
    )
    order = services.order_update(order=order, actor=STOREFRONT, data={"payment_method": method})
    source = external_payment_create(order=order, payment_source_token="pm_123")
    return order, source


def test_external_gateway_saves_what_its_token_url_answers(monkeypatch):
    sent: list[dict[str, Any]] = []

    def answer(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> Any:
        sent.append({"url": url, "body": json.loads(body), "headers": headers})
        reply = {
            "success": True,
            "data": {
                "payment_source_token": "pm_saved",
                "customer_token": "cus_9",
                "name": "Visa 4242",
            },
        }
        return external.HttpAnswer(status=200, body=json.dumps(reply).encode())

    monkeypatch.setattr(external, "http_post", answer)
    order, source = _external_order()
    Order.objects.filter(pk=order.pk).update(save_payment_source_to_customer_wallet=True)
    order.refresh_from_db()
    entry = order_wallet_save(order=order, source=source)
    assert entry is not None
    assert (entry.payment_source_token, entry.customer_token, entry.name) == (
        "pm_saved",
        "cus_9",
        "Visa 4242",
    )
    [call] = sent
    assert call["url"] == "http://127.0.0.1:9/token"
    assert call["body"]["meta"]["operation"] == "tokenize"
    assert call["body"]["meta"]["customer_reference"] == order.customer_id
    assert call["body"]["data"]["attributes"]["payment_source_token"] == "pm_123"
    assert external.SIGNATURE_HEADER in call["headers"]
    # paying again with it: an external payment with the saved token and customer token
    again = order_pending(market=order.market, customer_email="ext@example.com")
    again = services.order_update(
        order=again, actor=STOREFRONT, data={"_customer_payment_source_id": entry.pk}
    )
    reused = payment_source_of(again)
    assert isinstance(reused, ExternalPayment)
    assert reused.payment_source_token == "pm_saved"
    assert reused.options == {"customer_token": "cus_9"}


@pytest.mark.parametrize(
    "reply",
    [
        {"success": False, "data": {"error": {"code": "not_reusable"}}},
        {"success": True, "data": {}},
        "not json",
    ],
)
def test_external_gateway_that_cannot_reuse_the_source_saves_nothing(monkeypatch, reply):
    body = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
    monkeypatch.setattr(
        external, "http_post", lambda url, **kwargs: external.HttpAnswer(status=200, body=body)
    )
    order, source = _external_order()
    method = order.payment_method
    assert method is not None
    assert (
        payment_source_reusable(payment_method=method, source=source, customer_reference="c")
        is None
    )


def test_external_gateway_without_a_token_url_reuses_nothing():
    order, source = _external_order(token_url="")
    assert order.payment_method is not None
    assert (
        payment_source_reusable(
            payment_method=order.payment_method, source=source, customer_reference="c"
        )
        is None
    )


def test_manual_gateway_reuses_nothing():
    order = order_pending()
    method = money.PaymentMethodFactory.create(
        market=order.market,
        payment_gateway=money.ManualGatewayFactory.create(),
        payment_source_type=PaymentSourceType.WIRE_TRANSFERS,
    )
    from payments.services import wire_transfer_create

    source = wire_transfer_create(order=order)
    assert (
        payment_source_reusable(payment_method=method, source=source, customer_reference="c")
        is None
    )
    assert Address.objects.exists()
