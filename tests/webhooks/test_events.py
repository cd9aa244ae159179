"""The `events` resource (one per topic, with its webhooks and latest callbacks, `_trigger`),
topics checked on webhooks, and the order-payment and stock topics."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction

from fulfillment.models import StockItem
from fulfillment.services import stock_item_adjust, stock_item_save
from oms.api.principal import Principal
from oms.webhooks import services
from oms.webhooks.models import Event, EventCallback, Webhook, WebhookDelivery
from oms.webhooks.topics import TOPICS
from orders import services as order_services
from orders.events import order_topic_publish_on_commit
from tests.api.conftest import Api, doc
from tests.orders.factories import STAFF, STOREFRONT, checkout_ready, order_ready
from tests.webhooks.conftest import Receiver

pytestmark = pytest.mark.django_db

ADMIN = Principal("app-admin", "integration", role="admin")
READ_ONLY = Principal("app-ro", "integration", role="read_only")


def _event(name: str) -> dict:
    response = Api(READ_ONLY).get(f"/api/events?filter[q][name_eq]={name}")
    assert response.status_code == 200, response.doc
    [data] = response.doc["data"]
    return data


def test_every_topic_is_an_event_after_migrate():
    assert set(Event.objects.values_list("name", flat=True)) == set(TOPICS)
    assert services.events_sync() == 0  # idempotent
    names: list[str] = []
    for page in range(1, 4):  # more topics than a page holds
        response = Api(READ_ONLY).get(f"/api/events?page[size]=25&page[number]={page}&sort=name")
        names += [data["attributes"]["name"] for data in response.doc["data"]]
    assert names == sorted(TOPICS)
    assert {"returns.create", "returns.receive", "returns.refund", "returns.restock"} <= set(names)
    assert {"orders.place", "orders.pay", "shipments.ship", "stock_items.update"} <= set(names)


def test_an_event_lists_its_webhooks_and_latest_callbacks(receiver: Receiver, allow_local: None):
    listening = Webhook.objects.create(topic="orders.place", callback_url=receiver.url)
    Webhook.objects.create(topic="orders.cancel", callback_url=receiver.url)
    order = order_ready(amount_cents=1000)
    with transaction.atomic():
        order_topic_publish_on_commit(order=order, topic="orders.place")
    assert services.deliveries_send_due(limit=10).delivered == 1
    callback = EventCallback.objects.get()

    event = _event("orders.place")
    response = Api(READ_ONLY).get(
        f"/api/events/{event['id']}?include=webhooks,last_event_callbacks"
    )
    assert response.status_code == 200, response.doc
    relationships = response.doc["data"]["relationships"]
    assert relationships["webhooks"]["data"] == [{"type": "webhooks", "id": listening.pk}]
    assert relationships["last_event_callbacks"]["data"] == [
        {"type": "event_callbacks", "id": callback.pk}
    ]
    assert {(r["type"], r["id"]) for r in response.doc["included"]} == {
        ("webhooks", listening.pk),
        ("event_callbacks", callback.pk),
    }
    related = Api(READ_ONLY).get(f"/api/events/{event['id']}/webhooks")
    assert [data["id"] for data in related.doc["data"]] == [listening.pk]


def test_trigger_sends_the_latest_occurrence_again_to_every_enabled_webhook(
    receiver: Receiver, allow_local: None
):
    first = Webhook.objects.create(topic="orders.place", callback_url=receiver.url)
    order = order_ready(amount_cents=1000)
    with transaction.atomic():
        order_topic_publish_on_commit(order=order, topic="orders.place")
    second = Webhook.objects.create(topic="orders.place", callback_url=receiver.url)
    Webhook.objects.create(
        topic="orders.place", callback_url=receiver.url, disabled_at="2026-01-01T00:00Z"
    )
    event = _event("orders.place")

    response = Api(ADMIN).patch(
        f"/api/events/{event['id']}", doc("events", {"_trigger": True}, id=event["id"])
    )

    assert response.status_code == 200, response.doc
    deliveries = WebhookDelivery.objects.values_list("webhook_id", "resource_id")
    # the original one, then one more for each enabled webhook (none for the disabled one)
    assert Counter(deliveries) == Counter({(first.pk, order.pk): 2, (second.pk, order.pk): 1})


def test_trigger_of_an_event_that_never_fired_is_a_422_and_records_nothing():
    Webhook.objects.create(topic="orders.cancel", callback_url="https://e.example.com/h")
    event = _event("orders.cancel")
    response = Api(ADMIN).patch(
        f"/api/events/{event['id']}", doc("events", {"_trigger": True}, id=event["id"])
    )
    assert response.status_code == 422
    [error] = response.doc["errors"]
    assert error["code"] == "EVENT_NEVER_FIRED"
    assert error["source"]["pointer"] == "/data/attributes/_trigger"
    assert not WebhookDelivery.objects.exists()


def test_events_are_back_office_only_and_read_only_integrations_cannot_trigger():
    event = _event("orders.place")
    refused = Api(READ_ONLY).patch(
        f"/api/events/{event['id']}", doc("events", {"_trigger": True}, id=event["id"])
    )
    assert refused.status_code == 401
    storefront = Api(Principal("app-sc", "sales_channel", market_ids=("m",)))
    assert storefront.get("/api/events").status_code == 401
    assert Api(None).get(f"/api/events/{event['id']}").status_code == 401
    created = Api(ADMIN).post("/api/events", doc("events", {"name": "orders.invent"}))
    assert created.status_code in (401, 405)
    assert not Event.objects.filter(name="orders.invent").exists()


def test_an_admin_sets_an_events_reference_but_never_its_name():
    event = _event("orders.place")
    response = Api(ADMIN).patch(
        f"/api/events/{event['id']}",
        doc("events", {"reference": "erp-orders", "metadata": {"team": "ops"}}, id=event["id"]),
    )
    assert response.status_code == 200, response.doc
    assert Event.objects.get(name="orders.place").reference == "erp-orders"
    renamed = Api(ADMIN).patch(
        f"/api/events/{event['id']}", doc("events", {"name": "orders.x"}, id=event["id"])
    )
    assert renamed.status_code == 400
    assert Event.objects.filter(name="orders.place").exists()


def test_a_webhook_on_an_unknown_topic_is_refused_with_the_topics():
    response = Api(ADMIN).post(
        "/api/webhooks",
        doc("webhooks", {"topic": "orders.explode", "callback_url": "https://e.example.com/h"}),
    )
    assert response.status_code == 422
    [error] = response.doc["errors"]
    assert error["code"] == "TOPIC_UNKNOWN"
    assert error["source"]["pointer"] == "/data/attributes/topic"
    assert "orders.place" in error["detail"]
    assert not Webhook.objects.exists()


def test_capturing_an_order_publishes_orders_pay():
    Webhook.objects.create(topic="orders.pay", callback_url="https://e.example.com/h")
    order = order_services.order_place(
        order=checkout_ready(order_ready(amount_cents=1000)), actor=STOREFRONT
    )
    assert not WebhookDelivery.objects.filter(topic="orders.pay").exists()  # authorized only

    order = order_services.order_approve_and_capture(order=order, actor=STAFF)

    assert order.payment_status == "paid"
    assert list(
        WebhookDelivery.objects.filter(topic="orders.pay").values_list(
            "resource_type", "resource_id"
        )
    ) == [("orders", order.pk)]


def test_adjusting_or_setting_a_stock_quantity_publishes_stock_items_update():
    Webhook.objects.create(topic="stock_items.update", callback_url="https://e.example.com/h")
    order_ready(amount_cents=1000)
    stock_item = StockItem.objects.first()
    assert stock_item is not None

    stock_item_adjust(stock_item=stock_item, delta=5, reason="count", actor=STAFF)
    stock_item.refresh_from_db()
    stock_item.quantity += 1
    stock_item_save(stock_item=stock_item)
    stock_item.reference = "shelf-4"  # no quantity change: no event
    stock_item_save(stock_item=stock_item)

    assert list(
        WebhookDelivery.objects.filter(topic="stock_items.update").values_list(
            "resource_type", "resource_id"
        )
    ) == [("stock_items", stock_item.pk), ("stock_items", stock_item.pk)]
