"""The order lists at a million orders: a bounded number of statements whatever the number of
orders, no COUNT(*) of the whole list per page (exact up to a bound, the planner's estimate
above), and the list index the planner can use."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from oms.admin_pagination import EstimatedCountPaginator
from oms.api.pagination import Pagination
from oms.counting import ListCount, list_count
from orders.admin.orders import OrderAdmin
from orders.models import Order
from tests import factories
from tests.conftest import on_postgres
from tests.orders.factories import order_row

pytestmark = pytest.mark.django_db

PLACED_AT = 1 + OrderAdmin.list_display.index("date")  # after the action checkbox
COUNT = re.compile(r"\bCOUNT\(", re.IGNORECASE)


def orders_in(market, count: int) -> list[Order]:
    return [order_row(market=market, status="placed") for _ in range(count)]


def unbounded_counts(statements: list[str]) -> list[str]:
    """COUNTs that would read the whole list: every count must be of a LIMITed subquery."""
    return [sql for sql in statements if COUNT.search(sql) and "LIMIT" not in sql]


def run(get, path: str) -> tuple[Any, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        response = get(path)
    assert response.status_code == 200, path
    return response, [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456!")
    client.force_login(user)
    return client


def admin_path(market) -> str:
    url = reverse("admin:orders_order_changelist")
    return f"{url}?status__exact=placed&market__id__exact={market.pk}&o=-{PLACED_AT}"


def api_path(market) -> str:
    return (
        "/api/orders?filter[q][status_eq]=placed"
        f"&filter[q][market_id_eq]={market.pk}&sort=-placed_at&page[size]=25"
    )


def test_admin_order_list_statements_do_not_grow_and_never_count_the_table(staff_client):
    market = factories.MarketFactory.create()
    counts = []
    for total in (3, 30):
        orders_in(market, total - Order.objects.count())
        response, statements = run(staff_client.get, admin_path(market))
        assert unbounded_counts(statements) == []
        counts.append(len(statements))
        listed = list(response.context["cl"].result_list)
        assert len(listed) == total
        assert [o.placed_at for o in listed] == sorted((o.placed_at for o in listed), reverse=True)
    assert counts[0] == counts[1], counts


def test_admin_order_list_shows_no_full_result_count():
    assert OrderAdmin.show_full_result_count is False
    assert OrderAdmin.paginator is EstimatedCountPaginator


def test_api_order_list_statements_do_not_grow_and_never_count_the_table(as_role, market):
    api = as_role("admin")
    counts = []
    for total in (30, 60):
        orders_in(market, total - Order.objects.count())
        response, statements = run(api.get, api_path(market))
        assert unbounded_counts(statements) == []
        counts.append(len(statements))
        assert response.doc["meta"]["record_count"] == total
        assert len(response.doc["data"]) == min(total, 25)
    assert counts[0] == counts[1], counts


@pytest.mark.postgres
def test_api_record_count_is_the_planners_estimate_past_the_bound(as_role, market, monkeypatch):
    monkeypatch.setattr(Pagination, "exact_up_to", 5)
    orders_in(market, 30)
    response, statements = run(as_role("admin").get, api_path(market) + "&page[number]=2")
    assert any(sql.startswith("EXPLAIN") for sql in statements)
    assert unbounded_counts(statements) == []
    assert response.doc["meta"]["record_count"] >= 6
    # a page past the estimate is still read, not answered empty unseen
    assert len(response.doc["data"]) == 5


@pytest.mark.postgres
def test_admin_count_is_the_planners_estimate_past_the_bound(staff_client, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "exact_up_to", 5)
    market = factories.MarketFactory.create()
    orders_in(market, 30)
    response, statements = run(staff_client.get, admin_path(market))
    assert any(sql.startswith("EXPLAIN") for sql in statements)
    assert unbounded_counts(statements) == []
    assert response.context["cl"].paginator.list_count.exact is False


def test_list_count_is_exact_up_to_the_bound():
    market = factories.MarketFactory.create()
    orders_in(market, 4)
    assert list_count(Order.objects.all(), exact_up_to=4) == ListCount(4, exact=True)
    above = list_count(Order.objects.all(), exact_up_to=2)
    if on_postgres():
        assert above.exact is False
        assert above.value >= 3
    else:  # no planner estimate on SQLite: counted
        assert above == ListCount(4, exact=True)


def test_pages_past_an_estimate_are_served():
    market = factories.MarketFactory.create()
    orders = orders_in(market, 30)
    paginator = EstimatedCountPaginator(Order.objects.order_by("number"), 10)
    paginator.__dict__["list_count"] = ListCount(12, exact=False)  # the planner guessed low
    assert paginator.num_pages == 2
    assert list(paginator.page(3).object_list) == orders[20:]
    assert list(paginator.page(4).object_list) == []


def test_the_list_indexes_are_declared():
    names = {index.name for index in Order._meta.indexes}
    assert {"order_list_status_placed", "order_placed_at_set"} <= names
    # the plain placed_at index is gone: it put every cart before the first placed order
    _, _, _, options = Order._meta.get_field("placed_at").deconstruct()
    assert "db_index" not in options


def test_an_api_list_whose_first_page_holds_it_all_is_not_counted(as_role, market):
    api = as_role("admin")
    orders_in(market, 30)
    for page, listed in ((1, 25), (2, 5), (3, 0)):  # more than a page: counted
        response, statements = run(api.get, api_path(market) + f"&page[number]={page}")
        assert len(response.doc["data"]) == listed
        assert response.doc["meta"] == {"record_count": 30, "page_count": 2}
        assert [sql for sql in statements if sql.startswith("SELECT COUNT(")], statements
    few, none = factories.MarketFactory.create(), factories.MarketFactory.create()
    orders_in(few, 3)
    for other, total in ((few, 3), (none, 0)):
        response, statements = run(api.get, api_path(other))
        assert len(response.doc["data"]) == total
        assert response.doc["meta"] == {"record_count": total, "page_count": min(total, 1)}
        assert not [sql for sql in statements if sql.startswith("SELECT COUNT(")], statements


@pytest.mark.parametrize("number", ["1000", "10000000000000000000", "99999999999999999999999"])
def test_a_page_far_past_the_end_of_a_list_is_empty_not_an_error(as_role, market, number):
    orders_in(market, 3)
    for api, path in ((as_role("admin"), "/api/orders"), (as_role("sales_channel"), "/api/skus")):
        response = api.get(f"{path}?page[number]={number}")
        assert response.status_code == 200, response.doc
        assert response.doc["data"] == []
    response = as_role("admin").get(api_path(market) + f"&page[number]={number}")
    assert response.doc["meta"] == {"record_count": 3, "page_count": 1}


@pytest.mark.postgres
def test_a_page_far_past_an_estimated_list_is_refused_not_an_error(as_role, market, monkeypatch):
    monkeypatch.setattr(Pagination, "exact_up_to", 5)
    orders_in(market, 30)
    response = as_role("admin").get(api_path(market) + "&page[number]=10000000000000000000")
    assert response.status_code == 400, response.doc
    assert response.doc["errors"][0]["code"] == "INVALID_PAGE_VALUE"
