"""A customer logs in through a sales channel (password grant) and sees only their own orders."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from oms.oauth.services import application_create
from orders import services
from orders.services.customers import customer_password_set
from tests import factories
from tests.orders.factories import STAFF

pytestmark = pytest.mark.django_db
JSONAPI = "application/vnd.api+json"


def token(client: Client, **params: str):
    return client.post("/oauth/token", data=json.dumps(params), content_type="application/json")


def test_a_customer_token_lists_only_the_customers_own_orders(client):
    factories.OrganizationFactory.create()
    market = factories.MarketFactory.create(code="eu")
    ada = services.customer_find_or_create(email="ada@example.com")
    customer_password_set(customer=ada, password="analytical-engine")
    mine = services.order_create(
        market=market, actor=STAFF, data={"customer_email": "ada@example.com"}
    )
    services.order_create(market=market, actor=STAFF, data={"customer_email": "bob@example.com"})
    shop = application_create(name="Shop", kind="sales_channel").application

    wrong = token(
        client,
        grant_type="password",
        client_id=shop.client_id,
        username="ada@example.com",
        password="wrong-password",
        scope="market:code:eu",
    )
    assert wrong.status_code in (400, 401)
    response = token(
        client,
        grant_type="password",
        client_id=shop.client_id,
        username="ADA@example.com",
        password="analytical-engine",
        scope="market:code:eu",
    )
    assert response.status_code == 200, response.content
    access = json.loads(response.content)["access_token"]
    orders = client.get("/api/orders", HTTP_ACCEPT=JSONAPI, HTTP_AUTHORIZATION=f"Bearer {access}")
    assert orders.status_code == 200
    assert [o["id"] for o in json.loads(orders.content)["data"]] == [mine.pk]
    customers = client.get(
        "/api/customers", HTTP_ACCEPT=JSONAPI, HTTP_AUTHORIZATION=f"Bearer {access}"
    )
    assert [c["attributes"]["email"] for c in json.loads(customers.content)["data"]] == [
        "ada@example.com"
    ]


def test_a_short_password_is_refused(as_role):
    from tests.api.conftest import doc

    response = as_role("admin").post(
        "/api/customers", doc("customers", {"email": "eve@example.com", "password": "short"})
    )
    assert response.status_code == 422
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/attributes/password"
