"""The periodic jobs (issue 12): each is registered with the scheduler (django-crontask) at its
time, runs its ops command through a worker, and the ones that change orders by age stay off
until configured."""

from __future__ import annotations

from datetime import timedelta

import pytest
from crontask import scheduler
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from fulfillment import tasks as fulfillment_tasks
from oms import tasks as oms_tasks
from orders import tasks as orders_tasks
from orders.models import Order
from tests.orders.factories import order_pending
from tests.tasks import tasks_queued, tasks_run_queued

pytestmark = pytest.mark.django_db

SCHEDULE = {
    "placements_recover_task": "minute='*'",
    "drafts_purge_task": "minute='17', hour='3'",
    "abandoned_carts_cancel_task": "minute='42'",
    "approved_orders_capture_task": "minute='*/15'",
    "expired_reservations_release_task": "minute='*/5'",
    "webhooks_deliver_task": "minute='*'",
}


def test_every_periodic_job_is_scheduled_at_its_time():
    jobs = {job.name: str(job.trigger) for job in scheduler.get_jobs()}
    for name, fields in SCHEDULE.items():
        assert name in jobs, sorted(jobs)
        for field in fields.split(", "):
            assert field in jobs[name], (name, jobs[name])


def test_a_scheduled_job_is_enqueued_and_a_worker_runs_its_command():
    orders_tasks.placements_recover_task.enqueue()
    fulfillment_tasks.expired_reservations_release_task.enqueue()
    assert len(tasks_queued()) == 2
    assert tasks_run_queued() == 2
    recover = DBTaskResult.objects.get(task_path__endswith="placements_recover_task")
    assert recover.status == "SUCCESSFUL"
    assert recover.return_value == "0 stale placement(s): 0 placed, 0 aborted, 0 left"


def test_the_jobs_that_change_orders_by_age_are_off_until_configured(settings):
    settings.OMS_CANCEL_ABANDONED_AFTER_DAYS = 0
    settings.OMS_AUTO_CAPTURE_AFTER_HOURS = 0
    cart = order_pending()
    Order.objects.filter(pk=cart.pk).update(updated_at=timezone.now() - timedelta(days=90))
    assert orders_tasks.abandoned_carts_cancel_task.call().startswith("off")
    assert orders_tasks.approved_orders_capture_task.call().startswith("off")
    assert Order.objects.get(pk=cart.pk).status == Order.Status.PENDING

    settings.OMS_CANCEL_ABANDONED_AFTER_DAYS = 30
    summary = orders_tasks.abandoned_carts_cancel_task.call()
    assert "1" in summary, summary
    assert Order.objects.get(pk=cart.pk).status == Order.Status.CANCELLED


def test_a_job_whose_command_fails_fails_its_task(monkeypatch):
    def failing(name: str, *args: str, **kwargs: object) -> None:
        raise CommandError("1 placement(s) left placing")

    monkeypatch.setattr(oms_tasks, "call_command", failing)
    orders_tasks.placements_recover_task.enqueue()
    tasks_run_queued()
    [row] = DBTaskResult.objects.all()
    assert row.status == "FAILED"
    assert "left placing" in row.traceback
