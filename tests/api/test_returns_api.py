"""`/api/returns` and `/api/return_line_items` (spec sections 5 and 7): the back office walks a
return of a fulfilled order through its whole life with triggers sent with PATCH; a customer
opens, fills, requests and cancels its own; nobody else sees one, by id, in a list, through
`include` or a related endpoint; bad input is a JSON:API error with its stable code and pointer
that changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.models import Return, ReturnLineItem, StockItem
from markets.models import Market
from oms.api.principal import Principal
from oms.webhooks.services import payload_render
from orders.models import Customer, LineItem, Order
from orders.services.returns import order_return_create
from payments.models import Transaction
from tests import factories
from tests.api.conftest import Api, doc
from tests.fulfillment import factories as stock
from tests.fulfillment.return_factories import (
    order_fulfilled,
    return_lines,
    return_with_lines,
    sku_lines,
)
from tests.orders.factories import STAFF, CustomerFactory, order_in_status

pytestmark = pytest.mark.django_db


# --- clients and documents ---------------------------------------------------------------------


def admin() -> Api:
    return Api(Principal("app-admin", "integration", role="admin"))


def read_only() -> Api:
    return Api(Principal("app-read-only", "integration", role="read_only"))


def sales_channel(market: Market) -> Api:
    return Api(Principal("app-sc", "sales_channel", market_ids=(market.pk,)))


def customer(market: Market, buyer: Customer) -> Api:
    return Api(Principal("app-sc", "sales_channel", market_ids=(market.pk,), customer_id=buyer.pk))


def return_create(api: Api, order: Order, attributes: dict[str, Any] | None = None, **rels: Any):
    return api.post("/api/returns", doc("returns", attributes, order=("orders", order.pk), **rels))


def return_patch(api: Api, ret_id: str, attributes: dict[str, Any], **rels: Any):
    return api.patch(f"/api/returns/{ret_id}", doc("returns", attributes, ret_id, **rels))


def line_create(api: Api, ret_id: str, line_item_id: str, attributes: dict[str, Any]):
    relationships: dict[str, Any] = {
        "return": ("returns", ret_id),
        "line_item": ("line_items", line_item_id),
    }
    return api.post("/api/return_line_items", doc("return_line_items", attributes, **relationships))


def line_patch(api: Api, line_id: str, attributes: dict[str, Any]):
    return api.patch(
        f"/api/return_line_items/{line_id}", doc("return_line_items", attributes, line_id)
    )


def assert_error(response: Any, status: int, code: str, pointer: str | None = None) -> None:
    assert response.status_code == status, (response.status_code, response.doc)
    error = response.doc["errors"][0]
    assert error["code"] == code, response.doc
    if pointer is not None:
        assert error.get("source", {}).get("pointer") == pointer, response.doc


def attributes(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), (response.status_code, response.doc)
    result: dict[str, Any] = response.doc["data"]["attributes"]
    return result


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, (response.status_code, response.doc)
    return [record["id"] for record in response.doc["data"]]


def included(response: Any, resource_type: str) -> set[str]:
    return {r["id"] for r in response.doc.get("included", []) if r["type"] == resource_type}


def refunds_of(order: Order) -> list[int]:
    return list(
        Transaction.objects.filter(order=order, type="refunds", status="succeeded")
        .order_by("created_at")
        .values_list("amount_cents", flat=True)
    )


# --- the back office runs the whole life -------------------------------------------------------


def test_the_back_office_walks_a_return_from_draft_to_refunded():
    order = order_fulfilled(amounts=(1000, 2500), quantity=2)
    first, second = sku_lines(order)
    api = admin()

    created = return_create(api, order, {"reference": "RMA-1", "metadata": {"ticket": 7}})
    assert created.status_code == 201, created.doc
    ret_id = created.doc["data"]["id"]
    assert attributes(created)["number"] == f"{order.number}/R/001"
    assert attributes(created)["status"] == "draft"
    assert attributes(created)["customer_email"] == order.customer_email
    assert attributes(created)["skus_count"] == 0
    assert attributes(created)["reference"] == "RMA-1"
    assert created.doc["data"]["relationships"]["order"]["data"] == {
        "type": "orders",
        "id": order.pk,
    }

    one = line_create(api, ret_id, first.pk, {"quantity": 1, "return_reason": {"size": "small"}})
    assert one.status_code == 201, one.doc
    line = attributes(one)
    assert (line["sku_code"], line["name"], line["quantity"]) == (
        first.sku_code,
        first.name,
        1,
    )
    assert line["total_amount_cents"] == 1000
    assert line["total_amount_float"] == 10.0
    assert line["formatted_total_amount"] == "€10.00"
    assert line["return_reason"] == {"size": "small"}
    assert line["restocked_at"] is None
    two = line_create(api, ret_id, second.pk, {"quantity": 2})
    assert attributes(two)["total_amount_cents"] == 5000

    current = attributes(api.get(f"/api/returns/{ret_id}"))
    assert current["skus_count"] == 3
    assert current["estimated_refund_amount_cents"] == 6000
    assert current["formatted_estimated_refund_amount"] == "€60.00"

    for trigger, status, stamp in (
        ("_request", "requested", None),
        ("_approve", "approved", "approved_at"),
        ("_ship", "shipped", "shipped_at"),
        ("_receive", "received", "received_at"),
    ):
        moved = attributes(return_patch(api, ret_id, {trigger: True}))
        assert moved["status"] == status, trigger
        if stamp:
            assert moved[stamp] is not None, stamp
    assert moved["cancelled_at"] is None
    assert moved["rejected_at"] is None

    location = Return.objects.get(pk=ret_id).stock_location
    before = {
        item.sku_id: item.quantity for item in StockItem.objects.filter(stock_location=location)
    }
    restocked = api.get(f"/api/returns/{ret_id}/return_line_items")
    assert {r["attributes"]["restocked_at"] for r in restocked.doc["data"]} == {None}
    assert return_patch(api, ret_id, {"_restock": True}).status_code == 200
    after = {
        item.sku_id: item.quantity for item in StockItem.objects.filter(stock_location=location)
    }
    assert first.sku_id is not None
    assert second.sku_id is not None
    assert after[first.sku_id] == before[first.sku_id] + 1
    assert after[second.sku_id] == before[second.sku_id] + 2
    lines = api.get(f"/api/returns/{ret_id}/return_line_items")
    assert all(r["attributes"]["restocked_at"] for r in lines.doc["data"])

    refunded = return_patch(api, ret_id, {"_refund": True})
    assert attributes(refunded)["status"] == "refunded"
    assert attributes(refunded)["refunded_at"] is not None
    refund_id = refunded.doc["data"]["relationships"]["reference_refund"]["data"]["id"]
    refund = Transaction.objects.get(pk=refund_id)
    assert (refund.type, refund.amount_cents, refund.succeeded) == ("refunds", 6000, True)
    order_now = attributes(admin().get(f"/api/orders/{order.pk}"))
    assert order_now["payment_status"] == "partially_refunded"
    assert order_now["status"] == "approved"  # a return never moves the order


def test_refund_amount_cents_alone_refunds_that_amount_once():
    order = order_fulfilled(amounts=(1000,), quantity=2)
    ret = return_with_lines(order, to="received")
    api = admin()
    refunded = return_patch(api, ret.pk, {"_refund_amount_cents": 400})
    assert attributes(refunded)["status"] == "refunded"
    assert refunds_of(order) == [400]
    again = return_patch(api, ret.pk, {"_refund": True, "_refund_amount_cents": 100})
    assert_error(again, 422, "TRANSITION_NOT_ALLOWED", "/data/attributes/_refund")
    assert refunds_of(order) == [400]


def test_a_return_of_everything_refunds_the_order_in_full():
    order = order_fulfilled(amounts=(1500,), quantity=1)
    ret = return_with_lines(order, to="received")
    refunded = return_patch(admin(), ret.pk, {"_refund": True})
    assert attributes(refunded)["status"] == "refunded"
    assert refunds_of(order) == [1500]
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.REFUNDED


def test_a_refund_retried_with_its_idempotency_key_moves_money_once():
    order = order_fulfilled(amounts=(1000,), quantity=1)
    ret = return_with_lines(order, to="received")
    api = admin()
    body = doc("returns", {"_refund": True}, ret.pk)
    first = api.patch(f"/api/returns/{ret.pk}", body, HTTP_IDEMPOTENCY_KEY="refund-rma-1")
    second = api.patch(f"/api/returns/{ret.pk}", body, HTTP_IDEMPOTENCY_KEY="refund-rma-1")
    assert first.status_code == second.status_code == 200, (first.doc, second.doc)
    assert second.doc == first.doc
    assert refunds_of(order) == [1000]


def test_cancel_reject_and_archive_stamp_their_times():
    order = order_fulfilled(quantity=3)
    api = admin()
    draft = return_with_lines(order)
    cancelled = attributes(return_patch(api, draft.pk, {"_cancel": True}))
    assert (cancelled["status"], bool(cancelled["cancelled_at"])) == ("cancelled", True)
    shipped = return_with_lines(order, to="shipped")
    rejected = attributes(return_patch(api, shipped.pk, {"_reject": True}))
    assert (rejected["status"], bool(rejected["rejected_at"])) == ("rejected", True)

    archived = attributes(return_patch(api, shipped.pk, {"_archive": True}))
    assert archived["archived_at"] is not None
    assert ids(api.get("/api/returns")) == [draft.pk]  # archived returns leave the list
    assert ids(api.get("/api/returns?filter[q][archived_at_not_null]=true")) == [shipped.pk]
    assert ids(api.get(f"/api/orders/{order.pk}/returns")) == [draft.pk]
    assert attributes(api.get(f"/api/returns/{shipped.pk}"))["archived_at"] is not None
    unarchived = attributes(return_patch(api, shipped.pk, {"_unarchive": True}))
    assert unarchived["archived_at"] is None
    assert set(ids(api.get("/api/returns"))) == {draft.pk, shipped.pk}


def test_a_line_restocks_once_with_its_own_trigger():
    order = order_fulfilled(quantity=2)
    ret = return_with_lines(order, quantity=2, to="received")
    [line] = return_lines(ret)
    item = StockItem.objects.get(sku=line.line_item.sku, stock_location=ret.stock_location)
    api = admin()
    restocked = attributes(line_patch(api, line.pk, {"_restock": True}))
    assert restocked["restocked_at"] is not None
    again = line_patch(api, line.pk, {"_restock": True})
    assert_error(again, 422, "ALREADY_RESTOCKED", "/data/attributes/_restock")
    assert_error(
        return_patch(api, ret.pk, {"_restock": True}),
        422,
        "ALREADY_RESTOCKED",
        "/data/attributes/_restock",
    )
    assert StockItem.objects.get(pk=item.pk).quantity == item.quantity + 2


def test_the_back_office_changes_where_a_return_goes_until_it_is_received():
    order = order_fulfilled()
    ret = return_with_lines(order, to="approved")
    elsewhere = stock.StockLocationFactory.create()
    api = admin()
    moved = return_patch(api, ret.pk, {}, stock_location=("stock_locations", elsewhere.pk))
    assert moved.status_code == 200, moved.doc
    assert moved.doc["data"]["relationships"]["stock_location"]["data"]["id"] == elsewhere.pk
    included_address = api.get(f"/api/returns/{ret.pk}?include=destination_address")
    assert included(included_address, "addresses") == {elsewhere.address_id}
    return_patch(api, ret.pk, {"_ship": True})
    return_patch(api, ret.pk, {"_receive": True})
    late = return_patch(api, ret.pk, {}, stock_location=("stock_locations", elsewhere.pk))
    assert_error(late, 422, "RETURN_NOT_EDITABLE", "/data/relationships/stock_location")


def test_filters_sorts_and_related_lists():
    order = order_fulfilled(quantity=3)
    other = order_fulfilled(market=order.market)
    api = admin()
    first = return_with_lines(order, to="requested")
    second = return_with_lines(order)
    third = return_with_lines(other, to="approved")
    assert ids(api.get("/api/returns?filter[q][status_eq]=requested")) == [first.pk]
    assert set(ids(api.get(f"/api/returns?filter[q][order_id_eq]={order.pk}"))) == {
        first.pk,
        second.pk,
    }
    assert ids(api.get(f"/api/returns?filter[q][number_eq]={third.number}")) == [third.pk]
    assert ids(api.get("/api/returns?filter[q][approved_at_null]=false")) == [third.pk]
    assert ids(api.get("/api/returns?sort=number&filter[q][order_id_eq]=" + order.pk)) == [
        first.pk,
        second.pk,
    ]
    response = api.get("/api/returns?filter[q][skus_total_eq]=1")
    assert_error(response, 400, "FILTER_NOT_ALLOWED")
    assert set(ids(api.get(f"/api/orders/{order.pk}/returns"))) == {first.pk, second.pk}
    relationship = api.get(f"/api/orders/{order.pk}/relationships/returns")
    assert {r["id"] for r in relationship.doc["data"]} == {first.pk, second.pk}
    [line] = sku_lines(order)
    assert set(ids(api.get(f"/api/line_items/{line.pk}/return_line_items"))) == {
        rli.pk for rli in ReturnLineItem.objects.filter(line_item=line)
    }
    assert ids(api.get(f"/api/returns/{first.pk}/return_line_items")) == [
        rli.pk for rli in return_lines(first)
    ]
    assert order.customer is not None
    assert set(ids(api.get(f"/api/customers/{order.customer.pk}/returns"))) == {
        first.pk,
        second.pk,
    }


def test_includes_render_the_return_its_lines_and_what_they_point_at():
    order = order_fulfilled(amounts=(1000, 2000))
    ret = return_with_lines(order, to="approved")
    api = admin()
    response = api.get(
        f"/api/returns/{ret.pk}?include=order,customer,origin_address,destination_address,"
        "stock_location,return_line_items.line_item"
    )
    assert response.status_code == 200, response.doc
    relationships = response.doc["data"]["relationships"]
    assert relationships["customer"]["data"] == {"type": "customers", "id": order.customer_id}
    assert relationships["origin_address"]["data"]["id"] == order.shipping_address_id
    assert ret.stock_location is not None
    assert relationships["destination_address"]["data"]["id"] == ret.stock_location.address_id
    assert {r["id"] for r in relationships["return_line_items"]["data"]} == {
        rli.pk for rli in return_lines(ret)
    }
    assert included(response, "line_items") == {line.pk for line in sku_lines(order)}
    assert included(response, "orders") == {order.pk}
    assert included(response, "customers") == {order.customer_id}
    with_returns = api.get(f"/api/orders/{order.pk}?include=returns.return_line_items")
    assert included(with_returns, "returns") == {ret.pk}
    assert len(included(with_returns, "return_line_items")) == 2
    [rendered] = [r for r in with_returns.doc["included"] if r["type"] == "returns"]
    assert rendered["attributes"]["skus_count"] == 2
    line = api.get(f"/api/return_line_items/{return_lines(ret)[0].pk}?include=return,line_item")
    assert included(line, "returns") == {ret.pk}
    [rendered] = [r for r in line.doc["included"] if r["type"] == "returns"]
    assert rendered["attributes"]["estimated_refund_amount_cents"] == 3000
    for name in ("order", "customer", "origin_address", "destination_address", "stock_location"):
        related = api.get(f"/api/returns/{ret.pk}/{name}")
        assert related.status_code == 200, (name, related.doc)
        assert related.doc["data"] is not None, name


def test_a_return_webhook_carries_the_return_document():
    order = order_fulfilled(amounts=(1000, 2000))
    ret = return_with_lines(order, to="received")
    body = payload_render(
        resource_type="returns", resource_id=ret.pk, include=["return_line_items"]
    )
    assert body is not None
    document = json.loads(body)
    assert (document["data"]["type"], document["data"]["id"]) == ("returns", ret.pk)
    assert document["data"]["attributes"]["status"] == "received"
    assert {r["id"] for r in document["included"]} == {rli.pk for rli in return_lines(ret)}


# --- roles -------------------------------------------------------------------------------------


@dataclass
class Shop:
    market_a: Market
    market_b: Market
    ada: Customer
    bob: Customer
    ada_order: Order  # fulfilled, market A
    bob_order: Order  # fulfilled, market A
    ada_order_b: Order  # fulfilled, market B
    ada_return: Return  # draft, a unit of each line of ada_order
    bob_return: Return  # requested
    ada_return_b: Return  # draft, market B


@pytest.fixture
def shop() -> Shop:
    market_a = factories.MarketFactory.create(code="eu")
    market_b = factories.MarketFactory.create(code="us")
    ada = CustomerFactory.create(email="ada@example.com")
    bob = CustomerFactory.create(email="bob@example.com")
    ada_order = order_fulfilled(market=market_a, quantity=3, customer_email=ada.email)
    bob_order = order_fulfilled(market=market_a, customer_email=bob.email)
    ada_order_b = order_fulfilled(market=market_b, customer_email=ada.email)
    return Shop(
        market_a=market_a,
        market_b=market_b,
        ada=ada,
        bob=bob,
        ada_order=ada_order,
        bob_order=bob_order,
        ada_order_b=ada_order_b,
        ada_return=return_with_lines(ada_order),
        bob_return=return_with_lines(bob_order, to="requested"),
        ada_return_b=return_with_lines(ada_order_b),
    )


def test_a_customer_opens_fills_requests_and_cancels_its_own_return(shop):
    api = customer(shop.market_a, shop.ada)
    [line] = sku_lines(shop.ada_order)
    created = return_create(api, shop.ada_order)
    assert created.status_code == 201, created.doc
    ret_id = created.doc["data"]["id"]
    added = line_create(api, ret_id, line.pk, {"quantity": 1})
    assert added.status_code == 201, added.doc
    line_id = added.doc["data"]["id"]
    assert attributes(line_patch(api, line_id, {"quantity": 2}))["quantity"] == 2
    assert api.delete(f"/api/return_line_items/{line_id}").status_code == 204
    # the other draft claims a unit of the three shipped: two are left
    too_many = line_create(api, ret_id, line.pk, {"quantity": 3})
    assert_error(too_many, 422, "RETURN_QUANTITY_EXCEEDED", "/data/attributes/quantity")
    added = line_create(api, ret_id, line.pk, {"quantity": 1, "return_reason": {"why": "gift"}})
    assert added.status_code == 201, added.doc
    line_id = added.doc["data"]["id"]

    requested = attributes(return_patch(api, ret_id, {"_request": True}))
    assert requested["status"] == "requested"
    late = line_patch(api, line_id, {"quantity": 1, "return_reason": {}})
    assert late.status_code == 200  # the same quantity: only the reason changes
    late = line_patch(api, line_id, {"quantity": 2})
    assert_error(late, 422, "RETURN_NOT_EDITABLE")
    assert_error(api.delete(f"/api/return_line_items/{line_id}"), 422, "RETURN_NOT_EDITABLE")
    cancelled = attributes(return_patch(api, ret_id, {"_cancel": True}))
    assert cancelled["status"] == "cancelled"

    mine = ids(api.get("/api/returns"))
    assert set(mine) == {ret_id, shop.ada_return.pk}  # not Bob's, not market B's
    assert set(ids(api.get("/api/return_line_items"))) == {
        line_id,
        *(rli.pk for rli in return_lines(shop.ada_return)),
    }


@pytest.mark.parametrize(
    "attributes_sent",
    [
        {"_approve": True},
        {"_reject": True},
        {"_ship": True},
        {"_receive": True},
        {"_restock": True},
        {"_refund": True},
        {"_refund_amount_cents": 100},
        {"_archive": True},
        {"_unarchive": True},
        {"_request": True, "_approve": True},
    ],
    ids=lambda attributes_sent: ",".join(attributes_sent),
)
def test_a_customer_sends_no_back_office_trigger(shop, attributes_sent):
    api = customer(shop.market_a, shop.bob)
    response = return_patch(api, shop.bob_return.pk, attributes_sent)
    refused = next(name for name in attributes_sent if name != "_request")
    assert_error(response, 401, "UNAUTHORIZED", f"/data/attributes/{refused}")
    ret = Return.objects.get(pk=shop.bob_return.pk)
    assert (ret.status, ret.archived_at, ret.reference_refund_id) == ("requested", None, None)


def test_a_customer_chooses_neither_the_stock_location_nor_the_capture(shop):
    api = customer(shop.market_a, shop.ada)
    location = stock.StockLocationFactory.create()
    capture = Transaction.objects.get(order=shop.ada_order, type="captures")
    before = Return.objects.count()
    choices: list[dict[str, Any]] = [
        {"stock_location": ("stock_locations", location.pk)},
        {"reference_capture": ("captures", capture.pk)},
    ]
    for rels in choices:
        [name] = rels
        response = return_create(api, shop.ada_order, **rels)
        assert_error(response, 401, "UNAUTHORIZED", f"/data/relationships/{name}")
        response = return_patch(api, shop.ada_return.pk, {}, **rels)
        assert_error(response, 401, "UNAUTHORIZED", f"/data/relationships/{name}")
    assert Return.objects.count() == before
    ret = Return.objects.get(pk=shop.ada_return.pk)
    assert ret.stock_location_id != location.pk
    assert ret.reference_capture_id is None
    [line] = return_lines(shop.ada_return)
    restock = line_patch(api, line.pk, {"_restock": True})
    assert_error(restock, 401, "UNAUTHORIZED", "/data/attributes/_restock")


def leaks(response: Any, *secret_ids: str) -> list[str]:
    """The ids among `secret_ids` the response's body names."""
    body = response.content.decode()
    return [secret for secret in secret_ids if secret in body]


