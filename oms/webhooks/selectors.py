"""Reads of the webhooks app."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from oms.webhooks.models import Webhook, WebhookDelivery


def deliveries_due(*, now: datetime | None = None) -> QuerySet[WebhookDelivery]:
    """Deliveries to send now: pending and due, or claimed by a worker whose lease expired;
    of an enabled webhook whose circuit is closed (the others wait)."""
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(
        Q(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        | Q(status=WebhookDelivery.Status.SENDING, locked_until__lte=now),
        webhook__disabled_at__isnull=True,
        webhook__circuit_state=Webhook.CircuitState.CLOSED,
    )


def deliveries_due_listing(*, limit: int) -> list[WebhookDelivery]:
    """What the sender would claim now, oldest first (the command's `--dry-run`)."""
    return list(
        deliveries_due().select_related("webhook").order_by("next_attempt_at", "id")[:limit]
    )
