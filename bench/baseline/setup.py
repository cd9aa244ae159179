"""Create the baseline's tables and stock (`python -m bench.baseline.setup`, DATABASE_URL set)."""

import os

import django


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.baseline.settings"
    django.setup()
    from django.core.management import call_command

    from bench.baseline.models import StockItem

    call_command("migrate", run_syncdb=True, verbosity=0)
    for code in ("SKU-1", "SKU-2", "SKU-3"):
        StockItem.objects.update_or_create(sku_code=code, defaults={"quantity": 100_000_000})


if __name__ == "__main__":
    main()
