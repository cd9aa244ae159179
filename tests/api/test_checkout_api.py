"""A whole checkout through the API: a storefront builds and places its cart, the back office
approves, captures, ships and refunds. Statuses after each step as the spec says."""

from __future__ import annotations

import pytest

from fulfillment.models import StockItem, StockReservation
from orders.models import Order
from tests import factories
from tests.api.conftest import doc
from tests.fulfillment import factories as stock
from tests.payments import factories as money

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(market):
    """The market sells two SKUs from one stock location, ships anywhere, takes test cards."""
    from markets.services import market_save

    inventory_model = stock.InventoryModelFactory.create()
    location = stock.InventoryStockLocationFactory.create(
        inventory_model=inventory_model, priority=1
    )
    market.inventory_model = inventory_model
    market_save(market=market)
    skus = []
    category = factories.ShippingCategoryFactory.create()
    for code, cents in (("TEE", 2500), ("MUG", 1200)):
        sku = factories.SkuFactory.create(code=code, shipping_category=category)
        factories.PriceFactory.create(sku=sku, price_list=market.price_list, amount_cents=cents)
        stock.StockItemFactory.create(sku=sku, stock_location=location.stock_location, quantity=10)
        skus.append(sku)
    shipping = stock.ShippingMethodFactory.create(market=market, price_amount_cents=700)
    card = money.PaymentMethodFactory.create(market=market, currency_code="EUR")
    return {"skus": skus, "shipping_method": shipping, "payment_method": card, "market": market}


def address(**overrides):
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "line_1": "1 Analytical Street",
        "city": "London",
        "zip_code": "N1 7GU",
        "country_code": "GB",
        "phone": "+44 20 7946 0000",
        **overrides,
    }


def storefront_checkout(api, shop, *, token="tok_success"):  # noqa: S107
    order = api.post("/api/orders", doc("orders", {})).doc["data"]
    assert order["attributes"]["status"] == "draft"
    for sku, quantity in zip(shop["skus"], (2, 1), strict=True):
        response = api.post(
            "/api/line_items",
            doc(
                "line_items",
                {"sku_code": sku.code, "quantity": quantity},
                order=("orders", order["id"]),
            ),
        )
        assert response.status_code == 201, response.doc
    billing = api.post("/api/addresses", doc("addresses", address())).doc["data"]["id"]
    response = api.patch(
        f"/api/orders/{order['id']}",
        doc(
            "orders",
            {"customer_email": "ada@example.com", "_shipping_address_same_as_billing": True},
            id=order["id"],
            billing_address=("addresses", billing),
            payment_method=("payment_methods", shop["payment_method"].id),
        ),
    )
    assert response.status_code == 200, response.doc
    assert response.doc["data"]["attributes"]["status"] == "pending"
    shipments = api.get(
        f"/api/orders/{order['id']}/shipments?include=available_shipping_methods"
    ).doc
    assert len(shipments["data"]) == 1
    shipment = shipments["data"][0]
    available = [m["id"] for m in shipment["relationships"]["available_shipping_methods"]["data"]]
    assert available == [shop["shipping_method"].id]
    response = api.patch(
        f"/api/shipments/{shipment['id']}",
        doc("shipments", {}, id=shipment["id"], shipping_method=("shipping_methods", available[0])),
    )
    assert response.status_code == 200, response.doc
    response = api.post(
        "/api/test_payments", doc("test_payments", {"token": token}, order=("orders", order["id"]))
    )
    assert response.status_code == 201, response.doc
    return order["id"], shipment["id"]


