"""The admin's webhook pages and the "resend" action."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from oms.webhooks.models import Webhook, WebhookDelivery
from orders.events import order_topic_publish_on_commit
from tests.orders.factories import order_ready

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456!")
    client.force_login(user)
    return client


def _failed_delivery() -> WebhookDelivery:
    webhook = Webhook.objects.create(topic="orders.place", callback_url="https://e.example.com")
    with transaction.atomic():
        order_topic_publish_on_commit(order=order_ready(amount_cents=1000), topic="orders.place")
    WebhookDelivery.objects.update(status="failed", attempts=10)
    return WebhookDelivery.objects.get(webhook=webhook)


def test_the_webhook_list_page_and_its_deliveries_show(boss: Client):
    delivery = _failed_delivery()
    assert boss.get("/admin/webhooks/webhook/").status_code == 200
    page = boss.get(f"/admin/webhooks/webhook/{delivery.webhook_id}/change/")
    assert page.status_code == 200
    assert delivery.resource_id in page.content.decode()
    assert boss.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/").status_code == 200


def test_resend_queues_a_failed_delivery_again(boss: Client):
    delivery = _failed_delivery()
    response = boss.post(
        "/admin/webhooks/webhookdelivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_the_admin_refuses_a_loopback_callback_url(boss: Client, settings):
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = False
    response = boss.post(
        "/admin/webhooks/webhook/add/",
        {
            "name": "x",
            "topic": "orders.place",
            "callback_url": "https://127.0.0.1/hooks",
            "include_resources": "[]",
            "deliveries-TOTAL_FORMS": "0",
            "deliveries-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "private, loopback or link-local" in response.content.decode()
    assert Webhook.objects.count() == 0


def test_the_webhook_form_offers_the_topics_and_refuses_another(boss: Client):
    page = boss.get("/admin/webhooks/webhook/add/").content.decode()
    assert 'value="orders.place"' in page
    assert 'value="stock_items.update"' in page
    response = boss.post(
        "/admin/webhooks/webhook/add/",
        {
            "name": "erp",
            "topic": "orders.explode",
            "callback_url": "https://erp.example.com/hooks",
            "include_resources": "[]",
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert "Select a valid choice" in response.content.decode()
    assert not Webhook.objects.exists()
