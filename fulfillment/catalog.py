"""The catalog import: SKUs, their prices and their stock, from CSV or JSON lines rows.

It lives in fulfillment because it is the one app that may use both the catalog (markets) and
the stock (STYLE.md's arrows): markets cannot import stock items.

Two passes, so that bad input changes nothing:

1. `catalog_rows_parse` checks every row without writing: types, required columns, that the
   market, shipping category and stock location named exist, that a row does not repeat
   another. Every problem is a `RowError` (row, field, reason).
2. `catalog_rows_import` writes every row in ONE transaction through the same services the
   API and the admin use (`resource_save` with the model's validation, `stock_item_save` with
   its reserved-units guard). A row the services refuse is a `RowError` too, and then nothing
   is kept: the transaction is rolled back and `CatalogRejected` lists every error. A database
   error rolls everything back as well.

Rows are numbered as a person sees the file: in a CSV the header is row 1 (the first SKU is
row 2, as in a spreadsheet); in JSON lines, row n is line n.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from fulfillment.models import StockItem, StockLocation
from fulfillment.services import stock_item_save
from markets.models import Market, Price, ShippingCategory, Sku
from oms.errors import DomainError
from oms.services import resource_save

SKU_TEXT_FIELDS = ("name", "description", "image_url", "hs_tariff_number", "unit_of_weight")
SKU_FLAGS = ("do_not_ship", "do_not_track")
COLUMNS = (
    "sku_code",
    *SKU_TEXT_FIELDS,
    "weight",
    "pieces_per_pack",
    *SKU_FLAGS,
    "shipping_category",
    "market",
    "price_amount_cents",
    "compare_at_amount_cents",
    "stock_location",
    "stock_quantity",
)
FORMATS = ("csv", "jsonl")
TRUE = frozenset({"true", "1", "yes", "y"})
FALSE = frozenset({"false", "0", "no", "n"})


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.reason}"


class CatalogRejected(Exception):
    """The import was refused; nothing was written. `errors`: every problem found."""

    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s)")
        self.errors = errors


class CatalogWriteFailed(Exception):
    """The database failed while writing row `row`; the transaction was rolled back."""

    def __init__(self, row: int, error: DatabaseError):
        super().__init__(f"row {row}: {error}")
        self.row = row
        self.error = error


class CatalogFileInvalid(Exception):
    """The file as a whole cannot be read (no header, unknown columns, not UTF-8)."""


@dataclass
class CatalogRow:
    """One checked row: what to write."""

    row: int
    sku_code: str
    sku: Sku | None  # the existing SKU, None for a new one
    sku_fields: dict[str, Any] = field(default_factory=dict)
    market: Market | None = None
    price: tuple[int, int | None] | None = None  # amount, compare-at
    stock: tuple[StockLocation, int] | None = None  # location, quantity


@dataclass
class ImportCounts:
    rows: int = 0
    created: set[str] = field(default_factory=set)  # SKU codes
    updated: set[str] = field(default_factory=set)
    prices: int = 0
    stock_items: int = 0

    def __str__(self) -> str:
        return (
            f"{self.rows} row(s): {len(self.created)} SKU(s) created, "
            f"{len(self.updated - self.created)} updated, {self.prices} price(s), "
            f"{self.stock_items} stock item(s)"
        )


# --- reading -------------------------------------------------------------------------------


def catalog_rows_read(stream: IO[str], *, format: str) -> Iterator[tuple[int, Any]]:
    """(row number, raw row) for every row of the file; a raw row is a dict, or for a JSON
    line that is not an object, the value it is (reported by the parse)."""
    if format == "csv":
        reader = csv.DictReader(stream, restkey="", restval=None)
        header = reader.fieldnames
        if not header:
            raise CatalogFileInvalid("the file is empty: a CSV import needs a header row")
        unknown = [name for name in header if name not in COLUMNS]
        if unknown:
            raise CatalogFileInvalid(
                f"unknown column(s) {', '.join(map(repr, unknown))}; the columns are "
                + ", ".join(COLUMNS)
            )
        if "sku_code" not in header:
            raise CatalogFileInvalid("the header has no sku_code column")
        for number, raw in enumerate(reader, start=2):
            yield number, raw
        return
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, exc


# --- pass 1: check without writing ------------------------------------------------------------


class _Lookups:
    """Markets, shipping categories, stock locations and SKUs, each read once."""

    def __init__(self, raw_rows: list[tuple[int, Any]]):
        codes = {
            str(raw.get("sku_code") or "").strip() for _, raw in raw_rows if isinstance(raw, dict)
        }
        self.skus = {sku.code: sku for sku in Sku.objects.filter(code__in=codes)}
        self.markets = {
            market.code: market
            for market in Market.objects.select_related("price_list", "inventory_model")
        }
        self.categories = {
            category.code: category for category in ShippingCategory.objects.exclude(code="")
        }
        self.locations = {location.code: location for location in StockLocation.objects.all()}
        self._primary: dict[str, StockLocation | None] = {}

    def primary_location(self, market: Market) -> StockLocation | None:
        """The market's first stock location by priority (None without an inventory model)."""
        if market.pk not in self._primary:
            first = None
            if market.inventory_model is not None:
                link = (
                    market.inventory_model.inventory_stock_locations.select_related(
                        "stock_location"
                    )
                    .order_by("priority", "created_at", "id")
                    .first()
                )
                first = link.stock_location if link is not None else None
            self._primary[market.pk] = first
        return self._primary[market.pk]


