"""A placement's stock lock against a cart's plan writing stock lines of the same items, on
PostgreSQL with real threads. A stock line's foreign key takes `FOR KEY SHARE` on its stock
item (at commit), one row after the other in the plan's order; the placement locks the items in primary-
key order. With `FOR UPDATE` (which `FOR KEY SHARE` waits for) the two deadlocked as soon as
the plan's order was not the keys' (`bench scale` hit it with 4 app processes); the stock
lock is `FOR NO KEY UPDATE`, which a row pointing at the item does not wait for."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from fulfillment import locks
from fulfillment.models import StockLineItem
from fulfillment.services import shipments_build
from oms.actors import SYSTEM
from tests.concurrency.test_checkout_races import race
from tests.fulfillment.factories import SkuFactory, shop_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_cart_writing_stock_lines_in_any_order_and_a_stock_lock_do_not_deadlock():
    shop = shop_create()
    skus = [SkuFactory.create() for _ in range(2)]
    items = sorted((shop.stock(sku, 10)[0] for sku in skus), key=lambda item: item.pk)
    order, lines = shop.order((skus[0], 1), (skus[1], 1))
    shipment = shipments_build(order=order, actor=SYSTEM)[0]
    line_of = {line.sku_id: line for line in lines}
    low, high = items
    first_line_written = threading.Event()
    placement_pid: list[int] = []
    placement_done = threading.Event()

    def placement_waits_or_is_done() -> None:
        """Until the placement's lock statement waits for a row lock, or it got its locks."""
        for _ in range(200):
            if placement_done.is_set():
                return
            if placement_pid:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                        [placement_pid[0]],
                    )
                    if cursor.fetchone() == ("Lock",):
                        return
            time.sleep(0.05)
        raise AssertionError("the placement neither waited nor finished")

    def cart(_: int) -> str:
        with transaction.atomic():
            # Django's foreign keys are checked at commit (DEFERRABLE INITIALLY DEFERRED), one
            # row after the other in the order written; checked at once here, so the locks
            # come in the same order, between two statements the test can interleave
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # the plan's order is not the keys': the higher item's line first
            for item in (high, low):
                if item is low:
                    placement_waits_or_is_done()
                StockLineItem.objects.create(
                    shipment=shipment,
                    line_item=line_of[item.sku_id],
                    stock_item=item,
                    sku_id=item.sku_id,
                    quantity=1,
                )
                first_line_written.set()
        return "cart"

    def placement(_: int) -> str:
        first_line_written.wait(timeout=10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                placement_pid.append(cursor.fetchone()[0])
            locked = locks.stock_items_lock([low.pk, high.pk])
            assert sorted(locked) == [low.pk, high.pk]
        placement_done.set()
        return "placement"

    work = {0: cart, 1: placement}
    assert race(2, lambda i: work[i](i)) == ["cart", "placement"]
    assert StockLineItem.objects.count() == 4  # the plan's 2 and the cart's 2
