"""Cancel pending carts nobody touched for --days days, releasing their stock reservations.

Each cart goes through the order-level `_cancel` workflow (`orders.services.order_cancel`,
the admin's and the API's), one order per transaction, with the idleness re-checked on the
locked order: a cart its customer came back to meanwhile is skipped, not cancelled. Exit
status 1, with a one-line reason, when a cancellation failed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from oms.actors import Actor
from oms.commands import one_line, progress
from oms.errors import DomainError
from orders.selectors import abandoned_carts
from orders.services import order_cancel

ACTOR = Actor(kind="system", id="orders_cancel_abandoned", name="orders_cancel_abandoned")
# The cart moved on between the query and its lock (touched, placed, cancelled): skipped.
MOVED_ON = frozenset({"ORDER_NOT_ABANDONED", "TRANSITION_NOT_ALLOWED"})


class Command(BaseCommand):
    help = (
        "Cancel pending carts not updated for --days days, through the order's _cancel "
        "workflow (their stock reservations are released)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            required=True,
            metavar="N",
            help="cancel carts idle for more than N days (N >= 1)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be cancelled, change nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days: int = options["days"]
        if days < 1:
            # 0 would cancel every cart being filled right now
            raise CommandError(f"--days must be 1 or more, not {days}")
        cutoff = timezone.now() - timedelta(days=days)
        carts = list(abandoned_carts(cutoff=cutoff).select_related("market__price_list"))
        if options["dry_run"]:
            for cart in carts:
                self.stdout.write(
                    f"#{cart.number} {cart.pk}: would be cancelled "
                    f"(idle since {cart.updated_at.isoformat(timespec='seconds')})"
                )
            self.stdout.write(f"{len(carts)} abandoned cart(s) would be cancelled (dry run).")
            return
        cancelled = skipped = 0
        failures: list[str] = []
        for cart in progress(
            carts,
            total=len(carts),
            desc="cancelling",
            stream=self.stderr,
            verbosity=options["verbosity"],
        ):
            try:
                order_cancel(order=cart, actor=ACTOR, idle_since=cutoff)
            except DomainError as exc:
                if exc.code in MOVED_ON:
                    skipped += 1
                    continue
                failures.append(f"#{cart.number} {cart.pk}: {exc.code}: {exc.detail}")
                continue
            except Exception as exc:  # one cart's crash must not stop the others
                failures.append(f"#{cart.number} {cart.pk}: {one_line(exc)}")
                continue
            cancelled += 1
        for failure in failures:
            self.stderr.write(failure)
        self.stdout.write(
            f"{len(carts)} cart(s) idle since {cutoff.isoformat(timespec='seconds')}: "
            f"{cancelled} cancelled, {len(failures)} failed, {skipped} skipped (touched meanwhile)."
        )
        if failures:
            raise CommandError(
                f"{len(failures)} of {len(carts)} cancellation(s) failed (listed above); "
                "those carts are left as they were"
            )
