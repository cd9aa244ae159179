"""How the demo markets ship: shipping zones and shipping methods."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fulfillment.models import ShippingMethod, ShippingWeightTier, ShippingZone, UnitOfWeight
from markets.demo import SEED_ORIGIN, upsert
from markets.models import Market

EU_COUNTRIES = "AT|BE|BG|CY|CZ|DE|DK|EE|ES|FI|FR|GR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK"

# reference -> (name, country code pattern)
SHIPPING_ZONES: dict[str, tuple[str, str]] = {
    "eu": ("European Union", f"^({EU_COUNTRIES})$"),
    "us": ("United States", "^US$"),
    "uk": ("United Kingdom", "^GB$"),
}

# (reference, market, name, price in minor units, free over, extra fields)
SHIPPING_METHODS: list[tuple[str, str, str, int, int | None, dict[str, Any]]] = [
    ("eu-standard", "eu", "Standard (PostNL, 2-4 days)", 495, 7500, {}),
    ("eu-express", "eu", "Express (DHL, next day)", 1290, None, {}),
    ("us-standard", "us", "Standard (USPS, 3-5 days)", 599, 9900, {}),
    ("us-express", "us", "Express (FedEx, 2 days)", 1999, None, {}),
    (
        "us-ground",
        "us",
        "Ground by weight (UPS)",
        1999,
        None,
        {"scheme": ShippingMethod.Scheme.WEIGHT_TIERED, "unit_of_weight": UnitOfWeight.GRAMS},
    ),
    ("uk-standard", "uk", "Standard (Royal Mail, 2-3 days)", 399, 6000, {}),
    ("uk-express", "uk", "Express (DPD, next day)", 899, None, {}),
]

# Weight tiers of "Ground by weight": (up to grams or None for the rest, price).
GROUND_TIERS: list[tuple[Decimal | None, str, int]] = [
    (Decimal(1000), "up to 1 kg", 699),
    (Decimal(5000), "up to 5 kg", 1199),
    (None, "over 5 kg", 1999),
]


def shipping_seed() -> list[str]:
    """One shipping zone per market's country (or countries), and per market a flat standard
    method (free over an amount) and an express one; the US also ships by weight."""
    markets = {market.code: market for market in Market.objects.select_related("price_list")}
    zones = {
        code: upsert(
            ShippingZone,
            {"reference": f"shipping-zone-{code}", "reference_origin": SEED_ORIGIN},
            {"name": name, "country_code_regex": pattern},
        )
        for code, (name, pattern) in SHIPPING_ZONES.items()
    }
    for reference, market_code, name, price, free_over, extra in SHIPPING_METHODS:
        market = markets[market_code]
        method = upsert(
            ShippingMethod,
            {"reference": f"shipping-method-{reference}", "reference_origin": SEED_ORIGIN},
            {
                "name": name,
                "market": market,
                "shipping_zone": zones[market_code],
                "currency_code": market.currency_code,
                "price_amount_cents": price,
                "free_over_amount_cents": free_over,
                **extra,
            },
        )
        if method.scheme == ShippingMethod.Scheme.WEIGHT_TIERED:
            for up_to, tier_name, tier_price in GROUND_TIERS:
                upsert(
                    ShippingWeightTier,
                    {"shipping_method": method, "up_to": up_to},
                    {"name": tier_name, "price_amount_cents": tier_price},
                )
    return [
        f"{ShippingZone.objects.count()} shipping zones",
        f"{ShippingMethod.objects.count()} shipping methods",
    ]
