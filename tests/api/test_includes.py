"""`include` is bounded: at most MAX_INCLUDE_DEPTH levels, MAX_INCLUDE_PATHS paths and
MAX_INCLUDED_RECORDS included records, each record once; a legitimate nested include still
renders everything it names in a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from oms.api import renderers
from oms.api.views import MAX_INCLUDE_DEPTH, MAX_INCLUDE_PATHS
from tests.api.conftest import doc
from tests.api.test_order_query_counts import placed_order

pytestmark = pytest.mark.django_db


def assert_invalid_include(response) -> None:
    assert response.status_code == 400, response.doc
    [error] = response.doc["errors"]
    assert error["code"] == "INVALID_INCLUDE"
    assert error["status"] == "400"
    assert error["source"] == {"parameter": "include"}


@pytest.fixture
def order():
    return placed_order(3)


DEEP = ".".join(["line_items", "order"] * 10)


@pytest.mark.parametrize(
    "path",
    [
        "/api/orders/{order}?include=line_items.order.line_items.order",
        "/api/orders/{order}?include=" + DEEP,
        "/api/orders?include=" + DEEP,
        "/api/orders/{order}/line_items?include=order.line_items.order.line_items",
        "/api/line_items?include=order.line_items.order.line_items",
        "/api/orders/{order}?include=line_items..sku",
        "/api/orders/{order}?include=line_items,",
        "/api/orders/{order}?include=" + ",".join(["line_items"] * (MAX_INCLUDE_PATHS + 1)),
        "/api/orders/{order}?include=colour",
        "/api/orders/{order}?include=line_items.colour",
        "/api/orders/{order}/line_items?include=shipments",
    ],
)
def test_an_include_no_resource_serves_is_400_before_anything_is_read(as_role, order, path):
    with CaptureQueriesContext(connection) as queries:
        response = as_role("admin").get(path.format(order=order.pk))
    assert_invalid_include(response)
    assert len(queries) <= 2  # at most finding the parent: no page, no include is loaded


def test_an_update_with_a_deep_include_changes_nothing(as_role, order):
    response = as_role("admin").patch(
        f"/api/orders/{order.pk}?include=line_items.order.line_items.order",
        doc("orders", {"reference": "ERP-9"}, id=order.pk),
    )
    assert_invalid_include(response)
    order.refresh_from_db()
    assert order.reference == ""


def test_three_levels_are_served(as_role, order):
    assert MAX_INCLUDE_DEPTH == 3
    response = as_role("admin").get(
        f"/api/orders/{order.pk}?include=shipments.stock_line_items.sku,line_items.sku.prices"
    )
    assert response.status_code == 200, response.doc
    types = {item["type"] for item in response.doc["included"]}
    assert {"shipments", "stock_line_items", "skus", "line_items", "prices"} <= types


def test_included_records_appear_once(as_role):
    orders = [placed_order(3), placed_order(2)]
    response = as_role("admin").get(
        "/api/orders?include=line_items.order,line_items.sku,shipments.stock_line_items.sku"
        "&page[size]=25"
    )
    assert response.status_code == 200, response.doc
    keys = [(item["type"], item["id"]) for item in response.doc["included"]]
    assert len(keys) == len(set(keys))
    data = {(item["type"], item["id"]) for item in response.doc["data"]}
    assert data == {("orders", o.pk) for o in orders}
    assert not data & set(keys)  # a record of the page is not repeated in included


def test_each_record_is_rendered_once_whatever_paths_lead_to_it(as_role, monkeypatch):
    orders = [placed_order(4) for _ in range(3)]
    built: list[tuple[str, str]] = []
    build = renderers.JSONAPIRenderer.build_json_resource_obj

    def counting(cls, *args, **kwargs):
        resource = build(*args, **kwargs)
        built.append((resource["type"], resource["id"]))
        return resource

    monkeypatch.setattr(renderers.JSONAPIRenderer, "build_json_resource_obj", classmethod(counting))
    response = as_role("admin").get("/api/orders?include=line_items.order.line_items&page[size]=25")
    assert response.status_code == 200, response.doc
    lines = sum(o.line_items.count() for o in orders)
    assert len(response.doc["included"]) == lines
    # each line once as an order's line, once more under its order reached back from a line
    # (the library renders a to-many's records before it can skip them), never more
    assert built.count(("orders", orders[0].pk)) <= 2
    assert len(built) <= 3 + 2 * lines + 3


@pytest.mark.parametrize(
    "template",
    [
        "/api/orders/{order}?include=line_items.sku,shipments.stock_line_items",
        "/api/orders/{order}?include=shipments.stock_line_items.sku,line_items.sku.shipping_category",
        "/api/orders/{order}/line_items?include=sku.prices&page[size]=25",
        "/api/orders/{order}/shipments?include=stock_line_items.line_item.sku",
    ],
)
def test_a_legit_nested_include_costs_the_same_queries_for_1_or_20_lines(as_role, template):
    api = as_role("admin")
    counts = []
    for lines in (1, 20):
        order = placed_order(lines)
        with CaptureQueriesContext(connection) as queries:
            response = api.get(template.format(order=order.pk))
        assert response.status_code == 200, response.doc
        assert response.doc["included"]
        counts.append(len(queries))
    assert counts[0] == counts[1], f"{template}: {counts}"
    assert counts[1] <= 20


def test_a_read_including_more_than_the_cap_is_400(as_role, monkeypatch):
    order = placed_order(6)
    api = as_role("admin")
    monkeypatch.setattr(renderers, "MAX_INCLUDED_RECORDS", 5)
    response = api.get(f"/api/orders/{order.pk}?include=line_items")
    assert_invalid_include(response)
    assert response["Content-Type"] == "application/vnd.api+json"
    assert api.get(f"/api/orders/{order.pk}?include=market").status_code == 200


def test_the_cap_never_refuses_a_write_that_is_done(as_role, monkeypatch):
    order = placed_order(6)
    monkeypatch.setattr(renderers, "MAX_INCLUDED_RECORDS", 5)
    response = as_role("admin").patch(
        f"/api/orders/{order.pk}?include=line_items",
        doc("orders", {"reference": "ERP-7"}, id=order.pk),
    )
    assert response.status_code == 200, response.doc
    assert len(response.doc["included"]) == order.line_items.count()
