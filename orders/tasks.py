"""Background tasks of the orders app (`django.tasks`). They only call services or the ops
commands; each task is declared beside the workflow it finishes, and listed here. The periodic
ones carry their schedule (`@cron`, django-crontask): `manage.py crontask` enqueues them at
those times and `manage.py db_worker` runs them (docs/ops.md)."""

from __future__ import annotations

from crontask import cron
from django.conf import settings
from django.tasks import task

from oms.tasks import ops_command_run
from orders.services.placement import order_place_task

__all__ = [
    "abandoned_carts_cancel_task",
    "approved_orders_capture_task",
    "drafts_purge_task",
    "order_place_task",
    "placements_recover_task",
]


@cron("* * * * *")
@task()
def placements_recover_task() -> str:
    """Every minute: placements whose process died mid-authorization (its deadline is tens
    of seconds), resolved by asking the gateway."""
    return ops_command_run("orders_recover_placements")


@cron("17 3 * * *")
@task()
def drafts_purge_task() -> str:
    """Every night: drafts without a customer idle beyond the retention."""
    return ops_command_run("orders_purge_drafts")


@cron("42 * * * *")
@task()
def abandoned_carts_cancel_task() -> str:
    """Every hour, when OMS_CANCEL_ABANDONED_AFTER_DAYS is set: pending carts idle that long
    are cancelled and their stock released."""
    days = settings.OMS_CANCEL_ABANDONED_AFTER_DAYS
    if not days:
        return "off (OMS_CANCEL_ABANDONED_AFTER_DAYS is not set)"
    return ops_command_run("orders_cancel_abandoned", "--days", str(days))


@cron("*/15 * * * *")
@task()
def approved_orders_capture_task() -> str:
    """Every quarter of an hour, when OMS_AUTO_CAPTURE_AFTER_HOURS is set: approved orders
    whose authorization is that old are captured."""
    hours = settings.OMS_AUTO_CAPTURE_AFTER_HOURS
    if not hours:
        return "off (OMS_AUTO_CAPTURE_AFTER_HOURS is not set)"
    return ops_command_run("orders_auto_capture", "--hours", str(hours))
