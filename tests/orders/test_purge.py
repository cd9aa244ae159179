"""Abandoned drafts without a customer are purged after two months; nothing else is."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.models import Order
from tests.orders.factories import OrderFactory, order_in_status

pytestmark = pytest.mark.django_db


def age(order: Order, days: int) -> None:
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(days=days))


def test_old_customerless_drafts_are_purged_and_nothing_else():
    stale = OrderFactory.create()
    recent = OrderFactory.create()
    with_customer = OrderFactory.create(customer_email="keep@example.com")
    placed = order_in_status("placed")
    for order in (stale, with_customer, placed):
        age(order, 61)
    age(recent, 59)

    out = StringIO()
    call_command("orders_purge_drafts", stdout=out)

    assert "Deleted 1 abandoned draft order(s)." in out.getvalue()
    assert set(Order.objects.values_list("pk", flat=True)) == {
        recent.pk,
        with_customer.pk,
        placed.pk,
    }
