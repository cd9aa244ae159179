"""Shared fixtures and the PostgreSQL marker.

Tests marked `postgres` need row locks and real concurrency. On SQLite they skip with a reason;
when `CI` is set, a skipped PostgreSQL test fails the run instead of passing quietly.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection
from hypothesis import settings

# Property tests run on a loaded 2-core CI machine next to the other worker: a slow example is
# not a failure (hypothesis's 200 ms deadline would make them flaky), a wrong total is.
settings.register_profile("oms", deadline=None)
settings.load_profile("oms")

POSTGRES_SKIP_REASON = (
    "needs PostgreSQL: run with DATABASE_URL=postgres://postgres@127.0.0.1:5432/oms"
)


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


# Tests that drive a face end to end, slow and about the face more than the database under it:
# CI runs them once, in its PostgreSQL pass (`-m "not faces"` on SQLite). Locally they run on
# whichever database the run uses.
FACES = ("tests/e2e/", "tests/deploy/", "tests/bench/", "tests/api/test_schema_fuzz.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path.startswith(FACES):
            item.add_marker(pytest.mark.faces)
    if on_postgres():
        return
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.skip(reason=POSTGRES_SKIP_REASON))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if (
        os.environ.get("CI")
        and report.skipped
        and "postgres" in report.keywords
        and report.when in ("setup", "call")
    ):
        # A PostgreSQL test that did not run in CI is a failure, not a pass.
        report.outcome = "failed"
        report.longrepr = f"PostgreSQL test skipped in CI ({POSTGRES_SKIP_REASON})"