def test_another_customers_return_is_nowhere_to_be_found(shop):
    api = customer(shop.market_a, shop.bob)
    ada_return = shop.ada_return
    [ada_line] = return_lines(ada_return)
    secrets = (ada_return.pk, ada_line.pk, shop.ada_return_b.pk)
    for path in (
        f"/api/returns/{ada_return.pk}",
        f"/api/returns/{ada_return.pk}/return_line_items",
        f"/api/returns/{ada_return.pk}/relationships/return_line_items",
        f"/api/returns/{ada_return.pk}/order",
        f"/api/returns/{ada_return.pk}/customer",
        f"/api/returns/{ada_return.pk}/destination_address",
        f"/api/return_line_items/{ada_line.pk}",
        f"/api/return_line_items/{ada_line.pk}/return",
        f"/api/orders/{shop.ada_order.pk}/returns",
        f"/api/orders/{shop.ada_order.pk}?include=returns",
        f"/api/line_items/{ada_line.line_item_id}/return_line_items",
        f"/api/customers/{shop.ada.pk}/returns",
    ):
        response = api.get(path)
        assert response.status_code == 404, (path, response.status_code, response.doc)
        assert not leaks(response, *secrets), path
    for path in (
        "/api/returns",
        "/api/returns?include=return_line_items",
        "/api/return_line_items?include=return",
        f"/api/returns?filter[q][order_id_eq]={shop.ada_order.pk}",
        f"/api/orders/{shop.bob_order.pk}?include=returns.return_line_items,line_items.return_line_items",
        f"/api/customers/{shop.bob.pk}/returns",
    ):
        response = api.get(path)
        assert response.status_code == 200, (path, response.doc)
        assert not leaks(response, *secrets), path
    assert ids(api.get("/api/returns")) == [shop.bob_return.pk]

    for response in (
        return_patch(api, ada_return.pk, {"_cancel": True}),
        line_patch(api, ada_line.pk, {"quantity": 2}),
        api.delete(f"/api/return_line_items/{ada_line.pk}"),
    ):
        assert_error(response, 404, "RECORD_NOT_FOUND")
    [bob_line] = sku_lines(shop.bob_order)
    for response, pointer in (
        (return_create(api, shop.ada_order), "/data/relationships/order"),
        (line_create(api, ada_return.pk, ada_line.line_item_id, {"quantity": 1}), None),
        (line_create(api, ada_return.pk, bob_line.pk, {"quantity": 1}), None),
    ):
        assert_error(response, 401, "UNAUTHORIZED", pointer)
    assert Return.objects.get(pk=ada_return.pk).status == "draft"
    assert list(ReturnLineItem.objects.filter(order_return=ada_return)) == [ada_line]
    assert Return.objects.filter(order=shop.ada_order).count() == 1


