from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _events_sync(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After migrate (and a test database's flush): one `events` row per topic."""
    from oms.webhooks.models import Event
    from oms.webhooks.services import events_sync

    if Event._meta.db_table in connections[using].introspection.table_names():
        events_sync(using=using)


class WebhooksConfig(AppConfig):
    name = "oms.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        post_migrate.connect(_events_sync, sender=self)
