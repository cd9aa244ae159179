"""Fulfillment endpoints: stock, inventory models, shipping methods, parcels; who may do what,
includes and related endpoints, constant query counts, and bad input as 4xx."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fulfillment.models import (
    DeliveryLeadTime,
    InventoryStockLocation,
    Parcel,
    Shipment,
    ShippingMethod,
    StockItem,
    StockReservation,
)
from fulfillment.services import (
    parcel_save,
    shipment_upcoming,
    shipments_build,
    stock_reserve_draft,
)
from markets.models import Market
from markets.services import market_save
from oms.actors import SYSTEM
from oms.services import resource_save
from tests import factories
from tests.api.conftest import doc
from tests.fulfillment import factories as ff

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "sales_channel", "read_only", "admin")
ACTIONS = ("list", "retrieve", "create", "update", "delete")
SUCCESS = {"list": 200, "retrieve": 200, "create": 201, "update": 200, "delete": 204}
READ = {"list", "retrieve"}
EVERYTHING = set(ACTIONS)


@dataclass(frozen=True)
class Rule:
    sales_channel: set[str]
    admin: set[str]


RULES = {
    "stock_locations": Rule(set(), EVERYTHING),
    "stock_items": Rule(READ, EVERYTHING),
    "inventory_models": Rule(set(), EVERYTHING),
    "inventory_stock_locations": Rule(set(), EVERYTHING),
    "inventory_return_locations": Rule(set(), EVERYTHING),
    "stock_reservations": Rule(set(), READ),
    "shipping_zones": Rule(set(), EVERYTHING),
    "shipping_methods": Rule(READ, EVERYTHING),
    "shipping_weight_tiers": Rule(set(), EVERYTHING),
    "delivery_lead_times": Rule(set(), EVERYTHING),
    "stock_line_items": Rule(set(), READ),
    "parcels": Rule(set(), EVERYTHING),
}


def lead_time(**fields: Any) -> DeliveryLeadTime:
    defaults: dict[str, Any] = {"min_hours": 24, "max_hours": 72}
    if "stock_location" not in fields:
        defaults["stock_location"] = ff.StockLocationFactory.create()
    if "shipping_method" not in fields:
        defaults["shipping_method"] = ff.ShippingMethodFactory.create()
    return resource_save(DeliveryLeadTime(**{**defaults, **fields}))


def upcoming_shipment(market: Market, sku: Any) -> Shipment:
    """A shipment of a new order in `market`, placed far enough to take parcels."""
    order = ff.OrderFactory.create(market=market)
    line = ff.LineItemFactory.create(order=order, sku=sku, quantity=1)
    stock_reserve_draft(line_item=line, actor=SYSTEM)
    (shipment,) = shipments_build(order=order, actor=SYSTEM)
    return shipment_upcoming(shipment=shipment, actor=SYSTEM)


def new_parcel(shipment: Shipment) -> Parcel:
    return parcel_save(
        parcel=Parcel(shipment=shipment, weight=1, unit_of_weight="gr"), actor=SYSTEM
    )


def build_world(market: Market) -> dict[str, Any]:
    """One record of every fulfillment resource; the market's sales channel can see its stock
    item and shipping method."""
    inventory_model = ff.InventoryModelFactory.create()
    market.inventory_model = inventory_model
    market_save(market=market)
    location = ff.StockLocationFactory.create()
    sku = factories.PriceFactory.create(price_list=market.price_list).sku
    stock_item = ff.StockItemFactory.create(sku=sku, stock_location=location, quantity=10)
    inventory_stock_location = ff.InventoryStockLocationFactory.create(
        inventory_model=inventory_model, stock_location=location, priority=1
    )
    shipment = upcoming_shipment(market, sku)
    method = ff.ShippingMethodFactory.create(
        market=market, shipping_zone=ff.ShippingZoneFactory.create()
    )
    return {
        "market": market,
        "sku": sku,
        "shipment": shipment,
        "stock_locations": location,
        "stock_items": stock_item,
        "inventory_models": inventory_model,
        "inventory_stock_locations": inventory_stock_location,
        "inventory_return_locations": ff.InventoryReturnLocationFactory.create(
            inventory_model=inventory_model, stock_location=location
        ),
        "stock_reservations": StockReservation.objects.get(stock_item=stock_item),
        "shipping_zones": method.shipping_zone,
        "shipping_methods": method,
        "shipping_weight_tiers": ff.ShippingWeightTierFactory.create(shipping_method=method),
        "delivery_lead_times": lead_time(stock_location=location, shipping_method=method),
        "stock_line_items": shipment.stock_line_items.get(),
        "parcels": new_parcel(shipment),
    }


def create_body(resource: str, world: dict[str, Any]) -> dict[str, Any]:
    location = ("stock_locations", world["stock_locations"].id)
    model = ("inventory_models", world["inventory_models"].id)
    method = ("shipping_methods", world["shipping_methods"].id)
    bodies: dict[str, Callable[[], dict[str, Any]]] = {
        "stock_locations": lambda: doc(
            "stock_locations",
            {"name": "Milan", "code": "mil"},
            address=("addresses", factories.AddressFactory.create().id),
        ),
        "stock_items": lambda: doc(
            "stock_items",
            {"sku_code": factories.SkuFactory.create().code, "quantity": 5},
            stock_location=location,
        ),
        "inventory_models": lambda: doc("inventory_models", {"name": "EU stock"}),
        "inventory_stock_locations": lambda: doc(
            "inventory_stock_locations",
            {"priority": 2},
            stock_location=("stock_locations", ff.StockLocationFactory.create().id),
            inventory_model=model,
        ),
        "inventory_return_locations": lambda: doc(
            "inventory_return_locations",
            {"priority": 2},
            stock_location=("stock_locations", ff.StockLocationFactory.create().id),
            inventory_model=model,
        ),
        "stock_reservations": lambda: doc(
            "stock_reservations",
            {"quantity": 1},
            stock_item=("stock_items", world["stock_items"].id),
        ),
        "shipping_zones": lambda: doc(
            "shipping_zones", {"name": "Italy", "country_code_regex": "^IT$"}
        ),
        "shipping_methods": lambda: doc(
            "shipping_methods",
            {"name": "Express", "price_amount_cents": 1200},
            market=("markets", world["market"].id),
        ),
        "shipping_weight_tiers": lambda: doc(
            "shipping_weight_tiers",
            {"name": "Heavy", "up_to": 5000, "price_amount_cents": 1500},
            shipping_method=method,
        ),
        "delivery_lead_times": lambda: doc(
            "delivery_lead_times",
            {"min_hours": 24, "max_hours": 48},
            stock_location=location,
            shipping_method=("shipping_methods", ff.ShippingMethodFactory.create().id),
        ),
        "stock_line_items": lambda: doc("stock_line_items", {"quantity": 1}),
        "parcels": lambda: doc(
            "parcels",
            {"weight": 2.5, "unit_of_weight": "lb", "tracking_number": "1Z999"},
            shipment=("shipments", world["shipment"].id),
        ),
    }
    return bodies[resource]()


UPDATES: dict[str, dict[str, Any]] = {
    "stock_locations": {"name": "Renamed"},
    "stock_items": {"quantity": 42},
    "inventory_models": {"strategy": "split_shipments"},
    "inventory_stock_locations": {"priority": 5},
    "inventory_return_locations": {"priority": 5},
    "stock_reservations": {"quantity": 2},
    "shipping_zones": {"name": "Renamed"},
    "shipping_methods": {"price_amount_cents": 990},
    "shipping_weight_tiers": {"price_amount_cents": 990},
    "delivery_lead_times": {"max_hours": 96},
    "stock_line_items": {"quantity": 2},
    "parcels": {"tracking_number": "TRACK-2"},
}


def unreferenced(resource: str, world: dict[str, Any]) -> Any:
    """A fresh record nothing points at, so deleting it is allowed."""
    makers: dict[str, Callable[[], Any]] = {
        "stock_locations": ff.StockLocationFactory.create,
        "stock_items": ff.StockItemFactory.create,
        "inventory_models": ff.InventoryModelFactory.create,
        "inventory_stock_locations": ff.InventoryStockLocationFactory.create,
        "inventory_return_locations": ff.InventoryReturnLocationFactory.create,
        "stock_reservations": lambda: world["stock_reservations"],
        "shipping_zones": ff.ShippingZoneFactory.create,
        "shipping_methods": ff.ShippingMethodFactory.create,
        "shipping_weight_tiers": lambda: ff.ShippingWeightTierFactory.create(
            shipping_method=world["shipping_methods"], up_to=999
        ),
        "delivery_lead_times": lead_time,
        "stock_line_items": lambda: world["stock_line_items"],
        "parcels": lambda: new_parcel(world["shipment"]),
    }
    return makers[resource]()


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


def expected_status(role: str, resource: str, action: str) -> int:
    rule = RULES[resource]
    allowed = {
        "anonymous": set(),
        "sales_channel": rule.sales_channel,
        "read_only": READ,
        "admin": rule.admin,
    }[role]
    return SUCCESS[action] if action in allowed else 401


@pytest.fixture
def world(market) -> dict[str, Any]:
    return build_world(market)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("resource", list(RULES))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(as_role, world, role, resource, action):
    response = perform(as_role(role), resource, action, world)
    expected = expected_status(role, resource, action)
    assert response.status_code == expected, response.doc
    if expected == 401:
        error = response.doc["errors"][0]
        assert error["code"] in ("UNAUTHORIZED", "INVALID_TOKEN")
    elif action in ("retrieve", "create", "update"):
        assert response.doc["data"]["type"] == resource


# --- happy paths ------------------------------------------------------------------------------


def test_back_office_sets_up_a_market_that_sells_from_stock(as_role, market):
    api = as_role("admin")
    address = factories.AddressFactory.create()
    sku = factories.SkuFactory.create(code="TSHIRT-M")

    response = api.post(
        "/api/stock_locations",
        doc("stock_locations", {"name": "Turin", "code": "tr"}, address=("addresses", address.id)),
    )
    assert response.status_code == 201, response.doc
    location = response.doc["data"]
    assert location["attributes"]["number"] >= 1
    assert location["attributes"]["label_format"] == "PDF"

    model = api.post("/api/inventory_models", doc("inventory_models", {"name": "EU"})).doc["data"]
    assert model["attributes"]["strategy"] == "no_split"
    assert model["attributes"]["stock_locations_cutoff"] == 2
    assert model["attributes"]["stock_reservation_cutoff"] == 3600
    response = api.post(
        "/api/inventory_stock_locations",
        doc(
            "inventory_stock_locations",
            {"priority": 1, "on_hold": False},
            stock_location=("stock_locations", location["id"]),
            inventory_model=("inventory_models", model["id"]),
        ),
    )
    assert response.status_code == 201, response.doc
    response = api.patch(
        f"/api/markets/{market.id}",
        doc("markets", id=market.id, inventory_model=("inventory_models", model["id"])),
    )
    assert response.status_code == 200, response.doc
    assert response.doc["data"]["relationships"]["inventory_model"]["data"] == {
        "type": "inventory_models",
        "id": model["id"],
    }

    response = api.post(
        "/api/stock_items",
        doc(
            "stock_items",
            {"sku_code": "TSHIRT-M", "quantity": 30},
            stock_location=("stock_locations", location["id"]),
        ),
    )
    assert response.status_code == 201, response.doc
    item = response.doc["data"]
    assert item["attributes"]["sku_code"] == "TSHIRT-M"
    assert item["relationships"]["sku"]["data"] == {"type": "skus", "id": sku.id}
    response = api.patch(
        f"/api/stock_items/{item['id']}",
        doc("stock_items", {"quantity": 25, "_validate": True}, id=item["id"]),
    )
    assert response.status_code == 200, response.doc
    assert StockItem.objects.get(pk=item["id"]).quantity == 25

    response = api.delete(f"/api/stock_items/{item['id']}")
    assert response.status_code == 204
    assert not StockItem.objects.filter(pk=item["id"]).exists()


def test_shipping_method_with_zone_tiers_lead_time_and_triggers(as_role, market):
    api = as_role("admin")
    zone = api.post(
        "/api/shipping_zones",
        doc("shipping_zones", {"name": "Italy", "country_code_regex": "^IT$"}),
    ).doc["data"]
    response = api.post(
        "/api/shipping_methods",
        doc(
            "shipping_methods",
            {
                "name": "By weight",
                "scheme": "weight_tiered",
                "unit_of_weight": "gr",
                "price_amount_cents": 1000,
                "free_over_amount_cents": 123450,
            },
            market=("markets", market.id),
            shipping_zone=("shipping_zones", zone["id"]),
        ),
    )
    assert response.status_code == 201, response.doc
    method = response.doc["data"]
    attributes = method["attributes"]
    assert attributes["currency_code"] == "EUR"  # the market's
    assert attributes["price_amount_float"] == 10.0
    assert attributes["formatted_price_amount"] == "€10.00"
    assert attributes["free_over_amount_float"] == 1234.5
    assert attributes["formatted_free_over_amount"] == "€1,234.50"
    assert attributes["disabled_at"] is None

    response = api.post(
        "/api/shipping_weight_tiers",
        doc(
            "shipping_weight_tiers",
            {"name": "Up to 1 kg", "up_to": 1000, "price_amount_cents": 450},
            shipping_method=("shipping_methods", method["id"]),
        ),
    )
    assert response.status_code == 201, response.doc
    tier = response.doc["data"]["attributes"]
    assert tier["type"] == "shipping_weight_tiers"
    assert tier["formatted_price_amount"] == "€4.50"

    response = api.post(
        "/api/delivery_lead_times",
        doc(
            "delivery_lead_times",
            {"min_hours": 48, "max_hours": 96},
            stock_location=("stock_locations", ff.StockLocationFactory.create().id),
            shipping_method=("shipping_methods", method["id"]),
        ),
    )
    assert response.status_code == 201, response.doc
    assert response.doc["data"]["attributes"]["min_days"] == 2
    assert response.doc["data"]["attributes"]["max_days"] == 4

    path = f"/api/shipping_methods/{method['id']}"
    response = api.patch(path, doc("shipping_methods", {"_disable": True}, id=method["id"]))
    assert response.doc["data"]["attributes"]["disabled_at"] is not None
    response = api.patch(path, doc("shipping_methods", {"_enable": True}, id=method["id"]))
    assert response.doc["data"]["attributes"]["disabled_at"] is None

    response = api.get(f"{path}?include=shipping_weight_tiers,shipping_zone,market")
    included = {(r["type"], r["id"]) for r in response.doc["included"]}
    assert ("shipping_zones", zone["id"]) in included
    assert ("markets", market.id) in included
    assert any(kind == "shipping_weight_tiers" for kind, _ in included)


def test_shipping_method_created_disabled(as_role):
    response = as_role("admin").post(
        "/api/shipping_methods",
        doc(
            "shipping_methods",
            {"name": "Later", "currency_code": "USD", "price_amount_cents": 0, "_disable": True},
        ),
    )
    assert response.status_code == 201, response.doc
    assert response.doc["data"]["attributes"]["currency_code"] == "USD"
    assert ShippingMethod.objects.get(pk=response.doc["data"]["id"]).disabled_at is not None


def test_parcels_of_a_shipment(as_role, world):
    api = as_role("admin")
    shipment = world["shipment"]
    response = api.post("/api/parcels", create_body("parcels", world))
    assert response.status_code == 201, response.doc
    parcel = response.doc["data"]
    assert parcel["attributes"]["number"] == f"{shipment.number}/P/002"
    assert parcel["attributes"]["weight"] == 2.5
    assert parcel["relationships"]["shipment"]["data"] == {"type": "shipments", "id": shipment.id}

    path = f"/api/parcels/{parcel['id']}"
    response = api.patch(
        path,
        doc("parcels", {"tracking_details": [{"status": "in_transit"}]}, id=parcel["id"]),
    )
    assert response.status_code == 200, response.doc
    assert response.doc["data"]["attributes"]["tracking_details"] == [{"status": "in_transit"}]
    assert api.delete(path).status_code == 204


def test_parcel_needs_a_shipment_past_draft(as_role, world):
    draft = world["shipment"]
    Shipment.objects.filter(pk=draft.pk).update(status=Shipment.Status.DRAFT)
    response = as_role("admin").post("/api/parcels", create_body("parcels", world))
    assert response.status_code == 422
    error = response.doc["errors"][0]
    assert error["code"] == "SHIPMENT_NOT_EDITABLE"
    assert error["source"]["pointer"] == "/data/relationships/shipment"


def test_parcel_cannot_move_to_another_shipment(as_role, world):
    parcel = world["parcels"]
    response = as_role("admin").patch(
        f"/api/parcels/{parcel.id}",
        doc("parcels", id=parcel.id, shipment=("shipments", world["shipment"].id)),
    )
    assert response.status_code == 400
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/relationships/shipment"


def test_read_only_records_show_what_services_wrote(as_role, world):
    api = as_role("read_only")
    reservation = world["stock_reservations"]
    data = api.get(f"/api/stock_reservations/{reservation.id}").doc["data"]
    assert data["attributes"]["status"] == "draft"
    assert data["attributes"]["quantity"] == 1
    assert data["relationships"]["stock_item"]["data"]["id"] == world["stock_items"].id
    assert data["relationships"]["order"]["data"]["type"] == "orders"
    assert data["relationships"]["line_item"]["data"]["type"] == "line_items"

    line = world["stock_line_items"]
    data = api.get(f"/api/stock_line_items/{line.id}?include=sku,stock_item").doc
    assert data["data"]["attributes"]["sku_code"] == world["sku"].code
    assert data["data"]["relationships"]["shipment"]["data"]["type"] == "shipments"
    assert {r["type"] for r in data["included"]} == {"skus", "stock_items"}
    listed = api.get(f"/api/stock_line_items?filter[q][shipment_id_eq]={world['shipment'].id}")
    assert [r["id"] for r in listed.doc["data"]] == [line.id]


# --- includes and related endpoints -----------------------------------------------------------


def test_market_includes_its_inventory_model_and_stock_locations(as_role, world):
    market = world["market"]
    response = as_role("admin").get(
        f"/api/markets/{market.id}?include=inventory_model.inventory_stock_locations.stock_location"
    )
    assert response.status_code == 200, response.doc
    included = {(r["type"], r["id"]) for r in response.doc["included"]}
    assert included == {
        ("inventory_models", world["inventory_models"].id),
        ("inventory_stock_locations", world["inventory_stock_locations"].id),
        ("stock_locations", world["stock_locations"].id),
    }


def test_market_inventory_model_related_endpoints(as_role, world):
    api = as_role("read_only")
    market, model = world["market"], world["inventory_models"]
    response = api.get(f"/api/markets/{market.id}/inventory_model")
    assert response.doc["data"]["type"] == "inventory_models"
    assert response.doc["data"]["id"] == model.id
    response = api.get(f"/api/inventory_models/{model.id}/inventory_stock_locations")
    assert [r["id"] for r in response.doc["data"]] == [world["inventory_stock_locations"].id]
    response = api.get(f"/api/inventory_models/{model.id}/relationships/inventory_return_locations")
    assert response.doc["data"] == [
        {"type": "inventory_return_locations", "id": world["inventory_return_locations"].id}
    ]


def test_sku_stock_items_by_include_and_related_endpoint(as_role, world):
    api = as_role("admin")
    sku, item = world["sku"], world["stock_items"]
    elsewhere = ff.StockItemFactory.create(sku=sku)  # a location of no market
    response = api.get(f"/api/skus?include=stock_items&filter[q][code_eq]={sku.code}")
    assert response.status_code == 200, response.doc
    (data,) = response.doc["data"]
    linked = {r["id"] for r in data["relationships"]["stock_items"]["data"]}
    assert linked == {item.id, elsewhere.id}
    assert {r["id"] for r in response.doc["included"]} == {item.id, elsewhere.id}
    response = api.get(f"/api/skus/{sku.id}/stock_items")
    assert {r["id"] for r in response.doc["data"]} == {item.id, elsewhere.id}
    response = api.get(f"/api/stock_items/{item.id}/sku")
    assert response.doc["data"]["id"] == sku.id


def test_sales_channel_sees_stock_at_its_markets_locations_only(as_role, world):
    api = as_role("sales_channel")
    sku, item = world["sku"], world["stock_items"]
    elsewhere = ff.StockItemFactory.create(sku=sku)
    assert [r["id"] for r in api.get("/api/stock_items").doc["data"]] == [item.id]
    assert api.get(f"/api/stock_items/{elsewhere.id}").status_code == 404
    response = api.get(f"/api/skus/{sku.id}?include=stock_items.stock_location")
    assert response.status_code == 200, response.doc
    assert [r["id"] for r in response.doc["data"]["relationships"]["stock_items"]["data"]] == [
        item.id
    ]
    assert {(r["type"], r["id"]) for r in response.doc["included"]} == {
        ("stock_items", item.id),
        ("stock_locations", world["stock_locations"].id),
    }
    assert [r["id"] for r in api.get(f"/api/skus/{sku.id}/stock_items").doc["data"]] == [item.id]


def test_sales_channel_cannot_include_reservations(as_role, world):
    api = as_role("sales_channel")
    item, sku = world["stock_items"], world["sku"]
    for path in (
        f"/api/stock_items/{item.id}?include=stock_reservations",
        f"/api/skus/{sku.id}?include=stock_items.stock_reservations",
        f"/api/skus/{sku.id}/stock_items?include=stock_reservations",
    ):
        response = api.get(path)
        assert response.status_code == 401, path
        assert "included" not in (response.doc or {})
    response = as_role("read_only").get(f"/api/stock_items/{item.id}?include=stock_reservations")
    assert response.doc["included"][0]["id"] == world["stock_reservations"].id


def test_sales_channel_sees_its_market_and_market_less_shipping_methods(
    as_role, world, other_market
):
    mine = world["shipping_methods"]
    everywhere = ff.ShippingMethodFactory.create()
    ff.ShippingMethodFactory.create(market=other_market)
    response = as_role("sales_channel").get("/api/shipping_methods?include=shipping_zone")
    assert response.status_code == 200, response.doc
    assert {r["id"] for r in response.doc["data"]} == {mine.id, everywhere.id}


def test_a_parcel_links_to_its_shipment(as_role, world):
    api = as_role("admin")
    parcel = world["parcels"]
    related = api.get(f"/api/parcels/{parcel.id}/shipment")
    assert related.status_code == 200
    assert related.doc["data"]["id"] == world["shipment"].id
    included = api.get(f"/api/parcels/{parcel.id}?include=shipment").doc["included"]
    assert [(item["type"], item["id"]) for item in included] == [
        ("shipments", world["shipment"].id)
    ]
    response = api.get(f"/api/parcels/{parcel.id}/relationships/shipment")
    assert response.status_code == 200
    assert response.doc["data"] == {"type": "shipments", "id": world["shipment"].id}


# --- refusals: 4xx with a code and a pointer, never a 500 ---------------------------------------


def test_stock_item_quantity_cannot_drop_below_reserved(as_role, world):
    item = world["stock_items"]
    for extra in ({}, {"_validate": True}):
        response = as_role("admin").patch(
            f"/api/stock_items/{item.id}", doc("stock_items", {"quantity": 0, **extra}, id=item.id)
        )
        assert response.status_code == 422
        error = response.doc["errors"][0]
        assert error["code"] == "STOCK_BELOW_RESERVED"
        assert error["source"]["pointer"] == "/data/attributes/quantity"
    assert StockItem.objects.get(pk=item.pk).quantity == 10
    response = as_role("admin").patch(
        f"/api/stock_items/{item.id}", doc("stock_items", {"quantity": 1}, id=item.id)
    )
    assert response.status_code == 200  # exactly what is reserved is fine


def test_reserved_stock_item_cannot_move(as_role, world):
    item = world["stock_items"]
    response = as_role("admin").patch(
        f"/api/stock_items/{item.id}",
        doc("stock_items", id=item.id, sku=("skus", factories.SkuFactory.create().id)),
    )
    assert response.status_code == 422
    assert response.doc["errors"][0]["code"] == "STOCK_BELOW_RESERVED"


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"quantity": -1}, "/data/attributes/quantity"),
        ({"quantity": 2**31}, "/data/attributes/quantity"),
        ({"quantity": "many"}, "/data/attributes/quantity"),
        ({"quantity": 1, "sku_code": "NO-SUCH-SKU"}, "/data/attributes/sku_code"),
        ({"quantity": 1}, "/data/relationships/sku"),
    ],
)
def test_bad_stock_item_is_422(as_role, world, attributes, pointer):
    body = doc(
        "stock_items", attributes, stock_location=("stock_locations", world["stock_locations"].id)
    )
    response = as_role("admin").post("/api/stock_items", body)
    assert response.status_code == 422, response.doc
    assert response.doc["errors"][0]["source"]["pointer"] == pointer


def test_stock_item_relationship_of_the_wrong_type_is_409(as_role, world):
    body = doc(
        "stock_items",
        {"sku_code": world["sku"].code, "quantity": 1},
        stock_location=("addresses", world["stock_locations"].id),
    )
    response = as_role("admin").post("/api/stock_items", body)
    assert response.status_code == 409
    response = as_role("admin").post(
        "/api/parcels",
        doc("parcels", {"weight": 1, "unit_of_weight": "gr"}, shipment=("orders", "x")),
    )
    assert response.status_code == 409


def test_second_stock_item_for_the_same_sku_and_location_is_422(as_role, world):
    response = as_role("admin").post(
        "/api/stock_items",
        doc(
            "stock_items",
            {"sku_code": world["sku"].code, "quantity": 1},
            stock_location=("stock_locations", world["stock_locations"].id),
        ),
    )
    assert response.status_code == 422


def test_stock_item_needs_a_stock_location(as_role, world):
    response = as_role("admin").post(
        "/api/stock_items", doc("stock_items", {"sku_code": world["sku"].code, "quantity": 1})
    )
    assert response.status_code == 422
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/relationships/stock_location"


@pytest.mark.parametrize(
    ("resource", "attributes", "pointer"),
    [
        ("shipping_zones", {"name": "Bad", "zip_code_regex": "(["}, "zip_code_regex"),
        ("shipping_methods", {"name": "Free", "price_amount_cents": -1}, "price_amount_cents"),
        ("shipping_methods", {"name": "No currency", "price_amount_cents": 1}, "currency_code"),
        (
            "shipping_methods",
            {"name": "Heavy", "currency_code": "EUR", "price_amount_cents": 1, "min_weight": 5},
            "unit_of_weight",
        ),
        ("shipping_methods", {"name": "X", "scheme": "teleport"}, "scheme"),
        ("inventory_models", {"name": "Zero", "stock_locations_cutoff": 0}, None),
        ("inventory_models", {"name": "Odd", "strategy": "random"}, "strategy"),
        ("stock_locations", {"name": "Homeless"}, None),
    ],
)
def test_bad_input_is_422_with_a_pointer(as_role, resource, attributes, pointer):
    response = as_role("admin").post(f"/api/{resource}", doc(resource, attributes))
    assert response.status_code == 422, response.doc
    if pointer:
        pointers = {e["source"]["pointer"] for e in response.doc["errors"]}
        assert f"/data/attributes/{pointer}" in pointers


def test_lead_time_maximum_below_minimum_is_422(as_role, world):
    item = world["delivery_lead_times"]
    response = as_role("admin").patch(
        f"/api/delivery_lead_times/{item.id}",
        doc("delivery_lead_times", {"min_hours": 100, "max_hours": 10}, id=item.id),
    )
    assert response.status_code == 422
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/attributes/max_hours"


def test_deleting_a_location_in_use_is_422(as_role, world):
    location = world["stock_locations"]
    response = as_role("admin").delete(f"/api/stock_locations/{location.id}")
    assert response.status_code == 422
    assert InventoryStockLocation.objects.filter(stock_location=location).exists()


def test_deleting_a_parcel_of_a_shipped_shipment_is_422(as_role, world):
    parcel = world["parcels"]
    Shipment.objects.filter(pk=parcel.shipment_id).update(status=Shipment.Status.SHIPPED)
    response = as_role("admin").delete(f"/api/parcels/{parcel.id}")
    assert response.status_code == 422
    assert response.doc["errors"][0]["code"] == "SHIPMENT_NOT_EDITABLE"


def test_reservations_cannot_be_written(as_role, world):
    reservation = world["stock_reservations"]
    response = as_role("admin").patch(
        f"/api/stock_reservations/{reservation.id}",
        doc("stock_reservations", {"_pending": True}, id=reservation.id),
    )
    assert response.status_code == 401


# --- constant query counts --------------------------------------------------------------------

LISTS = [
    ("admin", "/api/stock_locations"),
    ("admin", "/api/stock_locations?include=address,inventory_stock_locations,stock_items"),
    ("sales_channel", "/api/stock_items"),
    ("sales_channel", "/api/stock_items?include=sku,stock_location.address"),
    ("admin", "/api/stock_items?include=stock_reservations,sku"),
    ("admin", "/api/inventory_models"),
    (
        "admin",
        "/api/inventory_models?include=inventory_stock_locations.stock_location,"
        "inventory_return_locations",
    ),
    ("admin", "/api/inventory_stock_locations?include=stock_location,inventory_model"),
    ("admin", "/api/inventory_return_locations?include=stock_location,inventory_model"),
    ("admin", "/api/stock_reservations"),
    ("admin", "/api/stock_reservations?include=stock_item.sku"),
    ("admin", "/api/shipping_zones"),
    ("sales_channel", "/api/shipping_methods"),
    (
        "sales_channel",
        "/api/shipping_methods?include=market,shipping_zone,shipping_category,"
        "stock_location,shipping_weight_tiers",
    ),
    ("admin", "/api/shipping_weight_tiers?include=shipping_method"),
    ("admin", "/api/delivery_lead_times?include=stock_location,shipping_method"),
    ("admin", "/api/stock_line_items"),
    ("admin", "/api/stock_line_items?include=sku,stock_item"),
    ("admin", "/api/parcels"),
    ("sales_channel", "/api/skus?include=stock_items"),
    ("sales_channel", "/api/skus?include=stock_items.stock_location,prices"),
    ("admin", "/api/skus?include=stock_items.stock_location"),
    ("sales_channel", "/api/markets?include=inventory_model.inventory_stock_locations"),
    ("admin", "/api/markets?include=inventory_model.inventory_stock_locations.stock_location"),
]


def grow(world: dict[str, Any], count: int) -> None:
    """`count` more of every listed resource, all visible to the market's sales channel."""
    market, model = world["market"], world["inventory_models"]
    for _ in range(count):
        location = ff.StockLocationFactory.create()
        ff.InventoryStockLocationFactory.create(inventory_model=model, stock_location=location)
        ff.InventoryReturnLocationFactory.create(inventory_model=model, stock_location=location)
        sku = factories.PriceFactory.create(price_list=market.price_list).sku
        ff.StockItemFactory.create(sku=sku, stock_location=location, quantity=5)
        ff.StockItemFactory.create(sku=sku, stock_location=world["stock_locations"], quantity=5)
        shipment = upcoming_shipment(market, sku)
        new_parcel(shipment)
        method = ff.ShippingMethodFactory.create(
            market=market,
            shipping_zone=ff.ShippingZoneFactory.create(),
            shipping_category=sku.shipping_category,
            stock_location=location,
        )
        ff.ShippingWeightTierFactory.create(shipping_method=method)
        lead_time(stock_location=location, shipping_method=method)
        factories.MarketFactory.create(
            price_list=market.price_list, inventory_model=ff.InventoryModelFactory.create()
        )


def queries_for(api: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"{path}{'&' if '?' in path else '?'}page[size]=25")
    assert response.status_code == 200, response.doc
    assert response.doc["data"], path
    return len(captured)


@pytest.mark.parametrize(("role", "path"), LISTS)
def test_list_query_count_does_not_grow_with_the_page(as_role, world, role, path):
    api = as_role(role)
    grow(world, 1)
    small = queries_for(api, path)
    grow(world, 10)
    large = queries_for(api, path)
    assert large == small, f"{path}: {small} queries for a few records, {large} for more"
    assert small <= 10
