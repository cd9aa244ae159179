"""fulfillment_status is derived by one function from shipments, line items and payment."""

import pytest

from fulfillment.models import Shipment
from fulfillment.services import shipments_build
from oms.actors import SYSTEM
from orders.models import Order
from orders.services.statuses import fulfillment_status_derived as fulfillment_status_for
from tests.fulfillment.factories import SkuFactory, shop_create

pytestmark = pytest.mark.django_db


def make_order(*, status="placed", payment_status="authorized", digital=False, shipments=1):
    shop = shop_create()
    lines = []
    for _ in range(shipments):
        sku = SkuFactory.create(do_not_ship=digital)
        shop.stock(sku, 5)
        lines.append((sku, 1))
    order, _ = shop.order(*lines)
    shipments_build(order=order, actor=SYSTEM)
    from django.utils import timezone

    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(
        status=status,
        payment_status=payment_status,
        placed_at=now,
        place_total_amount_cents=0,
        approved_at=now if status == "approved" else None,
        cancelled_at=now if status == "cancelled" else None,
    )
    return Order.objects.get(pk=order.pk)


def set_shipments(order, *statuses):
    for shipment, status in zip(order.shipments.order_by("number"), statuses, strict=True):
        Shipment.objects.filter(pk=shipment.pk).update(status=status)


@pytest.mark.parametrize(
    ("status", "payment_status", "requires_capture", "expected"),
    [
        ("placed", "authorized", True, "unfulfilled"),
        ("placed", "unpaid", True, "unfulfilled"),
        ("approved", "authorized", True, "unfulfilled"),
        ("approved", "authorized", False, "in_progress"),
        ("approved", "free", True, "in_progress"),
        ("placed", "paid", True, "in_progress"),
        ("approved", "partially_paid", True, "in_progress"),
        ("approved", "partially_refunded", True, "in_progress"),
        ("cancelled", "refunded", True, "unfulfilled"),
        ("cancelled", "voided", False, "unfulfilled"),
    ],
)
def test_fulfillment_status_follows_payment(status, payment_status, requires_capture, expected):
    order = make_order(status=status, payment_status=payment_status)
    assert (
        fulfillment_status_for(order=order, payment_requires_capture=requires_capture) == expected
    )


def test_nothing_to_ship_is_not_required_whatever_the_payment():
    order = make_order(digital=True, payment_status="paid")
    assert not order.shipments.exists()
    assert fulfillment_status_for(order=order, payment_requires_capture=True) == "not_required"


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("shipped", "delivered"), "fulfilled"),
        (("shipped", "cancelled"), "fulfilled"),
        (("shipped", "ready_to_ship"), "in_progress"),
        (("cancelled", "cancelled"), "in_progress"),
    ],
)
def test_fulfilled_when_every_non_cancelled_shipment_has_left(statuses, expected):
    order = make_order(status="approved", payment_status="paid", shipments=2)
    set_shipments(order, *statuses)
    assert fulfillment_status_for(order=order, payment_requires_capture=True) == expected
