"""Commerce Layer's own JavaScript SDK, unmodified, against the live API: a return.

Seeds the shop of test_sdk_checkout.py (stock for two SKUs, a shipping method, a manual
gateway's wire transfers) and a customer with a password, creates a sales channel and an
integration, starts pytest-django's live server and runs `node --test tests/e2e/returns.test.mjs`:
the customer buys through its own token, the back office fulfils the order, the customer opens,
fills and requests a return, the back office approves, ships, receives, restocks and refunds it,
and the refused triggers come back as the SDK's ApiError with their code and pointer. Needs
Node >= 20 and `npm ci` in tests/e2e, like the other SDK runs.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from oms.oauth import services as oauth_services
from orders.services.customers import customer_create
from tests.e2e.test_sdk_catalog import E2E_DIR, NODE_TIMEOUT_SECONDS, REPO_ROOT
from tests.e2e.test_sdk_checkout import (  # noqa: F401  (fixtures)
    SKUS,
    Shop,
    declining_gateway_url,
    shop,
)

TEST_FILE = E2E_DIR / "returns.test.mjs"
CUSTOMER_EMAIL = "ada.returns@example.com"
CUSTOMER_PASSWORD = "analytical engine"


def test_the_commerce_layer_sdk_runs_a_return_from_request_to_refund(
    live_server: Any,
    transactional_db: None,
    node: str,
    shop: Shop,  # noqa: F811
) -> None:
    customer_create(data={"email": CUSTOMER_EMAIL}, password=CUSTOMER_PASSWORD)
    sales_channel = oauth_services.application_create(
        name="E2E returns storefront", kind="sales_channel"
    ).application
    integration = oauth_services.application_create(
        name="E2E returns back office", kind="integration", role="admin"
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
        "OMS_SHIPPING_METHOD_ID": shop.shipping_method_id,
        "OMS_WIRE_TRANSFER_METHOD_ID": shop.wire_transfer_method_id,
        "OMS_CUSTOMER_EMAIL": CUSTOMER_EMAIL,
        "OMS_CUSTOMER_PASSWORD": CUSTOMER_PASSWORD,
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
    assert summary.get("pass", 0) >= 4, result.stdout
