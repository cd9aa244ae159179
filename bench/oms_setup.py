"""Set-up of the product's benchmark database, run inside Django (`python -m bench.oms_setup
prepare|carts N|placed N`, with DATABASE_URL naming the bench database): the demo catalog,
stock enough for any run, an instant test gateway, API applications, and carts built through
the same order workflows the API calls. Prints JSON."""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any

import django


def prepare() -> dict[str, Any]:
    from django.core.management import call_command

    from fulfillment.models import StockItem
    from markets.models import Market, Organization
    from oms.oauth.services import application_create
    from payments.models import PaymentGateway, PaymentMethod

    call_command("seed_demo", orders=0, verbosity=0, stdout=io.StringIO())
    StockItem.objects.update(quantity=10_000_000)
    PaymentGateway.objects.filter(type=PaymentGateway.Type.TEST).update(test_latency_ms=0)
    assert Organization.objects.exists()
    market = Market.objects.get(code="eu")
    method = PaymentMethod.objects.get(market=market, reference="payment-method-eu-card")
    skus = list(
        StockItem.objects.filter(
            stock_location__inventory_stock_locations__inventory_model=market.inventory_model
        )
        .values_list("sku__code", flat=True)
        .distinct()
        .order_by("sku__code")[:3]
    )
    sales_channel = application_create(name="Bench shop", kind="sales_channel", market=market)
    integration = application_create(name="Bench ERP", kind="integration", role="admin")
    return {
        "market": market.code,
        "sku_codes": skus,
        "payment_method_id": method.pk,
        "sales_channel": {"client_id": sales_channel.application.client_id},
        "integration": {
            "client_id": integration.application.client_id,
            "client_secret": integration.client_secret,
        },
    }


def carts(n: int, *, place: bool = False) -> list[str]:
    """`n` pending carts ready to place, as the storefront builds them (3 lines, an address,
    the card method, a shipping method per shipment, a card), placed too when asked."""
    from fulfillment.selectors import shipping_methods_available_for
    from markets.models import Address, Market
    from oms.actors import Actor
    from orders import services
    from payments.models import PaymentMethod
    from payments.services import test_payment_create

    actor = Actor(kind="application", id="bench", name="sales_channel")
    market = Market.objects.select_related("price_list").get(code="eu")
    config = json.loads(os.environ["BENCH_CONFIG"])
    method = PaymentMethod.objects.get(pk=config["payment_method_id"])
    ids = []
    for i in range(n):
        order = services.order_create(market=market, actor=actor)
        for quantity, code in enumerate(config["sku_codes"], start=1):
            services.line_item_create(order=order, actor=actor, sku_code=code, quantity=quantity)
        address = Address.objects.create(
            first_name="Ada",
            last_name="Lovelace",
            line_1="Damrak 1",
            city="Amsterdam",
            zip_code="1012 LG",
            country_code="NL",
            phone="+31 20 555 0100",
        )
        order = services.order_update(
            order=order,
            actor=actor,
            data={
                "customer_email": f"bench{i % 50}@example.com",
                "billing_address": address,
                "_shipping_address_same_as_billing": True,
                "payment_method": method,
            },
        )
        shipments = list(order.shipments.all())
        available = shipping_methods_available_for(order=order, shipments=shipments)
        for shipment in shipments:
            services.order_shipment_shipping_method_set(
                shipment=shipment, shipping_method=available[shipment.pk][0], actor=actor
            )
        test_payment_create(order=order, token="tok_success")
        if place:
            services.order_place(order=order, actor=actor)
        ids.append(order.pk)
    return ids


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oms.settings")
    django.setup()
    import logging

    logging.disable(logging.INFO)
    command = argv[0]
    if command == "prepare":
        print(json.dumps(prepare()))
    elif command in {"carts", "placed"}:
        print(json.dumps(carts(int(argv[1]), place=command == "placed")))
    else:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
