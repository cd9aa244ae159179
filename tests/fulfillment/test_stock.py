"""Stock: availability, draft and pending reservations, release, decrement, restock."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from fulfillment.errors import (
    FulfillmentNotInProgress,
    InventoryModelMissing,
    OutOfStock,
    StockBelowReserved,
)
from fulfillment.models import StockItem, StockReservation
from fulfillment.selectors import stock_available, stock_item_reserved
from fulfillment.services import (
    shipment_decrement_stock,
    shipment_release_stock,
    shipments_build,
    stock_decrement_for_approval,
    stock_item_save,
    stock_release,
    stock_reserve_draft,
    stock_reserve_for_placement,
    stock_restock,
)
from oms.actors import SYSTEM
from orders.models import Order
from tests.fulfillment.factories import (
    LineItemFactory,
    OrderFactory,
    SkuFactory,
    StockItemFactory,
    StockLocationFactory,
    placement_lines,
    shop_create,
)

pytestmark = pytest.mark.django_db


def quantities(*items):
    return [StockItem.objects.get(pk=item.pk).quantity for item in items]


# --- availability ---------------------------------------------------------------------------


def test_available_is_quantity_minus_active_reservations():
    shop = shop_create(locations=2)
    sku = SkuFactory.create()
    shop.stock(sku, 5, 3)
    order, items = shop.order((sku, 2))
    stock_reserve_for_placement(order=order, lines=placement_lines(items), actor=SYSTEM)
    assert stock_available(sku=sku, inventory_model=shop.inventory_model) == 6


def test_expired_draft_reservations_hold_nothing():
    shop = shop_create()
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 4)
    _, (line,) = shop.order((sku, 3))
    stock_reserve_draft(line_item=line, actor=SYSTEM)
    assert stock_available(sku=sku, inventory_model=shop.inventory_model) == 1
    StockReservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert stock_available(sku=sku, inventory_model=shop.inventory_model) == 4
    assert stock_item_reserved(stock_item=item) == 0


def test_availability_counts_only_the_first_locations_up_to_the_cutoff():
    shop = shop_create(locations=3, stock_locations_cutoff=2)
    sku = SkuFactory.create()
    shop.stock(sku, 1, 2, 100)
    assert stock_available(sku=sku, inventory_model=shop.inventory_model) == 3


# --- draft reservations (`_reserve_stock`) ---------------------------------------------------


def test_reserve_draft_holds_the_line_until_the_cutoff():
    shop = shop_create(stock_reservation_cutoff=600)
    sku = SkuFactory.create()
    shop.stock(sku, 5)
    _, (line,) = shop.order((sku, 2))
    before = timezone.now()
    (reservation,) = stock_reserve_draft(line_item=line, actor=SYSTEM)
    assert reservation.status == StockReservation.Status.DRAFT
    assert reservation.quantity == 2
    assert reservation.expires_at is not None
    assert before + timedelta(seconds=599) < reservation.expires_at
    assert reservation.expires_at <= timezone.now() + timedelta(seconds=600)


def test_reserve_draft_again_renews_instead_of_doubling():
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 5)
    _, (line,) = shop.order((sku, 2))
    stock_reserve_draft(line_item=line, actor=SYSTEM)
    stock_reserve_draft(line_item=line, actor=SYSTEM)
    assert StockReservation.objects.get().quantity == 2


def test_reserve_draft_splits_across_locations_by_priority():
    shop = shop_create(locations=2)
    sku = SkuFactory.create()
    first, second = shop.stock(sku, 2, 5)
    _, (line,) = shop.order((sku, 4))
    stock_reserve_draft(line_item=line, actor=SYSTEM)
    held = dict(StockReservation.objects.values_list("stock_item_id", "quantity"))
    assert held == {first.pk: 2, second.pk: 2}


def test_reserve_draft_beyond_availability_is_refused_and_reserves_nothing():
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 1)
    _, (line,) = shop.order((sku, 2))
    with pytest.raises(OutOfStock) as exc:
        stock_reserve_draft(line_item=line, actor=SYSTEM)
    assert exc.value.code == "OUT_OF_STOCK"
    assert exc.value.pointer == "/data/attributes/quantity"
    assert exc.value.line_item_id == line.pk
    assert not StockReservation.objects.exists()


def test_reserve_draft_of_an_untracked_sku_needs_no_stock():
    shop = shop_create()
    sku = SkuFactory.create(do_not_track=True)
    _, (line,) = shop.order((sku, 50))
    assert stock_reserve_draft(line_item=line, actor=SYSTEM) == []


def test_market_without_inventory_model_cannot_reserve():
    order = OrderFactory.create()
    line = LineItemFactory.create(order=order)
    with pytest.raises(InventoryModelMissing) as exc:
        stock_reserve_draft(line_item=line, actor=SYSTEM)
    assert exc.value.code == "INVENTORY_MODEL_MISSING"


# --- placement -------------------------------------------------------------------------------


def test_placement_turns_drafts_into_pending_without_new_rows():
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 3)
    order, (line,) = shop.order((sku, 3))
    (draft,) = stock_reserve_draft(line_item=line, actor=SYSTEM)
    (pending,) = stock_reserve_for_placement(
        order=order, lines=placement_lines([line]), actor=SYSTEM
    )
    assert pending.pk == draft.pk
    assert pending.status == StockReservation.Status.PENDING
    assert pending.expires_at is None


def test_placement_revives_an_expired_draft_only_if_the_stock_is_still_there():
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 2)
    order, (line,) = shop.order((sku, 2))
    stock_reserve_draft(line_item=line, actor=SYSTEM)
    StockReservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    rival, rival_lines = shop.order((sku, 1))
    stock_reserve_for_placement(order=rival, lines=placement_lines(rival_lines), actor=SYSTEM)
    with pytest.raises(OutOfStock):
        stock_reserve_for_placement(order=order, lines=placement_lines([line]), actor=SYSTEM)
    assert StockReservation.objects.filter(order=order, status="pending").count() == 0


def test_placement_is_all_or_nothing_and_names_the_failing_line():
    shop = shop_create()
    plenty, scarce = SkuFactory.create(), SkuFactory.create()
    shop.stock(plenty, 10)
    shop.stock(scarce, 1)
    order, (first, second) = shop.order((plenty, 2), (scarce, 2))
    with pytest.raises(OutOfStock) as exc:
        stock_reserve_for_placement(
            order=order, lines=placement_lines([first, second]), actor=SYSTEM
        )
    assert exc.value.line_item_id == second.pk
    assert exc.value.sku_code == scarce.code
    assert exc.value.pointer == f"/data/relationships/line_items/{second.pk}"
    assert not StockReservation.objects.exists()


def test_placement_skips_untracked_skus():
    shop = shop_create()
    tracked, untracked = SkuFactory.create(), SkuFactory.create(do_not_track=True)
    shop.stock(tracked, 1)
    order, items = shop.order((tracked, 1), (untracked, 99))
    reservations = stock_reserve_for_placement(
        order=order, lines=placement_lines(items), actor=SYSTEM
    )
    assert [r.stock_item.sku_id for r in reservations] == [tracked.pk]


def test_no_split_placement_reserves_everything_at_one_location():
    shop = shop_create(locations=2)
    a, b = SkuFactory.create(), SkuFactory.create()
    shop.stock(a, 5, 5)
    shop.stock(b, 0, 5)
    order, items = shop.order((a, 1), (b, 1))
    reservations = stock_reserve_for_placement(
        order=order, lines=placement_lines(items), actor=SYSTEM
    )
    locations = {r.stock_item.stock_location_id for r in reservations}
    assert locations == {shop.locations[1].stock_location_id}


def test_no_split_placement_moves_drafts_to_the_location_that_has_everything():
    shop = shop_create(locations=2)
    a, b = SkuFactory.create(), SkuFactory.create()
    shop.stock(a, 5, 5)
    shop.stock(b, 0, 5)
    order, (line_a, line_b) = shop.order((a, 1), (b, 1))
    stock_reserve_draft(line_item=line_a, actor=SYSTEM)  # at the first location
    stock_reserve_for_placement(order=order, lines=placement_lines([line_a, line_b]), actor=SYSTEM)
    reservations = StockReservation.objects.filter(order=order)
    assert {r.stock_item.stock_location_id for r in reservations} == {
        shop.locations[1].stock_location_id
    }
    assert {r.status for r in reservations} == {"pending"}


def test_split_shipments_placement_spreads_a_line_over_locations():
    shop = shop_create(locations=2, strategy="split_shipments")
    sku = SkuFactory.create()
    first, second = shop.stock(sku, 2, 5)
    order, items = shop.order((sku, 4))
    stock_reserve_for_placement(order=order, lines=placement_lines(items), actor=SYSTEM)
    held = dict(StockReservation.objects.values_list("stock_item_id", "quantity"))
    assert held == {first.pk: 2, second.pk: 2}


def test_placement_is_idempotent():
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 2)
    order, items = shop.order((sku, 2))
    stock_reserve_for_placement(order=order, lines=placement_lines(items), actor=SYSTEM)
    stock_reserve_for_placement(order=order, lines=placement_lines(items), actor=SYSTEM)
    assert StockReservation.objects.get().quantity == 2


def test_bundle_style_lines_of_the_same_sku_add_up():
    shop = shop_create()
    sku = SkuFactory.create()
    shop.stock(sku, 3)
    order, (line,) = shop.order((sku, 1))
    (reservation,) = stock_reserve_for_placement(
        order=order, lines=[(line, sku, 2), (line, sku, 1)], actor=SYSTEM
    )
    assert reservation.quantity == 3


# --- release, decrement, restock -------------------------------------------------------------


def test_release_gives_every_unit_back():
    shop = shop_create()
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 3)
    order, items = shop.order((sku, 3))
    stock_reserve_for_placement(order=order, lines=placement_lines(items), actor=SYSTEM)
    assert stock_release(order=order, actor=SYSTEM) == 3
    assert not StockReservation.objects.exists()
    assert quantities(item) == [3]


def test_approval_decrements_stock_and_deletes_the_reservations():
    shop = shop_create()
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 5)
    order, items = shop.order((sku, 2))
    stock_reserve_for_placement(order=order, lines=placement_lines(items), actor=SYSTEM)
    assert stock_decrement_for_approval(order=order, actor=SYSTEM) == 2
    assert quantities(item) == [3]
    assert not StockReservation.objects.exists()
    assert stock_decrement_for_approval(order=order, actor=SYSTEM) == 0
    assert quantities(item) == [3]


def test_manual_stock_decrement_keeps_the_reservations_at_approval():
    shop = shop_create(manual_stock_decrement=True)
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 5)
    order, items = shop.order((sku, 2))
    stock_reserve_for_placement(order=order, lines=placement_lines(items), actor=SYSTEM)
    assert stock_decrement_for_approval(order=order, actor=SYSTEM) == 0
    assert quantities(item) == [5]
    assert StockReservation.objects.get().status == "pending"


def test_restock_adds_units_and_creates_the_stock_item_when_missing():
    sku, location = SkuFactory.create(), StockLocationFactory.create()
    item = stock_restock(sku=sku, stock_location=location, quantity=2, actor=SYSTEM)
    assert item.quantity == 2
    item = stock_restock(sku=sku, stock_location=location, quantity=3, actor=SYSTEM)
    assert item.quantity == 5
    assert StockItem.objects.count() == 1


# --- quantities are guarded in the service and in the database -------------------------------


def test_stock_quantity_cannot_drop_below_what_is_reserved():
    shop = shop_create()
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 5)
    order, items = shop.order((sku, 4))
    stock_reserve_for_placement(order=order, lines=placement_lines(items), actor=SYSTEM)
    item.quantity = 3
    with pytest.raises(StockBelowReserved) as exc:
        stock_item_save(stock_item=item)
    assert exc.value.code == "STOCK_BELOW_RESERVED"
    assert quantities(item) == [5]
    item.quantity = 4
    stock_item_save(stock_item=item)
    assert quantities(item) == [4]


def test_negative_stock_is_refused_by_validation_and_by_the_database():
    item = StockItemFactory.create(quantity=1)
    item.quantity = -1
    with pytest.raises(ValidationError):
        stock_item_save(stock_item=item)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockItem.objects.filter(pk=item.pk).update(quantity=-1)


def test_a_sku_has_one_stock_item_per_location():
    item = StockItemFactory.create()
    with pytest.raises(ValidationError):
        StockItemFactory.create(sku=item.sku, stock_location=item.stock_location)


def test_database_refuses_empty_reservations_and_expiring_pending_ones():
    shop = shop_create()
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 5)
    order, (line,) = shop.order((sku, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        StockReservation.objects.create(
            stock_item=item, order=order, line_item=line, quantity=0, status="pending"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        StockReservation.objects.create(
            stock_item=item,
            order=order,
            line_item=line,
            quantity=1,
            status="pending",
            expires_at=timezone.now(),
        )


# --- manual stock decrement, per shipment ------------------------------------------------------


def placed_manual_order(quantity=2):
    shop = shop_create(manual_stock_decrement=True)
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 5)
    order, items = shop.order((sku, quantity))
    stock_reserve_for_placement(order=order, lines=placement_lines(items), actor=SYSTEM)
    (shipment,) = shipments_build(order=order, actor=SYSTEM)
    stock_decrement_for_approval(order=order, actor=SYSTEM)
    return order, shipment, item


def test_manual_decrement_per_shipment_takes_the_reserved_units_once():
    order, shipment, item = placed_manual_order()
    Order.objects.filter(pk=order.pk).update(fulfillment_status="in_progress")
    assert shipment_decrement_stock(shipment=shipment, actor=SYSTEM) == 2
    assert quantities(item) == [3]
    assert not StockReservation.objects.exists()
    assert shipment_decrement_stock(shipment=shipment, actor=SYSTEM) == 0
    assert quantities(item) == [3]


def test_manual_release_per_shipment_keeps_the_quantity():
    order, shipment, item = placed_manual_order()
    Order.objects.filter(pk=order.pk).update(fulfillment_status="in_progress")
    assert shipment_release_stock(shipment=shipment, actor=SYSTEM) == 2
    assert quantities(item) == [5]
    assert not StockReservation.objects.exists()


def test_manual_stock_actions_need_fulfillment_in_progress():
    _, shipment, item = placed_manual_order()
    with pytest.raises(FulfillmentNotInProgress):
        shipment_decrement_stock(shipment=shipment, actor=SYSTEM)
    assert quantities(item) == [5]
    assert StockReservation.objects.count() == 1
