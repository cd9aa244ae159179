"""Export orders as CSV or JSON lines, streamed: memory stays flat whether there are a
hundred or a million.

    manage.py orders_export [--output FILE] [--format csv|jsonl] [--market CODE]
                            [--status STATUS] [--since DATE] [--until DATE]

CSV has one row of COLUMNS per order; JSON lines one object per order with the same keys and
its `line_items` (LINE_COLUMNS), read CHUNK_SIZE orders at a time (one query per chunk).

Rows are read through a server-side cursor (`.iterator(chunk_size=...)` over `values_list`,
inside one transaction so PostgreSQL does not materialise the cursor for WITH HOLD), in order
number order, from the read database: the router's for orders, else a `replica` alias when one
is configured, else `default` (`--database` names another).
"""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from datetime import time as day_start
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction
from django.db.models import CharField, Func, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from markets.models import Market
from oms.commands import counter
from orders.models import LineItem, Order

# The one documented column set (README: "Exporting orders"); amounts in minor units.
COLUMNS = (
    "number",
    "id",
    "created_at",
    "placed_at",
    "approved_at",
    "cancelled_at",
    "market",
    "customer_email",
    "status",
    "payment_status",
    "fulfillment_status",
    "currency_code",
    "skus_count",
    "subtotal_amount_cents",
    "shipping_amount_cents",
    "discount_amount_cents",
    "total_tax_amount_cents",
    "total_amount_cents",
    "total_amount_with_taxes_cents",
)
LINE_COLUMNS = (
    "item_type",
    "sku_code",
    "name",
    "quantity",
    "unit_amount_cents",
    "total_amount_cents",
    "discount_cents",
    "tax_amount_cents",
)
FORMATS = ("csv", "jsonl")
TIMESTAMPS = ("created_at", "placed_at", "approved_at", "cancelled_at")
MARKET_POSITION = COLUMNS.index("market")
TIMESTAMP_POSITIONS = tuple(COLUMNS.index(name) for name in TIMESTAMPS)
CHUNK_SIZE = 5_000


class IsoTimestamp(Func):
    """A timestamp as ISO 8601 text in UTC, written by PostgreSQL: loading a datetime and
    formatting it again in Python was a third of the export's time."""

    template = (
        "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
    )
    output_field = CharField()


def export_values(orders: QuerySet[Order]) -> QuerySet[Order, tuple[Any, ...]]:
    """`orders` as rows of COLUMNS (the market as its id: its code is looked up once)."""
    if connections[orders.db].vendor != "postgresql":
        fields = ["market_id" if name == "market" else name for name in COLUMNS]
        return orders.values_list(*fields)
    texts = {f"{name}_text": IsoTimestamp(name) for name in TIMESTAMPS}
    fields = [
        "market_id" if name == "market" else f"{name}_text" if name in TIMESTAMPS else name
        for name in COLUMNS
    ]
    return orders.annotate(**texts).values_list(*fields)


def export_database() -> str:
    """Where exports read: a replica when one is configured, never the primary's load."""
    alias = router.db_for_read(Order)
    if alias == DEFAULT_DB_ALIAS and "replica" in settings.DATABASES:
        return "replica"
    return alias or DEFAULT_DB_ALIAS


def since_parse(raw: str, *, option: str = "--since") -> datetime:
    """A date (midnight UTC) or an ISO datetime (UTC when it names no offset)."""
    try:
        moment = parse_datetime(raw)
        if moment is None:
            day = parse_date(raw)
            moment = datetime.combine(day, day_start()) if day is not None else None
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"{option} {raw!r} is not a date (YYYY-MM-DD) or an ISO datetime")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def orders_to_export(
    *,
    using: str,
    market: str | None,
    status: str | None,
    since: str | None,
    until: str | None = None,
) -> tuple[QuerySet[Order], dict[str, str]]:
    """The filtered orders and the code of every market by id; bad filters raise CommandError."""
    markets = dict(Market.objects.using(using).values_list("id", "code"))
    orders = Order.objects.using(using).order_by("number")
    if market is not None:
        ids = [pk for pk, code in markets.items() if code == market]
        if not ids:
            raise CommandError(f"--market {market!r} is not a market code")
        orders = orders.filter(market_id=ids[0])
    if status is not None:
        if status not in Order.Status.values:
            raise CommandError(
                f"--status {status!r} is not one of {', '.join(Order.Status.values)}"
            )
        orders = orders.filter(status=status)
    start = since_parse(since) if since is not None else None
    end = since_parse(until, option="--until") if until is not None else None
    if start is not None and end is not None and end <= start:
        raise CommandError(f"--until {until!r} is not after --since {since!r}")
    if start is not None:
        orders = orders.filter(created_at__gte=start)
    if end is not None:
        orders = orders.filter(created_at__lt=end)
    return orders, markets


