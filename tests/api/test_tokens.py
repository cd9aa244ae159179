"""The API with real tokens from /oauth/token: the whole authentication path."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from oms.oauth.services import application_create, token_issue
from tests import factories

pytestmark = pytest.mark.django_db

JSONAPI = "application/vnd.api+json"


@pytest.fixture
def setup(db):
    factories.OrganizationFactory.create(slug="acme")
    eu = factories.MarketFactory.create(code="eu")
    us = factories.MarketFactory.create(code="us")
    eu_price = factories.PriceFactory.create(price_list=eu.price_list)
    us_price = factories.PriceFactory.create(price_list=us.price_list)
    storefront = application_create(name="Shop", kind="sales_channel").application
    erp = application_create(name="ERP", kind="integration", role="admin")
    return {
        "eu": eu,
        "us": us,
        "eu_sku": eu_price.sku,
        "us_sku": us_price.sku,
        "storefront": storefront,
        "erp": erp,
    }


def token(client: Client, **params: str) -> str:
    response = client.post("/oauth/token", data=json.dumps(params), content_type="application/json")
    assert response.status_code == 200, response.content
    return json.loads(response.content)["access_token"]


def api_get(client: Client, path: str, access_token: str):
    return client.get(path, HTTP_ACCEPT=JSONAPI, HTTP_AUTHORIZATION=f"Bearer {access_token}")


def test_sales_channel_token_scoped_to_a_market_reads_that_catalog(client, setup):
    access = token(
        client,
        grant_type="client_credentials",
        client_id=setup["storefront"].client_id,
        scope="market:code:eu",
    )
    response = api_get(client, "/api/skus", access)
    assert response.status_code == 200
    ids = [item["id"] for item in json.loads(response.content)["data"]]
    assert ids == [setup["eu_sku"].id]


def test_integration_token_reads_everything(client, setup):
    access = token(
        client,
        grant_type="client_credentials",
        client_id=setup["erp"].application.client_id,
        client_secret=setup["erp"].client_secret,
    )
    response = api_get(client, "/api/skus", access)
    assert json.loads(response.content)["meta"]["record_count"] == 2
    application = json.loads(api_get(client, "/api/application", access).content)["data"]
    assert application["type"] == "applications"
    assert application["attributes"]["kind"] == "integration"


def test_expired_token_is_401_invalid_token(client, setup):
    expired = token_issue(application=setup["storefront"], scope="market:code:eu", lifetime=-10)
    response = api_get(client, "/api/skus", expired.access_token)
    assert response.status_code == 401
    assert json.loads(response.content)["errors"][0]["code"] == "INVALID_TOKEN"


def test_tampered_token_is_401_invalid_token(client, setup):
    access = token(
        client,
        grant_type="client_credentials",
        client_id=setup["storefront"].client_id,
        scope="market:code:eu",
    )
    header, payload, signature = access.split(".")
    response = api_get(client, "/api/skus", f"{header}.{payload}.{signature[::-1]}")
    assert response.status_code == 401
    assert json.loads(response.content)["errors"][0]["code"] == "INVALID_TOKEN"


def test_missing_token_is_401_unauthorized(client, setup):
    response = client.get("/api/skus", HTTP_ACCEPT=JSONAPI)
    assert response.status_code == 401
    assert json.loads(response.content)["errors"][0]["code"] == "UNAUTHORIZED"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_sales_channel_write_is_401_unauthorized(client, setup):
    access = token(
        client,
        grant_type="client_credentials",
        client_id=setup["storefront"].client_id,
        scope="market:code:eu",
    )
    response = client.patch(
        f"/api/skus/{setup['eu_sku'].id}",
        data=json.dumps(
            {"data": {"type": "skus", "id": setup["eu_sku"].id, "attributes": {"name": "x"}}}
        ),
        content_type=JSONAPI,
        HTTP_ACCEPT=JSONAPI,
        HTTP_AUTHORIZATION=f"Bearer {access}",
    )
    assert response.status_code == 401
    assert json.loads(response.content)["errors"][0]["code"] == "UNAUTHORIZED"
