"""Commerce Layer's own JavaScript SDK, unmodified, against the live API: a whole checkout.

Seeds the shop of tests/api/test_checkout_api.py (a market with an inventory model, one stock
location with stock for two SKUs of one shipping category, a shipping method) with two payment
methods: a manual gateway's `wire_transfers` (the SDK has no `test_payments` resource, see
checkout.test.mjs) and an external gateway's `external_payments` whose gateway, a local HTTP
server, declines the card (the declined run). Creates a sales channel and an integration, starts
pytest-django's live server and runs `node --test tests/e2e/checkout.test.mjs`. Needs Node >= 20
and `npm ci` in tests/e2e; without them it skips locally and fails when CI is set.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from oms.oauth import services as oauth_services
from payments.models import PaymentSourceType
from tests import factories
from tests.e2e.test_sdk_catalog import E2E_DIR, NODE_TIMEOUT_SECONDS, REPO_ROOT
from tests.fulfillment import factories as stock
from tests.payments import factories as money

TEST_FILE = E2E_DIR / "checkout.test.mjs"
STOCK_QUANTITY = 10
# (code, unit price in cents, quantity bought): 2 x 25.00 + 12.00 + 7.00 shipping = 69.00
SKUS = (("E2E-TEE", 2500, 2), ("E2E-MUG", 1200, 1))
SHIPPING_CENTS = 700


@dataclass(frozen=True)
class Shop:
    organization_slug: str
    domain: str
    market_code: str
    shipping_method_id: str
    wire_transfer_method_id: str
    declining_method_id: str


class DecliningGateway(BaseHTTPRequestHandler):
    """A merchant's external payment gateway that declines every card, on this machine."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(
            {
                "success": False,
                "data": {"error": {"code": "card_declined", "message": "Your card was declined."}},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def declining_gateway_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), DecliningGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def shop(transactional_db: None, declining_gateway_url: str) -> Shop:
    from markets.services import market_save

    organization = factories.OrganizationFactory.create()
    market = factories.MarketFactory.create(code="e2e-checkout")
    inventory_model = stock.InventoryModelFactory.create()
    location = stock.InventoryStockLocationFactory.create(
        inventory_model=inventory_model, priority=1
    )
    market.inventory_model = inventory_model
    market_save(market=market)
    category = factories.ShippingCategoryFactory.create()
    for code, cents, _ in SKUS:
        sku = factories.SkuFactory.create(code=code, shipping_category=category)
        factories.PriceFactory.create(sku=sku, price_list=market.price_list, amount_cents=cents)
        stock.StockItemFactory.create(
            sku=sku, stock_location=location.stock_location, quantity=STOCK_QUANTITY
        )
    shipping = stock.ShippingMethodFactory.create(market=market, price_amount_cents=SHIPPING_CENTS)
    wire = money.PaymentMethodFactory.create(
        market=market,
        currency_code="EUR",
        payment_gateway=money.ManualGatewayFactory.create(),
        payment_source_type=PaymentSourceType.WIRE_TRANSFERS,
    )
    # An external gateway on this machine that declines every card.
    declining = money.PaymentMethodFactory.create(
        market=market,
        currency_code="EUR",
        payment_gateway=money.ExternalGatewayFactory.create(
            **{
                f"{operation}_url": f"{declining_gateway_url}/{operation}"
                for operation in ("authorize", "capture", "void", "refund")
            }
        ),
        payment_source_type=PaymentSourceType.EXTERNAL_PAYMENTS,
    )
    return Shop(
        organization_slug=organization.slug,
        domain=organization.domain,
        market_code=market.code,
        shipping_method_id=shipping.id,
        wire_transfer_method_id=wire.id,
        declining_method_id=declining.id,
    )


def test_the_commerce_layer_sdk_checks_out_captures_ships_and_refunds(
    live_server: Any,
    transactional_db: None,
    node: str,
    shop: Shop,
) -> None:
    sales_channel = oauth_services.application_create(
        name="E2E checkout storefront", kind="sales_channel"
    ).application
    integration = oauth_services.application_create(
        name="E2E checkout back office", kind="integration", role="admin"
    )
    assert integration.client_secret is not None
    env = {
        **os.environ,
        "OMS_API_BASE": live_server.url,
        "OMS_ORG_SLUG": shop.organization_slug,
        "OMS_DOMAIN": shop.domain,
        "OMS_MARKET_CODE": shop.market_code,
        "OMS_SALES_CHANNEL_CLIENT_ID": sales_channel.client_id,
        "OMS_INTEGRATION_CLIENT_ID": integration.application.client_id,
        "OMS_INTEGRATION_CLIENT_SECRET": integration.client_secret,
        "OMS_CART": json.dumps(
            [{"sku_code": c, "unit_cents": p, "quantity": q} for c, p, q in SKUS]
        ),
        "OMS_SHIPPING_CENTS": str(SHIPPING_CENTS),
        "OMS_SHIPPING_METHOD_ID": shop.shipping_method_id,
        "OMS_WIRE_TRANSFER_METHOD_ID": shop.wire_transfer_method_id,
        "OMS_DECLINING_METHOD_ID": shop.declining_method_id,
        "OMS_STOCK_QUANTITY": str(STOCK_QUANTITY),
        "NO_COLOR": "1",
    }
    result = subprocess.run(
        [node, "--test", "--test-reporter=spec", str(TEST_FILE)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, (
        f"node --test {TEST_FILE.relative_to(REPO_ROOT)} exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    )
    # Every SDK test ran: none skipped, none left as todo.
    summary = {
        line.split()[1]: int(line.split()[2])
        for line in result.stdout.splitlines()
        if line.startswith("\u2139 ") and len(line.split()) == 3 and line.split()[2].isdigit()
    }
    assert summary.get("fail") == 0, result.stdout
    assert summary.get("skipped") == 0, result.stdout
    assert summary.get("todo", 0) == 0, result.stdout
    assert summary.get("pass", 0) >= 3, result.stdout
