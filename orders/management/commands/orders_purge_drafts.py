"""Delete abandoned draft carts: no customer, not updated for two months (spec 2.1).

One transaction per draft, re-checked under its lock (a cart touched meanwhile is kept).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.utils import timezone

from oms.commands import one_line, progress
from orders.selectors import drafts_to_purge
from orders.services.orders import DRAFT_RETENTION, order_draft_purge


class Command(BaseCommand):
    help = "Delete draft orders without a customer that were not updated for --days days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=DRAFT_RETENTION.days,
            metavar="N",
            help=f"drafts idle for more than N days (default {DRAFT_RETENTION.days}, N >= 0)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = options["days"]
        if days < 0:
            raise CommandError(f"--days must be 0 or more, not {days}")
        cutoff = timezone.now() - timedelta(days=days)
        stale = list(drafts_to_purge(cutoff=cutoff).values_list("pk", flat=True))
        if options["dry_run"]:
            self.stdout.write(f"{len(stale)} abandoned draft order(s) would be deleted (dry run).")
            return
        deleted = 0
        for order_id in progress(
            stale,
            total=len(stale),
            desc="deleting",
            stream=self.stderr,
            verbosity=options["verbosity"],
        ):
            try:
                deleted += order_draft_purge(order_id=order_id, cutoff=cutoff)
            except DatabaseError as exc:
                raise CommandError(
                    f"stopped after deleting {deleted} draft order(s): {one_line(exc)}"
                ) from exc
        self.stdout.write(f"Deleted {deleted} abandoned draft order(s).")
