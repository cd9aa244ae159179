"""Check the spec's invariants over the whole database (`orders.invariants`, the same code
the tests run after every concurrency, fault and lifecycle test).

Read only. Prints every violation, one a line, then a one-line summary; exit status 1 when
there is any. Meant for cron (alert on a non-zero exit) and for after a restore or a
migration.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from oms.commands import one_line, progress
from orders.invariants import invariant_violations
from orders.models import Order


class Command(BaseCommand):
    help = (
        "Check the invariants of money, totals and stock over every order, transaction and "
        "stock item; print each violation and exit 1 if there is any."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--order",
            action="append",
            metavar="ID",
            dest="orders",
            help="check only this order's money and totals (repeatable); stock is always checked",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        checked = 0

        def counted(orders: Iterator[Order], total: int) -> Iterable[Order]:
            nonlocal checked
            for order in progress(
                orders,
                total=total,
                desc="orders",
                stream=self.stderr,
                verbosity=options["verbosity"],
            ):
                checked += 1
                yield order

        try:
            problems = invariant_violations(order_ids=options["orders"], progress=counted)
        except DatabaseError as exc:
            raise CommandError(f"could not read the database: {one_line(exc)}") from exc
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} violation(s) found in {checked} order(s) checked")
        self.stdout.write(f"No violations in {checked} order(s) and all stock items.")
