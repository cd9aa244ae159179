"""Delete abandoned draft carts: no customer, not updated for two months (spec 2.1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from orders.services import order_drafts_purge
from orders.services.orders import DRAFT_RETENTION


class Command(BaseCommand):
    help = "Delete draft orders without a customer that were not updated for --days days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=DRAFT_RETENTION.days)

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = order_drafts_purge(older_than=timedelta(days=options["days"]))
        self.stdout.write(f"Deleted {deleted} abandoned draft order(s).")