def _text(raw: Mapping[str, Any], name: str) -> str | None:
    """The cell as stripped text; None when the column is absent or the cell empty."""
    value = raw.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _whole(raw: Mapping[str, Any], name: str, errors: list[str], *, minimum: int) -> int | None:
    value = raw.get(name)
    if isinstance(value, bool):
        errors.append(name)
        return None
    if isinstance(value, int):
        number = value
    else:
        text = _text(raw, name)
        if text is None:
            return None
        if not text.isdigit() and not (text.startswith("-") and text[1:].isdigit()):
            errors.append(name)
            return None
        number = int(text)
    if number < minimum:
        errors.append(name)
        return None
    return number


def _flag(raw: Mapping[str, Any], name: str) -> bool | str | None:
    value = raw.get(name)
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    return "invalid"


WHOLE_REASONS = {
    "price_amount_cents": "must be a whole number of minor units, 0 or more (1250 for 12.50)",
    "compare_at_amount_cents": "must be a whole number of minor units, 0 or more",
    "stock_quantity": "must be a whole number, 0 or more",
    "pieces_per_pack": "must be a whole number, 1 or more",
}


def _parse_row(
    number: int,
    raw: Any,
    *,
    lookups: _Lookups,
    default_market: Market | None,
    introduced: set[str],
) -> tuple[CatalogRow | None, list[RowError]]:
    if isinstance(raw, json.JSONDecodeError):
        return None, [RowError(number, "-", f"not valid JSON ({raw.msg})")]
    if not isinstance(raw, dict):
        return None, [RowError(number, "-", "a JSON line must be an object of columns")]
    errors: list[RowError] = []
    extra = raw.get("")  # a CSV row with more cells than the header has columns
    if extra:
        errors.append(RowError(number, "-", f"{len(extra)} cell(s) beyond the header's columns"))
    unknown = sorted(str(key) for key in raw if key and key not in COLUMNS)
    errors += [RowError(number, key, "is not a column of the catalog import") for key in unknown]

    code = _text(raw, "sku_code")
    if code is None:
        errors.append(RowError(number, "sku_code", "is required"))
        return None, errors
    sku = lookups.skus.get(code)
    row = CatalogRow(row=number, sku_code=code, sku=sku)

    for name in SKU_TEXT_FIELDS:
        text = _text(raw, name)
        if text is not None:
            row.sku_fields[name] = text
    for name in SKU_FLAGS:
        flag = _flag(raw, name)
        if flag == "invalid":
            errors.append(RowError(number, name, "must be true or false"))
        elif flag is not None:
            row.sku_fields[name] = flag
    weight = _text(raw, "weight")
    if weight is not None:
        try:
            weight_value = Decimal(weight)
            if not weight_value.is_finite() or weight_value < 0:
                raise InvalidOperation
            row.sku_fields["weight"] = weight_value
        except InvalidOperation:
            errors.append(RowError(number, "weight", "must be a number, 0 or more"))
    bad_numbers: list[str] = []
    pieces = _whole(raw, "pieces_per_pack", bad_numbers, minimum=1)
    if pieces is not None:
        row.sku_fields["pieces_per_pack"] = pieces
    category_code = _text(raw, "shipping_category")
    if category_code is not None:
        category = lookups.categories.get(category_code)
        if category is None:
            errors.append(
                RowError(
                    number,
                    "shipping_category",
                    f"no shipping category has the code {category_code!r}",
                )
            )
        else:
            row.sku_fields["shipping_category"] = category
    if sku is None and code not in introduced:
        if "name" not in row.sku_fields:
            errors.append(RowError(number, "name", f"is required for a new SKU ({code})"))
        if category_code is None:
            errors.append(
                RowError(number, "shipping_category", f"is required for a new SKU ({code})")
            )

    market_code = _text(raw, "market")
    market = default_market
    if market_code is not None:
        market = lookups.markets.get(market_code)
        if market is None:
            errors.append(RowError(number, "market", f"no market has the code {market_code!r}"))
    row.market = market

    amount = _whole(raw, "price_amount_cents", bad_numbers, minimum=0)
    compare_at = _whole(raw, "compare_at_amount_cents", bad_numbers, minimum=0)
    if compare_at is not None and amount is None and "price_amount_cents" not in bad_numbers:
        errors.append(
            RowError(number, "price_amount_cents", "is required with a compare-at amount")
        )
    if amount is not None:
        if market is None and market_code is None:
            errors.append(RowError(number, "market", "a price needs a market (column or --market)"))
        row.price = (amount, compare_at)

    quantity = _whole(raw, "stock_quantity", bad_numbers, minimum=0)
    location_code = _text(raw, "stock_location")
    location: StockLocation | None = None
    if location_code is not None:
        location = lookups.locations.get(location_code)
        if location is None:
            errors.append(
                RowError(
                    number, "stock_location", f"no stock location has the code {location_code!r}"
                )
            )
    if quantity is not None and location is None and location_code is None:
        if market is None:
            if market_code is None:
                errors.append(
                    RowError(number, "stock_location", "stock needs a stock_location or a market")
                )
        else:
            location = lookups.primary_location(market)
            if location is None:
                errors.append(
                    RowError(
                        number,
                        "stock_location",
                        f"market {market.code} has no stock location: name one",
                    )
                )
    if location_code is not None and quantity is None and "stock_quantity" not in bad_numbers:
        errors.append(RowError(number, "stock_quantity", "is required with a stock_location"))
    if quantity is not None and location is not None:
        row.stock = (location, quantity)

    errors += [RowError(number, name, WHOLE_REASONS[name]) for name in bad_numbers]
    return row, errors


