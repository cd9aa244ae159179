"""Services that only run inside a caller's transaction join it instead of opening a savepoint
(issue 8's statement budget). What must still hold: a joined service's error rolls back with
its caller, the orders it locked are forgotten as it ends (as its savepoint's were), the order
its caller locked stays the caller's one copy, and a row that can lose a race to a concurrent
writer still gets the savepoint that turns its IntegrityError into a ValidationError."""

from __future__ import annotations

import contextlib

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from oms.errors import DomainError
from oms.services import atomic_joined, resource_save
from oms.webhooks.models import Webhook, WebhookDelivery
from oms.webhooks.outbox import webhook_deliveries_batched, webhook_deliveries_record
from orders import services
from orders.locks import order_atomic_joined, order_held, order_lock
from orders.models import Customer, LineItem, Order
from tests import factories as catalog
from tests.orders.factories import STOREFRONT, checkout_ready, line_add, order_ready, priced_sku

pytestmark = pytest.mark.django_db


def savepoints(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]


def test_a_joined_block_opens_no_savepoint_inside_a_transaction_and_one_transaction_alone():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries, atomic_joined():
        assert connection.in_atomic_block
        Customer.objects.count()
    assert savepoints(queries) == []


def test_an_error_in_a_joined_service_rolls_back_with_its_caller():
    order = order_ready(amount_cents=1000)
    lines_before = LineItem.objects.filter(order=order).count()
    unpriced = catalog.SkuFactory.create()  # no price in the market: refused after the lock
    priced = priced_sku(order.market, 500)

    def both() -> None:
        with transaction.atomic():
            line_add(order, priced, 1)  # written, then…
            line_add(order, unpriced, 1)  # …refused: the caller's whole transaction goes

    with pytest.raises(DomainError):
        both()
    assert LineItem.objects.filter(order=order).count() == lines_before


def test_a_joined_service_refusal_caught_inside_the_callers_block_cannot_be_committed():
    """A caller that catches a joined service's error and goes on, in the same block: what the
    service wrote before refusing (here the order, before its unknown coupon) cannot commit.
    Django refuses the caller's next statement, and its transaction rolls back."""
    market = catalog.MarketFactory.create()
    before = Order.objects.count()

    def caller_going_on() -> None:
        with transaction.atomic():
            with contextlib.suppress(DomainError):
                services.order_create(market=market, actor=STOREFRONT, data={"coupon_code": "NOPE"})
            assert connection.needs_rollback
            Order.objects.count()  # refused: the block must end

    with pytest.raises(transaction.TransactionManagementError):
        caller_going_on()
    assert Order.objects.count() == before


def test_a_cart_no_plan_can_ship_goes_on_without_shipments_in_its_callers_transaction():
    """The recompute's plan answers its refusals (out of stock) inside its own block, so the
    line is still added, in the caller's transaction, with no shipment."""
    order = order_ready(amount_cents=1000)
    assert order.shipments.exists()
    sku = priced_sku(order.market, 700)  # no stock anywhere
    with transaction.atomic():
        line = line_add(order, sku)
        assert not connection.needs_rollback
    assert LineItem.objects.filter(pk=line.pk).exists()
    assert not order.shipments.exists()


def test_a_joined_service_forgets_the_orders_it_locked_as_it_ends():
    order = order_ready(amount_cents=1000)
    with transaction.atomic():
        with order_atomic_joined():
            order_lock(order.pk)
            assert order_held(order.pk) is not None
        # as a savepoint's end would: the next lock reads the row again, not a stale copy
        assert order_held(order.pk) is None
        Order.objects.filter(pk=order.pk).update(customer_email="changed@example.com")
        assert order_lock(order.pk).customer_email == "changed@example.com"


def test_the_order_its_caller_locked_stays_the_callers_one_copy():
    order = order_ready(amount_cents=1000)
    with transaction.atomic():
        mine = order_lock(order.pk)
        with order_atomic_joined():
            assert order_lock(order.pk) is mine
        assert order_held(order.pk) is mine


def test_a_cart_change_inside_a_longer_transaction_does_not_leave_a_stale_lock_behind():
    """The regression the joined services first had: a line added inside a caller's
    transaction left its locked copy behind, and the next change in the same transaction
    worked on that stale copy (here: saved a status the row no longer had)."""
    order = order_ready(amount_cents=1000)
    assert order.status == Order.Status.PENDING
    with transaction.atomic():
        line_add(order, priced_sku(order.market, 700), 1)
        Order.objects.filter(pk=order.pk).update(status=Order.Status.DRAFT)  # another writer
        line_add(order, priced_sku(order.market, 300), 1)
    order = Order.objects.get(pk=order.pk)
    assert order.status == Order.Status.PENDING  # moved from the row's draft, not the copy's
    assert order.subtotal_amount_cents == 2000


def test_a_row_that_can_lose_a_race_keeps_its_savepoint_and_answers_a_validation_error(
    monkeypatch: pytest.MonkeyPatch,
):
    Customer.objects.create(email="taken@example.com")
    twin = Customer(email="taken@example.com")
    # the race: a concurrent writer inserts the twin after validation passed
    monkeypatch.setattr("oms.services._full_clean", lambda instance, *, exclude: None)
    with transaction.atomic():
        with pytest.raises(ValidationError):
            resource_save(twin)
        assert Customer.objects.filter(email="taken@example.com").count() == 1  # usable still


def test_the_placements_webhook_deliveries_are_one_insert_in_the_order_of_the_changes():
    for topic in ("orders.place", "shipments.upcoming", "authorizations.create"):
        Webhook.objects.create(name=topic, topic=topic, callback_url="https://erp.example.com/")
    order = checkout_ready(order_ready(amount_cents=1000))
    with CaptureQueriesContext(connection) as queries:
        services.order_place(order=order, actor=STOREFRONT)
    inserts = [
        q["sql"]
        for q in queries.captured_queries
        if "INSERT INTO webhooks_webhookdelivery" in q["sql"]
    ]
    assert len(inserts) == 1
    topics = list(WebhookDelivery.objects.order_by("id").values_list("topic", flat=True))
    assert topics == ["authorizations.create", "shipments.upcoming", "orders.place"]


def test_an_error_after_deliveries_were_batched_writes_none():
    Webhook.objects.create(name="erp", topic="orders.place", callback_url="https://e.example.com/")

    def failing_change() -> None:
        with transaction.atomic(), webhook_deliveries_batched():
            webhook_deliveries_record(events=[("orders.place", "orders", "x")])
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        failing_change()
    assert not WebhookDelivery.objects.exists()


def test_a_delivery_batched_inside_a_rolled_back_savepoint_is_not_written():
    """A change rolled back to its savepoint inside the batch (the caller went on) publishes
    nothing; what the rest of the block recorded is still written, after it."""
    Webhook.objects.create(name="erp", topic="orders.place", callback_url="https://e.example.com/")
    with transaction.atomic(), webhook_deliveries_batched():
        with contextlib.suppress(RuntimeError), transaction.atomic():
            webhook_deliveries_record(events=[("orders.place", "orders", "rolled-back")])
            raise RuntimeError("this change rolled back")
        webhook_deliveries_record(events=[("orders.place", "orders", "kept")])
    assert list(WebhookDelivery.objects.values_list("resource_id", flat=True)) == ["kept"]
