"""The back office and the API docs in a real browser: Debian's chromium driven by Playwright.

One headless chromium per module; each test gets a fresh browser context (no cookies) against
pytest-django's live server, which also serves the static files (admin CSS and JS, Swagger UI).
Without chromium or the `playwright` package the tests skip locally and fail when CI is set.
Screenshots of every page go to pytest's temporary directory (`--basetemp` to choose it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model

from markets.models import Market, Price
from tests import factories
from tests.e2e.browser import PASSWORD, USERNAME, Page, expect, screenshot, sidebar_link


@dataclass(frozen=True)
class Catalog:
    sku_code: str
    unpriced_sku_code: str
    price: Price
    market: Market


@pytest.fixture
def catalog(transactional_db: None, settings: Any) -> Catalog:
    """A few SKUs priced in one market's list, and a superuser to log in with."""
    # Logging in hashes the password: the fast hasher keeps each login a few milliseconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_user_model().objects.create_superuser(USERNAME, "merchant@example.com", PASSWORD)
    eur = factories.PriceListFactory.create(name="Europe", currency_code="EUR")
    market = factories.MarketFactory.create(name="Europe", code="eu", price_list=eur)
    category = factories.ShippingCategoryFactory.create(name="Apparel")
    prices = [
        factories.PriceFactory.create(
            sku=factories.SkuFactory.create(
                code=code, name=name, shipping_category=category, weight=200
            ),
            price_list=eur,
            amount_cents=amount,
        )
        for code, name, amount in (
            ("TSHIRT-WHT-M", "Organic cotton T-shirt, white, M", 2500),
            ("TSHIRT-BLK-M", "Organic cotton T-shirt, black, M", 2500),
            ("HOODIE-GRY-L", "Heavyweight hoodie, heather grey, L", 6900),
        )
    ]
    unpriced = factories.SkuFactory.create(
        code="MUG-ENAMEL", name="Enamel camping mug", shipping_category=category
    )
    return Catalog(
        sku_code="HOODIE-GRY-L", unpriced_sku_code=unpriced.code, price=prices[2], market=market
    )


@pytest.fixture
def admin_page(page: Page, catalog: Catalog, screenshots: Path) -> Page:
    """Logged in through the real login form."""
    page.goto("/admin/")
    expect(page).to_have_url("/admin/login/?next=/admin/")
    screenshot(page, screenshots, "admin-login")
    page.fill("#id_username", USERNAME)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    expect(page).to_have_url("/admin/")
    return page


def test_the_admin_index_lists_the_catalog_after_logging_in(
    admin_page: Page, screenshots: Path
) -> None:
    page = admin_page
    expect(page).to_have_title(re.compile("OMS"))
    for model in ("SKUs", "Prices", "Price lists", "Markets"):
        expect(sidebar_link(page, model)).to_be_visible()
    screenshot(page, screenshots, "admin-index")


def test_a_sku_is_found_by_searching_and_its_price_opens(
    admin_page: Page, catalog: Catalog, screenshots: Path
) -> None:
    page = admin_page
    sidebar_link(page, "SKUs").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(4)
    page.fill("#searchbar", "hoodie")
    page.press("#searchbar", "Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(catalog.sku_code)
    screenshot(page, screenshots, "admin-sku-search")

    page.goto("/admin/markets/price/")
    page.get_by_role("link", name=str(catalog.price.sku)).click()
    expect(page).to_have_title(re.compile("Change price"))
    expect(page.locator("#id_amount")).to_have_value("69.00")  # major units, not cents
    expect(page.locator("#id_price_list")).to_have_value(str(catalog.price.price_list.pk))
    screenshot(page, screenshots, "admin-price-change")


def test_a_negative_price_is_refused_with_a_form_error_and_nothing_is_saved(
    admin_page: Page, catalog: Catalog, screenshots: Path
) -> None:
    page = admin_page
    prices_before = Price.objects.count()
    page.goto("/admin/markets/price/add/")
    # The SKU is an autocomplete field: type into select2 and pick from the server's answer.
    page.click(".field-sku .select2-selection")
    page.fill(".select2-search__field", "mug")
    page.click(f".select2-results__option >> text={catalog.unpriced_sku_code}")
    page.select_option("#id_price_list", label=str(catalog.price.price_list))
    page.fill("#id_amount", "-1")
    page.click("[name=_save]")

    expect(page.get_by_text("Ensure this value is greater than or equal to 0.")).to_have_count(1)
    screenshot(page, screenshots, "admin-price-negative")
    assert Price.objects.count() == prices_before


def test_a_market_is_disabled_through_the_admin_action(
    admin_page: Page, catalog: Catalog, screenshots: Path
) -> None:
    page = admin_page
    page.goto("/admin/markets/market/")
    page.check(f"input[name=_selected_action][value='{catalog.market.pk}']")
    page.select_option("select[name=action]", label="Disable selected markets")
    page.click("#changelist-form button[name=index]")

    expect(page.get_by_text("1 market(s) disabled.")).to_be_visible()
    screenshot(page, screenshots, "admin-market-disabled")
    catalog.market.refresh_from_db()
    assert catalog.market.disabled_at is not None


def test_the_api_docs_draw_swagger_ui_from_local_assets_only(
    page: Page, live_server: Any, transactional_db: None, screenshots: Path
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/api/docs/")
    # Swagger UI draws only the tags in view: filter down to the SKUs.
    page.locator(".operation-filter-input").fill("skus")

    skus = page.locator(".opblock-tag-section", has=page.locator("h3[data-tag=skus]"))
    expect(skus).to_be_visible(timeout=20000)
    expect(
        skus.locator(".opblock-get .opblock-summary-path[data-path='/api/skus']")
    ).to_be_visible()
    page.wait_for_load_state("networkidle")
    screenshot(page, screenshots, "api-docs", full_page=False)  # the full page is 7000px tall

    server = urlsplit(live_server.url)
    assert server.hostname in ("localhost", "127.0.0.1")
    assert requested, "the page made no request at all"
    elsewhere = [
        url
        for url in requested
        if urlsplit(url).netloc != server.netloc and not url.startswith("data:")
    ]
    assert not elsewhere, f"requests that left the live server: {elsewhere}"
    assert any("/static/drf_spectacular_sidecar/swagger-ui-dist/" in url for url in requested)
    assert any(url.endswith("/api/schema/") for url in requested)
    # The spec validator badge would send the schema's URL to validator.swagger.io.
    assert page.evaluate("window.ui.getConfigs().validatorUrl") is None
