"""Delete draft stock reservations past their `expires_at` (spec 5: a draft reservation lasts
the inventory model's `stock_reservation_cutoff`).

An expired draft already holds nothing (availability leaves it out); deleting it keeps the
table small and the stock pages honest. One transaction per order, the order locked first.
Meant for cron, e.g. every 10 minutes.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError
from django.db.models import Count, Sum
from django.utils import timezone

from fulfillment.selectors import expired_reservations
from fulfillment.services import stock_reservations_expired_delete
from oms.actors import Actor
from oms.commands import one_line, progress

ACTOR = Actor(
    kind="system",
    id="stock_release_expired_reservations",
    name="stock_release_expired_reservations",
)


class Command(BaseCommand):
    help = "Delete expired draft stock reservations (one transaction per order)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        per_order = list(
            expired_reservations(now)
            .values("order_id")
            .annotate(reservations=Count("pk"), units=Sum("quantity"))
            .order_by("order_id")
        )
        reservations = sum(row["reservations"] for row in per_order)
        units = sum(row["units"] or 0 for row in per_order)
        if options["dry_run"]:
            self.stdout.write(
                f"{reservations} expired draft reservation(s) of {units} unit(s) in "
                f"{len(per_order)} order(s) would be deleted (dry run)."
            )
            return
        deleted = 0
        rows = progress(
            per_order,
            total=len(per_order),
            desc="orders",
            stream=self.stderr,
            verbosity=options["verbosity"],
        )
        for row in rows:
            try:
                deleted += stock_reservations_expired_delete(
                    order_id=row["order_id"], now=now, actor=ACTOR
                )
            except DatabaseError as exc:
                raise CommandError(
                    f"stopped after deleting {deleted} reservation(s): {one_line(exc)}"
                ) from exc
        self.stdout.write(
            f"Deleted {deleted} expired draft reservation(s) in {len(per_order)} order(s)."
        )
