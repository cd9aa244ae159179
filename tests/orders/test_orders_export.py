"""`manage.py orders_export`: CSV of the documented columns, streamed, filtered; bad filters
refused with a one-line reason."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.management.commands.orders_export import COLUMNS, export_database
from orders.models import Order
from tests import factories
from tests.orders.factories import order_pending, order_row

pytestmark = pytest.mark.django_db


def export(*args: str) -> list[dict[str, str]]:
    out, err = io.StringIO(), io.StringIO()
    call_command("orders_export", *args, stdout=out, stderr=err)
    assert err.getvalue().startswith("Exported ")
    reader = csv.DictReader(io.StringIO(out.getvalue()))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


@pytest.fixture
def two_markets():
    eu = factories.MarketFactory.create(code="eu")
    us = factories.MarketFactory.create(code="us")
    return {
        "eu_placed": order_row(market=eu, status="placed", customer_email="a@example.com"),
        "eu_draft": order_row(market=eu),
        "us_approved": order_row(market=us, status="approved", customer_email="b@example.com"),
    }


def test_export_writes_every_order_in_number_order(two_markets):
    rows = export()
    orders = sorted(two_markets.values(), key=lambda order: order.number)
    assert [row["number"] for row in rows] == [str(order.number) for order in orders]
    placed = next(row for row in rows if row["id"] == two_markets["eu_placed"].pk)
    order = two_markets["eu_placed"]
    assert placed["market"] == "eu"
    assert placed["customer_email"] == "a@example.com"
    assert placed["status"] == "placed"
    assert placed["payment_status"] == order.payment_status
    assert placed["currency_code"] == order.currency_code
    assert placed["total_amount_with_taxes_cents"] == str(order.total_amount_with_taxes_cents)
    assert datetime.fromisoformat(placed["placed_at"]) == order.placed_at
    assert next(row for row in rows if row["status"] == "draft")["placed_at"] == ""


def test_export_filters_by_market_status_and_date(two_markets):
    assert {row["market"] for row in export("--market", "us")} == {"us"}
    assert [row["id"] for row in export("--status", "placed")] == [two_markets["eu_placed"].pk]
    assert [row["id"] for row in export("--market", "eu", "--status", "approved")] == []
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert export("--since", tomorrow) == []
    assert len(export("--since", "2000-01-01")) == 3
    assert len(export("--since", "2000-01-01T00:00:00+02:00")) == 3


def test_export_until_keeps_the_orders_created_before(two_markets):
    tomorrow = (timezone.now() + timedelta(days=1)).date().isoformat()
    assert len(export("--until", tomorrow)) == 3
    assert export("--until", "2000-01-01") == []
    assert len(export("--since", "2000-01-01", "--until", tomorrow)) == 3
    # [since, until): an order created exactly at --until is the next period's
    order = two_markets["eu_draft"]
    moment = order.created_at.isoformat()
    assert order.pk not in {row["id"] for row in export("--until", moment)}
    assert order.pk in {row["id"] for row in export("--since", moment)}


def export_jsonl(*args: str) -> list[dict]:
    out, err = io.StringIO(), io.StringIO()
    call_command("orders_export", "--format", "jsonl", *args, stdout=out, stderr=err)
    assert err.getvalue().startswith("Exported ")
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_export_as_json_lines_carries_each_orders_lines(two_markets, monkeypatch):
    from orders.management.commands import orders_export

    eu = two_markets["eu_placed"].market
    carts = [order_pending(market=eu, quantity=n) for n in (1, 2, 3)]
    monkeypatch.setattr(orders_export, "CHUNK_SIZE", 2)  # lines read chunk by chunk

    documents = export_jsonl("--market", "eu")

    assert [doc["number"] for doc in documents] == sorted(doc["number"] for doc in documents)
    assert len(documents) == 5
    by_id = {doc["id"]: doc for doc in documents}
    for quantity, cart in enumerate(carts, start=1):
        document = by_id[cart.pk]
        assert set(document) == {*COLUMNS, "line_items"}
        assert document["market"] == "eu"
        assert document["total_amount_with_taxes_cents"] == cart.total_amount_with_taxes_cents
        [line] = [item for item in document["line_items"] if item["item_type"] == "skus"]
        assert line["quantity"] == quantity
        assert line["total_amount_cents"] == line["unit_amount_cents"] * quantity
    assert by_id[two_markets["eu_draft"].pk]["line_items"] == []
    assert export_jsonl("--status", "approved", "--market", "eu") == []


def test_export_writes_a_file(two_markets, tmp_path):
    target = tmp_path / "orders.csv"
    call_command("orders_export", "--output", str(target), stderr=io.StringIO())
    lines = target.read_text().splitlines()
    assert lines[0] == ",".join(COLUMNS)
    assert len(lines) == 1 + Order.objects.count()


def test_export_of_no_orders_is_the_header():
    assert export() == []


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--market", "nowhere"], "--market 'nowhere' is not a market code"),
        (["--status", "shipped"], "--status 'shipped' is not one of draft, pending"),
        (["--since", "yesterday"], "--since 'yesterday' is not a date"),
        (["--since", "2026-13-45"], "--since '2026-13-45' is not a date"),
        (["--database", "elsewhere"], "--database 'elsewhere' is not a configured"),
        (["--output", "/nonexistent/dir/orders.csv"], "--output '/nonexistent/dir/orders.csv'"),
        (["--until", "soon"], "--until 'soon' is not a date"),
        (
            ["--since", "2026-02-01", "--until", "2026-01-01"],
            "--until '2026-01-01' is not after --since '2026-02-01'",
        ),
        (["--format", "xml"], "Error: argument --format: invalid choice: 'xml'"),
    ],
)
def test_export_refuses_bad_input_with_one_line(args, reason):
    factories.MarketFactory.create(code="eu")
    with pytest.raises(CommandError) as refused:
        call_command("orders_export", *args, stdout=io.StringIO(), stderr=io.StringIO())
    message = str(refused.value)
    assert message.startswith(reason)
    assert "\n" not in message


def test_export_reads_a_replica_when_one_is_configured(monkeypatch):
    assert export_database() == "default"
    # only the alias is looked at; no connection is opened to it
    monkeypatch.setitem(settings.DATABASES, "replica", dict(settings.DATABASES["default"]))
    assert export_database() == "replica"
