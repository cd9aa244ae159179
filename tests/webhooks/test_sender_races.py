"""Senders racing for one outbox on PostgreSQL never send a delivery twice."""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from oms.webhooks import services
from oms.webhooks.models import EventCallback, Webhook, WebhookDelivery
from orders.events import order_topic_publish_on_commit
from tests.orders.factories import order_ready
from tests.webhooks.conftest import Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SENDERS = 4
DELIVERIES = 24


def test_concurrent_senders_never_send_one_delivery_twice(receiver: Receiver, allow_local: None):
    receiver.delay = 0.02  # long enough for the senders' claims to overlap
    Webhook.objects.create(topic="orders.place", callback_url=receiver.url)
    for _ in range(DELIVERIES):
        order = order_ready(amount_cents=1000)
        with transaction.atomic():
            order_topic_publish_on_commit(order=order, topic="orders.place")
    barrier = threading.Barrier(SENDERS)

    def sender(_: int) -> int:
        try:
            barrier.wait(timeout=30)
            sent = 0
            while claimed := services.deliveries_send_due(limit=2).claimed:
                sent += claimed
            return sent
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        sent = list(pool.map(sender, range(SENDERS)))

    assert sum(sent) == DELIVERIES
    assert sum(1 for n in sent if n) > 1  # they did race
    ids = Counter(json.loads(r.body)["data"]["id"] for r in receiver.received)
    assert len(ids) == DELIVERIES
    assert set(ids.values()) == {1}
    assert EventCallback.objects.count() == DELIVERIES
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
