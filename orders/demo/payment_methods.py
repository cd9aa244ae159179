"""How the demo markets get paid: one gateway of each kind and each market's payment methods."""

from __future__ import annotations

from typing import Any

from markets.demo import SEED_ORIGIN
from markets.models import Market
from payments.models import PaymentGateway, PaymentMethod, PaymentSourceType
from payments.services import (
    payment_gateway_create,
    payment_gateway_disable,
    payment_gateway_update,
    payment_method_create,
    payment_method_update,
)

# The merchant's own payment service, as an external gateway would call it. Nothing listens
# there in the demo, so the gateway is created disabled: enable it once a service answers.
EXTERNAL_BASE_URL = "http://127.0.0.1:9000/payments"

# reference -> fields
PAYMENT_GATEWAYS: dict[str, dict[str, Any]] = {
    "manual": {"type": PaymentGateway.Type.MANUAL, "name": "Bank transfers"},
    "test": {"type": PaymentGateway.Type.TEST, "name": "Test cards", "test_latency_ms": 0},
    "external": {
        "type": PaymentGateway.Type.EXTERNAL,
        "name": "Acme Pay (external)",
        "authorize_url": f"{EXTERNAL_BASE_URL}/authorize",
        "capture_url": f"{EXTERNAL_BASE_URL}/capture",
        "void_url": f"{EXTERNAL_BASE_URL}/void",
        "refund_url": f"{EXTERNAL_BASE_URL}/refund",
        "timeout_ms": 3000,
    },
}

# (reference, market, gateway, source type, fields)
PAYMENT_METHODS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("eu-wire", "eu", "manual", PaymentSourceType.WIRE_TRANSFERS, {"name": "Bank transfer"}),
    ("eu-card", "eu", "test", PaymentSourceType.TEST_PAYMENTS, {"name": "Card"}),
    ("eu-acme-pay", "eu", "external", PaymentSourceType.EXTERNAL_PAYMENTS, {"name": "Acme Pay"}),
    ("us-wire", "us", "manual", PaymentSourceType.WIRE_TRANSFERS, {"name": "Wire transfer"}),
    # US card payments carry a processing fee (a payment method line on the order).
    (
        "us-card",
        "us",
        "test",
        PaymentSourceType.TEST_PAYMENTS,
        {"name": "Card (processing fee)", "price_amount_cents": 150},
    ),
    ("uk-wire", "uk", "manual", PaymentSourceType.WIRE_TRANSFERS, {"name": "Bank transfer"}),
    ("uk-card", "uk", "test", PaymentSourceType.TEST_PAYMENTS, {"name": "Card"}),
]


def _changed(instance: Any, values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if getattr(instance, name) != value}


def payment_methods_seed() -> list[str]:
    """The gateways (the external one disabled when first created) and, per market, a bank
    transfer through the manual gateway and a card through the test gateway, captured by hand
    (`auto_capture` off) so the demo orders show every payment status."""
    gateways: dict[str, PaymentGateway] = {}
    for reference, fields in PAYMENT_GATEWAYS.items():
        lookup = {"reference": f"payment-gateway-{reference}", "reference_origin": SEED_ORIGIN}
        gateway = PaymentGateway.objects.filter(**lookup).first()
        if gateway is None:
            gateway = payment_gateway_create(data={**lookup, **fields})
            if gateway.type == PaymentGateway.Type.EXTERNAL:
                gateway = payment_gateway_disable(payment_gateway=gateway)
        elif changes := _changed(gateway, fields):
            gateway = payment_gateway_update(payment_gateway=gateway, data=changes)
        gateways[reference] = gateway
    markets = {market.code: market for market in Market.objects.select_related("price_list")}
    for reference, market_code, gateway_code, source_type, extra in PAYMENT_METHODS:
        market = markets[market_code]
        lookup = {"reference": f"payment-method-{reference}", "reference_origin": SEED_ORIGIN}
        fields = {
            "market": market,
            "payment_gateway": gateways[gateway_code],
            "payment_source_type": source_type,
            "currency_code": market.currency_code,
            "auto_capture": False,
            "require_capture": True,
            "price_amount_cents": 0,
            **extra,
        }
        method = PaymentMethod.objects.filter(**lookup).first()
        if method is None:
            payment_method_create(data={**lookup, **fields})
        elif changes := _changed(method, fields):
            payment_method_update(payment_method=method, data=changes)
    return [
        f"{PaymentGateway.objects.count()} payment gateways",
        f"{PaymentMethod.objects.count()} payment methods",
    ]
