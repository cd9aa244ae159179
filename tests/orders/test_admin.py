"""The orders admin: lists with filters, a read-only order page with lines, totals and the
timeline, and actions that call the services and show refusals as messages."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.urls import reverse

from orders.models import Customer, Order
from tests.orders.factories import order_in_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456!")
    client.force_login(user)
    return client


def act(staff_client, action, *orders, query=""):
    return staff_client.post(
        reverse("admin:orders_order_changelist") + query,
        {"action": action, "_selected_action": [order.pk for order in orders]},
        follow=True,
    )


def texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_order_list_filters_by_the_three_statuses_and_market(staff_client):
    placed = order_in_status("placed")
    pending = order_in_status("pending")
    url = reverse("admin:orders_order_changelist")

    response = staff_client.get(url, {"status__exact": "placed"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [placed]

    for query in (
        {"payment_status__exact": "unpaid"},
        {"fulfillment_status__exact": "unfulfilled"},
        {"market__id__exact": pending.market_id},
        {"q": "buyer"},
    ):
        assert staff_client.get(url, query).status_code == 200
    # Carts (draft, pending) are out of the default list, one filter away.
    response = staff_client.get(url, {"market__id__exact": pending.market_id})
    assert list(response.context["cl"].result_list) == []
    response = staff_client.get(url, {"market__id__exact": pending.market_id, "stage": "carts"})
    assert list(response.context["cl"].result_list) == [pending]


def test_archived_orders_leave_the_default_list(staff_client):
    order = order_in_status("cancelled")
    act(staff_client, "archive_orders", order)
    url = reverse("admin:orders_order_changelist")
    assert list(staff_client.get(url).context["cl"].result_list) == []
    archived = staff_client.get(url, {"archived": "archived"}).context["cl"].result_list
    assert list(archived) == [order]


def test_order_page_shows_lines_totals_and_timeline_read_only(staff_client):
    order = order_in_status("approved", amount_cents=4321)
    response = staff_client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert order.line_items.get(item_type="skus").sku_code in body
    assert "€43.21" in body
    assert "timeline" in body.lower()
    assert "approved" in body
    assert 'name="_save"' not in body  # nothing to save: triggers are actions


def test_approve_action_calls_the_service(staff_client):
    order = order_in_status("placed")
    response = act(staff_client, "approve_orders", order)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.APPROVED
    assert order.events.latest("id").actor == "user:boss"
    assert "1 order(s) approved." in texts(response)


def test_a_refused_action_is_a_message_not_an_error_page(staff_client):
    draft = order_in_status("draft")
    placed = order_in_status("placed")
    response = act(staff_client, "approve_orders", draft, placed, query="?stage=all")
    assert response.status_code == 200
    messages = texts(response)
    assert any(
        f"Order #{draft.number} can't be approved now: it is draft." in m for m in messages
    ), messages
    assert "1 order(s) approved." in messages
    draft.refresh_from_db()
    placed.refresh_from_db()
    assert (draft.status, placed.status) == ("draft", "approved")


def test_cancel_and_archive_actions(staff_client):
    order = order_in_status("placed")
    act(staff_client, "cancel_orders", order)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    act(staff_client, "archive_orders", order)
    order.refresh_from_db()
    assert order.archived_at is not None
    # Archived orders are acted on from the archived list.
    act(staff_client, "unarchive_orders", order, query="?archived=archived")
    order.refresh_from_db()
    assert order.archived_at is None


def test_orders_cannot_be_added_or_deleted_in_the_admin(staff_client):
    order = order_in_status("placed")
    assert staff_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert (
        staff_client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403
    )


def test_customer_admin_normalises_the_email(staff_client):
    response = staff_client.post(
        reverse("admin:orders_customer_add"),
        {
            "email": "Zoe@Example.com",
            "shopper_reference": "",
            "profile_id": "",
            "tax_exemption_code": "",
            "reference": "",
            "reference_origin": "",
            "metadata": "{}",
            "customer_addresses-TOTAL_FORMS": "0",
            "customer_addresses-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Customer.objects.get().email == "zoe@example.com"


def test_customer_pages_render(staff_client):
    order = order_in_status("placed")
    assert staff_client.get(reverse("admin:orders_customer_changelist")).status_code == 200
    url = reverse("admin:orders_customer_change", args=[order.customer_id])
    assert staff_client.get(url).status_code == 200
