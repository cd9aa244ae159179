"""Webhooks deliver every event: outbox rows written with the change, signed POSTs to a real
receiver, retries, the circuit breaker and the SSRF guard."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from django.db import transaction

from oms.webhooks import services
from oms.webhooks.models import EventCallback, Webhook, WebhookDelivery
from orders import services as order_services
from orders.events import order_topic_publish_on_commit
from orders.models import Order
from tests.orders.factories import STOREFRONT, checkout_ready, order_ready
from tests.webhooks.conftest import Receiver

pytestmark = pytest.mark.django_db


def _webhook(url: str, topic: str = "orders.place", **fields: object) -> Webhook:
    return Webhook.objects.create(name="erp", topic=topic, callback_url=url, **fields)


def _publish(order: Order, topic: str = "orders.place") -> None:
    with transaction.atomic():
        order_topic_publish_on_commit(order=order, topic=topic)


def _send_until_quiet(rounds: int = 50) -> None:
    for _ in range(rounds):
        if not services.deliveries_send_due(limit=10).claimed:
            return


def test_placing_an_order_records_its_delivery_and_the_receiver_gets_a_signed_document(
    receiver: Receiver, allow_local: None
):
    webhook = _webhook(receiver.url, include_resources=["line_items"])
    _webhook(receiver.url, topic="orders.cancel")  # another topic: nothing for it
    order = checkout_ready(order_ready(amount_cents=1000))

    order = order_services.order_place(order=order, actor=STOREFRONT)

    assert order.status == "placed"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.webhook_id, delivery.topic, delivery.resource_id) == (
        webhook.pk,
        "orders.place",
        order.pk,
    )
    summary = services.deliveries_send_due(limit=10)
    assert (summary.claimed, summary.delivered) == (1, 1)
    [got] = receiver.received
    expected = base64.b64encode(
        hmac.new(webhook.shared_secret.encode(), got.body, hashlib.sha256).digest()
    ).decode()
    assert got.headers["X-CommerceLayer-Signature"] == expected
    assert got.headers["Content-Type"] == "application/vnd.api+json"
    document = json.loads(got.body)
    assert (document["data"]["type"], document["data"]["id"]) == ("orders", order.pk)
    assert document["data"]["attributes"]["status"] == "placed"
    assert {r["type"] for r in document["included"]} >= {"line_items"}
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_a_rolled_back_change_leaves_no_delivery(receiver: Receiver, allow_local: None):
    _webhook(receiver.url)
    order = order_ready(amount_cents=1000)

    class Boom(Exception):
        pass

    def change() -> None:
        with transaction.atomic():
            order_topic_publish_on_commit(order=order, topic="orders.place")
            assert WebhookDelivery.objects.count() == 1  # written with the change...
            raise Boom

    with pytest.raises(Boom):
        change()
    assert WebhookDelivery.objects.count() == 0  # ...and gone with it


def test_a_disabled_webhook_gets_no_delivery(receiver: Receiver, allow_local: None):
    webhook = _webhook(receiver.url)
    services.webhook_disable(webhook=webhook)
    _publish(order_ready(amount_cents=1000))
    assert WebhookDelivery.objects.count() == 0


def test_a_receiver_failing_three_times_then_recovering_gets_it_once_after_four_attempts(
    receiver: Receiver, allow_local: None
):
    receiver.statuses = [500, 503, 500]
    webhook = _webhook(receiver.url)
    _publish(order_ready(amount_cents=1000))

    _send_until_quiet()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 4)
    codes = list(
        EventCallback.objects.filter(delivery=delivery)
        .order_by("created_at", "id")
        .values_list("response_code", flat=True)
    )
    assert codes == ["500", "503", "500", "200"]
    assert len(receiver.received) == 4
    webhook.refresh_from_db()
    assert webhook.circuit_failure_count == 0  # a success resets the count


def test_a_delivery_is_given_up_after_ten_attempts(receiver: Receiver, allow_local: None):
    receiver.then = 500
    _webhook(receiver.url)
    _publish(order_ready(amount_cents=1000))

    _send_until_quiet()

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 10)
    assert len(receiver.received) == 10


def test_thirty_consecutive_failures_open_the_circuit_and_reset_resumes(
    receiver: Receiver, allow_local: None
):
    receiver.then = 500
    webhook = _webhook(receiver.url)
    orders = [order_ready(amount_cents=1000) for _ in range(4)]
    for order in orders:
        _publish(order)

    _send_until_quiet(rounds=100)

    webhook.refresh_from_db()
    assert (webhook.circuit_state, webhook.circuit_failure_count) == ("open", 30)
    assert len(receiver.received) == 30  # no more sends once open: the rest wait
    waiting = WebhookDelivery.objects.exclude(status="failed").count()
    assert waiting >= 1

    receiver.then = 200
    services.webhook_reset_circuit(webhook=webhook)
    _send_until_quiet()

    webhook.refresh_from_db()
    assert (webhook.circuit_state, webhook.circuit_failure_count) == ("closed", 0)
    assert not WebhookDelivery.objects.filter(status__in=["pending", "sending"]).exists()
    assert WebhookDelivery.objects.filter(status="delivered").count() == waiting
    assert len(receiver.received) == 30 + waiting


def test_a_lapsed_lease_is_claimed_again(receiver: Receiver, allow_local: None):
    """A worker killed mid-send leaves its row `sending`: once the lease lapses another
    worker sends it."""
    _webhook(receiver.url)
    _publish(order_ready(amount_cents=1000))
    [(claimed, _until)] = services._claim(10)  # the worker that dies here
    assert services.deliveries_send_due(limit=10).claimed == 0  # leased: nobody else takes it
    WebhookDelivery.objects.filter(pk=claimed.pk).update(locked_until=claimed.created_at)

    assert services.deliveries_send_due(limit=10).delivered == 1
    assert len(receiver.received) == 1


def test_the_ssrf_guard_refuses_loopback_at_send_time_unless_allowed(
    receiver: Receiver, allow_local: None, settings: object
):
    _webhook(receiver.url)
    _publish(order_ready(amount_cents=1000))
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = False  # type: ignore[attr-defined]

    services.deliveries_send_due(limit=10)

    assert receiver.received == []
    callback = EventCallback.objects.get()
    assert callback.response_code == ""
    assert "private, loopback or link-local" in callback.response_message
    assert WebhookDelivery.objects.get().status == "pending"

    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = True  # type: ignore[attr-defined]
    assert services.deliveries_send_due(limit=10).delivered == 1
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hooks",
        "https://localhost/hooks",
        "https://10.0.0.8/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "http://example.com/hooks",
    ],
)
def test_creating_a_webhook_refuses_unsafe_callback_urls(url: str, settings: object):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = False  # type: ignore[attr-defined]
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = False  # type: ignore[attr-defined]
    with pytest.raises(services.CallbackUrlRefused):
        services.webhook_create(data={"topic": "orders.place", "callback_url": url})
    assert Webhook.objects.count() == 0


def test_the_guard_checks_every_resolved_address(settings: object, monkeypatch):
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = False  # type: ignore[attr-defined]
    monkeypatch.setattr(
        services.socket,
        "getaddrinfo",
        lambda *a, **k: [(2, 1, 6, "", ("93.184.216.34", 443)), (2, 1, 6, "", ("10.1.2.3", 443))],
    )
    with pytest.raises(services.CallbackUrlRefused, match=r"10\.1\.2\.3"):
        services.callback_url_check("https://rebound.example.com/x", resolve_host=True)


def test_placing_records_the_authorization_and_shipment_topics_too(
    receiver: Receiver, allow_local: None
):
    for topic in ("authorizations.create", "shipments.upcoming", "orders.approve"):
        _webhook(receiver.url, topic=topic)
    order = order_services.order_place(
        order=checkout_ready(order_ready(amount_cents=1000)), actor=STOREFRONT
    )

    authorization = order.transactions.get(type="authorizations")
    shipment = order.shipments.get()
    assert set(WebhookDelivery.objects.values_list("topic", "resource_type", "resource_id")) == {
        ("authorizations.create", "authorizations", authorization.pk),
        ("shipments.upcoming", "shipments", shipment.pk),
    }
    assert services.deliveries_send_due(limit=10).delivered == 2
    types = {json.loads(r.body)["data"]["type"] for r in receiver.received}
    assert types == {"authorizations", "shipments"}


def test_the_client_connects_to_the_checked_address_and_keeps_the_host(receiver: Receiver):
    from oms.http import http_post

    port = receiver.url.split(":")[2].split("/")[0]
    # a name that resolves nowhere: only the pinned address can reach the receiver
    answer = http_post(
        f"http://rebound.example.invalid:{port}/hooks",
        body=b"{}",
        headers={"Content-Type": "application/json"},
        timeout=5,
        connect_to="127.0.0.1",
    )
    assert answer.status == 200
    [got] = receiver.received
    assert got.headers["Host"] == f"rebound.example.invalid:{port}"


def test_a_delivery_goes_to_the_address_the_guard_checked_not_a_second_lookup(
    receiver: Receiver, settings: object, monkeypatch
):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = True  # type: ignore[attr-defined]
    settings.OMS_WEBHOOKS_ALLOW_PRIVATE = True  # type: ignore[attr-defined]  # to save it
    port = receiver.url.split(":")[2].split("/")[0]
    _webhook(f"http://rebound.example.invalid:{port}/hooks")
    order = order_ready(amount_cents=1000)
    _publish(order)
    checked: list[str] = []

    def guard(url: str, *, resolve_host: bool = False) -> list[str]:
        checked.append(url)
        return ["127.0.0.1"]  # what the guard resolved and allowed

    monkeypatch.setattr(services, "callback_url_check", guard)
    assert services.deliveries_send_due(limit=10).delivered == 1
    assert checked == [f"http://rebound.example.invalid:{port}/hooks"]
    [got] = receiver.received
    assert got.headers["Host"] == f"rebound.example.invalid:{port}"
