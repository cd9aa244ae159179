"""Placing an order (spec 2.2): every check with its stable code and pointer, all or nothing,
idempotent, and in the background with `place_async`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fulfillment.models import ShippingMethod, StockItem, StockReservation
from markets.models import Address
from oms.errors import DomainError
from oms.tasks import retry_delay, task_enqueue, task_retry
from orders import services
from orders.errors import OrderNotPlaceable
from orders.models import Customer, LineItem, Order, OrderEvent
from orders.services import placement
from orders.tasks import order_place_task
from payments.gateways.test import TestGateway
from payments.models import Transaction
from payments.services import test_payment_create
from tests import factories as catalog
from tests.fulfillment import factories as stock
from tests.orders.factories import (
    STAFF,
    STOREFRONT,
    OrderFactory,
    checkout_ready,
    line_add,
    order_in_status,
    order_pending,
    order_ready,
    priced_sku,
)
from tests.tasks import tasks_queued, tasks_run_queued

pytestmark = pytest.mark.django_db


def refused(order: Order) -> OrderNotPlaceable:
    events = OrderEvent.objects.filter(order=order).count()
    with pytest.raises(OrderNotPlaceable) as exc:
        services.order_place(order=order, actor=STOREFRONT)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.placed_at is None
    assert OrderEvent.objects.filter(order=order).count() == events
    return exc.value


def codes(error: OrderNotPlaceable) -> dict[str, str]:
    return {e.code: e.pointer or "" for e in error.errors}


def test_a_complete_order_is_placed():
    order = services.order_place(order=order_ready(amount_cents=2500), actor=STOREFRONT)
    assert order.status == Order.Status.PLACED
    assert order.placed_at is not None
    assert order.place_total_amount_cents == 2500
    assert order.placement_errors == []
    event = order.events.get(to_status="placed")
    assert (event.trigger, event.amount_cents, event.currency_code) == ("_place", 2500, "EUR")


def test_placing_twice_changes_nothing_the_second_time():
    order = services.order_place(order=order_ready(), actor=STOREFRONT)
    customer = Customer.objects.get(pk=order.customer_id)
    again = services.order_place(order=order, actor=STOREFRONT)
    assert again.placed_at == order.placed_at
    assert again.updated_at == order.updated_at
    assert order.events.filter(to_status="placed").count() == 1
    customer.refresh_from_db()
    assert customer.total_orders_count == 1


def test_missing_customer_email_is_refused_with_its_pointer():
    order = order_ready()
    # A pending order always has a customer; force one without to see the check.
    Order.objects.filter(pk=order.pk).update(customer_email="")
    error = refused(order)
    assert codes(error) == {"CUSTOMER_EMAIL_MISSING": "/data/attributes/customer_email"}
    assert error.code == "CUSTOMER_EMAIL_MISSING"
    assert error.pointer == "/data/attributes/customer_email"


def test_invalid_customer_email_is_refused_with_its_pointer():
    order = order_ready()
    Order.objects.filter(pk=order.pk).update(customer_email="nobody@")
    assert codes(refused(order)) == {"CUSTOMER_EMAIL_INVALID": "/data/attributes/customer_email"}


def test_missing_billing_address_is_refused_with_its_pointer():
    order = order_pending()
    order = services.order_update(
        order=order, actor=STOREFRONT, data={"shipping_address": catalog.AddressFactory.create()}
    )
    assert codes(refused(order)) == {
        "BILLING_ADDRESS_MISSING": "/data/relationships/billing_address"
    }


def test_incomplete_billing_address_is_refused_with_its_pointer():
    order = order_ready()
    Address.objects.filter(pk=order.billing_address_id).update(phone="")
    error = refused(order)
    assert codes(error) == {"BILLING_ADDRESS_INCOMPLETE": "/data/relationships/billing_address"}
    assert "phone" in error.detail


def test_a_free_order_needs_no_billing_address():
    market = catalog.MarketFactory.create()
    order = order_pending(market=market, amount_cents=0)
    order = services.order_update(
        order=order, actor=STOREFRONT, data={"shipping_address": catalog.AddressFactory.create()}
    )
    order = checkout_ready(order)  # stock, free shipping, a method and a card it will not use
    order = services.order_place(order=order, actor=STOREFRONT)
    assert order.status == Order.Status.PLACED
    assert order.payment_status == Order.PaymentStatus.FREE
    assert order.payment_updated_at is not None
    assert order.events.filter(field="payment_status", to_status="free").count() == 1
    assert not Transaction.objects.filter(order=order).exists()  # nothing to authorize


def test_missing_shipping_address_is_refused_with_its_pointer():
    order = order_pending()
    order = services.order_update(
        order=order, actor=STOREFRONT, data={"billing_address": catalog.AddressFactory.create()}
    )
    assert codes(refused(order)) == {
        "SHIPPING_ADDRESS_MISSING": "/data/relationships/shipping_address"
    }


def test_incomplete_shipping_address_is_refused_with_its_pointer():
    order = order_ready()
    Address.objects.filter(pk=order.shipping_address_id).update(zip_code="", line_1="")
    error = refused(order)
    assert codes(error) == {"SHIPPING_ADDRESS_INCOMPLETE": "/data/relationships/shipping_address"}
    assert "line_1" in error.detail
    assert "zip_code" in error.detail


def test_zip_code_is_not_required_where_there_are_none():
    order = order_pending()
    hong_kong = catalog.AddressFactory.create(country_code="HK", zip_code="")
    order = services.order_update(
        order=order,
        actor=STOREFRONT,
        data={"billing_address": hong_kong, "_shipping_address_same_as_billing": True},
    )
    order = checkout_ready(order)
    assert services.order_place(order=order, actor=STOREFRONT).status == "placed"


def test_digital_goods_need_no_shipping_address():
    market = catalog.MarketFactory.create()
    order = OrderFactory.create(market=market, customer_email="dig@example.com")
    line_add(order, priced_sku(market, do_not_ship=True))
    order = services.order_update(
        order=order, actor=STOREFRONT, data={"billing_address": catalog.AddressFactory.create()}
    )
    order = checkout_ready(order)
    assert not order.shipments.exists()
    order = services.order_place(order=order, actor=STOREFRONT)
    assert order.status == Order.Status.PLACED
    assert order.fulfillment_status == Order.FulfillmentStatus.NOT_REQUIRED
    assert order.fulfillment_updated_at is not None
    assert not order.shipments.exists()
    # Not shipped, but tracked: its unit is reserved like any other.
    assert order.stock_reservations.filter(status="pending").count() == 1


def test_a_shipping_country_lock_is_enforced():
    order = order_ready(shipping_country_code_lock="it")
    assert order.shipping_country_code_lock == "IT"
    assert codes(refused(order)) == {
        "SHIPPING_COUNTRY_NOT_ALLOWED": "/data/relationships/shipping_address"
    }


def test_a_line_whose_price_disappeared_is_refused_with_its_pointer():
    order = order_ready()
    sku = order.line_items.get(item_type="skus").sku
    assert sku is not None
    sku.prices.all().delete()
    error = refused(order)
    assert codes(error) == {"LINE_ITEM_NOT_PRICED": "/data/relationships/line_items"}
    assert sku.code in error.detail


def test_an_order_without_purchasable_lines_is_refused():
    order = order_ready()
    # Only a shipping line left (made pending behind the services' back).
    services.line_item_charge_set(
        order=order, actor=STAFF, item_type="shipments", item_id="s", name="s", amount_cents=100
    )
    LineItem.objects.filter(order=order, item_type="skus").delete()
    assert "LINE_ITEMS_MISSING" in codes(refused(order))


def test_a_disabled_market_refuses_placement():
    from markets.services import market_disable

    order = order_ready()
    market_disable(market=order.market)
    assert codes(refused(order)) == {"MARKET_DISABLED": "/data/relationships/market"}


def test_a_private_market_sells_only_to_its_customer_group():
    group = catalog.CustomerGroupFactory.create()
    market = catalog.MarketFactory.create(customer_group=group)
    order = order_ready(market=market)
    assert codes(refused(order)) == {"CUSTOMER_NOT_IN_MARKET_GROUP": "/data/relationships/customer"}
    Customer.objects.filter(pk=order.customer_id).update(customer_group=group)
    assert services.order_place(order=order, actor=STOREFRONT).status == "placed"


def test_every_failure_is_reported_at_once():
    order = order_pending()
    Order.objects.filter(pk=order.pk).update(customer_email="bad")
    assert set(codes(refused(order))) == {
        "CUSTOMER_EMAIL_INVALID",
        "BILLING_ADDRESS_MISSING",
        "SHIPPING_ADDRESS_MISSING",
    }


def test_placement_recomputes_the_totals_first():
    order = order_ready(amount_cents=1000)
    sku = order.line_items.get(item_type="skus").sku
    assert sku is not None
    sku.prices.update(amount_cents=1100)
    order = services.order_place(order=order, actor=STOREFRONT)
    assert order.place_total_amount_cents == 1100
    assert Transaction.objects.get(order=order, type="authorizations").amount_cents == 1100


def test_missing_stock_is_refused_and_nothing_is_reserved():
    order = order_ready()
    line = order.line_items.get(item_type="skus")
    StockItem.objects.filter(sku=line.sku).update(quantity=0)
    with pytest.raises(DomainError) as exc:
        services.order_place(order=order, actor=STOREFRONT)
    assert exc.value.code == "OUT_OF_STOCK"
    order.refresh_from_db()
    assert (order.status, order.placed_at) == ("pending", None)
    assert not StockReservation.objects.filter(order=order).exists()
    assert not Transaction.objects.filter(order=order).exists()


def test_a_refusal_after_reserving_leaves_everything_as_it_was(monkeypatch):
    def no_shipping(*, order: Order, shipments: Any = None) -> None:
        # Stock is reserved by now; it and whatever else was written go with the rollback.
        assert StockReservation.objects.filter(order=order, status="pending").exists()
        LineItem.objects.filter(order=order).update(name="touched")
        raise DomainError("No way to ship it.", code="NO_SHIPPING_METHOD", pointer="/data")

    monkeypatch.setattr(placement, "shipments_check_shipping_methods", no_shipping)
    order = order_ready()
    customer_count = Customer.objects.get(pk=order.customer_id).total_orders_count
    with pytest.raises(DomainError) as exc:
        services.order_place(order=order, actor=STOREFRONT)
    assert exc.value.code == "NO_SHIPPING_METHOD"
    order.refresh_from_db()
    assert order.status == "pending"
    assert not order.line_items.filter(name="touched").exists()
    assert not StockReservation.objects.filter(order=order, status="pending").exists()
    assert not Transaction.objects.filter(order=order).exists()
    assert Customer.objects.get(pk=order.customer_id).total_orders_count == customer_count


def test_stock_shipments_then_payment_and_payment_sees_the_recomputed_total(monkeypatch):
    calls: list[tuple[str, int]] = []
    real_plan = placement.stock_and_shipments_plan
    real_authorize = placement.order_payment_authorize

    def plan(**kwargs: Any) -> Any:
        calls.append(("stock and shipments", kwargs["order"].total_amount_with_taxes_cents))
        return real_plan(**kwargs)

    def authorize(**kwargs: Any) -> Any:
        calls.append(("payment", kwargs["amount_cents"]))
        return real_authorize(**kwargs)

    market = catalog.MarketFactory.create()
    order = order_pending(market=market, amount_cents=1000)
    stock.ShippingMethodFactory.create(market=market, price_amount_cents=500)
    order = services.order_update(
        order=order,
        actor=STOREFRONT,
        data={
            "billing_address": catalog.AddressFactory.create(),
            "_shipping_address_same_as_billing": True,
        },
    )
    order = checkout_ready(order)
    # The shipping price goes up after the cart was priced; placement prices it again.
    ShippingMethod.objects.filter(market=market).update(price_amount_cents=700)
    monkeypatch.setattr(placement, "stock_and_shipments_plan", plan)
    monkeypatch.setattr(placement, "order_payment_authorize", authorize)
    order = services.order_place(order=order, actor=STOREFRONT)
    # one stock plan (reservations and shipments together), then the repriced total is paid
    assert calls == [("stock and shipments", 1500), ("payment", 1700)]
    assert order.place_total_amount_cents == 1700
    assert order.shipping_amount_cents == 700


# --- place_async --------------------------------------------------------------------------


PLACE_TASK = "orders.services.placement.order_place_task"


def test_place_async_returns_placing_and_a_worker_places_it():
    order = order_ready()
    placing = services.order_place_async(order=order, actor=STOREFRONT)
    assert placing.status == Order.Status.PLACING
    # the task is a row written with the move to placing; nothing ran yet
    [queued] = tasks_queued(PLACE_TASK)
    assert queued.args_kwargs["kwargs"]["order_id"] == order.pk
    order.refresh_from_db()
    assert order.status == Order.Status.PLACING
    assert not Transaction.objects.filter(order=order).exists()
    assert tasks_run_queued() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    assert order.placement_errors == []
    transitions = list(
        order.events.filter(subject_type="orders", field="status").values_list(
            "from_status", "to_status"
        )
    )
    assert transitions[-2:] == [("pending", "placing"), ("placing", "placed")]


def test_the_place_async_attribute_makes_place_run_in_the_background():
    order = order_ready(place_async=True)
    order = services.order_place(order=order, actor=STOREFRONT)
    assert order.status == Order.Status.PLACING
    assert order.stock_reservations.filter(status="pending").count() == 1  # at once
    assert not Transaction.objects.filter(order=order).exists()  # not yet
    assert len(tasks_queued(PLACE_TASK)) == 1
    tasks_run_queued()
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    assert order.payment_status == Order.PaymentStatus.AUTHORIZED


def test_a_place_async_refused_at_once_enqueues_nothing():
    order = order_pending()
    with pytest.raises(OrderNotPlaceable):
        services.order_place_async(order=order, actor=STOREFRONT)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert tasks_queued() == []


def test_a_failed_background_placement_returns_to_pending_with_the_errors():
    order = order_ready(card_token="tok_declined")
    services.order_place_async(order=order, actor=STOREFRONT)
    tasks_run_queued()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.placement_errors == [
        {
            "code": "PAYMENT_DECLINED",
            "detail": "Card declined",
            "pointer": "/data/relationships/payment_source",
        }
    ]
    assert order.errors_count == 1
    assert order.placed_at is None
    assert not order.stock_reservations.filter(status="pending").exists()
    last = order.events.filter(subject_type="orders").latest("id")
    assert (last.from_status, last.to_status) == ("placing", "pending")
    assert "PAYMENT_DECLINED" in last.message
    # a refusal is an outcome, not a crash: the task succeeded and is not tried again
    assert DBTaskResult.objects.get(task_path=PLACE_TASK).status == "SUCCESSFUL"

    # Another card, and it places; the old errors go.
    test_payment_create(order=order, token="tok_success")
    services.order_place_async(order=order, actor=STOREFRONT)
    tasks_run_queued()
    order.refresh_from_db()
    assert (order.status, order.placement_errors) == ("placed", [])
    assert order.stock_reservations.filter(status="pending").count() == 1


def test_an_unexpected_crash_returns_the_order_to_pending_and_is_tried_again_later(
    monkeypatch, settings
):
    settings.OMS_TASK_RETRY_BASE_SECONDS = 30

    def crash(**kwargs: Any) -> None:
        raise RuntimeError("gateway exploded")

    monkeypatch.setattr(placement, "order_payment_authorize", crash)
    order = order_ready()
    services.order_place_async(order=order, actor=STOREFRONT)
    before = timezone.now()
    assert tasks_run_queued() == 1  # the retry waits for its backoff
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert [error["code"] for error in order.placement_errors] == ["PLACEMENT_FAILED"]
    assert not order.stock_reservations.filter(status="pending").exists()
    failed, retry = DBTaskResult.objects.filter(task_path=PLACE_TASK).order_by("enqueued_at")
    assert failed.status == "FAILED"
    assert (retry.status, retry.args_kwargs["kwargs"]["attempt"]) == ("READY", 2)
    assert retry.run_after >= before + timedelta(seconds=30)


def test_a_crashing_task_is_retried_with_a_doubling_backoff_up_to_its_attempts(settings):
    settings.OMS_TASK_MAX_ATTEMPTS = 3
    settings.OMS_TASK_RETRY_BASE_SECONDS = 10
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    kwargs = {"order_id": "missing", "actor": {"kind": "system"}}
    assert task_retry(order_place_task, attempt=1, **kwargs)
    assert task_retry(order_place_task, attempt=2, **kwargs)
    assert not task_retry(order_place_task, attempt=3, **kwargs)  # used up
    assert [r.args_kwargs["kwargs"]["attempt"] for r in tasks_queued(PLACE_TASK)] == [2, 3]


def test_a_task_enqueued_by_a_change_that_rolls_back_is_gone_with_it():
    class Undo(Exception):
        pass

    def change_that_fails() -> None:
        with transaction.atomic():
            task_enqueue(order_place_task, order_id="x", actor={"kind": "system"})
            assert len(tasks_queued(PLACE_TASK)) == 1
            raise Undo

    with pytest.raises(Undo):
        change_that_fails()
    assert tasks_queued(PLACE_TASK) == []


def test_with_the_immediate_backend_a_task_runs_after_the_commit(
    settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    order = order_ready()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        placing = services.order_place_async(order=order, actor=STOREFRONT)
    assert placing.status == Order.Status.PLACING
    assert tasks_queued() == []
    [enqueue] = [c for c in callbacks if getattr(c, "func", None) == order_place_task.enqueue]
    enqueue()
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED


def test_the_background_task_delivered_twice_places_once():
    order = order_in_status("placing")  # its own task is queued
    actor = {"kind": "system", "id": "", "name": "worker"}
    first = order_place_task.enqueue(order_id=order.pk, actor=actor)
    again = order_place_task.enqueue(order_id=order.pk, actor=actor)
    assert tasks_run_queued() == 3
    assert order_place_task.get_result(first.id).return_value == "placed"
    assert order_place_task.get_result(again.id).return_value == "placed"
    order.refresh_from_db()
    assert order.events.filter(to_status="placed").count() == 1


def test_place_on_a_placing_order_is_refused_without_authorizing_again():
    TestGateway.reset()
    order = order_in_status("placing")
    with pytest.raises(DomainError) as exc:
        services.order_place(order=order, actor=STOREFRONT)
    assert (exc.value.code, exc.value.status) == ("PLACEMENT_IN_PROGRESS", 409)
    assert exc.value.pointer == "/data/attributes/_place"
    order.refresh_from_db()
    assert order.status == Order.Status.PLACING
    assert not Transaction.objects.filter(order=order).exists()
    assert TestGateway.calls_of("authorize") == []


def test_the_payment_status_payments_derives_is_not_overwritten_by_the_placement():
    # payments writes the payment status on its own copy of the row while authorizing.
    order = services.order_place(order=order_ready(amount_cents=2500), actor=STOREFRONT)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("placed", "authorized")
    (authorization,) = Transaction.objects.filter(order=order)
    assert (authorization.type, authorization.status) == ("authorizations", "succeeded")
    assert authorization.amount_cents == 2500


# --- placement never leaves an order placing, nor money held, when it fails -----------------


def test_a_payment_source_of_another_type_is_refused_before_anything_is_reserved():
    from payments.models import PaymentSourceType
    from tests.payments import factories as money

    order = order_ready()  # its source is a test card
    wire = money.PaymentMethodFactory.create(
        market=order.market,
        payment_gateway=money.ManualGatewayFactory.create(),
        payment_source_type=PaymentSourceType.WIRE_TRANSFERS,
    )
    order = services.order_update(order=order, actor=STOREFRONT, data={"payment_method": wire})
    with pytest.raises(DomainError) as exc:
        services.order_place(order=order, actor=STOREFRONT)
    assert exc.value.code == "PAYMENT_SOURCE_MISMATCH"
    assert exc.value.pointer == "/data/relationships/payment_source"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not StockReservation.objects.filter(order=order, status="pending").exists()
    assert not Transaction.objects.filter(order=order).exists()


def test_an_authorization_refused_by_payments_returns_the_order_to_pending(monkeypatch):
    from payments.services import payment_gateway_disable

    real_authorize = placement.order_payment_authorize

    def gateway_disabled_meanwhile(**kwargs: Any) -> Any:
        payment_gateway_disable(payment_gateway=kwargs["payment_method"].payment_gateway)
        kwargs["payment_method"].payment_gateway.refresh_from_db()
        return real_authorize(**kwargs)

    monkeypatch.setattr(placement, "order_payment_authorize", gateway_disabled_meanwhile)
    order = order_ready()
    with pytest.raises(DomainError) as exc:
        services.order_place(order=order, actor=STOREFRONT)
    assert exc.value.code == "PAYMENT_METHOD_NOT_AVAILABLE"
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert [error["code"] for error in order.placement_errors] == ["PAYMENT_METHOD_NOT_AVAILABLE"]
    assert not order.stock_reservations.filter(status="pending").exists()


def test_a_background_authorization_refused_by_payments_returns_the_order_to_pending():
    from payments.services import payment_method_disable

    order = order_ready(place_async=True)
    order = services.order_place(order=order, actor=STOREFRONT)
    assert order.payment_method is not None
    payment_method_disable(payment_method=order.payment_method)
    tasks_run_queued()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert [error["code"] for error in order.placement_errors] == ["PAYMENT_METHOD_NOT_AVAILABLE"]
    assert not order.stock_reservations.filter(status="pending").exists()


def test_a_crash_after_authorizing_voids_the_authorization(monkeypatch):
    def crash(order: Order, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(placement, "_order_placed", crash)
    order = order_ready()
    with pytest.raises(RuntimeError):
        services.order_place(order=order, actor=STOREFRONT)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert [error["code"] for error in order.placement_errors] == ["PLACEMENT_FAILED"]
    assert not order.stock_reservations.filter(status="pending").exists()
    assert order.payment_status == Order.PaymentStatus.VOIDED
    assert set(
        Transaction.objects.filter(order=order).values_list("type", "status", "amount_cents")
    ) == {("authorizations", "succeeded", 1000), ("voids", "succeeded", 1000)}


def test_a_background_placement_delivered_again_authorizes_once(monkeypatch):
    """The worker dies after the gateway said yes and before the order was placed; the task
    is delivered again (at least once) and must not authorize a second time."""
    TestGateway.reset()
    order = order_in_status("placing")
    real_placed = placement._order_placed

    def killed(order: Order, **kwargs: Any) -> None:
        raise KeyboardInterrupt  # not an Exception: nothing is cleaned up, as after a kill

    monkeypatch.setattr(placement, "_order_placed", killed)
    with pytest.raises(KeyboardInterrupt):
        services.order_place_complete(order_id=order.pk, actor=STOREFRONT)
    order.refresh_from_db()
    assert order.status == Order.Status.PLACING
    monkeypatch.setattr(placement, "_order_placed", real_placed)

    services.order_place_complete(order_id=order.pk, actor=STOREFRONT)
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("placed", "authorized")
    assert Transaction.objects.filter(order=order, type="authorizations").count() == 1
    assert len(TestGateway.calls_of("authorize")) == 1
