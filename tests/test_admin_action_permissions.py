"""A role that may only view a page cannot run its list actions (Django offers an action
without `permissions` to anyone who sees the list): Read only neither disables a gateway or a
webhook nor resends a delivery."""

from __future__ import annotations

import pytest
from django.urls import reverse

from oms.webhooks.models import Webhook
from payments.models import PaymentGateway
from tests.orders.test_admin_order_page import login_as
from tests.payments import factories as money

pytestmark = pytest.mark.django_db


def test_read_only_cannot_run_the_actions_that_change_gateways_and_webhooks(client, settings):
    settings.OMS_WEBHOOKS_ALLOW_HTTP = True
    gateway = money.PaymentGatewayFactory.create()
    webhook = Webhook.objects.create(
        name="erp", topic="orders.place", callback_url="https://erp.example.com/hook"
    )
    reader = login_as(client, "Read only")
    for url, action, pk in (
        ("admin:payments_paymentgateway_changelist", "disable_gateways", gateway.pk),
        ("admin:webhooks_webhook_changelist", "disable_webhooks", webhook.pk),
    ):
        listing = reader.get(reverse(url))
        assert listing.status_code == 200
        assert action not in listing.content.decode()
        reader.post(reverse(url), {"action": action, "_selected_action": [pk]})
    assert PaymentGateway.objects.get(pk=gateway.pk).is_enabled
    assert Webhook.objects.get(pk=webhook.pk).disabled_at is None
