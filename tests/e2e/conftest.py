"""Fixtures shared by the SDK end-to-end modules (test_sdk_catalog.py, test_sdk_checkout.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

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
