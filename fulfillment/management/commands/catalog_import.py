"""Import SKUs, prices and stock from a CSV or JSON lines file (`fulfillment.catalog`).

    manage.py catalog_import FILE [--format csv|jsonl] [--market CODE] [--dry-run]

Every row is checked before anything is written, then every row is written in one
transaction: a file with any bad row imports nothing, and each problem is printed as
"row N, FIELD: reason" on stderr. Exit status 1 with a one-line reason on any failure.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fulfillment.catalog import (
    COLUMNS,
    FORMATS,
    CatalogFileInvalid,
    CatalogRejected,
    CatalogWriteFailed,
    RowError,
    catalog_rows_import,
    catalog_rows_parse,
    catalog_rows_read,
)
from markets.models import Market
from oms.commands import one_line, progress

# more than this many errors: the rest are counted, not printed
ERRORS_SHOWN = 200


class Command(BaseCommand):
    help = (
        "Import SKUs, prices and stock from a CSV or JSON lines file, all or nothing. "
        "Columns: " + ", ".join(COLUMNS) + ". A SKU is found or created by sku_code; a price "
        "goes to its market's price list; stock_quantity sets the stock item at "
        "stock_location (default: the market's first stock location)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="the CSV or JSON lines file")
        parser.add_argument(
            "--format",
            choices=FORMATS,
            help="csv or jsonl (default: from the file's extension, .jsonl/.ndjson or csv)",
        )
        parser.add_argument(
            "--market", metavar="CODE", help="the market of rows with no market column"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check and write every row, then roll back: nothing is kept",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        format = options["format"] or (
            "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "csv"
        )
        market = None
        if options["market"] is not None:
            market = (
                Market.objects.select_related("price_list", "inventory_model")
                .filter(code=options["market"])
                .first()
            )
            if market is None:
                raise CommandError(f"--market {options['market']!r} is not a market code")
        try:
            with path.open(newline="", encoding="utf-8-sig") as stream:
                raw_rows = list(catalog_rows_read(stream, format=format))
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
        except (CatalogFileInvalid, csv.Error) as exc:
            raise CommandError(f"{path}: {exc}") from exc

        rows, errors = catalog_rows_parse(raw_rows, default_market=market)
        if errors:
            self.refuse(errors, len(raw_rows))
        try:
            counts = catalog_rows_import(
                progress(
                    rows,
                    total=len(rows),
                    desc="importing",
                    stream=self.stderr,
                    verbosity=options["verbosity"],
                ),
                dry_run=options["dry_run"],
            )
        except CatalogRejected as rejected:
            self.refuse(rejected.errors, len(raw_rows))
        except CatalogWriteFailed as failed:
            raise CommandError(
                f"database error on row {failed.row}, nothing imported: {one_line(failed.error)}"
            ) from failed
        if options["dry_run"]:
            self.stdout.write(f"Checked {counts} (dry run: nothing imported).")
        else:
            self.stdout.write(f"Imported {counts}.")

    def refuse(self, errors: list[RowError], rows: int) -> None:
        for error in errors[:ERRORS_SHOWN]:
            self.stderr.write(str(error))
        if len(errors) > ERRORS_SHOWN:
            self.stderr.write(f"... and {len(errors) - ERRORS_SHOWN} more")
        bad_rows = len({error.row for error in errors})
        raise CommandError(
            f"{len(errors)} error(s) in {bad_rows} of {rows} row(s) (listed above): nothing imported"
        )
