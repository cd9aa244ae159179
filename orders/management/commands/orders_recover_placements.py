"""Resolve placements whose process died mid-authorization (see orders.services.recovery).

One line per stale placement and a one-line summary. Exit status 1, with a one-line reason,
when a placement is left placing (the gateway could not tell) or the recovery failed: run it
again later (a cron job every few minutes is the intended use).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oms.actors import Actor
from orders.services.recovery import LEFT, placements_recover

ACTOR = Actor(kind="system", id="orders_recover_placements", name="orders_recover_placements")


class Command(BaseCommand):
    help = (
        "Resolve orders stuck placing after their process died: ask the gateway what became "
        "of the authorization, then place the order or put it back to pending."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be done, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        try:
            recoveries = placements_recover(actor=ACTOR, dry_run=dry_run)
        except Exception as exc:
            raise CommandError(f"recovery failed: {type(exc).__name__}: {exc}") from exc
        verb = "would be " if dry_run else ""
        for recovery in recoveries:
            order = recovery.order
            what = "left placing" if recovery.outcome == LEFT else f"{verb}{recovery.outcome}"
            self.stdout.write(f"#{order.number} {order.pk}: {what}: {recovery.reason}")
        left = sum(recovery.outcome == LEFT for recovery in recoveries)
        counts = {
            outcome: sum(recovery.outcome == outcome for recovery in recoveries)
            for outcome in ("placed", "aborted")
        }
        self.stdout.write(
            f"{len(recoveries)} stale placement(s){' (dry run)' if dry_run else ''}: "
            f"{counts['placed']} {verb}placed, {counts['aborted']} {verb}aborted, {left} left"
        )
        if left:
            raise CommandError(
                f"{left} placement(s) left placing (the gateway could not tell, or the "
                "recovery failed): run it again later"
            )
