"""`manage.py catalog_import`: SKUs, prices and stock from CSV or JSON lines, all or nothing,
with every bad row reported as "row N, field: reason"."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError

from fulfillment.models import StockItem, StockReservation
from markets.models import Price, Sku
from tests import factories as catalog
from tests.fulfillment.factories import StockItemFactory, StockLocationFactory, shop_create
from tests.orders.factories import STAFF, order_ready

pytestmark = pytest.mark.django_db

HEADER = "sku_code,name,shipping_category,price_amount_cents,compare_at_amount_cents,stock_quantity"


@pytest.fixture
def shop():
    shop = shop_create()
    shop.market.code = "eu"
    shop.market.save()
    catalog.ShippingCategoryFactory.create(code="apparel")
    return shop


def write(tmp_path: Path, text: str, name: str = "catalog.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("catalog_import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> tuple[str, list[str]]:
    err = io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("catalog_import", *args, stdout=io.StringIO(), stderr=err)
    assert "\n" not in str(failure.value)
    return str(failure.value), err.getvalue().splitlines()


def catalog_state() -> tuple:
    return (
        sorted(Sku.objects.values_list("code", "name", "updated_at")),
        sorted(Price.objects.values_list("sku__code", "amount_cents", "updated_at")),
        sorted(StockItem.objects.values_list("sku__code", "quantity", "updated_at")),
    )


def test_a_csv_creates_skus_prices_and_stock_and_updates_existing_ones(shop, tmp_path):
    existing = catalog.SkuFactory.create(code="TSHIRT-M", name="Old name")
    location = shop.locations[0].stock_location
    StockItemFactory.create(sku=existing, stock_location=location, quantity=3)
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "TSHIRT-S,T-shirt S,apparel,1990,2490,10\n"
        "TSHIRT-M,T-shirt M,,1990,,25\n"
        "MUG,Mug,apparel,,,\n",
    )

    out, _ = run(path, "--market", "eu")

    assert out == ("Imported 3 row(s): 2 SKU(s) created, 1 updated, 2 price(s), 2 stock item(s).\n")
    small = Sku.objects.get(code="TSHIRT-S")
    assert small.name == "T-shirt S"
    assert small.shipping_category.code == "apparel"
    price = Price.objects.get(sku=small, price_list=shop.market.price_list)
    assert (price.amount_cents, price.compare_at_amount_cents) == (1990, 2490)
    assert StockItem.objects.get(sku=small, stock_location=location).quantity == 10
    existing.refresh_from_db()
    assert existing.name == "T-shirt M"
    assert StockItem.objects.get(sku=existing).quantity == 25  # set, not added
    assert Sku.objects.filter(code="MUG").exists()
    assert not Price.objects.filter(sku__code="MUG").exists()


def test_json_lines_name_their_market_and_stock_location(shop, tmp_path):
    us = catalog.MarketFactory.create(code="us")
    elsewhere = StockLocationFactory.create(code="wh-east")
    lines = [
        {"sku_code": "CAP", "name": "Cap", "shipping_category": "apparel", "do_not_ship": False},
        {"sku_code": "CAP", "market": "eu", "price_amount_cents": 900},
        {"sku_code": "CAP", "market": "us", "price_amount_cents": 1000},
        {"sku_code": "CAP", "stock_location": "wh-east", "stock_quantity": 4},
    ]
    path = write(tmp_path, "\n".join(json.dumps(line) for line in lines) + "\n\n", "cat.jsonl")

    out, _ = run(path)

    assert out.startswith("Imported 4 row(s): 1 SKU(s) created, 0 updated, 2 price(s)")
    prices = dict(
        Price.objects.filter(sku__code="CAP").values_list("price_list_id", "amount_cents")
    )
    assert prices == {shop.market.price_list_id: 900, us.price_list_id: 1000}
    assert StockItem.objects.get(sku__code="CAP", stock_location=elsewhere).quantity == 4


def test_bad_rows_are_all_reported_and_nothing_is_imported(shop, tmp_path):
    path = write(
        tmp_path,
        f"{HEADER},market,weight\n"
        "GOOD,Good,apparel,100,,1,,\n"
        ",No code,apparel,100,,1,,\n"
        "NEW,,apparel,12.50,,1,,\n"
        "NEW2,New 2,nope,100,,-4,,\n"
        "NEW3,New 3,apparel,100,,1,mars,heavy\n"
        "GOOD,Good again,apparel,100,,1,,\n",
    )
    location = shop.locations[0].stock_location.code
    before = catalog_state()

    reason, lines = refused(path, "--market", "eu")

    assert reason == "9 error(s) in 5 of 6 row(s) (listed above): nothing imported"
    assert lines == [
        "row 3, sku_code: is required",
        "row 4, name: is required for a new SKU (NEW)",
        "row 4, price_amount_cents: must be a whole number of minor units, 0 or more "
        "(1250 for 12.50)",
        "row 5, shipping_category: no shipping category has the code 'nope'",
        "row 5, stock_quantity: must be a whole number, 0 or more",
        "row 6, weight: must be a number, 0 or more",
        "row 6, market: no market has the code 'mars'",
        "row 7, price_amount_cents: the price of GOOD in market eu is already on row 2",
        f"row 7, stock_quantity: the stock of GOOD at {location} is already on row 2",
    ]
    # the first row was fine on its own: nothing of it was written either
    assert catalog_state() == before
    assert not Sku.objects.filter(code="GOOD").exists()


def test_a_row_the_services_refuse_rolls_back_the_rows_before_it(shop, tmp_path):
    """Checked rows may still be refused by the model's validation or a service guard (here,
    a quantity below what is reserved): every refusal is reported, nothing is kept."""
    cart = order_ready(market=shop.market)
    line = cart.line_items.get(item_type="skus")
    from fulfillment.services import stock_reserve_draft

    [reservation] = stock_reserve_draft(line_item=line, actor=STAFF)
    assert reservation.quantity == 1
    sku_code = line.sku_code
    path = write(
        tmp_path,
        f"{HEADER},image_url\n"
        f"FIRST,First,apparel,100,,5,\n"
        f"BADURL,Bad URL,apparel,100,,5,not a url\n"
        f"{sku_code},,,,,0,\n",
    )
    before = catalog_state()

    reason, lines = refused(path, "--market", "eu")

    assert reason == "2 error(s) in 2 of 3 row(s) (listed above): nothing imported"
    assert lines[0] == "row 3, image_url: Enter a valid URL."
    assert lines[1].startswith("row 4, quantity: The quantity cannot go below the 1 reserved")
    assert catalog_state() == before
    assert StockReservation.objects.filter(pk=reservation.pk).exists()


def test_a_database_error_on_row_3_leaves_nothing_imported(shop, tmp_path, monkeypatch):
    path = write(
        tmp_path,
        f"{HEADER}\nA,A,apparel,100,,1\nB,B,apparel,200,,2\nC,C,apparel,300,,3\nD,D,apparel,400,,4\n",
    )
    real_save = Sku.save

    def failing_save(self, *args, **kwargs):
        if self.code == "B":  # the second SKU, on row 3 of the file
            raise OperationalError("database is locked")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Sku, "save", failing_save)
    before = catalog_state()

    reason, _ = refused(path, "--market", "eu")

    assert reason == (
        "database error on row 3, nothing imported: OperationalError: database is locked"
    )
    assert catalog_state() == before
    assert not Sku.objects.filter(code="A").exists()


def test_dry_run_checks_everything_and_keeps_nothing(shop, tmp_path):
    path = write(tmp_path, f"{HEADER}\nA,A,apparel,100,,1\n")
    before = catalog_state()

    out, _ = run(path, "--market", "eu", "--dry-run")

    assert out == (
        "Checked 1 row(s): 1 SKU(s) created, 0 updated, 1 price(s), 1 stock item(s) "
        "(dry run: nothing imported).\n"
    )
    assert catalog_state() == before


@pytest.mark.parametrize(
    ("content", "args", "reason"),
    [
        ("sku_code\nA\n", ["--market", "nowhere"], "--market 'nowhere' is not a market code"),
        ("sku_code,colour\nA,red\n", [], "unknown column(s) 'colour'; the columns are sku_code"),
        ("name\nA\n", [], "the header has no sku_code column"),
        ("", [], "the file is empty"),
    ],
)
def test_file_level_problems_are_refused_in_one_line(shop, tmp_path, content, args, reason):
    path = write(tmp_path, content)
    message, _ = refused(path, *args)
    assert reason in message
    assert not Sku.objects.filter(code="A").exists()


def test_a_missing_file_and_bad_json_lines_are_refused(shop, tmp_path):
    message, _ = refused(str(tmp_path / "missing.csv"))
    assert message.endswith("missing.csv: No such file or directory")

    path = write(
        tmp_path, '{"sku_code": "A", "name": "A"\n[1]\n{"sku_code": "B", "size": 3}\n', "x.jsonl"
    )
    message, lines = refused(path)
    assert message == "5 error(s) in 3 of 3 row(s) (listed above): nothing imported"
    assert lines[0].startswith("row 1, -: not valid JSON")
    assert lines[1] == "row 2, -: a JSON line must be an object of columns"
    assert lines[2] == "row 3, size: is not a column of the catalog import"


def test_a_price_or_stock_without_a_market_is_a_row_error(shop, tmp_path):
    path = write(tmp_path, f"{HEADER}\nA,A,apparel,100,,1\n")
    _, lines = refused(path)
    assert lines == [
        "row 2, market: a price needs a market (column or --market)",
        "row 2, stock_location: stock needs a stock_location or a market",
    ]