def test_a_line_of_another_customers_order_is_refused_on_ones_own_return(shop):
    api = customer(shop.market_a, shop.ada)
    [bob_line] = sku_lines(shop.bob_order)
    response = line_create(api, shop.ada_return.pk, bob_line.pk, {"quantity": 1})
    assert_error(response, 422, "VALIDATION_ERROR", "/data/relationships/line_item")
    assert ReturnLineItem.objects.filter(line_item=bob_line).count() == 1  # Bob's own


def test_nothing_crosses_markets(shop):
    api = customer(shop.market_b, shop.ada)  # Ada, logged in through market B's storefront
    assert ids(api.get("/api/returns")) == [shop.ada_return_b.pk]
    assert_error(api.get(f"/api/returns/{shop.ada_return.pk}"), 404, "RECORD_NOT_FOUND")
    assert set(ids(api.get(f"/api/customers/{shop.ada.pk}/returns"))) == {shop.ada_return_b.pk}
    response = return_create(api, shop.ada_order)
    assert_error(response, 401, "UNAUTHORIZED", "/data/relationships/order")
    [line] = sku_lines(shop.ada_order)
    response = line_create(api, shop.ada_return.pk, line.pk, {"quantity": 1})
    assert_error(response, 401, "UNAUTHORIZED", "/data/relationships/return")
    assert Return.objects.filter(order=shop.ada_order).count() == 1


