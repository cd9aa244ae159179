"""Build a realistic demo dataset, idempotently: running it twice gives the same data."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from markets.demo import catalog_seed

DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_EMAIL = "admin@example.com"


class Command(BaseCommand):
    help = "Create or refresh the demo dataset (organization, merchants, markets, catalog, admin)."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = catalog_seed()
        password = self.ensure_admin()
        self.stdout.write(self.style.SUCCESS("Demo data is ready: " + ", ".join(counts)))
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
