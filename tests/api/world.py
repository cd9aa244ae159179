"""Two markets, two customers and their records: what the access tests look at.

Market A holds a sales channel's cart (created with Ada's e-mail, so it is Ada's), Ada's placed
order and Bob's approved order; market B holds another order of Ada's. Each placed or approved
order has a succeeded authorization, partly captured. Ada and Bob each have an address book.
"""

from __future__ import annotations

from dataclasses import dataclass

from markets.models import Address, Market
from oms.api.principal import Principal
from orders import services
from orders.locks import order_lock
from orders.models import Customer, CustomerAddress, LineItem, Order
from payments.gateways import GatewayResult
from payments.models import Transaction
from payments.services import authorization_reserve, capture_reserve, transaction_settle
from tests import factories
from tests.api.conftest import Api
from tests.orders.factories import STAFF, STOREFRONT, CustomerFactory, line_add, priced_sku
from tests.payments import factories as money

ROLES = (
    "anonymous",
    "sales_channel_a",
    "sales_channel_b",
    "customer_a",
    "customer_b",
    "read_only",
    "admin",
)


@dataclass
class Paid:
    """An order's authorization and its one capture."""

    authorization: Transaction
    capture: Transaction


@dataclass
class World:
    market_a: Market
    market_b: Market
    ada: Customer
    bob: Customer
    cart_a: Order  # draft, market A, Ada's e-mail (a storefront made it)
    ada_placed_a: Order  # placed, market A
    ada_placed_b: Order  # placed, market B
    bob_approved_a: Order  # approved, market A
    ada_book: CustomerAddress
    bob_book: CustomerAddress
    cart_line: LineItem
    bob_line: LineItem
    paid: dict[str, Paid]  # order attribute name -> its money

    def principal(self, role: str) -> Principal | None:
        a, b = self.market_a.pk, self.market_b.pk
        return {
            "anonymous": None,
            "sales_channel_a": Principal("app-sc-a", "sales_channel", market_ids=(a,)),
            "sales_channel_b": Principal("app-sc-b", "sales_channel", market_ids=(b,)),
            "customer_a": Principal(
                "app-sc-a", "sales_channel", market_ids=(a,), customer_id=self.ada.pk
            ),
            "customer_b": Principal(
                "app-sc-a", "sales_channel", market_ids=(a,), customer_id=self.bob.pk
            ),
            "read_only": Principal("app-read-only", "integration", role="read_only"),
            "admin": Principal("app-admin", "integration", role="admin"),
        }[role]

    def api(self, role: str) -> Api:
        return Api(self.principal(role))

    def address(self, name: str) -> Address:
        """`cart_a`, `ada_placed_a`… (their shipping address), `ada_book`, `bob_book`."""
        owner = getattr(self, name)
        if isinstance(owner, CustomerAddress):
            return owner.address
        assert owner.shipping_address is not None
        return owner.shipping_address


def _placed(market: Market, customer: Customer, status: str) -> tuple[Order, LineItem]:
    order = services.order_create(
        market=market,
        actor=STAFF,
        data={
            "customer_email": customer.email,
            "shipping_address": factories.AddressFactory.create(),
            "billing_address": factories.AddressFactory.create(),
        },
    )
    line = line_add(order, priced_sku(market, 5000))
    order.refresh_from_db()
    fields = {
        "status": status,
        "placed_at": order.created_at,
        "place_total_amount_cents": order.total_amount_with_taxes_cents,
    }
    if status == Order.Status.APPROVED:
        fields["approved_at"] = order.created_at
    Order.objects.filter(pk=order.pk).update(**fields)  # test set-up only: no lifecycle walk
    return Order.objects.get(pk=order.pk), line


def _pay(order: Order) -> Paid:
    method = money.PaymentMethodFactory.create(market=order.market, currency_code="EUR")
    source = money.TestPaymentFactory.create(order=order)
    # Test set-up inside the module's transaction: payments' own steps (the durable order
    # workflows cannot run inside it), with the gateway's answer given.
    order_lock(order.pk)
    authorization = transaction_settle(
        txn=authorization_reserve(
            order=order, payment_method=method, payment_source=source, amount_cents=5000
        ).transaction,
        result=GatewayResult(succeeded=True),
    ).transaction
    capture = transaction_settle(
        txn=capture_reserve(authorization=authorization, amount_cents=1000).transaction,
        result=GatewayResult(succeeded=True),
    ).transaction
    authorization.refresh_from_db()
    return Paid(authorization=authorization, capture=capture)


def build_world() -> World:
    factories.OrganizationFactory.create()
    market_a = factories.MarketFactory.create(code="eu")
    market_b = factories.MarketFactory.create(code="us")
    ada = CustomerFactory.create(email="ada@example.com")
    bob = CustomerFactory.create(email="bob@example.com")
    cart_a = services.order_create(
        market=market_a,
        actor=STOREFRONT,
        data={"customer_email": ada.email, "shipping_address": factories.AddressFactory()},
    )
    cart_line = line_add(cart_a, priced_sku(market_a, 2500))
    ada_placed_a, _ = _placed(market_a, ada, Order.Status.PLACED)
    ada_placed_b, _ = _placed(market_b, ada, Order.Status.PLACED)
    bob_approved_a, bob_line = _placed(market_a, bob, Order.Status.APPROVED)
    paid = {
        name: _pay(order)
        for name, order in (
            ("ada_placed_a", ada_placed_a),
            ("ada_placed_b", ada_placed_b),
            ("bob_approved_a", bob_approved_a),
        )
    }
    ada_book = services.customer_address_create(
        customer=ada, address=factories.AddressFactory.create(first_name="Ada")
    )
    bob_book = services.customer_address_create(
        customer=bob, address=factories.AddressFactory.create(first_name="Bob")
    )
    return World(
        market_a=market_a,
        market_b=market_b,
        ada=ada,
        bob=bob,
        cart_a=Order.objects.get(pk=cart_a.pk),
        ada_placed_a=ada_placed_a,
        ada_placed_b=ada_placed_b,
        bob_approved_a=bob_approved_a,
        ada_book=ada_book,
        bob_book=bob_book,
        cart_line=cart_line,
        bob_line=bob_line,
        paid=paid,
    )
