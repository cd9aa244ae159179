"""Payment endpoints: methods per market, transactions and their money triggers."""

from __future__ import annotations

import pytest

from payments.models import Transaction
from tests.api.conftest import doc
from tests.payments import factories as payment_factories
from tests.payments.checkouts import make_checkout

pytestmark = pytest.mark.django_db


def test_sales_channel_lists_its_market_payment_methods(as_role, market, other_market):
    mine = payment_factories.PaymentMethodFactory.create(market=market)
    payment_factories.PaymentMethodFactory.create(market=other_market)
    response = as_role("sales_channel").get("/api/payment_methods")
    assert [m["id"] for m in response.doc["data"]] == [mine.id]
    assert response.doc["data"][0]["attributes"]["formatted_price_amount"]


def test_partial_capture_then_the_rest_then_refund(as_role):
    checkout = make_checkout()
    authorization = checkout.authorize(10000)
    api = as_role("admin")
    path = f"/api/authorizations/{authorization.id}"
    response = api.patch(
        path,
        doc(
            "authorizations", {"_capture": True, "_capture_amount_cents": 4000}, id=authorization.id
        ),
    )
    assert response.status_code == 200, response.doc
    attributes = response.doc["data"]["attributes"]
    assert attributes["capture_amount_cents"] == 4000
    assert attributes["capture_balance_cents"] == 6000
    assert attributes["formatted_capture_balance"]
    response = api.patch(path, doc("authorizations", {"_capture": True}, id=authorization.id))
    assert response.doc["data"]["attributes"]["capture_balance_cents"] == 0
    response = api.patch(path, doc("authorizations", {"_capture": True}, id=authorization.id))
    assert response.status_code == 422
    assert response.doc["errors"][0]["code"] == "INSUFFICIENT_CAPTURE_BALANCE"

    captures = api.get("/api/captures?filter[q][order_id_eq]=" + checkout.order.id).doc["data"]
    assert sorted(c["attributes"]["amount_cents"] for c in captures) == [4000, 6000]
    capture_id = next(c["id"] for c in captures if c["attributes"]["amount_cents"] == 6000)
    response = api.patch(
        f"/api/captures/{capture_id}",
        doc("captures", {"_refund": True, "_refund_amount_cents": 1500}, id=capture_id),
    )
    assert response.status_code == 200, response.doc
    assert response.doc["data"]["attributes"]["refund_balance_cents"] == 4500
    assert Transaction.objects.filter(type="refunds", status="succeeded").count() == 1


def test_void_an_authorization(as_role):
    authorization = make_checkout().authorize(5000)
    response = as_role("admin").patch(
        f"/api/authorizations/{authorization.id}",
        doc("authorizations", {"_void": True}, id=authorization.id),
    )
    assert response.status_code == 200
    assert response.doc["data"]["attributes"]["void_balance_cents"] == 0


def test_sales_channel_cannot_capture(as_role):
    checkout = make_checkout()
    authorization = checkout.authorize(5000)
    api = as_role("sales_channel", market_ids=(checkout.order.market_id,))  # the order's market
    assert api.get(f"/api/authorizations/{authorization.id}").status_code == 200
    assert api.get("/api/authorizations").status_code == 401
    response = api.patch(
        f"/api/authorizations/{authorization.id}",
        doc("authorizations", {"_capture": True}, id=authorization.id),
    )
    assert response.status_code == 401
    assert not Transaction.objects.filter(type="captures").exists()


def test_capture_amount_must_be_positive(as_role):
    authorization = make_checkout().authorize(5000)
    response = as_role("admin").patch(
        f"/api/authorizations/{authorization.id}",
        doc("authorizations", {"_capture": True, "_capture_amount_cents": 0}, id=authorization.id),
    )
    assert response.status_code == 422
    assert (
        response.doc["errors"][0]["source"]["pointer"] == "/data/attributes/_capture_amount_cents"
    )


def test_idempotent_capture_request_moves_money_once(as_role):
    authorization = make_checkout().authorize(5000)
    api = as_role("admin")
    body = doc(
        "authorizations", {"_capture": True, "_capture_amount_cents": 1000}, id=authorization.id
    )
    first = api.patch(f"/api/authorizations/{authorization.id}", body, HTTP_IDEMPOTENCY_KEY="cap-1")
    second = api.patch(
        f"/api/authorizations/{authorization.id}", body, HTTP_IDEMPOTENCY_KEY="cap-1"
    )
    assert first.status_code == second.status_code == 200
    assert Transaction.objects.filter(type="captures").count() == 1
