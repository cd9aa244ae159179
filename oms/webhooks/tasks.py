"""Background tasks of the webhooks app (`django.tasks`): they only call services."""

from __future__ import annotations

from crontask import cron
from django.tasks import task

from oms.webhooks.services import deliveries_send_due


@cron("* * * * *")
@task()
def webhooks_deliver_task(limit: int = 100) -> str:
    """Every minute: send the webhook deliveries that are due, once (the retries whose backoff
    ended, and anything a `webhooks_deliver` sender process left)."""
    return str(deliveries_send_due(limit=limit))