def test_a_sales_channel_neither_opens_nor_sees_a_return(shop):
    api = sales_channel(shop.market_a)
    placed = order_in_status(Order.Status.PLACED, market=shop.market_a)
    [line] = return_lines(shop.ada_return)
    for path in (
        "/api/returns",
        f"/api/returns/{shop.ada_return.pk}",
        f"/api/returns/{shop.ada_return.pk}/return_line_items",
        "/api/return_line_items",
        f"/api/return_line_items/{line.pk}",
        f"/api/orders/{placed.pk}/returns",
        f"/api/orders/{placed.pk}?include=returns",
        f"/api/orders/{placed.pk}?include=line_items.return_line_items",
    ):
        response = api.get(path)
        assert response.status_code in (401, 404), (path, response.status_code, response.doc)
        assert not leaks(response, shop.ada_return.pk, line.pk), path
    assert_error(return_create(api, shop.ada_order), 401, "UNAUTHORIZED")
    assert_error(return_patch(api, shop.ada_return.pk, {"_cancel": True}), 401, "UNAUTHORIZED")
    assert Return.objects.get(pk=shop.ada_return.pk).status == "draft"


def test_a_read_only_integration_reads_and_changes_nothing(shop):
    api = read_only()
    assert set(ids(api.get("/api/returns"))) == {
        shop.ada_return.pk,
        shop.bob_return.pk,
        shop.ada_return_b.pk,
    }
    assert attributes(api.get(f"/api/returns/{shop.bob_return.pk}"))["status"] == "requested"
    [line] = return_lines(shop.ada_return)
    assert attributes(api.get(f"/api/return_line_items/{line.pk}"))["quantity"] == 1
    for response in (
        return_create(api, shop.ada_order),
        return_patch(api, shop.bob_return.pk, {"_approve": True}),
        line_patch(api, line.pk, {"quantity": 2}),
        api.delete(f"/api/return_line_items/{line.pk}"),
        line_create(api, shop.ada_return.pk, line.line_item_id, {"quantity": 1}),
    ):
        assert_error(response, 401, "UNAUTHORIZED")
    assert Return.objects.get(pk=shop.bob_return.pk).status == "requested"
    assert ReturnLineItem.objects.get(pk=line.pk).quantity == 1
    assert Return.objects.count() == 3


