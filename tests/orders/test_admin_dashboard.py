"""The back office's home, stock, SKU and customer pages (issue 9): the dashboard's figures
match the data they come from, each page runs a bounded number of queries, stock is adjusted
with a reason recorded in the history and never below what is reserved."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.db.models import Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import StockAdjustment, StockReservation
from fulfillment.services import stock_item_adjust
from oms.actors import Actor
from oms.errors import DomainError
from orders.dashboard import dashboard_context, market_summaries, order_queues, period_starts
from orders.models import Order
from orders.services.money import order_capture, order_capture_refund
from payments.gateways.test import TestGateway
from payments.models import Transaction
from tests import factories as catalog
from tests.fulfillment import factories
from tests.orders.factories import order_in_status, order_row
from tests.orders.test_admin_order_page import login_as

pytestmark = pytest.mark.django_db
STAFF = Actor(kind="user", id="1", name="stock-keeper")


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


@pytest.fixture
def boss(client: Client) -> Client:
    return login_as(client, None)


def queries_of(client: Client, url: str) -> tuple[int, Any]:
    client.get(url)  # warm the caches of the session and content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200
    return len(queries), response


def captured(**kwargs: Any) -> Order:
    """An approved order whose whole total is captured."""
    return order_capture(order=order_in_status("approved", **kwargs), actor=STAFF)


def backdate(order: Order, days: int) -> None:
    """Move an order and its money `days` back (as if placed then)."""
    by = datetime.timedelta(days=days)
    assert order.placed_at is not None
    Order.objects.filter(pk=order.pk).update(placed_at=order.placed_at - by)
    for transaction in Transaction.objects.filter(order=order):
        Transaction.objects.filter(pk=transaction.pk).update(created_at=transaction.created_at - by)


# --- the dashboard's figures ------------------------------------------------------------------


def test_the_figures_per_period_match_the_orders_and_transactions_they_come_from():
    today = captured()  # placed and captured today
    market = today.market
    week = captured(market=market)
    month = captured(market=market)
    old = captured(market=market)
    backdate(week, 3)
    backdate(month, 20)
    backdate(old, 45)  # outside every period
    capture = week.transactions.get(type="captures")
    order_capture_refund(capture=capture, amount_cents=100, actor=STAFF)

    [summary] = [one for one in market_summaries() if one.market_id == market.pk]
    totals = {o.pk: o.total_amount_with_taxes_cents for o in (today, week, month)}
    assert summary.periods["today"].orders == 1
    assert summary.periods["week"].orders == 2
    assert summary.periods["month"].orders == 3
    assert summary.periods["month"].value_cents == sum(totals.values())
    assert summary.periods["week"].average_cents == round((totals[today.pk] + totals[week.pk]) / 2)
    captured_cents = Transaction.objects.filter(
        order__market=market,
        type="captures",
        status="succeeded",
        created_at__gte=period_starts(timezone.now())["month"],
    ).aggregate(total=Sum("amount_cents"))["total"]
    assert summary.periods["month"].captured_cents == captured_cents == sum(totals.values())
    assert summary.periods["today"].refunded_cents == 100  # the refund itself is today's
    assert sum(summary.orders_per_day.values()) == 3
    assert sum(summary.captured_per_day.values()) == captured_cents


def test_markets_with_two_currencies_are_not_added_together():
    eur = order_row(status="placed")
    usd_list = catalog.PriceListFactory.create(currency_code="USD")
    usd = order_row(status="placed", market=catalog.MarketFactory.create(price_list=usd_list))
    codes = {(one.market_id, one.currency_code) for one in market_summaries()}
    assert (eur.market_id, "EUR") in codes
    assert (usd.market_id, "USD") in codes


def test_the_queues_count_what_waits_and_link_to_those_orders(boss):
    order_in_status("placed")
    order_in_status("placed")
    approved = order_in_status("approved")
    assert approved.payment_status == Order.PaymentStatus.AUTHORIZED
    captured()
    queues = {queue.key: queue for queue in order_queues()}
    assert queues["to_approve"].count == 2
    assert queues["to_capture"].count == 1
    assert queues["to_ship"].count == 1
    assert queues["stuck"].count == 0
    stuck = order_in_status("placing")
    Order.objects.filter(pk=stuck.pk).update(
        updated_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert {queue.key: queue.count for queue in order_queues()}["stuck"] == 1
    response = boss.get(queues["to_approve"].link)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 2


def test_the_dashboard_page_shows_the_figures_and_its_queries_do_not_grow(boss):
    order_in_status("approved")
    few, response = queries_of(boss, reverse("admin:index"))
    content = response.content.decode()
    assert 'data-figure="orders-today">1<' in content
    for _ in range(4):
        order_row(status="approved", market=catalog.MarketFactory.create())
        order_row(status="placed")
    many, response = queries_of(boss, reverse("admin:index"))
    assert many == few
    assert len(response.context["dashboard_markets"]) >= 5


def test_low_stock_lists_what_is_available_below_the_threshold(settings):
    settings.OMS_LOW_STOCK_THRESHOLD = 2
    plenty = factories.StockItemFactory.create(quantity=50)
    low = factories.StockItemFactory.create(quantity=3)
    StockReservation.objects.create(
        stock_item=low,
        quantity=2,
        status="draft",
        expires_at=timezone.now() + datetime.timedelta(hours=1),
    )
    listed = {item.pk: item for item in dashboard_context()["dashboard_low_stock"]}
    assert plenty.pk not in listed
    assert listed[low.pk].available == 1
    assert listed[low.pk].reserved == 2


def test_a_user_without_order_permission_gets_the_plain_index(client):
    clerk = get_user_model().objects.create_user("clerk", "", "pw-123456!", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_sku"))
    client.force_login(clerk)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "dashboard_markets" not in response.context
    assert "Needs action" not in response.content.decode()
    response = login_as(Client(), "Read only").get(reverse("admin:index"))
    assert "dashboard_markets" in response.context


# --- stock ------------------------------------------------------------------------------------


def test_an_adjustment_moves_the_quantity_and_records_why():
    item = factories.StockItemFactory.create(quantity=10)
    adjustment = stock_item_adjust(stock_item=item, delta=-3, reason="count", actor=STAFF)
    item.refresh_from_db()
    assert item.quantity == 7
    assert (adjustment.quantity_before, adjustment.quantity_after) == (10, 7)
    assert adjustment.actor_name == "stock-keeper"


@pytest.mark.parametrize(
    ("delta", "reason", "code"),
    [(0, "count", "STOCK_ADJUSTMENT_INVALID"), (2, "  ", "STOCK_ADJUSTMENT_INVALID")],
)
def test_an_adjustment_without_reason_or_units_is_refused(delta, reason, code):
    item = factories.StockItemFactory.create(quantity=10)
    with pytest.raises(DomainError) as refused:
        stock_item_adjust(stock_item=item, delta=delta, reason=reason, actor=STAFF)
    assert refused.value.code == code
    assert not StockAdjustment.objects.exists()


def test_an_adjustment_never_goes_below_what_is_reserved():
    item = factories.StockItemFactory.create(quantity=5)
    StockReservation.objects.create(stock_item=item, quantity=4, status="pending")
    with pytest.raises(DomainError) as refused:
        stock_item_adjust(stock_item=item, delta=-2, reason="breakage", actor=STAFF)
    assert refused.value.code == "STOCK_BELOW_RESERVED"
    item.refresh_from_db()
    assert item.quantity == 5
    assert not StockAdjustment.objects.exists()


def test_the_adjust_page_adjusts_or_says_why_not(boss):
    item = factories.StockItemFactory.create(quantity=5)
    StockReservation.objects.create(stock_item=item, quantity=4, status="pending")
    url = reverse("admin:fulfillment_stockitem_adjust", args=[item.pk])
    refused = boss.post(url, {"delta": "-3", "reason": "count"})
    assert refused.status_code == 200
    assert "below what is reserved" in refused.content.decode()
    done = boss.post(url, {"delta": "7", "reason": "delivery"}, follow=True)
    assert [str(m) for m in get_messages(done.wsgi_request)] == [
        f"{item.sku.code} @ {item.stock_location.name}: +7 (delivery), now 12 in stock."
    ]
    assert "delivery" in done.content.decode()  # the history on the item's page


def test_a_read_only_user_cannot_adjust_stock(client):
    item = factories.StockItemFactory.create(quantity=5)
    reader = login_as(client, "Read only")
    url = reverse("admin:fulfillment_stockitem_adjust", args=[item.pk])
    assert reader.post(url, {"delta": "1", "reason": "x"}).status_code == 403
    item.refresh_from_db()
    assert item.quantity == 5


def test_the_stock_list_shows_available_filters_low_stock_and_does_not_grow(boss, settings):
    settings.OMS_LOW_STOCK_THRESHOLD = 3
    low = factories.StockItemFactory.create(quantity=2)
    url = reverse("admin:fulfillment_stockitem_changelist")
    few, _ = queries_of(boss, url)
    for quantity in (10, 20, 30):
        item = factories.StockItemFactory.create(quantity=quantity)
        StockReservation.objects.create(stock_item=item, quantity=1, status="pending")
    many, response = queries_of(boss, url)
    assert many == few
    rows = {item.pk: item for item in response.context["cl"].result_list}
    assert {(item.quantity, item.reserved, item.available) for item in rows.values()} >= {
        (10, 1, 9),
        (2, 0, 2),
    }
    _, filtered = queries_of(boss, url + "?stock=low")
    assert [item.pk for item in filtered.context["cl"].result_list] == [low.pk]
    assert f"{low.sku.code} — {low.sku.name}" in response.content.decode()


def test_a_stock_item_is_named_by_sku_and_location_not_ids():
    item = factories.StockItemFactory.create()
    assert str(item) == f"{item.sku.code} @ {item.stock_location.name}"


def test_the_sku_page_shows_its_prices_and_stock_with_bounded_queries(boss):
    item = factories.StockItemFactory.create(quantity=8)
    sku = item.sku
    catalog.PriceFactory.create(sku=sku)
    url = reverse("admin:markets_sku_change", args=[sku.pk])
    few, response = queries_of(boss, url)
    content = response.content.decode()
    assert item.stock_location.name in content
    assert "Prices" in content
    assert "Stock" in content
    for _ in range(3):
        factories.StockItemFactory.create(sku=sku)
        catalog.PriceFactory.create(sku=sku)
    many, _ = queries_of(boss, url)
    assert many == few


# --- customers --------------------------------------------------------------------------------


def test_the_customer_page_shows_its_orders_and_totals_with_bounded_queries(boss):
    order = order_in_status("approved")
    customer = order.customer
    assert customer is not None
    url = reverse("admin:orders_customer_change", args=[customer.pk])
    few, response = queries_of(boss, url)
    assert [o.pk for o in response.context["customer_orders"]] == [order.pk]
    [totals] = response.context["customer_totals"]
    assert totals["orders"] == 1
    assert totals["spent_cents"] == order.total_amount_with_taxes_cents
    assert f"#{order.number}" in response.content.decode()
    for _ in range(3):
        order_in_status("cancelled", customer_email=customer.email)
    many, response = queries_of(boss, url)
    assert many == few
    assert len(response.context["customer_orders"]) == 1  # carts cancelled before placing
    order_in_status("placed", customer_email=customer.email)
    assert len(queries_of(boss, url)[1].context["customer_orders"]) == 2


# --- saved filters ----------------------------------------------------------------------------


def test_a_saved_filter_is_a_link_above_the_list_for_its_owner_only(boss, client):
    changelist = reverse("admin:orders_order_changelist")
    save = reverse("admin:orders_order_saved_filters")
    response = boss.post(
        save, {"name": "EU to ship", "query": "?status__exact=approved&p=3&e=1"}, follow=True
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Filter “EU to ship” saved."]
    [saved] = boss.get(changelist).context["saved_filters"]
    assert saved["name"] == "EU to ship"
    assert saved["link"] == f"{changelist}?status__exact=approved"  # not the page, nor e=1
    assert boss.get(saved["link"]).status_code == 200
    other = login_as(Client(), "Read only")
    assert other.get(changelist).context["saved_filters"] == []
    other.post(save, {"delete": saved["id"]})  # not its own: nothing happens
    assert len(boss.get(changelist).context["saved_filters"]) == 1
    boss.post(save, {"delete": saved["id"]})
    assert boss.get(changelist).context["saved_filters"] == []


def test_a_filter_without_a_name_is_not_saved(boss):
    save = reverse("admin:orders_order_saved_filters")
    response = boss.post(save, {"name": "  ", "query": "status__exact=placed"}, follow=True)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Give the filter a name to save it."
    ]
    changelist = reverse("admin:orders_order_changelist")
    assert boss.get(changelist).context["saved_filters"] == []


def test_the_list_offers_the_queues_as_views(boss):
    response = boss.get(reverse("admin:orders_order_changelist"))
    names = [view["name"] for view in response.context["queue_filters"]]
    assert names == [
        "Placed, not approved",
        "Approved, not captured",
        "Captured, not shipped",
        "Stuck placing",
    ]
    assert 'id="saved-filters"' in response.content.decode()


def test_recent_changes_come_from_the_typed_events_newest_first(boss):
    first = order_in_status("approved")
    second = order_in_status("placed")
    response = boss.get(reverse("admin:index"))
    changes = response.context["dashboard_recent_changes"]
    assert changes, "the lifecycle wrote typed events"
    assert [e.created_at for e in changes] == sorted((e.created_at for e in changes), reverse=True)
    assert {e.order_id for e in changes} <= {first.pk, second.pk}
    assert changes[0].order_id == second.pk  # placed last
    content = response.content.decode()
    assert f'data-event="{changes[0].pk}"' in content
    assert f"#{second.number}" in content
    # a note is on the order page, not among the status changes
    from orders.models import OrderEvent

    assert all(e.event_type != OrderEvent.Type.ORDER_NOTE_ADDED for e in changes)
