"""Races on stock, with real threads on PostgreSQL (django-oscar's stockrecord locking tests are
the model). Each thread has its own connection and closes it; a barrier lines them up so they
hit the same rows at the same moment."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Q, Sum

from fulfillment.errors import OutOfStock, StockBelowReserved
from fulfillment.models import StockAdjustment, StockItem, StockReservation
from fulfillment.selectors import active_reservations_q
from fulfillment.services import (
    stock_decrement_for_approval,
    stock_item_adjust,
    stock_item_save,
    stock_release,
    stock_reserve_draft,
    stock_reserve_for_placement,
    stock_restock,
)
from oms.actors import SYSTEM, Actor
from tests.fulfillment.factories import (
    ShippingCategoryFactory,
    SkuFactory,
    placement_lines,
    shop_create,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 30


def race(n: int, work: Callable[[int], str]) -> list[str]:
    """Run work(0..n-1) in n threads started together; an unexpected exception (a deadlock, a
    constraint violation) comes back as its class name and fails the caller's assertions."""
    barrier = threading.Barrier(n)

    def run(i: int) -> str:
        try:
            barrier.wait(timeout=30)
            return work(i)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return [future.result(timeout=120) for future in [pool.submit(run, i) for i in range(n)]]


class Watcher:
    """Samples every stock item while the race runs: reserved (active) must never exceed the
    quantity, and the quantity must never be negative. One query per sample, so each sample
    is one consistent snapshot."""

    def __init__(self) -> None:
        self.violations: list[tuple[str, int, int]] = []
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch)

    def _watch(self) -> None:
        try:
            while not self._stop.is_set():
                rows = StockItem.objects.annotate(
                    reserved=Sum(
                        "stock_reservations__quantity",
                        filter=Q(
                            stock_reservations__in=StockReservation.objects.filter(
                                active_reservations_q()
                            )
                        ),
                        default=0,
                    )
                ).values_list("pk", "quantity", "reserved")
                for pk, quantity, reserved in rows:
                    if not 0 <= reserved <= quantity:
                        self.violations.append((pk, quantity, reserved))
                self.samples += 1
        finally:
            connection.close()

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def reserved_units() -> int:
    return StockReservation.objects.aggregate(total=Sum("quantity", default=0))["total"]


def test_thirty_orders_racing_for_the_last_five_units_five_win():
    shop = shop_create()
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 5)
    orders = [shop.order((sku, 1)) for _ in range(THREADS)]

    def place(i: int) -> str:
        order, (line,) = orders[i]
        try:
            stock_reserve_for_placement(order=order, lines=placement_lines([line]), actor=SYSTEM)
        except OutOfStock:
            return "out_of_stock"
        return "reserved"

    with Watcher() as watcher:
        outcomes = race(THREADS, place)
    assert Counter(outcomes) == {"reserved": 5, "out_of_stock": 25}
    assert reserved_units() == 5
    assert StockItem.objects.get(pk=item.pk).quantity == 5
    assert watcher.violations == []
    assert watcher.samples > 0


def test_opposite_sku_orders_cannot_deadlock():
    """Half the orders list SKU A then B, half B then A. Locking in line order would let two
    placements each hold one row and wait for the other; pk order makes that impossible."""
    shop = shop_create()
    category = ShippingCategoryFactory.create()
    a, b = (
        SkuFactory.create(shipping_category=category),
        SkuFactory.create(shipping_category=category),
    )
    shop.stock(a, 5)
    shop.stock(b, 5)
    orders = [
        shop.order((a, 1), (b, 1)) if i % 2 else shop.order((b, 1), (a, 1)) for i in range(THREADS)
    ]

    def place(i: int) -> str:
        order, lines = orders[i]
        try:
            stock_reserve_for_placement(
                order=order, lines=placement_lines(lines, quantity=1), actor=SYSTEM
            )
        except OutOfStock:
            return "out_of_stock"
        return "reserved"

    with Watcher() as watcher:
        outcomes = race(THREADS, place)
    assert Counter(outcomes) == {"reserved": 5, "out_of_stock": 25}
    per_sku: Counter[str] = Counter()
    for reservation in StockReservation.objects.select_related("stock_item"):
        per_sku[reservation.stock_item.sku_id] += reservation.quantity
    assert per_sku == {a.pk: 5, b.pk: 5}
    # every winner got both SKUs, no loser kept anything
    assert all(
        StockReservation.objects.filter(order=order).count() in (0, 2) for order, _ in orders
    )
    assert watcher.violations == []


def test_draft_reservations_race_like_placements():
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 5)
    orders = [shop.order((sku, 1)) for _ in range(THREADS)]

    def reserve(i: int) -> str:
        _, (line,) = orders[i]
        try:
            stock_reserve_draft(line_item=line, actor=SYSTEM)
        except OutOfStock:
            return "out_of_stock"
        return "reserved"

    outcomes = race(THREADS, reserve)
    assert Counter(outcomes) == {"reserved": 5, "out_of_stock": 25}
    assert reserved_units() == 5


