"""Capture approved orders whose authorization is older than --hours (authorizations lapse:
most card networks keep a hold for about a week).

Each order goes through the order-level `_capture` workflow (`orders.services.order_capture`,
the admin's and the API's), which runs its own transactions: one order at a time, so a
declined or failing capture is counted and reported and the run goes on. Only orders nothing
of which is captured yet are taken (a partial capture is the merchant's own decision). Exit
status 1, with a one-line reason, when any capture failed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from oms.actors import Actor
from oms.commands import one_line, progress
from oms.errors import DomainError
from orders.selectors import orders_to_auto_capture
from orders.services import order_capture

ACTOR = Actor(kind="system", id="orders_auto_capture", name="orders_auto_capture")
# The order moved on between the query and its lock (captured by hand, cancelled, a payment
# request still with its gateway): nothing to do now, and not a failure.
MOVED_ON = frozenset({"TRANSITION_NOT_ALLOWED", "INSUFFICIENT_CAPTURE_BALANCE"})


class Command(BaseCommand):
    help = (
        "Capture approved orders, nothing of which is captured yet, whose authorization is "
        "older than --hours, through the order's _capture workflow (one order at a time)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            required=True,
            metavar="N",
            help="capture authorizations made more than N hours ago (N >= 0)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be captured, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        hours: int = options["hours"]
        if hours < 0:
            raise CommandError(f"--hours must be 0 or more, not {hours}")
        cutoff = timezone.now() - timedelta(hours=hours)
        orders = list(
            orders_to_auto_capture(authorized_before=cutoff).select_related("market__price_list")
        )
        if options["dry_run"]:
            for order in orders:
                self.stdout.write(f"#{order.number} {order.pk}: would be captured")
            self.stdout.write(f"{len(orders)} order(s) would be captured (dry run).")
            return
        captured = skipped = 0
        failures: list[str] = []
        for order in progress(
            orders,
            total=len(orders),
            desc="capturing",
            stream=self.stderr,
            verbosity=options["verbosity"],
        ):
            try:
                done = order_capture(order=order, actor=ACTOR)
            except DomainError as exc:
                if exc.code in MOVED_ON:
                    skipped += 1
                    continue
                failures.append(f"#{order.number} {order.pk}: {exc.code}: {exc.detail}")
                continue
            except Exception as exc:  # one order's crash must not stop the others
                failures.append(f"#{order.number} {order.pk}: {one_line(exc)}")
                continue
            captured += 1
            if options["verbosity"] > 1:
                self.stdout.write(f"#{done.number} {done.pk}: {done.payment_status}")
        for failure in failures:
            self.stderr.write(failure)
        self.stdout.write(
            f"{len(orders)} order(s) authorized before {cutoff.isoformat(timespec='seconds')}: "
            f"{captured} captured, {len(failures)} failed, {skipped} skipped (moved on)."
        )
        if failures:
            raise CommandError(
                f"{len(failures)} of {len(orders)} capture(s) failed (listed above); "
                "their orders are left as they were"
            )