def test_checkout_capture_ship_and_refund(as_role, shop):
    storefront, office = as_role("sales_channel"), as_role("admin")
    order_id, shipment_id = storefront_checkout(storefront, shop)

    response = storefront.patch(
        f"/api/orders/{order_id}", doc("orders", {"_place": True}, id=order_id)
    )
    assert response.status_code == 200, response.doc
    attributes = response.doc["data"]["attributes"]
    assert (
        attributes["status"],
        attributes["payment_status"],
        attributes["fulfillment_status"],
    ) == (
        "placed",
        "authorized",
        "unfulfilled",
    )
    # 2 x 25.00 + 12.00 + 7.00 shipping
    assert attributes["total_amount_with_taxes_cents"] == 6900
    assert attributes["place_total_amount_cents"] == 6900
    assert StockReservation.objects.filter(order_id=order_id, status="pending").count() == 2
    assert (
        storefront.get(f"/api/shipments/{shipment_id}").doc["data"]["attributes"]["status"]
        == "upcoming"
    )

    # staff triggers are not the storefront's
    response = storefront.patch(
        f"/api/orders/{order_id}", doc("orders", {"_approve": True}, id=order_id)
    )
    assert response.status_code == 401

    response = office.patch(
        f"/api/orders/{order_id}", doc("orders", {"_approve": True}, id=order_id)
    )
    assert response.doc["data"]["attributes"]["status"] == "approved"
    assert not StockReservation.objects.filter(order_id=order_id).exists()
    assert StockItem.objects.get(sku=shop["skus"][0]).quantity == 8

    authorization = office.get(f"/api/orders/{order_id}/authorizations").doc["data"][0]["id"]
    response = office.patch(
        f"/api/authorizations/{authorization}",
        doc("authorizations", {"_capture": True, "_capture_amount_cents": 2000}, id=authorization),
    )
    assert response.status_code == 200, response.doc
    order = office.get(f"/api/orders/{order_id}").doc["data"]["attributes"]
    assert (order["payment_status"], order["fulfillment_status"]) == (
        "partially_paid",
        "in_progress",
    )

    response = office.patch(
        f"/api/orders/{order_id}", doc("orders", {"_capture": True}, id=order_id)
    )
    assert response.status_code == 200, response.doc
    assert response.doc["data"]["attributes"]["payment_status"] == "paid"

    for trigger in ("_picking", "_packing", "_ready_to_ship", "_ship", "_deliver"):
        response = office.patch(
            f"/api/shipments/{shipment_id}", doc("shipments", {trigger: True}, id=shipment_id)
        )
        assert response.status_code == 200, (trigger, response.doc)
    assert response.doc["data"]["attributes"]["status"] == "delivered"
    assert (
        office.get(f"/api/orders/{order_id}").doc["data"]["attributes"]["fulfillment_status"]
        == "fulfilled"
    )

    captures = office.get(f"/api/orders/{order_id}/captures").doc["data"]
    capture = next(c for c in captures if c["attributes"]["amount_cents"] == 4900)
    response = office.patch(
        f"/api/captures/{capture['id']}",
        doc("captures", {"_refund": True, "_refund_amount_cents": 1000}, id=capture["id"]),
    )
    assert response.status_code == 200, response.doc
    assert (
        office.get(f"/api/orders/{order_id}").doc["data"]["attributes"]["payment_status"]
        == "partially_refunded"
    )


def test_declined_card_leaves_the_order_pending_with_nothing_reserved(as_role, shop):
    storefront = as_role("sales_channel")
    order_id, _ = storefront_checkout(storefront, shop, token="tok_declined")
    response = storefront.patch(
        f"/api/orders/{order_id}", doc("orders", {"_place": True}, id=order_id)
    )
    assert response.status_code == 422
    assert response.doc["errors"][0]["code"] == "PAYMENT_DECLINED"
    order = Order.objects.get(pk=order_id)
    assert order.status == "pending"
    assert not StockReservation.objects.filter(order_id=order_id, status="pending").exists()
    assert not order.transactions.filter(status="succeeded").exists()


def test_cancel_after_placement_voids_and_gives_stock_back(as_role, shop):
    storefront, office = as_role("sales_channel"), as_role("admin")
    order_id, shipment_id = storefront_checkout(storefront, shop)
    storefront.patch(f"/api/orders/{order_id}", doc("orders", {"_place": True}, id=order_id))
    response = office.patch(
        f"/api/orders/{order_id}", doc("orders", {"_cancel": True}, id=order_id)
    )
    assert response.status_code == 200, response.doc
    attributes = response.doc["data"]["attributes"]
    assert (attributes["status"], attributes["payment_status"]) == ("cancelled", "voided")
    assert not StockReservation.objects.filter(order_id=order_id).exists()
    assert (
        office.get(f"/api/shipments/{shipment_id}").doc["data"]["attributes"]["status"]
        == "cancelled"
    )


def test_storefront_cannot_list_orders_or_line_items(as_role, shop):
    storefront = as_role("sales_channel")
    order_id, _ = storefront_checkout(storefront, shop)
    assert storefront.get("/api/orders").status_code == 401
    assert storefront.get("/api/line_items").status_code == 401
    assert storefront.get(f"/api/orders/{order_id}/line_items").status_code == 200
    included = storefront.get(
        f"/api/orders/{order_id}?include=line_items,available_payment_methods"
    ).doc
    assert {item["type"] for item in included["included"]} == {"line_items", "payment_methods"}


def test_an_order_includes_its_transactions_by_type(as_role, shop):
    storefront, office = as_role("sales_channel"), as_role("admin")
    order_id, _ = storefront_checkout(storefront, shop)
    storefront.patch(f"/api/orders/{order_id}", doc("orders", {"_place": True}, id=order_id))
    office.patch(
        f"/api/orders/{order_id}", doc("orders", {"_approve_and_capture": True}, id=order_id)
    )
    document = office.get(f"/api/orders/{order_id}?include=authorizations,captures,voids").doc
    relationships = document["data"]["relationships"]
    assert [r["type"] for r in relationships["authorizations"]["data"]] == ["authorizations"]
    assert [r["type"] for r in relationships["captures"]["data"]] == ["captures"]
    assert relationships["voids"]["data"] == []
    included = sorted(
        (item["type"], item["attributes"]["amount_cents"]) for item in document["included"]
    )
    assert included == [("authorizations", 6900), ("captures", 6900)]
