"""The `webhooks_deliver` command and task."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from oms.webhooks.models import Webhook, WebhookDelivery
from oms.webhooks.tasks import webhooks_deliver_task
from orders.events import order_topic_publish_on_commit
from tests.orders.factories import order_ready
from tests.webhooks.conftest import Receiver

pytestmark = pytest.mark.django_db


def _queued(url: str) -> WebhookDelivery:
    Webhook.objects.create(topic="orders.place", callback_url=url)
    with transaction.atomic():
        order_topic_publish_on_commit(order=order_ready(amount_cents=1000), topic="orders.place")
    return WebhookDelivery.objects.get()


def test_dry_run_lists_what_is_due_and_sends_nothing(receiver: Receiver, allow_local: None):
    delivery = _queued(receiver.url)
    out = StringIO()
    call_command("webhooks_deliver", "--dry-run", stdout=out)
    assert f"{delivery.pk} orders.place orders/{delivery.resource_id}" in out.getvalue()
    assert out.getvalue().strip().endswith("1 delivery(ies) due (dry run).")
    assert receiver.received == []
    delivery.refresh_from_db()
    assert delivery.status == "pending"


def test_once_sends_what_is_due_with_a_summary(receiver: Receiver, allow_local: None):
    delivery = _queued(receiver.url)
    out = StringIO()
    call_command("webhooks_deliver", "--once", stdout=out)
    assert out.getvalue().strip() == ("Webhooks: 1 due: 1 delivered, 0 to retry, 0 given up.")
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert len(receiver.received) == 1


def test_a_bad_limit_exits_non_zero_with_the_reason():
    with pytest.raises(CommandError, match="--limit must be more than 0"):
        call_command("webhooks_deliver", "--once", "--limit", "0")


def test_the_task_sends_what_is_due(receiver: Receiver, allow_local: None):
    delivery = _queued(receiver.url)
    result = webhooks_deliver_task.call()
    assert result.startswith("1 due: 1 delivered")
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
