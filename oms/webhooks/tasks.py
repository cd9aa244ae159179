"""Background tasks of the webhooks app (`django.tasks`): they only call services."""

from __future__ import annotations

from django.tasks import task

from oms.webhooks.services import deliveries_send_due


@task()
def webhooks_deliver_task(limit: int = 100) -> str:
    """Send the webhook deliveries that are due, once (for a scheduler to run often)."""
    return str(deliveries_send_due(limit=limit))