def csv_chunks(
    rows: Iterator[tuple[Any, ...]], markets: dict[str, str]
) -> Iterator[tuple[str, int]]:
    """CSV text CHUNK_SIZE rows at a time (one write per chunk, not per row), with the number
    of rows written so far."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    written = 0
    for row in rows:
        values = list(row)
        values[MARKET_POSITION] = markets.get(values[MARKET_POSITION], "")
        for position in TIMESTAMP_POSITIONS:
            value = values[position]
            if isinstance(value, datetime):  # (not formatted by the database)
                values[position] = value.isoformat()
        writer.writerow(values)
        written += 1
        if written % CHUNK_SIZE == 0:
            yield buffer.getvalue(), written
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue(), written


def jsonl_chunks(
    rows: Iterator[tuple[Any, ...]], markets: dict[str, str], *, using: str
) -> Iterator[tuple[str, int]]:
    """JSON lines, CHUNK_SIZE orders at a time, each with its line items (read for the whole
    chunk in one query), with the number of orders written so far."""
    id_position = COLUMNS.index("id")
    written = 0
    chunk: list[tuple[Any, ...]] = []

    def flush() -> str:
        ids = [row[id_position] for row in chunk]
        lines: dict[str, list[dict[str, Any]]] = {pk: [] for pk in ids}
        for order_id, *values in (
            LineItem.objects.using(using)
            .filter(order_id__in=ids)
            .order_by("order_id", "created_at", "pk")
            .values_list("order_id", *LINE_COLUMNS)
        ):
            lines[order_id].append(dict(zip(LINE_COLUMNS, values, strict=True)))
        out = []
        for row in chunk:
            values = list(row)
            values[MARKET_POSITION] = markets.get(values[MARKET_POSITION], "")
            for position in TIMESTAMP_POSITIONS:
                if isinstance(values[position], datetime):
                    values[position] = values[position].isoformat()
            document = dict(zip(COLUMNS, values, strict=True))
            document["line_items"] = lines[row[id_position]]
            out.append(json.dumps(document, ensure_ascii=False, default=str) + "\n")
        chunk.clear()
        return "".join(out)

    for row in rows:
        chunk.append(row)
        written += 1
        if len(chunk) == CHUNK_SIZE:
            yield flush(), written
    yield flush() if chunk else "", written


class Command(BaseCommand):
    help = (
        "Export orders as CSV or JSON lines (to stdout or --output), streamed in order number "
        "order: "
        + ", ".join(COLUMNS)
        + "; JSON lines add each order's line_items ("
        + ", ".join(LINE_COLUMNS)
        + ")."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", metavar="FILE", help="Write here instead of stdout.")
        parser.add_argument("--market", metavar="CODE", help="Only this market's orders.")
        parser.add_argument("--status", metavar="STATUS", help="Only orders in this status.")
        parser.add_argument(
            "--format", choices=FORMATS, default="csv", help="csv (default) or jsonl."
        )
        parser.add_argument(
            "--since", metavar="DATE", help="Only orders created at or after (UTC)."
        )
        parser.add_argument(
            "--until", metavar="DATE", help="Only orders created before (UTC), after --since."
        )
        parser.add_argument("--database", metavar="ALIAS", help="Read from this database alias.")

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"] or export_database()
        if using not in settings.DATABASES:
            raise CommandError(f"--database {using!r} is not a configured database alias")
        started = time.monotonic()
        orders, markets = orders_to_export(
            using=using,
            market=options["market"],
            status=options["status"],
            since=options["since"],
            until=options["until"],
        )
        path = options["output"]
        try:
            output: IO[str] = (
                open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115
                if path
                else self.stdout  # type: ignore[assignment]
            )
        except OSError as exc:
            raise CommandError(f"--output {path!r}: {exc.strerror}") from exc
        count = 0
        try:
            # A transaction, so the server-side cursor needs no WITH HOLD (which would make
            # PostgreSQL copy the whole result before the first row).
            with transaction.atomic(using=using):
                rows = export_values(orders).iterator(chunk_size=CHUNK_SIZE)
                chunks = (
                    jsonl_chunks(rows, markets, using=using)
                    if options["format"] == "jsonl"
                    else csv_chunks(rows, markets)
                )
                with counter(
                    desc="exporting", stream=self.stderr, verbosity=options["verbosity"]
                ) as shown:
                    for text, written in chunks:
                        if text:  # (stdout's wrapper would write a newline for nothing)
                            output.write(text)
                        shown.update(written - count)
                        count = written
        finally:
            if path:
                output.close()
        seconds = time.monotonic() - started
        rate = count / seconds if seconds else 0.0
        self.stderr.write(
            f"Exported {count} orders from {using!r} in {seconds:.1f} s ({rate:,.0f} orders/s)."
        )
