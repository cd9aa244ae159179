"""Send the webhook deliveries that are due (the outbox's worker).

Run one per node, or several: each claims its own rows (skip_locked and a lease), so two never
send one delivery at once, and a killed one's rows go to another when their lease lapses.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from oms.commands import one_line
from oms.webhooks.selectors import deliveries_due_listing
from oms.webhooks.services import SendSummary, deliveries_send_due


class Command(BaseCommand):
    help = "Send due webhook deliveries: once (--once), or in a loop until stopped."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="send what is due, then exit")
        parser.add_argument("--dry-run", action="store_true", help="list what is due, send nothing")
        parser.add_argument(
            "--limit", type=int, default=100, metavar="N", help="deliveries per round (N > 0)"
        )
        parser.add_argument(
            "--sleep",
            type=float,
            default=1.0,
            metavar="SECONDS",
            help="pause between rounds that found nothing due (default 1)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        limit: int = options["limit"]
        if limit <= 0:
            raise CommandError(f"--limit must be more than 0, not {limit}")
        try:
            if options["dry_run"]:
                rows = deliveries_due_listing(limit=limit)
                for row in rows:
                    self.stdout.write(
                        f"{row.pk} {row.topic} {row.resource_type}/{row.resource_id} -> "
                        f"{row.webhook.callback_url} (attempt {row.attempts + 1})"
                    )
                self.stdout.write(f"{len(rows)} delivery(ies) due (dry run).")
                return
            total = SendSummary()
            while True:
                summary = deliveries_send_due(limit=limit)
                for name in ("claimed", "delivered", "retrying", "failed"):
                    setattr(total, name, getattr(total, name) + getattr(summary, name))
                if options["once"]:
                    break
                if not summary.claimed:
                    time.sleep(options["sleep"])
        except DatabaseError as exc:
            raise CommandError(f"stopped: {one_line(exc)}") from exc
        except KeyboardInterrupt:
            pass
        self.stdout.write(f"Webhooks: {total}.")