def test_a_customer_reads_where_its_return_goes_but_cannot_change_it(shop):
    api = customer(shop.market_a, shop.ada)
    location = shop.ada_return.stock_location
    assert location is not None
    response = api.get(f"/api/returns/{shop.ada_return.pk}?include=destination_address,customer")
    assert included(response, "addresses") == {location.address_id}
    assert included(response, "customers") == {shop.ada.pk}
    related = api.get(f"/api/returns/{shop.ada_return.pk}/destination_address")
    assert related.status_code == 200, related.doc
    assert related.doc["data"]["id"] == location.address_id
    changed = api.patch(
        f"/api/addresses/{location.address_id}",
        doc("addresses", {"city": "Elsewhere"}, location.address_id),
    )
    assert changed.status_code == 422, changed.doc
    location.address.refresh_from_db()
    assert location.address.city != "Elsewhere"
    # Bob's return goes to the same place, which Bob's token may read, Ada's through hers only
    bob = customer(shop.market_a, shop.bob)
    assert bob.get(f"/api/addresses/{location.address_id}").status_code == 200
    stranger = CustomerFactory.create()
    nobody = customer(shop.market_a, stranger)
    assert nobody.get(f"/api/addresses/{location.address_id}").status_code == 404


# --- bad input ---------------------------------------------------------------------------------


