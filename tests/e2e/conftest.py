"""Fixtures shared by the end-to-end modules: Node and the SDK (test_sdk_*.py), the headless
chromium and its pages (test_browser*.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PLAYWRIGHT_IMPORT_ERROR,
    TIMEOUT_MS,
    Browser,
    Page,
    sync_playwright,
)
from tests.e2e.toolchain import skip_or_fail

E2E_DIR = Path(__file__).resolve().parent
MIN_NODE_MAJOR = 20


@pytest.fixture
def node() -> str:
    path = shutil.which("node")
    if path is None:
        skip_or_fail(f"node is not installed: the SDK end-to-end test needs Node {MIN_NODE_MAJOR}+")
    version = subprocess.run(
        [path, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    major = int(version.lstrip("v").split(".")[0])
    if major < MIN_NODE_MAJOR:
        skip_or_fail(f"node {version} is too old: the SDK needs Node >= {MIN_NODE_MAJOR}")
    if not (E2E_DIR / "node_modules" / "@commercelayer" / "sdk").is_dir():
        skip_or_fail("@commercelayer/sdk is not installed: run `npm ci` in tests/e2e")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if PLAYWRIGHT_IMPORT_ERROR is not None:
        skip_or_fail(
            f"the playwright package is missing ({PLAYWRIGHT_IMPORT_ERROR}): run bin/setup"
        )
    if not os.access(CHROMIUM, os.X_OK):
        skip_or_fail(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does it)")
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # Playwright's sync API keeps an asyncio loop running in this thread, which makes Django
        # refuse ORM calls from the test body; they are plain synchronous calls, so allow them.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(browser: Browser, live_server: Any, screenshots: Path) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
