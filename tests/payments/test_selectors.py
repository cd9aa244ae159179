"""Which payment methods an order can use, and what its transactions add up to."""

import pytest

from orders.services.money import (
    order_authorization_capture,
    order_authorization_void,
    order_capture_refund,
)
from payments.selectors import order_payment_totals, payment_methods_available
from payments.services import payment_gateway_disable, payment_method_disable
from tests.factories import MarketFactory, PriceListFactory
from tests.payments import factories
from tests.payments.checkouts import ACTOR, make_checkout

pytestmark = pytest.mark.django_db


def test_available_methods_are_those_of_the_market_currency_and_amount():
    market = MarketFactory.create()
    other_market = MarketFactory.create()
    usd_market = MarketFactory.create(price_list=PriceListFactory.create(currency_code="USD"))
    gateway = factories.PaymentGatewayFactory.create()

    def method(**fields):
        fields.setdefault("market", market)
        return factories.PaymentMethodFactory.create(payment_gateway=gateway, **fields)

    plain = method(name="a plain")
    everywhere = method(name="b everywhere", market=None, currency_code="EUR")
    small = method(name="c small orders", max_order_amount_cents=5000)
    large = method(name="d large orders", min_order_amount_cents=10000)
    method(name="other market", market=other_market)
    method(name="usd", market=usd_market, currency_code="USD")
    payment_method_disable(payment_method=method(name="disabled"))
    off_gateway = factories.PaymentGatewayFactory.create()
    factories.PaymentMethodFactory.create(market=market, payment_gateway=off_gateway)
    payment_gateway_disable(payment_gateway=off_gateway)

    def available(amount):
        return list(
            payment_methods_available(market=market, currency_code="eur", amount_cents=amount)
        )

    assert available(5000) == [plain, everywhere, small]
    assert available(5001) == [plain, everywhere]
    assert available(10000) == [plain, everywhere, large]
    assert (
        list(payment_methods_available(market=market, currency_code="USD", amount_cents=100)) == []
    )


def test_order_payment_totals_count_only_succeeded_transactions():
    checkout = make_checkout(token="tok_refund_declined")
    authorization = checkout.authorize(1000)
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=700, actor=ACTOR
    )
    order_capture_refund(capture=capture, amount_cents=100, actor=ACTOR)  # declined
    order_authorization_void(authorization=authorization, actor=ACTOR)
    totals = order_payment_totals(order_id=checkout.order.pk)
    assert (
        totals.authorized_cents,
        totals.captured_cents,
        totals.voided_cents,
        totals.refunded_cents,
    ) == (1000, 700, 300, 0)
