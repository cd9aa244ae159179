"""Commerce Layer's own JavaScript SDK, unmodified, against the live API: the catalog.

Seeds a catalog, creates a sales channel and an integration, starts pytest-django's live server
and runs `node --test tests/e2e/catalog.test.mjs` with the OMS_* variables described in
tests/e2e/README.md. Needs Node >= 20 and `npm ci` done in tests/e2e (.ci/run does it, this test
does not). Without them it skips locally and fails when CI is set.

"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oms.oauth import services as oauth_services
from tests import factories

E2E_DIR = Path(__file__).resolve().parent
REPO_ROOT = E2E_DIR.parents[1]
TEST_FILE = E2E_DIR / "catalog.test.mjs"
NODE_TIMEOUT_SECONDS = 300

SKU_PREFIX = "E2E-TEE-"
SKU_COUNT = 7  # pagination by 2 gives 4 pages, the last one short
CURRENCY = "EUR"


@dataclass(frozen=True)
class Catalog:
    organization_slug: str
    domain: str
    market_code: str
    price_list_id: str
    shipping_category_id: str
    expected_prices: dict[str, int]


@pytest.fixture
def catalog(transactional_db: None) -> Catalog:
    """SKU_COUNT SKUs priced in the market's EUR list, plus decoys the sales channel must not see."""
    organization = factories.OrganizationFactory.create()
    eur = factories.PriceListFactory.create(currency_code=CURRENCY)
    market = factories.MarketFactory.create(code="e2e-eu", price_list=eur)
    # Another market with its own price list: its prices must never reach the eu sales channel.
    usd = factories.PriceListFactory.create(currency_code="USD")
    factories.MarketFactory.create(code="e2e-us", price_list=usd)
    category = factories.ShippingCategoryFactory.create()

    expected: dict[str, int] = {}
    for n in range(1, SKU_COUNT + 1):
        sku = factories.SkuFactory.create(
            code=f"{SKU_PREFIX}{n:02d}", name=f"E2E tee {n}", shipping_category=category
        )
        expected[sku.code] = 1000 + 100 * n
        factories.PriceFactory.create(sku=sku, price_list=eur, amount_cents=expected[sku.code])
        factories.PriceFactory.create(sku=sku, price_list=usd, amount_cents=expected[sku.code] + 1)
    # Outside the prefix: counted by the unfiltered list, never by code_start.
    decoy = factories.SkuFactory.create(code="E2E-MUG-01", shipping_category=category)
    factories.PriceFactory.create(sku=decoy, price_list=eur, amount_cents=500)

    return Catalog(
        organization_slug=organization.slug,
        domain=organization.domain,
        market_code=market.code,
        price_list_id=eur.id,  # `id` is the public, random id (oms.models.Resource)
        shipping_category_id=category.id,
        expected_prices=expected,
    )


@dataclass(frozen=True)
class Credentials:
    sales_channel_client_id: str
    integration_client_id: str
    integration_client_secret: str
    expired_sales_channel_token: str


@pytest.fixture
def credentials(catalog: Catalog) -> Credentials:
    sales_channel = oauth_services.application_create(
        name="E2E storefront", kind="sales_channel"
    ).application
    integration = oauth_services.application_create(
        name="E2E back office", kind="integration", role="admin"
    )
    assert integration.client_secret is not None
    expired = oauth_services.token_issue(
        application=sales_channel, scope=f"market:code:{catalog.market_code}", lifetime=-60
    )
    return Credentials(
        sales_channel_client_id=sales_channel.client_id,
        integration_client_id=integration.application.client_id,
        integration_client_secret=integration.client_secret,
        expired_sales_channel_token=expired.access_token,
    )


def test_the_commerce_layer_sdk_reads_and_writes_the_catalog(
    live_server: Any, transactional_db: None, node: str, catalog: Catalog, credentials: Credentials
) -> None:
    env = {
        **os.environ,
        "OMS_API_BASE": live_server.url,
        "OMS_ORG_SLUG": catalog.organization_slug,
        "OMS_DOMAIN": catalog.domain,
        "OMS_MARKET_CODE": catalog.market_code,
        "OMS_SALES_CHANNEL_CLIENT_ID": credentials.sales_channel_client_id,
        "OMS_INTEGRATION_CLIENT_ID": credentials.integration_client_id,
        "OMS_INTEGRATION_CLIENT_SECRET": credentials.integration_client_secret,
        "OMS_EXPIRED_TOKEN": credentials.expired_sales_channel_token,
        "OMS_SKU_PREFIX": SKU_PREFIX,
        "OMS_SKU_COUNT": str(SKU_COUNT),
        "OMS_CURRENCY_CODE": CURRENCY,
        "OMS_EXPECTED_PRICES": json.dumps(catalog.expected_prices),
        "OMS_PRICE_LIST_ID": catalog.price_list_id,
        "OMS_SHIPPING_CATEGORY_ID": catalog.shipping_category_id,
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
    assert summary.get("pass", 0) >= 19, result.stdout
