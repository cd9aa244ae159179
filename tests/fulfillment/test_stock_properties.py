"""Property: whatever sequence of reserve / place / release / approve / restock / recount /
expire happens, every stock item keeps 0 <= active reserved <= quantity, and quantities only
move by what approvals took out and restocks and recounts put in."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from fulfillment.errors import OutOfStock, StockBelowReserved
from fulfillment.models import StockItem, StockReservation
from fulfillment.selectors import active_reservations_q
from fulfillment.services import (
    stock_decrement_for_approval,
    stock_item_save,
    stock_release,
    stock_reserve_draft,
    stock_reserve_for_placement,
    stock_restock,
)
from oms.actors import SYSTEM
from orders.models import LineItem
from tests.fulfillment.factories import SkuFactory, placement_lines, shop_create

ORDERS = 4
order_index = st.integers(0, ORDERS - 1)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("draft"), order_index, st.integers(0, 1)),
        st.tuples(st.just("place"), order_index),
        st.tuples(st.just("release"), order_index),
        st.tuples(st.just("approve"), order_index),
        st.tuples(st.just("restock"), st.integers(0, 1), st.integers(0, 1), st.integers(1, 3)),
        st.tuples(st.just("recount"), st.integers(0, 3), st.integers(0, 8)),
        st.tuples(st.just("requantify"), order_index, st.integers(0, 1), st.integers(1, 4)),
        st.tuples(st.just("expire")),
    ),
    max_size=25,
)


class StockInvariantTests(TestCase):
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        strategy=st.sampled_from(["no_split", "split_shipments"]),
        manual=st.booleans(),
        initial=st.lists(st.integers(0, 4), min_size=4, max_size=4),
        ops=operations,
    )
    def test_reserved_stays_between_zero_and_quantity(self, strategy, manual, initial, ops):
        shop = shop_create(locations=2, strategy=strategy, manual_stock_decrement=manual)
        skus = [SkuFactory.create(), SkuFactory.create()]
        items = [
            *shop.stock(skus[0], initial[0], initial[1]),
            *shop.stock(skus[1], initial[2], initial[3]),
        ]
        orders = [shop.order((skus[0], 1 + i % 2), (skus[1], 1)) for i in range(ORDERS)]
        expected_total = sum(initial)

        for op in ops:
            kind = op[0]
            try:
                if kind == "draft":
                    _, line_items = orders[op[1]]
                    stock_reserve_draft(line_item=line_items[op[2]], actor=SYSTEM)
                elif kind == "place":
                    order, _ = orders[op[1]]
                    lines = placement_lines(LineItem.objects.filter(order=order))
                    stock_reserve_for_placement(order=order, lines=lines, actor=SYSTEM)
                elif kind == "release":
                    stock_release(order=orders[op[1]][0], actor=SYSTEM)
                elif kind == "approve":
                    expected_total -= stock_decrement_for_approval(
                        order=orders[op[1]][0], actor=SYSTEM
                    )
                elif kind == "restock":
                    stock_restock(
                        sku=skus[op[1]],
                        stock_location=shop.locations[op[2]].stock_location,
                        quantity=op[3],
                        actor=SYSTEM,
                    )
                    expected_total += op[3]
                elif kind == "recount":
                    item = StockItem.objects.get(pk=items[op[1]].pk)
                    before = item.quantity
                    item.quantity = op[2]
                    stock_item_save(stock_item=item)
                    expected_total += op[2] - before
                elif kind == "requantify":
                    line = orders[op[1]][1][op[2]]
                    LineItem.objects.filter(pk=line.pk).update(
                        quantity=op[3], total_amount_cents=F("unit_amount_cents") * op[3]
                    )
                    line.refresh_from_db()
                elif kind == "expire":
                    StockReservation.objects.filter(status="draft").update(
                        expires_at=timezone.now() - timedelta(seconds=1)
                    )
            except (OutOfStock, StockBelowReserved):
                pass  # a refusal is fine: it must have changed nothing, checked below

            for item in StockItem.objects.all():
                reserved = StockReservation.objects.filter(
                    active_reservations_q(), stock_item=item
                ).aggregate(total=Sum("quantity", default=0))["total"]
                assert 0 <= reserved <= item.quantity, (op, item.quantity, reserved)
            total = StockItem.objects.aggregate(total=Sum("quantity"))["total"]
            assert total == expected_total, op
