"""Reads of the webhooks app."""

from __future__ import annotations

from oms.webhooks.models import WebhookDelivery
from oms.webhooks.services import deliveries_due


def deliveries_due_listing(*, limit: int) -> list[WebhookDelivery]:
    """What the sender would claim now, oldest first (the command's `--dry-run`)."""
    return list(
        deliveries_due().select_related("webhook").order_by("next_attempt_at", "id")[:limit]
    )
