"""factory-boy factories for orders' skeleton and payments; saved through the services' path."""

from __future__ import annotations

from typing import Any

import factory

from orders.models import Order
from payments import models
from tests.factories import MarketFactory, ServiceFactory


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    """A placed order row (see `tests.orders.factories.order_row`)."""

    class Meta:
        model = Order

    market = factory.SubFactory(MarketFactory)
    customer_email = factory.Sequence(lambda n: f"buyer{n}@example.com")
    status = Order.Status.PLACED

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        from tests.orders.factories import order_row

        # one line of the total the order's payment status is measured against (and captures
        # are capped at), so its stored totals are what its lines add up to
        return order_row(line_cents=kwargs.pop("total_cents", 10_000), **kwargs)


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
