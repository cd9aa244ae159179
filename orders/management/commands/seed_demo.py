"""Build a realistic demo dataset, idempotently: running it twice gives the same data.

The catalog comes from `markets.demo`; stock, shipping, payments, customers and orders from
`orders.demo`, then a few returns of the fulfilled orders, all through the services. Everything is one transaction: an interrupted run
leaves nothing half built, and the next run starts over.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from markets.demo import catalog_seed
from orders.demo.customers import customers_seed
from orders.demo.inventory import inventory_seed
from orders.demo.orders import DEFAULT_COUNT, DEFAULT_SEED, DemoStockExhausted, orders_seed
from orders.demo.payment_methods import payment_methods_seed
from orders.demo.promotions import promotions_seed
from orders.demo.returns import RETURN_PLAN, returns_seed
from orders.demo.shipping import shipping_seed
from orders.models import Order

DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_EMAIL = "admin@example.com"


class Command(BaseCommand):
    help = (
        "Create or refresh the demo dataset: organization, markets, catalog, stock, shipping, "
        "payment methods, promotions, coupons, gift cards, US sales taxes, customers, a few "
        "hundred orders in every state, a few returns, and the admin user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--orders",
            type=int,
            default=DEFAULT_COUNT,
            metavar="N",
            help=f"How many demo orders to build when there are none yet (default {DEFAULT_COUNT}).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="The random seed of the demo orders (the same seed gives the same orders).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        # Every service logs its after-commit notices (thousands of lines here): only
        # warnings and errors are shown, unless asked for with --verbosity 2.
        quiet = options["verbosity"] < 2
        if quiet:
            logging.disable(logging.INFO)
        try:
            with transaction.atomic():
                counts = catalog_seed()
                counts += inventory_seed()
                counts += shipping_seed()
                counts += payment_methods_seed()
                counts += customers_seed()
                counts += promotions_seed()
            # Orders are built through the order workflows, each of which commits its own
            # steps (money moves never run inside a caller's transaction).
            try:
                statuses = orders_seed(count=options["orders"], seed=options["seed"])
                returns = returns_seed()
            except DemoStockExhausted as exc:
                raise CommandError(str(exc)) from exc
        finally:
            if quiet:
                logging.disable(logging.NOTSET)
        password = self.ensure_admin()
        self.stdout.write(self.style.SUCCESS("Demo data is ready: " + ", ".join(counts)))
        by_status = ", ".join(
            f"{status} {statuses[status]}" for status in Order.Status.values if status in statuses
        )
        by_return_status = ", ".join(
            f"{status} {returns[status]}" for status, _ in RETURN_PLAN if status in returns
        )
        self.stdout.write(
            f"Demo orders: {sum(statuses.values())} ({by_status or 'none'}), "
            f"{sum(returns.values())} returns ({by_return_status or 'none'}) "
            f"in {time.monotonic() - started:.1f} s"
        )
        self.stdout.write(
            f"Admin login: http://127.0.0.1:8000/admin/  user: {DEMO_ADMIN_USERNAME}  password: {password}"
        )

    def ensure_admin(self) -> str:
        password = os.environ.get("OMS_DEMO_ADMIN_PASSWORD", "oms-demo-2026")
        user_model = get_user_model()
        user = user_model.objects.filter(username=DEMO_ADMIN_USERNAME).first()
        if user is None:
            user_model.objects.create_superuser(DEMO_ADMIN_USERNAME, DEMO_ADMIN_EMAIL, password)
        elif not user.check_password(password) or not user.is_superuser:
            user.set_password(password)
            user.is_staff = user.is_superuser = user.is_active = True
            user.save()
        return password