@pytest.fixture
def draft() -> Return:
    order = order_fulfilled(quantity=2)
    return return_with_lines(order, quantity=1)


@pytest.mark.parametrize(
    ("case", "status", "code", "pointer"),
    [
        ("unknown line item", 422, "VALIDATION_ERROR", "/data/relationships/line_item"),
        ("another order's line", 422, "VALIDATION_ERROR", "/data/relationships/line_item"),
        ("a shipping line", 422, "VALIDATION_ERROR", "/data/relationships/line_item"),
        ("unknown return", 422, "VALIDATION_ERROR", "/data/relationships/return"),
        ("no return", 422, "VALIDATION_ERROR", "/data/relationships/return"),
        ("quantity 0", 422, "VALIDATION_ERROR", "/data/attributes/quantity"),
        ("quantity -1", 422, "VALIDATION_ERROR", "/data/attributes/quantity"),
        ("quantity text", 422, "VALIDATION_ERROR", "/data/attributes/quantity"),
        ("no quantity", 422, "VALIDATION_ERROR", "/data/attributes/quantity"),
        ("more than shipped", 422, "RETURN_QUANTITY_EXCEEDED", "/data/attributes/quantity"),
        ("a huge quantity", 422, "VALIDATION_ERROR", "/data/attributes/quantity"),
        ("the same line twice", 422, "VALIDATION_ERROR", "/data/relationships/line_item"),
        ("a reason that is no object", 422, "VALIDATION_ERROR", "/data/attributes/return_reason"),
        ("a restock on create", 400, "PARAM_NOT_ALLOWED", "/data/attributes/_restock"),
    ],
)
def test_a_bad_return_line_is_refused_with_its_pointer(draft, case, status, code, pointer):
    order = draft.order
    [line] = sku_lines(order)
    attributes_sent: dict[str, Any] = {"quantity": 1}
    # an empty draft of the same order (the `draft` fixture claims one of the two units)
    target = (
        draft if case == "the same line twice" else order_return_create(order=order, actor=STAFF)
    )
    relationships: dict[str, Any] = {
        "return": ("returns", target.pk),
        "line_item": ("line_items", line.pk),
    }
    match case:
        case "unknown line item":
            relationships["line_item"] = ("line_items", "nosuchline")
        case "another order's line":
            other = order_fulfilled(market=order.market)
            relationships["line_item"] = ("line_items", sku_lines(other)[0].pk)
        case "a shipping line":
            shipping = LineItem.objects.filter(order=order).exclude(item_type="skus").first()
            assert shipping is not None
            relationships["line_item"] = ("line_items", shipping.pk)
        case "unknown return":
            relationships["return"] = ("returns", "nosuchreturn")
        case "no return":
            relationships["return"] = None
        case "quantity 0":
            attributes_sent = {"quantity": 0}
        case "quantity -1":
            attributes_sent = {"quantity": -1}
        case "quantity text":
            attributes_sent = {"quantity": "two"}
        case "no quantity":
            attributes_sent = {}
        case "more than shipped":
            attributes_sent = {"quantity": 2}
        case "a huge quantity":
            attributes_sent = {"quantity": 10**30}
        case "a reason that is no object":
            attributes_sent = {"quantity": 1, "return_reason": ["wrong", "size"]}
        case "a restock on create":
            attributes_sent = {"quantity": 1, "_restock": True}
    before = ReturnLineItem.objects.count()
    response = admin().post(
        "/api/return_line_items", doc("return_line_items", attributes_sent, **relationships)
    )
    assert_error(response, status, code, pointer)
    assert ReturnLineItem.objects.count() == before