def test_mixed_workload_keeps_reserved_within_quantity():
    """Placements, approvals, cancellations, restocks and staff lowering the quantity, all at
    once on two SKUs: every refusal is a clean domain error and the invariant always holds."""
    shop = shop_create()
    category = ShippingCategoryFactory.create()
    a, b = (
        SkuFactory.create(shipping_category=category),
        SkuFactory.create(shipping_category=category),
    )
    item_a, item_b = shop.stock(a, 12)[0], shop.stock(b, 12)[0]
    location = shop.locations[0].stock_location
    orders = [shop.order((a, 1 + i % 3), (b, 1 + i % 2)) for i in range(THREADS)]
    rng = random.Random(1234)
    plans = [rng.choice(["approve", "cancel", "keep"]) for _ in range(THREADS)]

    def work(i: int) -> str:
        if i % 10 == 9:
            stock_restock(sku=a if i % 20 else b, stock_location=location, quantity=2, actor=SYSTEM)
            return "restocked"
        if i % 10 == 4:
            item = StockItem.objects.get(pk=(item_a if i % 20 else item_b).pk)
            item.quantity = max(item.quantity - 3, 0)
            try:
                stock_item_save(stock_item=item)
            except StockBelowReserved:
                return "lowering_refused"
            return "lowered"
        order, lines = orders[i]
        try:
            stock_reserve_for_placement(
                order=order,
                lines=placement_lines(lines),
                actor=SYSTEM,
            )
        except OutOfStock:
            return "out_of_stock"
        if plans[i] == "approve":
            stock_decrement_for_approval(order=order, actor=SYSTEM)
        elif plans[i] == "cancel":
            stock_release(order=order, actor=SYSTEM)
        return plans[i]

    with Watcher() as watcher:
        outcomes = race(THREADS, work)
    expected = {
        "restocked",
        "lowered",
        "lowering_refused",
        "out_of_stock",
        "approve",
        "cancel",
        "keep",
    }
    assert set(outcomes) <= expected, outcomes
    assert watcher.violations == []
    for item in StockItem.objects.all():
        reserved = StockReservation.objects.filter(stock_item=item).aggregate(
            total=Sum("quantity", default=0)
        )["total"]
        assert 0 <= reserved <= item.quantity


STAFF = Actor(kind="user", id="7", name="stock keeper")


def test_stock_adjustments_racing_each_other_lose_no_unit():
    """Thirty counts of +1 at once on one item: every unit arrives and the history is one
    unbroken chain (each adjustment starts where another ended)."""
    shop = shop_create()
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 5)

    def adjust(i: int) -> str:
        stock_item_adjust(stock_item=item, delta=1, reason=f"delivery {i}", actor=STAFF)
        return "adjusted"

    outcomes = race(THREADS, adjust)
    assert Counter(outcomes) == {"adjusted": THREADS}
    assert StockItem.objects.get(pk=item.pk).quantity == 5 + THREADS
    chain = sorted(
        StockAdjustment.objects.filter(stock_item=item).values_list(
            "quantity_before", "quantity_after"
        )
    )
    assert chain == [(5 + i, 6 + i) for i in range(THREADS)]


def test_stock_adjustments_racing_placements_never_go_below_what_is_reserved():
    """Staff remove units (breakage) while orders reserve them: whichever comes first, the
    quantity never drops below what is reserved, each refusal is a clean domain error, and the
    units removed are exactly the history's."""
    shop = shop_create()
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 12)
    orders = [shop.order((sku, 1)) for _ in range(THREADS // 2)]

    def work(i: int) -> str:
        if i % 2:
            try:
                stock_item_adjust(stock_item=item, delta=-2, reason="breakage", actor=STAFF)
            except StockBelowReserved:
                return "removal_refused"
            return "removed"
        order, (line,) = orders[i // 2]
        try:
            stock_reserve_for_placement(order=order, lines=placement_lines([line]), actor=SYSTEM)
        except OutOfStock:
            return "out_of_stock"
        return "reserved"

    with Watcher() as watcher:
        outcomes = race(THREADS, work)
    counts = Counter(outcomes)
    assert set(counts) <= {"removed", "removal_refused", "reserved", "out_of_stock"}, counts
    quantity = StockItem.objects.get(pk=item.pk).quantity
    assert quantity == 12 - 2 * counts["removed"]
    assert reserved_units() == counts["reserved"] <= quantity
    removed = StockAdjustment.objects.filter(stock_item=item).aggregate(
        total=Sum("delta", default=0)
    )["total"]
    assert removed == -2 * counts["removed"]
    assert watcher.violations == []
