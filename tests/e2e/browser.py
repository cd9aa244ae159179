"""What the browser tests share: Debian's chromium driven by Playwright, a screenshot helper,
the sidebar's links, logging in through the real form. The fixtures are in conftest.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: F401 (re-exported)
except ImportError as exc:  # the `browser` fixture turns this into a skip, or a failure in CI
    PLAYWRIGHT_IMPORT_ERROR: str | None = str(exc)
else:
    PLAYWRIGHT_IMPORT_ERROR = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these chromium phones home at start-up, and this machine's network refuses it.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000

USERNAME = "merchant"
PASSWORD = "a-long-enough-passphrase"


def sidebar_link(page: Page, title: str) -> Any:
    """A link of the sidebar by its title (its accessible name starts with the icon's)."""
    return page.locator("#nav-sidebar").get_by_role(
        "link", name=re.compile(rf"^\S+ {re.escape(title)}$")
    )


def screenshot(page: Page, directory: Path, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=directory / f"{name}.png", full_page=full_page)


def login(page: Page, username: str, password: str) -> None:
    """Log in through the admin's own form."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-form [type=submit]")
    expect(page).to_have_url("/admin/")
