"""What a storefront, a customer and an integration may send: the money triggers that must move
money or say why not, the cart's customer, placed orders' shipments, idempotency keys per
principal, a customer's own cart, and unit prices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from oms.api.principal import Principal
from oms.models import IdempotencyRecord
from orders.models import LineItem, Order
from payments.models import Transaction
from tests.api.conftest import Api, doc
from tests.fulfillment import factories as stock
from tests.orders.factories import CustomerFactory, order_in_status, priced_sku
from tests.payments.checkouts import make_checkout

pytestmark = pytest.mark.django_db


def sales_channel(market) -> Api:
    return Api(Principal("app-sc", "sales_channel", market_ids=(market.pk,)))


def customer_api(market, customer) -> Api:
    return Api(
        Principal("app-sc", "sales_channel", market_ids=(market.pk,), customer_id=customer.pk)
    )


def error(response) -> tuple[int, str, str]:
    first = response.doc["errors"][0]
    return response.status_code, first["code"], first.get("source", {}).get("pointer", "")


# --- 3. a money trigger moves money or answers 422 ---------------------------------------------


def test_capture_amount_alone_captures_that_amount(as_role):
    order = order_in_status(Order.Status.APPROVED, amount_cents=5000)
    authorization = order.transactions.get(type="authorizations")
    response = as_role("admin").patch(
        f"/api/authorizations/{authorization.id}",
        doc("authorizations", {"_capture_amount_cents": 1200}, id=authorization.id),
    )
    assert response.status_code == 200, response.doc
    assert response.doc["data"]["attributes"]["capture_amount_cents"] == 1200
    capture = Transaction.objects.get(type="captures", reference_authorization=authorization)
    assert (capture.amount_cents, capture.succeeded) == (1200, True)
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_PAID  # orders followed


def test_refund_amount_alone_refunds_that_amount(as_role):
    order = order_in_status(Order.Status.APPROVED, amount_cents=5000)
    api = as_role("admin")
    api.patch(f"/api/orders/{order.pk}", doc("orders", {"_capture": True}, id=order.pk))
    capture = Transaction.objects.get(type="captures")
    response = api.patch(
        f"/api/captures/{capture.id}",
        doc("captures", {"_refund_amount_cents": 700}, id=capture.id),
    )
    assert response.status_code == 200, response.doc
    assert response.doc["data"]["attributes"]["refund_balance_cents"] == capture.amount_cents - 700
    refund = Transaction.objects.get(type="refunds")
    assert (refund.amount_cents, refund.succeeded) == (700, True)
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED


@pytest.mark.parametrize(
    ("first", "then", "code", "pointer"),
    [
        ({"_capture": True}, {"_capture": True}, "INSUFFICIENT_CAPTURE_BALANCE", "_capture"),
        (
            {"_capture": True},
            {"_capture_amount_cents": 1},
            "INSUFFICIENT_CAPTURE_BALANCE",
            "_capture_amount_cents",
        ),
        ({"_void": True}, {"_void": True}, "NOTHING_TO_VOID", "_void"),
        ({"_capture": True}, {"_void": True}, "NOTHING_TO_VOID", "_void"),
        ({"_void": True}, {"_capture": True}, "INSUFFICIENT_CAPTURE_BALANCE", "_capture"),
        (
            {"_void": True},
            {"_capture_amount_cents": 100},
            "INSUFFICIENT_CAPTURE_BALANCE",
            "_capture_amount_cents",
        ),
    ],
)
def test_a_late_authorization_trigger_is_refused(as_role, first, then, code, pointer):
    authorization = make_checkout().authorize(5000)
    api = as_role("admin")
    path = f"/api/authorizations/{authorization.id}"
    assert api.patch(path, doc("authorizations", first, id=authorization.id)).status_code == 200
    count = Transaction.objects.count()
    response = api.patch(path, doc("authorizations", then, id=authorization.id))
    assert error(response)[:2] == (422, code)
    assert error(response)[2].startswith("/data/attributes/_")
    assert Transaction.objects.count() == count  # nothing happened, and it says so


@pytest.mark.parametrize("then", [{"_refund": True}, {"_refund_amount_cents": 1}])
def test_a_refund_of_nothing_left_is_refused(as_role, then):
    authorization = make_checkout().authorize(5000)
    api = as_role("admin")
    api.patch(
        f"/api/authorizations/{authorization.id}",
        doc("authorizations", {"_capture": True}, id=authorization.id),
    )
    capture = Transaction.objects.get(type="captures")
    path = f"/api/captures/{capture.id}"
    assert api.patch(path, doc("captures", {"_refund": True}, id=capture.id)).status_code == 200
    response = api.patch(path, doc("captures", then, id=capture.id))
    assert error(response)[:2] == (422, "INSUFFICIENT_REFUND_BALANCE")


def test_a_declined_capture_is_not_a_200(as_role):
    authorization = make_checkout(token="tok_capture_declined").authorize(5000)
    response = as_role("admin").patch(
        f"/api/authorizations/{authorization.id}",
        doc("authorizations", {"_capture": True}, id=authorization.id),
    )
    assert error(response)[:2] == (422, "PAYMENT_DECLINED")
    authorization.refresh_from_db()
    assert authorization.capture_balance_cents == 5000


def test_a_second_order_capture_is_refused(as_role):
    order = order_in_status(Order.Status.APPROVED)
    api = as_role("admin")
    path = f"/api/orders/{order.pk}"
    assert api.patch(path, doc("orders", {"_capture": True}, id=order.pk)).status_code == 200
    response = api.patch(path, doc("orders", {"_capture": True}, id=order.pk))
    assert error(response) == (422, "INSUFFICIENT_CAPTURE_BALANCE", "/data/attributes/_capture")


# --- 9. a storefront cannot attach a customer ---------------------------------------------------


def test_a_sales_channel_cannot_create_a_cart_for_a_customer(market):
    ada = CustomerFactory.create(email="ada@example.com")
    before = Order.objects.count()
    response = sales_channel(market).post(
        "/api/orders", doc("orders", {}, customer=("customers", ada.pk))
    )
    assert error(response) == (401, "UNAUTHORIZED", "/data/relationships/customer")
    assert Order.objects.count() == before


def test_a_sales_channel_cannot_set_its_carts_customer(market):
    ada = CustomerFactory.create(email="ada@example.com")
    api = sales_channel(market)
    cart = api.post("/api/orders", doc("orders", {"customer_email": "guest@example.com"}))
    cart_id = cart.doc["data"]["id"]
    response = api.patch(
        f"/api/orders/{cart_id}", doc("orders", {}, id=cart_id, customer=("customers", ada.pk))
    )
    assert error(response) == (401, "UNAUTHORIZED", "/data/relationships/customer")
    assert Order.objects.get(pk=cart_id).customer_email == "guest@example.com"
    # the e-mail is the storefront's way to name the buyer
    response = api.patch(
        f"/api/orders/{cart_id}", doc("orders", {"customer_email": "ada@example.com"}, id=cart_id)
    )
    assert response.status_code == 200
    assert Order.objects.get(pk=cart_id).customer_id == ada.pk


def test_a_sales_channel_cannot_put_someone_elses_address_on_its_cart(market):
    placed = order_in_status(Order.Status.APPROVED, market=market)
    api = sales_channel(market)
    cart_id = api.post("/api/orders", doc("orders", {})).doc["data"]["id"]
    for body in (
        doc("orders", {}, id=cart_id, shipping_address=("addresses", placed.billing_address_id)),
        doc("orders", {"_billing_address_clone_id": placed.billing_address_id}, id=cart_id),
    ):
        response = api.patch(f"/api/orders/{cart_id}", body)
        assert error(response)[:2] == (422, "ADDRESS_NOT_FOUND")  # as if it did not exist
    cart = Order.objects.get(pk=cart_id)
    assert (cart.shipping_address_id, cart.billing_address_id) == (None, None)


# --- 11. a placed order's shipments are the back office's ---------------------------------------


def test_a_storefront_cannot_change_a_placed_orders_shipping_method(market):
    order = order_in_status(Order.Status.PLACED, market=market)
    shipment = order.shipments.get()
    other = stock.ShippingMethodFactory.create(market=market, price_amount_cents=999)
    total = order.total_amount_with_taxes_cents
    response = sales_channel(market).patch(
        f"/api/shipments/{shipment.pk}",
        doc("shipments", {}, id=shipment.pk, shipping_method=("shipping_methods", other.pk)),
    )
    assert error(response) == (422, "ORDER_NOT_EDITABLE", "/data/relationships/shipping_method")
    shipment.refresh_from_db()
    assert shipment.shipping_method_id != other.pk
    order.refresh_from_db()
    assert order.total_amount_with_taxes_cents == total


# --- 12. idempotency keys belong to who sent them -----------------------------------------------


def test_an_idempotency_key_replays_only_to_its_own_customer(market):
    ada = CustomerFactory.create(email="ada@example.com")
    bob = CustomerFactory.create(email="bob@example.com")
    first = customer_api(market, ada).post(
        "/api/orders", doc("orders", {}), HTTP_IDEMPOTENCY_KEY="k"
    )
    second = customer_api(market, bob).post(
        "/api/orders", doc("orders", {}), HTTP_IDEMPOTENCY_KEY="k"
    )
    assert first.status_code == second.status_code == 201, (first.doc, second.doc)
    assert second.get("Idempotent-Replayed") is None
    assert first.doc["data"]["id"] != second.doc["data"]["id"]
    assert Order.objects.get(pk=second.doc["data"]["id"]).customer_id == bob.pk
    again = customer_api(market, ada).post(
        "/api/orders", doc("orders", {}), HTTP_IDEMPOTENCY_KEY="k"
    )
    assert again["Idempotent-Replayed"] == "true"
    assert again.doc["data"]["id"] == first.doc["data"]["id"]


def test_an_abandoned_idempotency_claim_expires(market, settings):
    settings.OMS_IDEMPOTENCY_CLAIM_TIMEOUT = 60
    api = sales_channel(market)
    body = doc("orders", {})
    assert api.post("/api/orders", body, HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    # as if its worker had been killed before answering: claimed, never finished
    claim = IdempotencyRecord.objects.filter(key="k")
    claim.update(status_code=None, response_body="")
    assert api.post("/api/orders", body, HTTP_IDEMPOTENCY_KEY="k").status_code == 409
    claim.update(created_at=timezone.now() - timedelta(seconds=61))
    response = api.post("/api/orders", body, HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 201, response.doc
    assert response.get("Idempotent-Replayed") is None  # ran again
    assert api.post("/api/orders", body, HTTP_IDEMPOTENCY_KEY="k")["Idempotent-Replayed"]


# --- 13. a customer's cart is the customer's ---------------------------------------------------


def test_a_customer_token_creates_its_own_cart(market):
    ada = CustomerFactory.create(email="ada@example.com")
    response = customer_api(market, ada).post("/api/orders", doc("orders", {}))
    assert response.status_code == 201, response.doc
    order = Order.objects.get(pk=response.doc["data"]["id"])
    assert (order.customer_id, order.customer_email) == (ada.pk, "ada@example.com")


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_customer_token_cannot_use_another_email(market, method):
    ada = CustomerFactory.create(email="ada@example.com")
    api = customer_api(market, ada)
    body = {"customer_email": "eve@example.com"}
    if method == "post":
        before = (Order.objects.count(), LineItem.objects.count())
        response = api.post("/api/orders", doc("orders", body))
        assert (Order.objects.count(), LineItem.objects.count()) == before  # nothing created
    else:
        cart_id = api.post("/api/orders", doc("orders", {})).doc["data"]["id"]
        response = api.patch(f"/api/orders/{cart_id}", doc("orders", body, id=cart_id))
        assert Order.objects.get(pk=cart_id).customer_email == "ada@example.com"
    assert error(response) == (422, "VALIDATION_ERROR", "/data/attributes/customer_email")
    assert not Order.objects.filter(customer_email="eve@example.com").exists()


# --- 15. unit prices are the back office's -------------------------------------------------------


def test_an_integration_overrides_a_unit_price_and_it_sticks(as_role, market):
    sku = priced_sku(market, 1000)
    api = as_role("admin")
    order_id = api.post("/api/orders", doc("orders", {}, market=("markets", market.pk))).doc[
        "data"
    ]["id"]
    response = api.post(
        "/api/line_items",
        doc(
            "line_items",
            {"sku_code": sku.code, "quantity": 2, "unit_amount_cents": 750},
            order=("orders", order_id),
        ),
    )
    assert response.status_code == 201, response.doc
    line_id = response.doc["data"]["id"]
    assert response.doc["data"]["attributes"]["unit_amount_cents"] == 750
    # a recompute (a quantity change, `_refresh`) keeps the override
    api.patch(f"/api/line_items/{line_id}", doc("line_items", {"quantity": 3}, id=line_id))
    api.patch(f"/api/orders/{order_id}", doc("orders", {"_refresh": True}, id=order_id))
    line = LineItem.objects.get(pk=line_id)
    assert (line.unit_amount_cents, line.total_amount_cents) == (750, 2250)
    response = api.patch(
        f"/api/line_items/{line_id}", doc("line_items", {"unit_amount_cents": 500}, id=line_id)
    )
    assert response.doc["data"]["attributes"]["unit_amount_cents"] == 500


def test_a_storefront_cannot_set_a_unit_price(market):
    sku = priced_sku(market, 1000)
    api = sales_channel(market)
    order_id = api.post("/api/orders", doc("orders", {})).doc["data"]["id"]
    response = api.post(
        "/api/line_items",
        doc(
            "line_items", {"sku_code": sku.code, "unit_amount_cents": 1}, order=("orders", order_id)
        ),
    )
    assert error(response) == (422, "UNIT_AMOUNT_NOT_ALLOWED", "/data/attributes/unit_amount_cents")
    assert not LineItem.objects.filter(order_id=order_id).exists()
    line_id = api.post(
        "/api/line_items", doc("line_items", {"sku_code": sku.code}, order=("orders", order_id))
    ).doc["data"]["id"]
    response = api.patch(
        f"/api/line_items/{line_id}", doc("line_items", {"unit_amount_cents": 1}, id=line_id)
    )
    assert error(response) == (422, "UNIT_AMOUNT_NOT_ALLOWED", "/data/attributes/unit_amount_cents")
    assert LineItem.objects.get(pk=line_id).unit_amount_cents == 1000
