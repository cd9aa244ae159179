"""Where the demo markets keep their stock: stock locations, inventory models and stock items."""

from __future__ import annotations

import random
from typing import Any

from fulfillment.models import (
    InventoryModel,
    InventoryReturnLocation,
    InventoryStockLocation,
    StockItem,
    StockLocation,
)
from fulfillment.services import stock_item_save, stock_location_save
from markets.demo import SEED_ORIGIN, address_upsert, upsert
from markets.models import Market, Sku
from markets.services import market_save


def _location_save(stock_location: StockLocation) -> StockLocation:
    return stock_location_save(stock_location=stock_location)


# (code, name, address); the address's company is the location's name.
STOCK_LOCATIONS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "eu-ams",
        "Amsterdam warehouse",
        {
            "line_1": "Hoogoorddreef 15",
            "city": "Amsterdam",
            "zip_code": "1101 BA",
            "state_code": "NH",
            "country_code": "NL",
            "phone": "+31 20 555 0142",
        },
    ),
    (
        "eu-ber",
        "Berlin warehouse",
        {
            "line_1": "Am Borsigturm 100",
            "city": "Berlin",
            "zip_code": "13507",
            "state_code": "BE",
            "country_code": "DE",
            "phone": "+49 30 555 0190",
        },
    ),
    (
        "us-ewr",
        "Newark fulfillment center",
        {
            "line_1": "200 Port Street",
            "city": "Newark",
            "zip_code": "07114",
            "state_code": "NJ",
            "country_code": "US",
            "phone": "+1 973 555 0120",
        },
    ),
    (
        "uk-lon",
        "London shop",
        {
            "line_1": "14 Neal Street",
            "city": "London",
            "zip_code": "WC2H 9PU",
            "country_code": "GB",
            "phone": "+44 20 7946 0321",
        },
    ),
    (
        "uk-man",
        "Manchester warehouse",
        {
            "line_1": "Trafford Park Road 8",
            "city": "Manchester",
            "zip_code": "M17 1HG",
            "country_code": "GB",
            "phone": "+44 161 496 0550",
        },
    ),
]

# market -> (inventory model name, strategy, stock location codes by priority)
INVENTORY_MODELS: dict[str, tuple[str, str, list[str]]] = {
    "eu": ("Europe: one parcel", InventoryModel.Strategy.NO_SPLIT, ["eu-ams", "eu-ber"]),
    "us": ("United States: one parcel", InventoryModel.Strategy.NO_SPLIT, ["us-ewr"]),
    # The London shop holds a small range; what it lacks comes from Manchester.
    "uk": (
        "United Kingdom: split shipments",
        InventoryModel.Strategy.SPLIT_SHIPMENTS,
        ["uk-lon", "uk-man"],
    ),
}

# Typical units on hand per location (a range); a SKU's quantity is drawn from it.
STOCK_RANGES: dict[str, tuple[int, int]] = {
    "eu-ams": (40, 160),
    "eu-ber": (15, 60),
    "us-ewr": (40, 150),
    "uk-lon": (5, 25),
    "uk-man": (30, 90),
}
# SKUs that are scarce everywhere: units per location (0 = out of stock).
SCARCE: dict[str, int] = {
    "SANDAL-CORK-41": 0,
    "BOOT-HIKE-43": 2,
    "JACKET-RAIN-L": 3,
    "CHAIR-CAMP": 1,
}
# Stock kept only in the secondary location of a market (the primary has none).
SECONDARY_ONLY: dict[str, set[str]] = {
    "eu-ams": {"HAMMOCK-NYLON", "LANTERN-LED", "BLANKET-WOOL"},
    "uk-lon": {
        "SNEAKER-RUN-40",
        "SNEAKER-RUN-41",
        "SNEAKER-RUN-42",
        "SNEAKER-RUN-43",
        "SNEAKER-RUN-44",
        "BOOT-HIKE-42",
        "BACKPACK-35L",
        "BLANKET-WOOL",
        "HAMMOCK-NYLON",
    },
}


def stock_quantity(location_code: str, sku_code: str) -> int:
    """The demo's initial quantity of a SKU at a location: the same on every run."""
    if sku_code in SCARCE:
        return SCARCE[sku_code]
    if sku_code in SECONDARY_ONLY.get(location_code, set()):
        return 0
    low, high = STOCK_RANGES[location_code]
    return random.Random(f"{location_code}:{sku_code}").randint(low, high)  # noqa: S311


def inventory_seed() -> list[str]:
    """Stock locations with their addresses, one inventory model per market, and a stock item
    for every tracked SKU in every location.

    A stock item that exists keeps its quantity: the demo orders have moved it since."""
    locations: dict[str, StockLocation] = {}
    for code, name, address in STOCK_LOCATIONS:
        location_address = address_upsert(
            f"stock-location-{code}",
            {
                "business": True,
                "company": f"Acme Outfitters, {name}",
                "email": f"{code}@acme-outfitters.example",
                **address,
            },
        )
        locations[code] = upsert(
            StockLocation,
            {"code": code},
            {"name": name, "address": location_address},
            save=_location_save,
        )
    for market_code, (name, strategy, codes) in INVENTORY_MODELS.items():
        model = upsert(
            InventoryModel,
            {"reference": f"inventory-model-{market_code}", "reference_origin": SEED_ORIGIN},
            {"name": name, "strategy": strategy, "stock_locations_cutoff": 2},
        )
        for priority, code in enumerate(codes, start=1):
            upsert(
                InventoryStockLocation,
                {"inventory_model": model, "stock_location": locations[code]},
                {"priority": priority},
            )
        upsert(
            InventoryReturnLocation,
            {"inventory_model": model, "stock_location": locations[codes[-1]]},
            {"priority": 1},
        )
        market = Market.objects.get(code=market_code)
        if market.inventory_model_id != model.pk:
            market.inventory_model = model
            market_save(market=market)
    tracked = Sku.objects.filter(do_not_track=False, do_not_ship=False).order_by("code")
    existing = set(
        StockItem.objects.filter(stock_location__in=locations.values()).values_list(
            "stock_location_id", "sku_id"
        )
    )
    for location_code, location in locations.items():
        for sku in tracked:
            if (location.pk, sku.pk) in existing:
                continue
            stock_item_save(
                stock_item=StockItem(
                    stock_location=location,
                    sku=sku,
                    quantity=stock_quantity(location_code, sku.code),
                )
            )
    return [
        f"{StockLocation.objects.count()} stock locations",
        f"{StockItem.objects.count()} stock items",
    ]