@pytest.mark.parametrize(
    ("status", "sent", "code"),
    [
        ("draft", {"_approve": True}, "TRANSITION_NOT_ALLOWED"),
        ("draft", {"_receive": True}, "TRANSITION_NOT_ALLOWED"),
        ("requested", {"_ship": True}, "TRANSITION_NOT_ALLOWED"),
        ("approved", {"_restock": True}, "TRANSITION_NOT_ALLOWED"),
        ("shipped", {"_refund": True}, "TRANSITION_NOT_ALLOWED"),
        ("shipped", {"_cancel": True}, "TRANSITION_NOT_ALLOWED"),
        ("cancelled", {"_request": True}, "TRANSITION_NOT_ALLOWED"),
        ("received", {"_refund_amount_cents": 10**9}, "INSUFFICIENT_REFUND_BALANCE"),
    ],
    ids=lambda value: value if isinstance(value, str) else ",".join(value),
)
def test_a_trigger_in_the_wrong_status_is_refused_and_changes_nothing(status, sent, code):
    order = order_fulfilled()
    ret = return_with_lines(order, to=status)
    [name] = sent
    # a refund runs after the rest of its request is committed (it calls the gateway): the
    # other triggers are refused together with what their request changes
    money = name.startswith("_refund")
    response = return_patch(admin(), ret.pk, sent if money else {"reference": "new", **sent})
    assert_error(response, 422, code, f"/data/attributes/{name}")
    current = Return.objects.get(pk=ret.pk)
    assert (current.status, current.reference) == (status, "")
    assert refunds_of(order) == []


def test_an_empty_return_cannot_be_requested():
    order = order_fulfilled()
    ret = order_return_create(order=order, actor=STAFF)
    response = return_patch(admin(), ret.pk, {"_request": True})
    assert_error(response, 422, "RETURN_EMPTY", "/data/attributes/_request")


