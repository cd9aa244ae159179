"""API test helpers: clients for each role, JSON:API documents."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from oms.api.principal import Principal
from tests import factories

JSONAPI = "application/vnd.api+json"


class TokenUser:
    is_authenticated = True
    is_anonymous = False


class Api:
    """A client speaking JSON:API as a given principal."""

    def __init__(self, principal: Principal | None):
        self.client = APIClient()
        if principal is not None:
            self.client.force_authenticate(user=TokenUser(), token=principal)  # type: ignore[arg-type]

    def _send(self, method: str, path: str, body: Any = None, **headers: Any) -> Any:
        kwargs: dict[str, Any] = {"HTTP_ACCEPT": JSONAPI}
        kwargs.update(headers)
        if body is not None:
            kwargs["data"] = body if isinstance(body, str | bytes) else json.dumps(body)
            kwargs["content_type"] = JSONAPI
        response = getattr(self.client, method)(path, **kwargs)
        response.doc = json.loads(response.content) if response.content else None
        return response

    def get(self, path: str, **headers: Any) -> Any:
        return self._send("get", path, **headers)

    def post(self, path: str, body: Any, **headers: Any) -> Any:
        return self._send("post", path, body, **headers)

    def patch(self, path: str, body: Any, **headers: Any) -> Any:
        return self._send("patch", path, body, **headers)

    def delete(self, path: str, **headers: Any) -> Any:
        return self._send("delete", path, **headers)


def doc(
    type_: str,
    attributes: dict[str, Any] | None = None,
    id: str | None = None,
    **relationships: Any,
) -> dict[str, Any]:
    data: dict[str, Any] = {"type": type_, "attributes": attributes or {}}
    if id is not None:
        data["id"] = id
    if relationships:
        data["relationships"] = {
            name: {"data": None if value is None else {"type": value[0], "id": value[1]}}
            for name, value in relationships.items()
        }
    return {"data": data}


@pytest.fixture
def market(db):
    return factories.MarketFactory.create(code="eu")


@pytest.fixture
def other_market(db):
    return factories.MarketFactory.create(code="us")


@pytest.fixture
def as_role(market) -> Callable[[str], Api]:
    def make(role: str, *, market_ids: tuple[str, ...] | None = None) -> Api:
        if role == "anonymous":
            return Api(None)
        if role == "sales_channel":
            principal = Principal(
                application_id="app-sc", kind="sales_channel", market_ids=market_ids or (market.id,)
            )
        else:
            assert role in ("admin", "read_only")
            principal = Principal(
                application_id=f"app-{role}",
                kind="integration",
                role="admin" if role == "admin" else "read_only",
            )
        return Api(principal)

    return make


@pytest.fixture
def pinned_rate_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate windows are fixed: a test counting hits is pinned to the middle of one, so a window
    boundary between two of its requests cannot reset the count."""
    from oms import ratelimit

    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_030.0)
