"""The requests of each benchmark, as Commerce Layer's SDK sends them (JSON:API documents,
`include` where the SDK's storefront code asks for it)."""

from __future__ import annotations

from typing import Any

from bench.common import Client

ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "line_1": "Damrak 1",
    "city": "Amsterdam",
    "zip_code": "1012 LG",
    "country_code": "NL",
    "phone": "+31 20 555 0100",
}
ORDER_INCLUDE = "line_items,shipments,authorizations"


def doc(
    type_: str,
    attributes: dict[str, Any],
    id: str | None = None,
    **relationships: tuple[str, str],
) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type_, "attributes": attributes}
    if id:
        data["id"] = id
    if relationships:
        data["relationships"] = {
            name: {"data": {"type": t, "id": i}} for name, (t, i) in relationships.items()
        }
    return {"data": data}


def ok(status: int, body: Any, what: str) -> Any:
    if status >= 400:
        raise RuntimeError(f"{what}: {status} {body}")
    return body


def checkout(client: Client, config: dict[str, Any], n: int, *, place: bool = True) -> str:
    """One storefront checkout: cart, 3 lines, address, the order's addresses and payment
    method, its shipments with their shipping methods, one per shipment, a card, `_place`."""
    order = ok(*client.request("POST orders", "POST", "/api/orders", doc("orders", {})), "order")
    order_id = order["data"]["id"]
    for quantity, code in enumerate(config["sku_codes"], start=1):
        ok(
            *client.request(
                "POST line_items",
                "POST",
                "/api/line_items",
                doc(
                    "line_items",
                    {"sku_code": code, "quantity": quantity},
                    order=("orders", order_id),
                ),
            ),
            "line item",
        )
    address = ok(
        *client.request("POST addresses", "POST", "/api/addresses", doc("addresses", ADDRESS)),
        "address",
    )
    ok(
        *client.request(
            "PATCH orders (addresses, method)",
            "PATCH",
            f"/api/orders/{order_id}?include=billing_address,shipping_address,payment_method",
            doc(
                "orders",
                {
                    "customer_email": f"bench{n % 50}@example.com",
                    "_shipping_address_same_as_billing": True,
                },
                id=order_id,
                billing_address=("addresses", address["data"]["id"]),
                payment_method=("payment_methods", config["payment_method_id"]),
            ),
        ),
        "order update",
    )
    shipments = ok(
        *client.request(
            "GET order shipments",
            "GET",
            f"/api/orders/{order_id}/shipments?include=available_shipping_methods",
        ),
        "shipments",
    )
    for shipment in shipments["data"]:
        method = shipment["relationships"]["available_shipping_methods"]["data"][0]["id"]
        ok(
            *client.request(
                "PATCH shipments (method)",
                "PATCH",
                f"/api/shipments/{shipment['id']}?include=shipping_method",
                doc(
                    "shipments", {}, id=shipment["id"], shipping_method=("shipping_methods", method)
                ),
            ),
            "shipping method",
        )
    ok(
        *client.request(
            "POST test_payments",
            "POST",
            "/api/test_payments",
            doc("test_payments", {"token": "tok_success"}, order=("orders", order_id)),
        ),
        "payment source",
    )
    if place:
        place_order(client, order_id)
    return str(order_id)


def place_order(client: Client, order_id: str) -> None:
    body = ok(
        *client.request(
            "PATCH orders _place",
            "PATCH",
            f"/api/orders/{order_id}",
            doc("orders", {"_place": True}, id=order_id),
        ),
        "_place",
    )
    status = body["data"]["attributes"]["status"]
    if status != "placed":
        raise RuntimeError(f"_place left the order {status}")


def get_order(client: Client, order_id: str) -> None:
    ok(
        *client.request(
            "GET order (includes)", "GET", f"/api/orders/{order_id}?include={ORDER_INCLUDE}"
        ),
        "GET order",
    )


def back_office(client: Client, order_id: str) -> None:
    """Approve, capture, then ship every shipment (picking, packing, ready, ship)."""
    ok(
        *client.request(
            "PATCH orders _approve",
            "PATCH",
            f"/api/orders/{order_id}",
            doc("orders", {"_approve": True}, id=order_id),
        ),
        "_approve",
    )
    ok(
        *client.request(
            "PATCH orders _capture",
            "PATCH",
            f"/api/orders/{order_id}",
            doc("orders", {"_capture": True}, id=order_id),
        ),
        "_capture",
    )
    shipments = ok(
        *client.request("GET order shipments", "GET", f"/api/orders/{order_id}/shipments"),
        "shipments",
    )
    for shipment in shipments["data"]:
        for trigger in ("_picking", "_packing", "_ready_to_ship", "_ship"):
            ok(
                *client.request(
                    f"PATCH shipments {trigger}",
                    "PATCH",
                    f"/api/shipments/{shipment['id']}",
                    doc("shipments", {trigger: True}, id=shipment["id"]),
                ),
                trigger,
            )


LISTS = [
    (
        "GET orders placed, newest",
        "/api/orders?filter[q][status_eq]=placed&sort=-placed_at&page[size]=25",
    ),
    (
        "GET orders by email",
        "/api/orders?filter[q][customer_email_eq]=bench7@example.com&sort=-created_at&page[size]=25",
    ),
    (
        "GET orders authorized, page 2",
        "/api/orders?filter[q][payment_status_eq]=authorized&sort=-created_at&page[size]=25&page[number]=2",
    ),
]


def order_lists(client: Client, i: int) -> None:
    label, path = LISTS[i % len(LISTS)]
    ok(*client.request(label, "GET", path), label)


# --- the baseline's two operations -----------------------------------------------------------
def baseline_place(client: Client) -> str:
    status, body = client.request("POST place (baseline)", "POST", "/place", {}, "application/json")
    ok(status, body, "baseline place")
    return str(body["id"])


def baseline_get(client: Client, order_id: str) -> None:
    ok(
        *client.request(
            "GET order (baseline)", "GET", f"/orders/{order_id}", content_type="application/json"
        ),
        "baseline GET",
    )
