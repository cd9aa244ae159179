"""A ready-made checkout for payment tests: an order, a test gateway, a method and a card."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oms.actors import Actor
from orders.models import Order
from orders.services.money import order_payment_authorize
from payments.models import PaymentGateway, PaymentMethod, TestPayment, Transaction
from tests.payments import factories

ACTOR = Actor(kind="user", id="1", name="cashier")


@dataclass
class Checkout:
    order: Order
    gateway: PaymentGateway
    payment_method: PaymentMethod
    source: TestPayment

    def authorize(self, amount_cents: int, **kwargs: Any) -> Transaction:
        return order_payment_authorize(
            order=self.order,
            payment_method=self.payment_method,
            payment_source=self.source,
            amount_cents=amount_cents,
            actor=ACTOR,
            **kwargs,
        )


def make_checkout(
    token: str = "tok_success",  # noqa: S107
    total_cents: int = 10_000,
    **method_fields: Any,
) -> Checkout:
    """A placed order whose total is `total_cents` (what its payment status is measured
    against, and what its captures may never exceed)."""
    order = factories.OrderFactory.create(total_cents=total_cents)
    gateway = method_fields.pop("payment_gateway", None) or factories.PaymentGatewayFactory.create()
    method = factories.PaymentMethodFactory.create(
        market=order.market, payment_gateway=gateway, **method_fields
    )
    source = factories.TestPaymentFactory.create(order=order, token=token)
    return Checkout(order=order, gateway=gateway, payment_method=method, source=source)