@pytest.mark.parametrize("amount", [-500, 0, 12.5, "ten", True, None])
def test_a_refund_amount_that_is_no_positive_integer_is_refused(amount):
    order = order_fulfilled()
    ret = return_with_lines(order, to="received")
    response = return_patch(admin(), ret.pk, {"_refund_amount_cents": amount})
    assert_error(response, 422, "VALIDATION_ERROR", "/data/attributes/_refund_amount_cents")
    assert Return.objects.get(pk=ret.pk).status == "received"
    assert refunds_of(order) == []


@pytest.mark.parametrize(
    ("case", "status", "code", "pointer"),
    [
        ("an order not fulfilled", 422, "RETURN_NOT_ALLOWED", "/data/relationships/order"),
        ("no order", 422, "VALIDATION_ERROR", "/data/relationships/order"),
        ("an unknown order", 422, "VALIDATION_ERROR", "/data/relationships/order"),
        (
            "a capture of another order",
            422,
            "VALIDATION_ERROR",
            "/data/relationships/reference_capture",
        ),
        ("a trigger on create", 400, "PARAM_NOT_ALLOWED", "/data/attributes/_request"),
        ("a status", 400, "PARAM_NOT_ALLOWED", "/data/attributes/status"),
        ("metadata that is no object", 422, "VALIDATION_ERROR", "/data/attributes/metadata"),
    ],
)
def test_a_bad_return_is_refused_with_its_pointer(case, status, code, pointer):
    order = order_fulfilled()
    attributes_sent: dict[str, Any] = {}
    relationships: dict[str, Any] = {"order": ("orders", order.pk)}
    match case:
        case "an order not fulfilled":
            relationships = {"order": ("orders", order_in_status(Order.Status.APPROVED).pk)}
        case "no order":
            relationships = {"order": None}
        case "an unknown order":
            relationships = {"order": ("orders", "nosuchorder")}
        case "a capture of another order":
            other = order_fulfilled(market=order.market)
            capture = Transaction.objects.get(order=other, type="captures")
            relationships["reference_capture"] = ("captures", capture.pk)
        case "a trigger on create":
            attributes_sent = {"_request": True}
        case "a status":
            attributes_sent = {"status": "approved"}
        case "metadata that is no object":
            attributes_sent = {"metadata": "x"}
    before = Return.objects.count()
    response = admin().post("/api/returns", doc("returns", attributes_sent, **relationships))
    assert_error(response, status, code, pointer)
    assert Return.objects.count() == before


def test_an_order_is_not_changed_through_its_return():
    order = order_fulfilled()
    other = order_fulfilled(market=order.market)
    ret = return_with_lines(order)
    response = return_patch(admin(), ret.pk, {}, order=("orders", other.pk))
    assert_error(response, 400, "PARAM_NOT_ALLOWED", "/data/relationships/order")
    assert Return.objects.get(pk=ret.pk).order_id == order.pk


def test_a_return_is_not_deleted():
    order = order_fulfilled()
    ret = return_with_lines(order)
    response = admin().delete(f"/api/returns/{ret.pk}")
    assert response.status_code in (401, 405), response.doc
    assert Return.objects.filter(pk=ret.pk).exists()


# --- statements --------------------------------------------------------------------------------

# Past authentication (one more statement for a bearer token): the return (its order, customer,
# shipping address and stock location's address joined) and its lines (their order lines and
# orders joined), whatever the lines.
GET_RETURN_STATEMENT_BUDGET = 2


def statements(api: Api, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(path)
    assert response.status_code == 200, (path, response.doc)
    return len(captured)


@pytest.mark.parametrize(
    "template",
    [
        "/api/returns/{ret}?include=return_line_items",
        "/api/returns/{ret}?include=return_line_items.line_item,order,customer,destination_address",
        "/api/returns?include=return_line_items&page[size]=25",
        "/api/returns/{ret}/return_line_items?include=return,line_item",
        "/api/orders/{order}?include=returns.return_line_items",
        "/api/orders/{order}/returns",
        "/api/orders/{order}?include=line_items.return_line_items.return",
        "/api/return_line_items?include=return.return_line_items&page[size]=25",
    ],
)
@pytest.mark.parametrize("role", ["admin", "customer"])
def test_return_reads_do_not_grow_with_the_lines(template, role):
    counts = []
    for amounts in ((1000,), (1000, 1100, 1200, 1300, 1400)):
        order = order_fulfilled(amounts=amounts)
        ret = return_with_lines(order)
        return_with_lines(order)
        assert order.customer is not None
        api = admin() if role == "admin" else customer(order.market, order.customer)
        counts.append(statements(api, template.format(ret=ret.pk, order=order.pk)))
    assert counts[0] == counts[1], f"{template}: {counts[0]} with 1 line, {counts[1]} with 5"


def test_the_return_read_stays_within_its_statement_budget():
    order = order_fulfilled(amounts=(1000, 2000, 3000))
    ret = return_with_lines(order)
    count = statements(admin(), f"/api/returns/{ret.pk}?include=return_line_items")
    assert count <= GET_RETURN_STATEMENT_BUDGET