def catalog_rows_parse(
    raw_rows: Iterable[tuple[int, Any]], *, default_market: Market | None
) -> tuple[list[CatalogRow], list[RowError]]:
    """Check every row, writing nothing. Returns the rows and every error found.

    A SKU may appear on several rows (one per market, say); its attributes may repeat (the
    last row's win), but one price or one stock item set twice is an error: which row wins
    would depend on the order of the rows."""
    raw = list(raw_rows)
    lookups = _Lookups(raw)
    rows: list[CatalogRow] = []
    errors: list[RowError] = []
    prices: dict[tuple[str, str], int] = {}
    stock: dict[tuple[str, str], int] = {}
    introduced: set[str] = set()  # new SKUs named and categorised on an earlier row
    for number, item in raw:
        row, problems = _parse_row(
            number, item, lookups=lookups, default_market=default_market, introduced=introduced
        )
        errors += problems
        if row is None:
            continue
        if row.sku is None and {"name", "shipping_category"} <= row.sku_fields.keys():
            introduced.add(row.sku_code)
        if row.price is not None and row.market is not None:
            key = (row.sku_code, row.market.code)
            if key in prices:
                errors.append(
                    RowError(
                        number,
                        "price_amount_cents",
                        f"the price of {row.sku_code} in market {row.market.code} is already "
                        f"on row {prices[key]}",
                    )
                )
            prices.setdefault(key, number)
        if row.stock is not None:
            location = row.stock[0]
            key = (row.sku_code, location.pk)
            if key in stock:
                errors.append(
                    RowError(
                        number,
                        "stock_quantity",
                        f"the stock of {row.sku_code} at {location.code or location.name} is "
                        f"already on row {stock[key]}",
                    )
                )
            stock.setdefault(key, number)
        rows.append(row)
    if not raw:
        errors.append(RowError(1, "-", "the file has no rows to import"))
    return rows, errors


