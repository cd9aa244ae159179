"""The merchant admin's order page and list (issue 9): the buttons of the transitions allowed
now and permitted to the role, each calling the order-level workflow; refusals and bad input in
merchant words with nothing changed; staff roles; search; bounded queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order, OrderEvent
from orders.roles import staff_roles_sync
from payments.gateways.test import TestGateway
from payments.models import Transaction
from tests.orders.factories import order_in_status
from tests.orders.test_face_equivalence import order_with_two_shipments

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def login_as(client: Client, role: str | None) -> Client:
    """A staff user with one role (None: a superuser)."""
    users = get_user_model().objects
    if role is None:
        user = users.create_superuser("boss", "boss@example.com", "pw-123456!")
    else:
        staff_roles_sync()  # the groups of the migration (a flushed database lost them)
        user = users.create_user(role.replace(" ", "-"), "", "pw-123456!", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


@pytest.fixture
def boss(client: Client) -> Client:
    return login_as(client, None)


def page_of(client: Client, order: Order) -> Any:
    response = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    return response


def buttons(response: Any) -> set[tuple[str, str]]:
    """(action, target) of every button on the order page."""
    return {
        (button.action.name, button.target_id)
        for button in response.context["order_buttons"]
        + [b for row in response.context["order_transactions"] for b in row["buttons"]]
        + [b for row in response.context["order_shipments"] for b in row["buttons"]]
    }


def act(client: Client, order: Order, action: str, target: str = "", **data: str) -> list[str]:
    url = reverse("admin:orders_order_act", args=[order.pk, action])
    response = client.post(url, {"target": target, **data}, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def authorization(order: Order) -> Transaction:
    return order.transactions.get(type="authorizations")


def test_a_placed_order_offers_approve_capture_void_cancel_and_archive(boss):
    order = order_with_two_shipments("placed")
    auth = authorization(order)
    assert buttons(page_of(boss, order)) == {
        ("approve", ""),
        ("approve_and_capture", ""),
        ("capture", auth.pk),
        ("void", auth.pk),
        ("cancel", ""),
        ("archive", ""),
    }


def test_a_cancelled_order_offers_only_archive(boss):
    order = order_with_two_shipments("cancelled")
    assert buttons(page_of(boss, order)) == {("archive", "")}


def test_from_approval_to_fulfilled_on_the_order_page(boss):
    """Approve, capture part, capture the rest, refund part, ship every shipment with a
    tracking number: the order is fulfilled and the timeline says so."""
    order = order_with_two_shipments("placed")
    total = order.total_amount_with_taxes_cents
    assert act(boss, order, "approve") == [f"Order #{order.number} approved."]
    auth = authorization(order)
    first = act(boss, order, "capture", auth.pk, amount="10.00")
    assert first[0].startswith("Capture ")
    assert first[0].endswith(": €10.00.")
    act(boss, order, "capture", auth.pk, amount="")
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PAID
    capture = order.transactions.filter(type="captures").order_by("created_at").first()
    assert capture is not None
    assert capture.amount_cents == 1000
    act(boss, order, "refund", capture.pk, amount="2.50")
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    assert order.transactions.get(type="refunds").amount_cents == 250
    assert total > 1000
    for number, shipment in enumerate(order.shipments.order_by("number")):
        messages = act(boss, order, "ship", shipment.pk, tracking_number=f"TRACK{number}")
        assert messages == [f"Shipment {shipment.number} shipped."]
    order.refresh_from_db()
    assert order.fulfillment_status == Order.FulfillmentStatus.FULFILLED
    assert {p.tracking_number for s in order.shipments.all() for p in s.parcels.all()} == {
        "TRACK0",
        "TRACK1",
    }
    body = page_of(boss, order).content.decode()
    assert "Order marked fulfilled" in body or "fulfilled" in body
    assert "TRACK0" in body


def test_a_refused_button_says_why_in_merchant_words_and_changes_nothing(boss):
    order = order_with_two_shipments("cancelled")
    events = order.events.count()
    assert act(boss, order, "approve") == [
        f"Order #{order.number} can't be approved now: it is cancelled."
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.events.count() == events


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("abc", "is not an amount"),
        ("-5", "must be above zero"),
        ("0", "must be above zero"),
        ("1.234", "EUR amounts have 2 decimal places"),
        ("NaN", "must be above zero"),
        ("999999", "Cannot capture"),
    ],
)
def test_a_bad_amount_is_a_message_and_nothing_moves(boss, amount, words):
    order = order_with_two_shipments("placed")
    auth = authorization(order)
    transactions = order.transactions.count()
    messages = act(boss, order, "capture", auth.pk, amount=amount)
    assert len(messages) == 1, messages
    assert words in messages[0], messages
    assert order.transactions.count() == transactions


def test_a_target_of_another_order_is_refused(boss):
    order, other = order_with_two_shipments("placed"), order_with_two_shipments("placed")
    messages = act(boss, order, "capture", authorization(other).pk)
    assert messages == ["Nothing done: that authorization is not one of this order's."]
    assert not other.transactions.filter(type="captures").exists()


def test_the_confirmation_page_asks_before_acting(boss):
    order = order_with_two_shipments("placed")
    url = reverse("admin:orders_order_act", args=[order.pk, "cancel"])
    response = boss.get(url)
    assert response.status_code == 200
    assert f"Cancel order #{order.number}?" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED


def test_a_staff_note_joins_the_timeline(boss):
    order = order_in_status("placed")
    url = reverse("admin:orders_order_note", args=[order.pk])
    boss.post(url, {"note": "  Customer called: ship together  "})
    note = OrderEvent.objects.get(order=order, trigger="_note")
    assert (note.message, note.actor) == ("Customer called: ship together", "user:boss")
    response = boss.post(url, {"note": "   "}, follow=True)
    assert "Note not added: A note needs some text." in [
        str(m) for m in get_messages(response.wsgi_request)
    ]
    assert OrderEvent.objects.filter(order=order, trigger="_note").count() == 1


# --- roles ---------------------------------------------------------------------------------


def test_warehouse_sees_the_order_and_ship_but_no_money_button(client):
    order = order_with_two_shipments("captured")
    warehouse = login_as(client, "Warehouse")
    response = page_of(warehouse, order)
    names = {name for name, _ in buttons(response)}
    assert names == {"ship"}
    body = response.content.decode()
    assert order.line_items.filter(item_type="skus")[0].sku_code in body
    assert 'id="timeline"' in body


def test_warehouse_gets_a_403_in_the_admin_layout_on_a_money_url(client):
    order = order_with_two_shipments("captured")
    capture = order.transactions.get(type="captures")
    warehouse = login_as(client, "Warehouse")
    url = reverse("admin:orders_order_act", args=[order.pk, "refund"])
    for response in (warehouse.get(url), warehouse.post(url, {"target": capture.pk})):
        assert response.status_code == 403
        body = response.content.decode()
        assert "Not allowed (403)" in body
        assert "Stock items" in body  # the sidebar of the admin's layout
    assert not order.transactions.filter(type="refunds").exists()


def test_customer_service_refunds_and_cancels_but_does_not_approve(client):
    order = order_with_two_shipments("placed")
    service = login_as(client, "Customer service")
    assert {name for name, _ in buttons(page_of(service, order))} == {"cancel"}
    url = reverse("admin:orders_order_act", args=[order.pk, "approve"])
    assert service.post(url).status_code == 403
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED


def test_read_only_sees_the_page_and_no_button(client):
    order = order_with_two_shipments("placed")
    reader = login_as(client, "Read only")
    response = page_of(reader, order)
    assert buttons(response) == set()
    assert not response.context["can_note"]
    changelist = reader.get(reverse("admin:orders_order_changelist"))
    assert changelist.status_code == 200
    assert set(changelist.context["cl"].model_admin.get_actions(changelist.wsgi_request)) == {
        "export_csv"
    }


# --- the list ------------------------------------------------------------------------------


def found(client: Client, term: str) -> list[Order]:
    response = client.get(reverse("admin:orders_order_changelist"), {"q": term})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_search_by_number_with_or_without_hash_email_name_and_sku(boss):
    order = order_in_status("placed")
    other = order_in_status("placed")
    sku_code = order.line_items.get(item_type="skus").sku_code
    assert found(boss, str(order.number)) == [order]
    assert found(boss, f"#{order.number}") == [order]
    assert found(boss, f"  # {order.number} ") == [order]
    assert found(boss, order.customer_email.upper()) == [order]
    assert order in found(boss, sku_code)
    address = order.billing_address
    assert address is not None
    assert order in found(boss, f"{address.first_name} {address.last_name}")
    assert found(boss, "#99999999") == []
    assert other not in found(boss, f"#{order.number}")


def test_bulk_approve_reports_the_successes_and_the_refusals(boss):
    placed = order_in_status("placed")
    cancelled = order_in_status("cancelled")
    response = boss.post(
        reverse("admin:orders_order_changelist"),
        {"action": "approve_orders", "_selected_action": [placed.pk, cancelled.pk]},
        follow=True,
    )
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert "1 order(s) approved." in messages
    assert (
        f"1 order(s) not approved. #{cancelled.number}: Order #{cancelled.number} can't be "
        "approved now: it is cancelled."
    ) in messages


def test_export_csv_has_a_row_per_order(boss):
    orders = [order_in_status("placed"), order_in_status("approved")]
    response = boss.post(
        reverse("admin:orders_order_changelist"),
        {"action": "export_csv", "_selected_action": [o.pk for o in orders]},
    )
    assert response["Content-Type"] == "text/csv"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("number,placed_at,market")
    assert len(lines) == 3


# --- bounded queries -----------------------------------------------------------------------


def queries_of(client: Client, url: str, **params: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
        assert response.status_code == 200
    return len(queries)


def test_the_order_list_runs_the_same_queries_for_one_order_or_many(boss):
    url = reverse("admin:orders_order_changelist")
    order_in_status("placed")
    one = queries_of(boss, url)
    for _ in range(4):
        order_in_status("approved")
    assert queries_of(boss, url) == one
    assert queries_of(boss, url, q="buyer") <= one + 1


def test_the_order_page_runs_the_same_queries_for_small_and_large_orders(boss):
    small = order_in_status("approved")
    large = order_with_two_shipments("captured")
    act(boss, large, "refund", large.transactions.get(type="captures").pk, amount="1")
    small_queries = queries_of(boss, reverse("admin:orders_order_change", args=[small.pk]))
    large_queries = queries_of(boss, reverse("admin:orders_order_change", args=[large.pk]))
    assert large_queries == small_queries
