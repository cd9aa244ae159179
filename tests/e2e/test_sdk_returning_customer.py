"""Commerce Layer's own JavaScript SDK, unmodified, against the live API: a returning customer.

A storefront signs a customer up, the customer logs in with the password grant, places an
order saving its address and card, then places a second order reusing both without entering
them again; a password reset through the e-mailed token; and the access matrix of address
books and wallets between two customers and a sales channel.

The card is an external gateway's `external_payments` (the SDK has no `test_payments`): the
gateway is a local HTTP server of this module that authorizes everything and answers its
`token_url` with a reusable token. E-mails go to files in a temporary directory the Node run
reads (`OMS_MAIL_DIR`). Needs Node >= 20 and `npm ci` in tests/e2e, like the other SDK runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from markets.services import market_save
from oms.oauth import services as oauth_services
from payments.models import PaymentSourceType
from tests import factories
from tests.e2e.test_sdk_catalog import E2E_DIR, NODE_TIMEOUT_SECONDS, REPO_ROOT
from tests.e2e.test_sdk_checkout import SHIPPING_CENTS, SKUS, STOCK_QUANTITY
from tests.fulfillment import factories as stock
from tests.payments import factories as money

TEST_FILE = E2E_DIR / "returning_customer.test.mjs"


class WalletGateway(BaseHTTPRequestHandler):
    """A merchant's external gateway: authorizes (and captures, voids, refunds) every card, and
    answers `/token` with a reusable token for the card it is shown. Every authorized card
    token is recorded."""

    authorized: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        document = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if self.path == "/token":
            card = document["data"]["attributes"]["payment_source_token"]
            customer = document["meta"]["customer_reference"]
            reply: dict[str, Any] = {
                "success": True,
                "data": {
                    "payment_source_token": f"saved_{card}",
                    "customer_token": f"cus_{customer}",
                    "name": "Visa ending in 4242",
                },
            }
        else:
            if self.path == "/authorize":
                source = next(r for r in document["included"] if r["type"] == "external_payments")
                self.authorized.append(source["attributes"]["payment_source_token"])
            reply = {"success": True, "data": {"transaction_token": f"txn{self.path}"}}
        body = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def wallet_gateway_url() -> Iterator[str]:
    WalletGateway.authorized = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), WalletGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_commerce_layer_sdk_serves_a_returning_customer(
    live_server: Any,
    transactional_db: None,
    node: str,
    wallet_gateway_url: str,
    tmp_path: Path,
    settings: Any,
) -> None:
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path)},
        }
    }
    settings.OMS_SIGNUP_RATE_PER_IP = "20/min"

    organization = factories.OrganizationFactory.create()
    market = factories.MarketFactory.create(code="e2e-returning")
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
    card = money.PaymentMethodFactory.create(
        market=market,
        currency_code="EUR",
        payment_gateway=money.ExternalGatewayFactory.create(
            **{
                f"{operation}_url": f"{wallet_gateway_url}/{operation}"
                for operation in ("authorize", "capture", "void", "refund", "token")
            }
        ),
        payment_source_type=PaymentSourceType.EXTERNAL_PAYMENTS,
    )
    sales_channel = oauth_services.application_create(
        name="E2E returning storefront", kind="sales_channel"
    ).application
    integration = oauth_services.application_create(
        name="E2E returning back office", kind="integration", role="admin"
    )
    assert integration.client_secret is not None
    env = {
        **os.environ,
        "OMS_API_BASE": live_server.url,
        "OMS_ORG_SLUG": organization.slug,
        "OMS_DOMAIN": organization.domain,
        "OMS_MARKET_CODE": market.code,
        "OMS_SALES_CHANNEL_CLIENT_ID": sales_channel.client_id,
        "OMS_INTEGRATION_CLIENT_ID": integration.application.client_id,
        "OMS_INTEGRATION_CLIENT_SECRET": integration.client_secret,
        "OMS_CART": json.dumps(
            [{"sku_code": c, "unit_cents": p, "quantity": q} for c, p, q in SKUS]
        ),
        "OMS_SHIPPING_METHOD_ID": shipping.id,
        "OMS_CARD_METHOD_ID": card.id,
        "OMS_MAIL_DIR": str(tmp_path),
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
    summary = {
        line.split()[1]: int(line.split()[2])
        for line in result.stdout.splitlines()
        if line.startswith("\u2139 ") and len(line.split()) == 3 and line.split()[2].isdigit()
    }
    assert summary.get("fail") == 0, result.stdout
    assert summary.get("skipped") == 0, result.stdout
    assert summary.get("pass", 0) >= 3, result.stdout
    # the gateway charged the card entered once, then the wallet's reusable token
    assert WalletGateway.authorized[:2] == ["pm_card_visa", "saved_pm_card_visa"]
