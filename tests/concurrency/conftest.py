"""Every concurrency and fault test ends with the invariant check: whatever raced, the money
and stock invariants hold over the whole database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orders.invariants import invariant_violations


@pytest.fixture(autouse=True)
def _invariants_hold(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if request.node.get_closest_marker("django_db") is not None:
        assert invariant_violations() == []
