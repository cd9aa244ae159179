"""Every role x catalog resource x action, with the status the spec implies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from markets.models import Market
from tests import factories
from tests.api.conftest import doc

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "sales_channel", "read_only", "admin")
ACTIONS = ("list", "retrieve", "create", "update", "delete")


def build_world(market: Market) -> dict[str, Any]:
    """One record of every catalog resource, visible to the market's sales channel."""
    price = factories.PriceFactory.create(price_list=market.price_list)
    tier = factories.PriceVolumeTierFactory.create(price=price)
    return {
        "addresses": factories.AddressFactory.create(),
        "merchants": market.merchant,
        "customer_groups": factories.CustomerGroupFactory.create(),
        "shipping_categories": price.sku.shipping_category,
        "price_lists": market.price_list,
        "markets": market,
        "skus": price.sku,
        "prices": price,
        "price_volume_tiers": tier,
        "_extra_category": factories.ShippingCategoryFactory.create(),
    }


def create_body(resource: str, world: dict[str, Any]) -> dict[str, Any]:
    address = world["addresses"]
    bodies: dict[str, Callable[[], dict[str, Any]]] = {
        "addresses": lambda: doc(
            "addresses",
            {
                "first_name": "Ann",
                "last_name": "Lee",
                "line_1": "1 Main St",
                "city": "Boston",
                "zip_code": "02101",
                "state_code": "MA",
                "country_code": "US",
                "phone": "+1 617 555 0100",
            },
        ),
        "merchants": lambda: doc(
            "merchants", {"name": "New merchant"}, address=("addresses", address.id)
        ),
        "customer_groups": lambda: doc("customer_groups", {"name": "VIP", "code": "vip"}),
        "shipping_categories": lambda: doc(
            "shipping_categories", {"name": "Bulky", "code": "bulky"}
        ),
        "price_lists": lambda: doc("price_lists", {"name": "Yen", "currency_code": "JPY"}),
        "markets": lambda: doc(
            "markets",
            {"name": "Japan", "code": "jp"},
            merchant=("merchants", world["merchants"].id),
            price_list=("price_lists", world["price_lists"].id),
        ),
        "skus": lambda: doc(
            "skus",
            {"code": "NEW-SKU-1", "name": "New SKU"},
            shipping_category=("shipping_categories", world["shipping_categories"].id),
        ),
        "prices": lambda: doc(
            "prices",
            {"amount_cents": 500},
            price_list=("price_lists", world["price_lists"].id),
            sku=("skus", factories.SkuFactory.create().id),
        ),
        "price_volume_tiers": lambda: doc(
            "price_volume_tiers",
            {"name": "big", "up_to": 100, "price_amount_cents": 10},
            price=("prices", world["prices"].id),
        ),
    }
    return bodies[resource]()


UPDATES: dict[str, dict[str, Any]] = {
    "addresses": {"city": "Cambridge"},
    "merchants": {"name": "Renamed"},
    "customer_groups": {"name": "Renamed"},
    "shipping_categories": {"name": "Renamed"},
    "price_lists": {"name": "Renamed"},
    "markets": {"name": "Renamed"},
    "skus": {"name": "Renamed"},
    "prices": {"amount_cents": 4321},
    "price_volume_tiers": {"name": "Renamed"},
}

SALES_CHANNEL = {
    # resource: actions a storefront may take
    "addresses": {"retrieve", "create", "update"},
    "merchants": set(),
    "customer_groups": set(),
    "shipping_categories": {"list", "retrieve"},
    "price_lists": {"list", "retrieve"},
    "markets": {"list", "retrieve"},
    "skus": {"list", "retrieve"},
    "prices": {"list", "retrieve"},
    "price_volume_tiers": {"list", "retrieve"},
}

SUCCESS = {"list": 200, "retrieve": 200, "create": 201, "update": 200, "delete": 204}


def expected_status(role: str, resource: str, action: str) -> int:
    if role == "anonymous":
        return 401
    if role == "admin":
        return SUCCESS[action]
    allowed = SALES_CHANNEL[resource] if role == "sales_channel" else {"list", "retrieve"}
    return SUCCESS[action] if action in allowed else 401


def perform(api: Any, resource: str, action: str, world: dict[str, Any]) -> Any:
    record = world[resource]
    if action == "list":
        return api.get(f"/api/{resource}")
    if action == "retrieve":
        return api.get(f"/api/{resource}/{record.pk}")
    if action == "create":
        return api.post(f"/api/{resource}", create_body(resource, world))
    if action == "update":
        return api.patch(
            f"/api/{resource}/{record.pk}", doc(resource, UPDATES[resource], id=record.pk)
        )
    return api.delete(f"/api/{resource}/{unreferenced(resource, world).pk}")


def unreferenced(resource: str, world: dict[str, Any]) -> Any:
    """A fresh record nothing points at, so deleting it is allowed."""
    market = world["markets"]
    makers: dict[str, Callable[[], Any]] = {
        "addresses": factories.AddressFactory.create,
        "merchants": factories.MerchantFactory.create,
        "customer_groups": factories.CustomerGroupFactory.create,
        "shipping_categories": factories.ShippingCategoryFactory.create,
        "price_lists": factories.PriceListFactory.create,
        "markets": lambda: factories.MarketFactory.create(
            merchant=market.merchant, price_list=market.price_list
        ),
        "skus": lambda: factories.PriceFactory.create(price_list=market.price_list).sku,
        "prices": lambda: factories.PriceFactory.create(price_list=market.price_list),
        "price_volume_tiers": lambda: factories.PriceVolumeTierFactory.create(
            price=world["prices"], up_to=999
        ),
    }
    return makers[resource]()


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("resource", list(SALES_CHANNEL))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(as_role, market, role, resource, action):
    world = build_world(market)
    response = perform(as_role(role), resource, action, world)
    expected = expected_status(role, resource, action)
    assert response.status_code == expected, response.doc
    if expected == 401:
        error = response.doc["errors"][0]
        assert error["code"] in ("UNAUTHORIZED", "INVALID_TOKEN")
        assert error["status"] == "401"


@pytest.mark.parametrize("role", ["sales_channel", "read_only", "admin"])
def test_everyone_with_a_token_reads_the_organization(as_role, role):
    factories.OrganizationFactory.create(name="Acme", slug="acme")
    response = as_role(role).get("/api/organization")
    assert response.status_code == 200
    assert response.doc["data"]["type"] == "organizations"
    assert response.doc["data"]["attributes"]["slug"] == "acme"


def test_organization_needs_a_token(as_role):
    factories.OrganizationFactory.create()
    assert as_role("anonymous").get("/api/organization").status_code == 401


def test_organization_is_read_only(as_role):
    factories.OrganizationFactory.create()
    response = as_role("admin").patch("/api/organization", doc("organizations", {"name": "x"}))
    assert response.status_code == 405
