"""Two carts naming the same new customer's e-mail at once, on PostgreSQL with real threads:
both checkouts go on, with the one customer (its find-or-create inserts without a savepoint;
the loser of the insert inserts nothing and reads the winner's row)."""

from __future__ import annotations

import threading

import pytest

from orders import services
from orders.models import Customer, Order
from orders.services import customers as customer_services
from tests import factories
from tests.concurrency.test_checkout_races import race
from tests.orders.factories import STOREFRONT

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_carts_naming_one_new_customer_at_once_both_get_that_customer(monkeypatch):
    market = factories.MarketFactory.create()
    carts = [services.order_create(market=market, actor=STOREFRONT) for _ in range(2)]
    both_looked = threading.Barrier(2, timeout=10)
    looked = threading.local()
    find = customer_services.customer_find

    def found_together(*, email: str) -> Customer | None:
        answer = find(email=email)
        if not getattr(looked, "once", False):  # neither has the customer yet: both insert
            looked.once = True
            both_looked.wait()
        return answer

    monkeypatch.setattr(customer_services, "customer_find", found_together)

    def work(i: int) -> str:
        order = services.order_update(
            order=Order.objects.get(pk=carts[i].pk),
            actor=STOREFRONT,
            data={"customer_email": "New.Buyer@example.com", "reference": f"cart {i}"},
        )
        return order.customer_id or ""

    outcomes = race(2, work)
    customer = Customer.objects.get()
    assert outcomes == [customer.pk, customer.pk], outcomes
    assert customer.email == "new.buyer@example.com"
    assert sorted(
        Order.objects.filter(pk__in=[c.pk for c in carts]).values_list("reference", "customer")
    ) == [("cart 0", customer.pk), ("cart 1", customer.pk)]
