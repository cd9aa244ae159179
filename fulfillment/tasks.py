"""Background tasks of the fulfillment app (`django.tasks`), with their schedule (`@cron`,
django-crontask; docs/ops.md)."""

from __future__ import annotations

from crontask import cron
from django.tasks import task

from oms.tasks import ops_command_run

__all__ = ["expired_reservations_release_task"]


@cron("*/5 * * * *")
@task()
def expired_reservations_release_task() -> str:
    """Every five minutes: draft stock reservations past their expiry give their units back."""
    return ops_command_run("stock_release_expired_reservations")
