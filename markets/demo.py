"""The demo catalog (organization, merchants, markets, price lists, SKUs, prices), built
idempotently: running it twice gives the same data. `python manage.py seed_demo` (in `orders`,
which adds stock, shipping, payments, customers and orders on top) calls `catalog_seed`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models, transaction

from markets.models import (
    Address,
    Market,
    Merchant,
    Organization,
    Price,
    PriceList,
    PriceVolumeTier,
    ShippingCategory,
    Sku,
)
from markets.services import market_save
from oms.services import resource_save

# `reference_origin` of every demo row found by its `reference` (rows without a code).
SEED_ORIGIN = "seed_demo"

SHIPPING_CATEGORIES = [
    ("apparel", "Apparel"),
    ("footwear", "Footwear"),
    ("accessories", "Accessories"),
    ("home", "Home & living"),
    ("digital", "Digital goods"),
]

# (code, name, category, weight in grams, EUR price in cents); digital goods have no weight.
CATALOG: list[tuple[str, str, str, int | None, int]] = [
    ("TSHIRT-WHT-S", "Organic cotton T-shirt, white, S", "apparel", 180, 2500),
    ("TSHIRT-WHT-M", "Organic cotton T-shirt, white, M", "apparel", 190, 2500),
    ("TSHIRT-WHT-L", "Organic cotton T-shirt, white, L", "apparel", 200, 2500),
    ("TSHIRT-BLK-S", "Organic cotton T-shirt, black, S", "apparel", 180, 2500),
    ("TSHIRT-BLK-M", "Organic cotton T-shirt, black, M", "apparel", 190, 2500),
    ("TSHIRT-BLK-L", "Organic cotton T-shirt, black, L", "apparel", 200, 2500),
    ("HOODIE-GRY-M", "Heavyweight hoodie, heather grey, M", "apparel", 650, 6900),
    ("HOODIE-GRY-L", "Heavyweight hoodie, heather grey, L", "apparel", 680, 6900),
    ("HOODIE-NVY-M", "Heavyweight hoodie, navy, M", "apparel", 650, 6900),
    ("HOODIE-NVY-L", "Heavyweight hoodie, navy, L", "apparel", 680, 6900),
    ("JACKET-RAIN-M", "Packable rain jacket, M", "apparel", 420, 12900),
    ("JACKET-RAIN-L", "Packable rain jacket, L", "apparel", 440, 12900),
    ("SOCKS-MERINO-3P", "Merino hiking socks, 3-pack", "apparel", 210, 2900),
    ("CAP-CANVAS-KHK", "Canvas cap, khaki", "accessories", 90, 2200),
    ("BEANIE-WOOL-RED", "Wool beanie, red", "accessories", 80, 2400),
    ("SNEAKER-RUN-40", "Trail running shoe, EU 40", "footwear", 820, 13900),
    ("SNEAKER-RUN-41", "Trail running shoe, EU 41", "footwear", 840, 13900),
    ("SNEAKER-RUN-42", "Trail running shoe, EU 42", "footwear", 860, 13900),
    ("SNEAKER-RUN-43", "Trail running shoe, EU 43", "footwear", 880, 13900),
    ("SNEAKER-RUN-44", "Trail running shoe, EU 44", "footwear", 900, 13900),
    ("BOOT-HIKE-42", "Leather hiking boot, EU 42", "footwear", 1250, 18900),
    ("BOOT-HIKE-43", "Leather hiking boot, EU 43", "footwear", 1280, 18900),
    ("SANDAL-CORK-41", "Cork sandal, EU 41", "footwear", 540, 7900),
    ("BACKPACK-20L", "Day backpack, 20 L", "accessories", 780, 8900),
    ("BACKPACK-35L", "Trekking backpack, 35 L", "accessories", 1350, 15900),
    ("BOTTLE-STEEL-750", "Insulated steel bottle, 750 ml", "accessories", 390, 3400),
    ("WALLET-LEATHER", "Leather bifold wallet", "accessories", 110, 4900),
    ("BELT-CANVAS", "Canvas belt", "accessories", 150, 2900),
    ("SUNGLASSES-POL", "Polarised sunglasses", "accessories", 60, 8900),
    ("MUG-ENAMEL", "Enamel camping mug", "home", 220, 1600),
    ("BLANKET-WOOL", "Wool picnic blanket", "home", 1600, 9900),
    ("CANDLE-CEDAR", "Cedar scented candle", "home", 380, 2600),
    ("LANTERN-LED", "Rechargeable LED lantern", "home", 450, 4500),
    ("HAMMOCK-NYLON", "Travel hammock", "home", 700, 5900),
    ("CHAIR-CAMP", "Folding camp chair", "home", 2300, 7900),
    ("TOWEL-QUICKDRY", "Quick-dry travel towel", "home", 260, 2400),
    ("GIFTWRAP-PREMIUM", "Premium gift wrapping", "home", 50, 500),
    ("EBOOK-TRAILS", "E-book: 50 trails of the Alps", "digital", None, 1200),
    ("EBOOK-CAMPING", "E-book: camping cookbook", "digital", None, 900),
    ("GUIDE-MAP-PACK", "Downloadable topo map pack", "digital", None, 1900),
    ("COURSE-NAVIGATION", "Online course: map and compass", "digital", None, 4900),
    ("PODCAST-SEASON", "Podcast season pass", "digital", None, 1500),
    ("WARRANTY-EXT-2Y", "Extended warranty, 2 years", "digital", None, 2900),
]

# SKUs that get volume tiers in every price list: (up_to, percent of the base price).
VOLUME_TIERED: dict[str, list[tuple[int | None, int]]] = {
    "TSHIRT-WHT-M": [(5, 90), (20, 80), (None, 70)],
    "TSHIRT-BLK-M": [(5, 90), (20, 80), (None, 70)],
    "SOCKS-MERINO-3P": [(3, 95), (None, 85)],
    "MUG-ENAMEL": [(10, 90), (None, 75)],
    "BOTTLE-STEEL-750": [(12, 85)],
}

# price lists: (code, name, currency, tax_included, factor applied to the EUR price, per 100)
PRICE_LISTS = [
    ("eur", "Europe (EUR)", "EUR", True, 100),
    ("usd", "United States (USD)", "USD", False, 98),
    ("gbp", "United Kingdom (GBP)", "GBP", True, 88),
]


def upsert[M: models.Model](
    model: type[M],
    lookup: dict[str, Any],
    values: dict[str, Any],
    *,
    save: Callable[[M], M] = resource_save,
) -> M:
    """Find by `lookup`, create if missing, and bring `values` up to date, through `save` (the
    entity's service; `resource_save` for plain resources). Saves nothing when nothing changed."""
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        return save(model(**lookup, **values))
    changed = False
    for field, value in values.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed = True
    return save(instance) if changed else instance


def address_upsert(reference: str, values: dict[str, Any]) -> Address:
    """A demo address, found by its `reference`."""
    return upsert(Address, {"reference": reference, "reference_origin": SEED_ORIGIN}, values)


def catalog_seed() -> list[str]:
    """Create or refresh the demo catalog; returns a summary of what there is ("3 markets")."""
    with transaction.atomic():
        return _catalog_seed()


def _catalog_seed() -> list[str]:
    upsert(
        Organization,
        {"slug": "acme-outfitters"},
        {
            "name": "Acme Outfitters",
            "support_email": "support@acme-outfitters.example",
            "support_phone": "+31 20 555 0100",
            "primary_color": "#1f6f43",
        },
    )
    eu_address = address_upsert(
        "merchant-eu",
        {
            "business": True,
            "company": "Acme Outfitters Europe B.V.",
            "line_1": "Keizersgracht 123",
            "city": "Amsterdam",
            "zip_code": "1015 CJ",
            "state_code": "NH",
            "country_code": "NL",
            "phone": "+31 20 555 0100",
            "email": "eu@acme-outfitters.example",
        },
    )
    us_address = address_upsert(
        "merchant-us",
        {
            "business": True,
            "company": "Acme Outfitters Inc.",
            "line_1": "350 Fifth Avenue",
            "city": "New York",
            "zip_code": "10118",
            "state_code": "NY",
            "country_code": "US",
            "phone": "+1 212 555 0199",
            "email": "us@acme-outfitters.example",
        },
    )
    merchant_eu = upsert(Merchant, {"name": "Acme Outfitters Europe B.V."}, {"address": eu_address})
    merchant_us = upsert(Merchant, {"name": "Acme Outfitters Inc."}, {"address": us_address})

    categories = {
        code: upsert(ShippingCategory, {"code": code}, {"name": name})
        for code, name in SHIPPING_CATEGORIES
    }
    price_lists = {
        code: upsert(
            PriceList,
            {"code": code},
            {"name": name, "currency_code": currency, "tax_included": tax_included},
        )
        for code, name, currency, tax_included, _ in PRICE_LISTS
    }
    for code, name, merchant, price_list in (
        ("eu", "Europe", merchant_eu, price_lists["eur"]),
        ("us", "United States", merchant_us, price_lists["usd"]),
        ("uk", "United Kingdom", merchant_eu, price_lists["gbp"]),
    ):
        market = Market.objects.filter(code=code).first() or Market(code=code)
        market.name, market.merchant, market.price_list = name, merchant, price_list
        market_save(market=market)

    factors = {code: factor for code, _, _, _, factor in PRICE_LISTS}
    prices = 0
    for code, name, category, grams, eur_cents in CATALOG:
        digital = category == "digital"
        sku = upsert(
            Sku,
            {"code": code},
            {
                "name": name,
                "description": f"{name}. Part of the Acme Outfitters demo catalog.",
                "image_url": f"https://images.acme-outfitters.example/{code.lower()}.jpg",
                "weight": grams,
                "unit_of_weight": "" if grams is None else "gr",
                "do_not_ship": digital,
                "do_not_track": digital,
                "shipping_category": categories[category],
            },
        )
        for list_code, price_list in price_lists.items():
            amount = eur_cents * factors[list_code] // 100
            price = upsert(
                Price,
                {"sku": sku, "price_list": price_list},
                {
                    "amount_cents": amount,
                    "compare_at_amount_cents": amount * 125 // 100,
                },
            )
            prices += 1
            for up_to, percent in VOLUME_TIERED.get(code, []):
                upsert(
                    PriceVolumeTier,
                    {"price": price, "up_to": up_to},
                    {
                        "name": f"up to {up_to}" if up_to else "bulk",
                        "price_amount_cents": amount * percent // 100,
                    },
                )
    return [
        f"{Market.objects.count()} markets",
        f"{Sku.objects.count()} SKUs",
        f"{prices} prices",
        f"{PriceVolumeTier.objects.count()} volume tiers",
    ]
