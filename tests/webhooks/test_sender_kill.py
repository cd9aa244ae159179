"""Real `manage.py webhooks_deliver` processes against PostgreSQL and a real receiver (issue 12):
a sender killed (SIGKILL) mid-delivery leaves the event to another sender once its lease
lapses, and deliveries committed while no sender runs go out when one starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from django.db import transaction

from oms.webhooks.models import EventCallback, Webhook, WebhookDelivery
from orders.events import order_topic_publish_on_commit
from tests.concurrency.test_placement_fault import ROOT, child_database_url
from tests.orders.factories import order_ready
from tests.webhooks.conftest import Receiver

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

LEASE_SECONDS = 6  # the shortest the sender accepts: the 5 s call deadline, plus one


def sender(*arguments: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": child_database_url(),
        "DEBUG": "1",
        "OMS_WEBHOOKS_ALLOW_HTTP": "1",
        "OMS_WEBHOOKS_ALLOW_PRIVATE": "1",
        "OMS_WEBHOOKS_BACKOFF_SECONDS": "0",
        "OMS_WEBHOOKS_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "webhooks_deliver", "--sleep", "0.2", *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def publish(topic: str = "orders.place") -> str:
    order = order_ready(amount_cents=1000)
    with transaction.atomic():
        order_topic_publish_on_commit(order=order, topic=topic)
    return order.pk


def test_a_sender_killed_mid_delivery_leaves_the_event_to_another(receiver: Receiver):
    receiver.delay = 3.0  # the first call hangs: the sender is killed while it waits
    Webhook.objects.create(topic="orders.place", callback_url=receiver.url)
    order_id = publish()
    first = sender()
    try:
        wait_for(lambda: len(receiver.received) == 1)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    assert first.returncode == -signal.SIGKILL
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDelivery.Status.SENDING  # claimed, never recorded
    assert not EventCallback.objects.exists()

    receiver.delay = 0.0
    second = sender()
    try:
        wait_for(lambda: WebhookDelivery.objects.get().status == "delivered", timeout=30)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=10)
    delivery.refresh_from_db()
    # the killed call reached the receiver once, the second sender's once more: at least once
    assert len(receiver.received) == 2
    assert delivery.attempts == 1  # the killed attempt never got recorded
    assert delivery.resource_id == order_id
    assert list(EventCallback.objects.values_list("response_code", flat=True)) == ["200"]


def test_deliveries_committed_while_no_sender_runs_go_out_when_one_starts(receiver: Receiver):
    Webhook.objects.create(topic="orders.place", callback_url=receiver.url)
    orders = {publish() for _ in range(3)}  # the change commits; nothing is sending
    assert WebhookDelivery.objects.filter(status="pending").count() == 3

    process = sender("--once")
    stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 0, stderr.decode()[-2000:]
    assert "delivered=3" in stdout.decode() or "3 delivered" in stdout.decode(), stdout
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert {d.resource_id for d in WebhookDelivery.objects.all()} == orders
    assert len(receiver.received) == 3
