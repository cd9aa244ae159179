"""The `webhooks` and `event_callbacks` resources: back office only, Commerce Layer's triggers."""

from __future__ import annotations

import pytest
from django.db import transaction

from oms.api.principal import Principal
from oms.webhooks import services
from oms.webhooks.models import EventCallback, Webhook
from orders.events import order_topic_publish_on_commit
from tests import factories as catalog
from tests.api.conftest import Api, doc
from tests.orders.factories import order_ready
from tests.webhooks.conftest import Receiver

pytestmark = pytest.mark.django_db

ADMIN = Principal("app-admin", "integration", role="admin")
READ_ONLY = Principal("app-ro", "integration", role="read_only")


def _others() -> dict[str, Api]:
    market = catalog.MarketFactory.create()
    return {
        "anonymous": Api(None),
        "sales_channel": Api(Principal("app-sc", "sales_channel", market_ids=(market.pk,))),
        "customer": Api(
            Principal("app-sc", "sales_channel", market_ids=(market.pk,), customer_id="c1")
        ),
    }


def _created(api: Api, **attributes: object) -> dict:
    response = api.post(
        "/api/webhooks",
        doc(
            "webhooks",
            {
                "name": "erp",
                "topic": "orders.place",
                "callback_url": "https://erp.example.com/hooks",
                **attributes,
            },
        ),
    )
    assert response.status_code == 201, response.doc
    return response.doc["data"]


def test_an_admin_integration_creates_a_webhook_and_reads_its_shared_secret():
    data = _created(Api(ADMIN), include_resources=["line_items"])
    attributes = data["attributes"]
    assert attributes["circuit_state"] == "closed"
    assert attributes["circuit_failure_count"] == 0
    assert attributes["include_resources"] == ["line_items"]
    assert len(attributes["shared_secret"]) == 32
    assert attributes["shared_secret"] == Webhook.objects.get().shared_secret
    read = Api(READ_ONLY).get(f"/api/webhooks/{data['id']}")
    assert read.status_code == 200
    assert read.doc["data"]["attributes"]["shared_secret"] == attributes["shared_secret"]


def test_a_read_only_integration_cannot_write_webhooks():
    response = Api(READ_ONLY).post(
        "/api/webhooks",
        doc("webhooks", {"topic": "orders.place", "callback_url": "https://e.example.com"}),
    )
    assert response.status_code == 401
    assert Webhook.objects.count() == 0


@pytest.mark.parametrize("role", ["anonymous", "sales_channel", "customer"])
def test_sales_channels_customers_and_anonymous_get_401_on_webhooks_and_callbacks(role):
    webhook = Webhook.objects.create(topic="orders.place", callback_url="https://e.example.com")
    api = _others()[role]
    for path in (
        "/api/webhooks",
        f"/api/webhooks/{webhook.pk}",
        "/api/event_callbacks",
        f"/api/webhooks/{webhook.pk}/last_event_callbacks",
    ):
        assert api.get(path).status_code == 401, path
    created = api.post(
        "/api/webhooks",
        doc("webhooks", {"topic": "orders.place", "callback_url": "https://e.example.com"}),
    )
    assert created.status_code == 401
    assert Webhook.objects.count() == 1


def test_an_unsafe_callback_url_is_a_422(settings):
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = False
    response = Api(ADMIN).post(
        "/api/webhooks",
        doc("webhooks", {"topic": "orders.place", "callback_url": "https://127.0.0.1/x"}),
    )
    assert response.status_code == 422, response.doc
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/attributes/callback_url"
    assert Webhook.objects.count() == 0


def test_triggers_disable_enable_reset_and_regenerate():
    api = Api(ADMIN)
    data = _created(api)
    webhook = Webhook.objects.get()
    Webhook.objects.filter(pk=webhook.pk).update(circuit_state="open", circuit_failure_count=30)

    def patch(attributes: dict) -> dict:
        response = api.patch(
            f"/api/webhooks/{data['id']}", doc("webhooks", attributes, id=data["id"])
        )
        assert response.status_code == 200, response.doc
        return response.doc["data"]["attributes"]

    assert patch({"_disable": True})["disabled_at"] is not None
    assert patch({"_enable": True})["disabled_at"] is None
    reset = patch({"_reset_circuit": True})
    assert (reset["circuit_state"], reset["circuit_failure_count"]) == ("closed", 0)
    assert patch({"_regenerate_shared_secret": True})["shared_secret"] != webhook.shared_secret


def test_event_callbacks_are_read_only_and_reached_from_their_webhook(
    receiver: Receiver, allow_local: None
):
    webhook = Webhook.objects.create(topic="orders.place", callback_url=receiver.url)
    with transaction.atomic():
        order_topic_publish_on_commit(order=order_ready(amount_cents=1000), topic="orders.place")
    services.deliveries_send_due(limit=10)
    callback = EventCallback.objects.get()

    api = Api(READ_ONLY)
    listed = api.get(f"/api/webhooks/{webhook.pk}/last_event_callbacks")
    assert listed.status_code == 200, listed.doc
    assert [r["id"] for r in listed.doc["data"]] == [callback.pk]
    one = api.get(f"/api/event_callbacks/{callback.pk}?include=webhook")
    assert one.status_code == 200, one.doc
    attributes = one.doc["data"]["attributes"]
    assert (attributes["response_code"], attributes["callback_url"]) == ("200", receiver.url)
    assert attributes["payload"]["data"]["type"] == "orders"
    assert one.doc["included"][0]["id"] == webhook.pk
    refused = Api(ADMIN).delete(f"/api/event_callbacks/{callback.pk}")
    assert refused.status_code == 401
    assert EventCallback.objects.count() == 1
