"""`seed_demo` builds orders in every state through the services, consistently and only once."""

import random

import pytest
from django.core.management import call_command

from fulfillment.models import Return, ReturnLineItem, Shipment, StockItem, StockReservation
from fulfillment.selectors import reserved_quantities
from orders.demo.orders import SCENARIOS, scenario_plan
from orders.models import Customer, LineItem, Order, OrderEvent
from orders.services.statuses import fulfillment_status_derived as fulfillment_status_for
from orders.services.statuses import order_payment_status_of
from payments.models import PaymentGateway, PaymentMethod, Transaction
from payments.selectors import order_payment_totals

pytestmark = pytest.mark.django_db

DEMO_ORDERS = 30
SHIPPED = {Shipment.Status.SHIPPED, Shipment.Status.DELIVERED}


def seed():
    call_command("seed_demo", orders=DEMO_ORDERS)


def demo_orders():
    return Order.objects.filter(reference="seed_demo").prefetch_related("shipments", "line_items")


def snapshot():
    return {
        "orders": sorted(
            Order.objects.values_list(
                "id",
                "number",
                "status",
                "payment_status",
                "fulfillment_status",
                "total_amount_with_taxes_cents",
            )
        ),
        "line_items": sorted(LineItem.objects.values_list("id", "quantity", "total_amount_cents")),
        "transactions": sorted(
            Transaction.objects.values_list("id", "type", "status", "amount_cents")
        ),
        "shipments": sorted(Shipment.objects.values_list("id", "status", "shipping_method_id")),
        "stock": sorted(StockItem.objects.values_list("id", "quantity")),
        "reservations": sorted(StockReservation.objects.values_list("id", "quantity")),
        "customers": sorted(Customer.objects.values_list("id", "email", "total_orders_count")),
        "payment_methods": sorted(PaymentMethod.objects.values_list("id", "price_amount_cents")),
        "events": OrderEvent.objects.count(),
        "returns": sorted(Return.objects.values_list("id", "status", "reference_refund_id")),
        "return_lines": sorted(ReturnLineItem.objects.values_list("id", "quantity")),
    }


def test_the_scenario_plan_is_deterministic_and_covers_every_scenario():
    plan = scenario_plan(DEMO_ORDERS, random.Random(7))
    assert plan == scenario_plan(DEMO_ORDERS, random.Random(7))
    assert len(plan) == DEMO_ORDERS
    assert set(plan) == set(SCENARIOS)
    assert len(scenario_plan(300, random.Random(7))) == 300


def test_seed_demo_builds_orders_in_every_state_with_consistent_statuses(capsys):
    seed()
    orders = list(demo_orders())
    assert len(orders) == DEMO_ORDERS
    assert {order.status for order in orders} == {
        "draft",
        "pending",
        "placed",
        "approved",
        "cancelled",
    }
    payment_statuses = {order.payment_status for order in orders}
    assert {
        "unpaid",
        "authorized",
        "paid",
        "partially_paid",
        "voided",
        "refunded",
        "partially_refunded",
    } <= payment_statuses

    def shipment_statuses(order):
        return [s.status for s in order.shipments.all() if s.status != Shipment.Status.CANCELLED]

    fulfilled = [order for order in orders if order.fulfillment_status == "fulfilled"]
    assert fulfilled
    for order in fulfilled:
        assert order.status == "approved"
        assert shipment_statuses(order)
        assert set(shipment_statuses(order)) <= SHIPPED
    partially_shipped = [
        order
        for order in orders
        if SHIPPED & set(shipment_statuses(order)) and set(shipment_statuses(order)) - SHIPPED
    ]
    assert partially_shipped
    for order in partially_shipped:
        assert order.fulfillment_status == "in_progress"
    assert any(order.status == "cancelled" and order.placed_at is None for order in orders)
    assert any(order.status == "cancelled" and order.placed_at is not None for order in orders)
    declined = [
        order
        for order in orders
        if order.status == "pending"
        and Transaction.objects.filter(
            order=order, status="failed", error_code="PAYMENT_DECLINED"
        ).exists()
    ]
    assert declined
    assert all(order.placement_errors for order in declined)

    for order in orders:
        # payment_status is what the transactions say (spec 2.3)
        totals = order_payment_totals(order_id=order.pk)
        assert order.payment_status == order_payment_status_of(order, totals), order.number
        if order.status in ("placed", "approved"):
            method = order.payment_method
            assert order.fulfillment_status == fulfillment_status_for(
                order=order, payment_requires_capture=method.require_capture if method else True
            ), order.number
        if order.status == "placed":
            assert order.payment_status == "authorized"
            assert set(shipment_statuses(order)) == {"upcoming"}
        if any(status in SHIPPED for status in shipment_statuses(order)):
            assert order.payment_status in ("paid", "partially_refunded")
        if order.status in ("draft", "pending"):
            assert order.placed_at is None
            assert order.payment_status == "unpaid"

    # Stock: never negative, never below what is reserved; only placed orders hold stock.
    items = list(StockItem.objects.all())
    reserved = reserved_quantities(stock_item_ids=[item.pk for item in items])
    assert all(item.quantity >= reserved.get(item.pk, 0) >= 0 for item in items)
    assert StockItem.objects.filter(quantity=0).exists()  # some SKUs are out of stock
    holders = set(
        StockReservation.objects.filter(status="pending").values_list("order__status", flat=True)
    )
    assert holders == {"placed"}

    external = PaymentGateway.objects.get(type="external")
    assert not external.is_enabled
    assert external.authorize_url.startswith("http://127.0.0.1")
    assert Customer.objects.count() >= 12

    # A few returns of fulfilled orders, through the returns workflow.
    returns = {ret.status: ret for ret in Return.objects.select_related("order")}
    assert set(returns) == {"requested", "received", "refunded"}
    for ret in returns.values():
        assert ret.reference == "seed_demo"
        assert ret.order.fulfillment_status == "fulfilled"
        assert ret.return_line_items.count() == 1
    restocked = {
        ret.status
        for ret in returns.values()
        if ret.return_line_items.filter(restocked_at__isnull=False)
    }
    assert restocked == {"received", "refunded"}
    refunded = returns["refunded"]
    refund = Transaction.objects.get(pk=refunded.reference_refund_id)
    assert (refund.status, refund.amount_cents) == (
        "succeeded",
        refunded.estimated_refund_amount_cents,
    )
    assert refunded.order.payment_status == "partially_refunded"

    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2].startswith(f"Demo orders: {DEMO_ORDERS} (draft ")
    assert "3 returns (requested 1, received 1, refunded 1)" in lines[-2]
    assert lines[-1].startswith("Admin login: ")


def test_seed_demo_twice_changes_nothing():
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first
