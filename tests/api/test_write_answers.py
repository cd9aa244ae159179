"""A write's answer is what a read then shows: views that answer from the record they wrote
(no second read, `answers_from_written`) render exactly what reading it again renders, with
a percentage promotion on the cart so the lines' amounts move on every change."""

from __future__ import annotations

import pytest

from tests.api.conftest import doc
from tests.api.test_checkout_api import address, shop, storefront_checkout  # noqa: F401 (fixture)
from tests.orders.test_order_discounts import promotion

pytestmark = pytest.mark.django_db


def same_as_read(api, response, path: str) -> dict:
    assert response.status_code in (200, 201), response.doc
    written = response.doc["data"]
    read = api.get(f"/api/{path}/{written['id']}").doc["data"]
    assert written == read
    return written


def test_line_item_address_and_payment_source_answers_are_what_a_read_shows(
    as_role,
    shop,  # noqa: F811
):
    promotion(shop["market"])  # 10% off every line
    api = as_role("sales_channel")
    order_id = same_as_read(api, api.post("/api/orders", doc("orders", {})), "orders")["id"]
    for sku, quantity in zip(shop["skus"], (2, 1), strict=True):
        line = same_as_read(
            api,
            api.post(
                "/api/line_items",
                doc(
                    "line_items",
                    {"sku_code": sku.code, "quantity": quantity},
                    order=("orders", order_id),
                ),
            ),
            "line_items",
        )
    assert line["attributes"]["discount_cents"] == -120  # 10% of 12.00, as written
    line = same_as_read(
        api,
        api.patch(
            f"/api/line_items/{line['id']}",
            doc("line_items", {"quantity": 3}, id=line["id"]),
        ),
        "line_items",
    )
    assert line["attributes"]["discount_cents"] == -360
    billing = same_as_read(
        api, api.post("/api/addresses", doc("addresses", address())), "addresses"
    )
    order = same_as_read(
        api,
        api.patch(
            f"/api/orders/{order_id}",
            doc(
                "orders",
                {"customer_email": "ada@example.com", "_shipping_address_same_as_billing": True},
                id=order_id,
                billing_address=("addresses", billing["id"]),
                payment_method=("payment_methods", shop["payment_method"].id),
            ),
        ),
        "orders",
    )
    assert order["attributes"]["status"] == "pending"
    assert order["attributes"]["discount_amount_cents"] == -(500 + 360)
    (shipment,) = api.get(f"/api/orders/{order_id}/shipments").doc["data"]
    shipment = same_as_read(
        api,
        api.patch(
            f"/api/shipments/{shipment['id']}",
            doc(
                "shipments",
                {},
                id=shipment["id"],
                shipping_method=("shipping_methods", shop["shipping_method"].id),
            ),
        ),
        "shipments",
    )
    assert shipment["relationships"]["shipping_method"]["data"]["id"] == shop["shipping_method"].id
    same_as_read(
        api,
        api.post(
            "/api/test_payments",
            doc("test_payments", {"token": "tok_success"}, order=("orders", order_id)),
        ),
        "test_payments",
    )


def test_a_trigger_s_answer_is_what_a_read_then_shows(as_role, shop):  # noqa: F811
    """A trigger's workflow commits transactions of its own: its answer is read again, never
    the record the request held before it ran."""
    storefront, office = as_role("sales_channel"), as_role("admin")
    order_id, shipment_id = storefront_checkout(storefront, shop)
    order = same_as_read(
        storefront,
        storefront.patch(f"/api/orders/{order_id}", doc("orders", {"_place": True}, id=order_id)),
        "orders",
    )
    assert order["attributes"]["status"] == "placed"
    order = same_as_read(
        office,
        office.patch(f"/api/orders/{order_id}", doc("orders", {"_approve": True}, id=order_id)),
        "orders",
    )
    assert order["attributes"]["status"] == "approved"
    order = same_as_read(
        office,
        office.patch(f"/api/orders/{order_id}", doc("orders", {"_capture": True}, id=order_id)),
        "orders",
    )
    assert order["attributes"]["payment_status"] == "paid"
    shipment = same_as_read(
        office,
        office.patch(
            f"/api/shipments/{shipment_id}", doc("shipments", {"_picking": True}, id=shipment_id)
        ),
        "shipments",
    )
    assert shipment["attributes"]["status"] == "picking"