# --- pass 2: write, all or nothing -------------------------------------------------------------


def _errors_of(number: int, exc: ValidationError | DomainError) -> list[RowError]:
    if isinstance(exc, DomainError):
        pointer = (exc.pointer or "").rsplit("/", 1)[-1] or "-"
        return [RowError(number, pointer, exc.detail)]
    if hasattr(exc, "error_dict"):
        return [
            RowError(number, name if name != "__all__" else "-", " ".join(messages))
            for name, messages in exc.message_dict.items()
        ]
    return [RowError(number, "-", " ".join(exc.messages))]


def _row_write(row: CatalogRow, counts: ImportCounts) -> None:
    sku = row.sku
    if sku is None:
        sku = resource_save(Sku(code=row.sku_code, **row.sku_fields))
        counts.created.add(sku.code)
    elif row.sku_fields:
        for name, value in row.sku_fields.items():
            setattr(sku, name, value)
        sku = resource_save(sku)
        counts.updated.add(sku.code)
    row.sku = sku  # a later row of the same SKU (another market) updates this one
    if row.price is not None and row.market is not None:
        amount, compare_at = row.price
        price = Price.objects.filter(sku=sku, price_list=row.market.price_list).first()
        price = price or Price(sku=sku, price_list=row.market.price_list)
        price.amount_cents = amount
        if compare_at is not None:  # an empty cell leaves it as it is, like every column
            price.compare_at_amount_cents = compare_at
        resource_save(price)
        counts.prices += 1
    if row.stock is not None:
        location, quantity = row.stock
        item = StockItem.objects.filter(sku=sku, stock_location=location).first()
        item = item or StockItem(sku=sku, stock_location=location)
        item.quantity = quantity
        stock_item_save(stock_item=item)
        counts.stock_items += 1


def catalog_rows_import(rows: Iterable[CatalogRow], *, dry_run: bool = False) -> ImportCounts:
    """Write every row in one transaction; on any refused row raise CatalogRejected, with
    every refusal, and keep nothing (CatalogWriteFailed: the database failed, nothing kept).
    `dry_run`: everything is checked, then rolled back."""
    counts = ImportCounts()
    errors: list[RowError] = []
    by_code: dict[str, Sku] = {}
    with transaction.atomic():
        for row in rows:
            counts.rows += 1
            if row.sku is None and row.sku_code in by_code:
                row.sku = by_code[row.sku_code]  # created by an earlier row
            try:
                # a savepoint per row: a refused row leaves the transaction usable, so every
                # row is still checked and every refusal reported
                with transaction.atomic():
                    _row_write(row, counts)
            except (ValidationError, DomainError) as exc:
                errors += _errors_of(row.row, exc)
                continue
            except DatabaseError as exc:  # leaving the block rolls every row back
                raise CatalogWriteFailed(row.row, exc) from exc
            if row.sku is not None:
                by_code[row.sku_code] = row.sku
        if errors:
            raise CatalogRejected(errors)
        if dry_run:
            transaction.set_rollback(True)
    return counts
