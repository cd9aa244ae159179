"""Two carts given the same address at once, on PostgreSQL with real threads: one takes it,
the other answers a clean error and keeps what it had (the order's save has no savepoint; the
error ends its transaction)."""

from __future__ import annotations

import threading

import pytest

from orders import services
from orders.models import Order
from orders.services import orders as order_services
from tests import factories
from tests.concurrency.test_checkout_races import race
from tests.orders.factories import STOREFRONT

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_carts_given_one_address_at_once_one_takes_it_the_other_answers_an_error(
    monkeypatch,
):
    market = factories.MarketFactory.create()
    carts = [services.order_create(market=market, actor=STOREFRONT) for _ in range(2)]
    address = factories.AddressFactory.create()
    both_checked = threading.Barrier(2, timeout=10)
    referenced = order_services.address_is_referenced

    def checked_together(*args, **kwargs):
        answer = referenced(*args, **kwargs)  # neither cart has it yet: both keep it as is
        both_checked.wait()
        return answer

    monkeypatch.setattr(order_services, "address_is_referenced", checked_together)

    def work(i: int) -> str:
        order = services.order_update(
            order=Order.objects.get(pk=carts[i].pk),
            actor=STOREFRONT,
            data={"shipping_address": address, "reference": f"cart {i}"},
        )
        return order.shipping_address_id or ""

    outcomes = race(2, work)
    assert sorted(outcomes) == sorted(["VALIDATION_ERROR", address.pk]), outcomes
    winner, loser = sorted(
        Order.objects.filter(pk__in=[c.pk for c in carts]),
        key=lambda o: o.shipping_address_id is None,
    )
    assert (winner.shipping_address_id, winner.reference) == (
        address.pk,
        f"cart {outcomes.index(address.pk)}",
    )
    assert (loser.shipping_address_id, loser.reference) == (None, "")  # nothing of it stayed
