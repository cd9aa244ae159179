"""factory-boy factories for orders' skeleton and payments; saved through the services' path."""

from __future__ import annotations

import factory

from orders.models import Order
from payments import models
from tests.factories import MarketFactory, ServiceFactory


class OrderFactory(ServiceFactory[Order]):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: 1000 + n)
    market = factory.SubFactory(MarketFactory)
    currency_code = factory.LazyAttribute(lambda order: order.market.price_list.currency_code)
    customer_email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    status = Order.Status.PLACED


class PaymentGatewayFactory(ServiceFactory[models.PaymentGateway]):
    class Meta:
        model = models.PaymentGateway

    type = models.PaymentGateway.Type.TEST
    name = factory.Sequence(lambda n: f"Gateway {n}")


class ManualGatewayFactory(PaymentGatewayFactory):
    type = models.PaymentGateway.Type.MANUAL


class ExternalGatewayFactory(PaymentGatewayFactory):
    type = models.PaymentGateway.Type.EXTERNAL
    authorize_url = "http://127.0.0.1:9/authorize"
    capture_url = "http://127.0.0.1:9/capture"
    void_url = "http://127.0.0.1:9/void"
    refund_url = "http://127.0.0.1:9/refund"
    timeout_ms = 2000


class PaymentMethodFactory(ServiceFactory[models.PaymentMethod]):
    class Meta:
        model = models.PaymentMethod

    market = factory.SubFactory(MarketFactory)
    payment_gateway = factory.SubFactory(PaymentGatewayFactory)
    payment_source_type = models.PaymentSourceType.TEST_PAYMENTS
    currency_code = "EUR"


class TestPaymentFactory(ServiceFactory[models.TestPayment]):
    __test__ = False

    class Meta:
        model = models.TestPayment

    order = factory.SubFactory(OrderFactory)
    token = "tok_success"


class WireTransferFactory(ServiceFactory[models.WireTransfer]):
    class Meta:
        model = models.WireTransfer

    order = factory.SubFactory(OrderFactory)


class ExternalPaymentFactory(ServiceFactory[models.ExternalPayment]):
    class Meta:
        model = models.ExternalPayment

    order = factory.SubFactory(OrderFactory)
    payment_source_token = factory.Sequence(lambda n: f"ext-token-{n}")
