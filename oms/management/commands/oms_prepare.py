"""Prepare a deployment before its servers start: migrate, create the cache table, collect the
static files. Run once per release (bin/serve runs it unless OMS_SKIP_PREPARE is set); safe to
run again, and a failure exits non-zero with the reason.

python manage.py oms_prepare [--no-static]
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Migrate, create the database cache table and collect static files (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-static", action="store_true", help="Skip collectstatic (the demo serves them)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = max(0, int(options["verbosity"]) - 1)
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("createcachetable", verbosity=verbosity)  # a no-op for Redis
        if not options["no_static"]:
            call_command("collectstatic", interactive=False, verbosity=verbosity)
        root = settings.STATIC_ROOT
        self.stdout.write(
            self.style.SUCCESS(f"Prepared: migrated, cache table ready, static files in {root}.")
        )
