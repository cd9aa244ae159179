"""Fixtures of the oauth tests: an organization on its own domain, a market, applications."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.test import Client

from markets.models import Market, Organization
from oms import ratelimit
from oms.oauth.models import Application
from oms.oauth.services import ApplicationCredentials, application_create
from tests import factories

TOKEN_URL = "/oauth/token"


@pytest.fixture(autouse=True)
def _fast_hashers_and_empty_cache(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    # PBKDF2's cost is for human passwords; a test hashing dozens of secrets needs none of it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rate windows are fixed: a test pinned to the middle of one never sees a boundary.
    monkeypatch.setattr(ratelimit, "clock", lambda: 1_800_000_030.0)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def organization(db: None) -> Organization:
    return factories.OrganizationFactory.create(slug="acme", domain="oms.test")


@pytest.fixture
def market(organization: Organization) -> Market:
    return factories.MarketFactory.create(code="eu")


@pytest.fixture
def other_market(organization: Organization) -> Market:
    return factories.MarketFactory.create(code="us")


@pytest.fixture
def integration(organization: Organization) -> ApplicationCredentials:
    return application_create(name="ERP", kind="integration", role="admin")


@pytest.fixture
def sales_channel(organization: Organization, market: Market) -> Application:
    return factories.ApplicationFactory.create(name="Storefront", kind="sales_channel")


def post_json(client: Client, body: Any, **headers: Any) -> Any:
    return client.post(
        TOKEN_URL, json.dumps(body), content_type="application/json", headers=headers
    )


def post_form(client: Client, body: dict[str, str], **headers: Any) -> Any:
    return client.post(
        TOKEN_URL,
        urlencode(body),
        content_type="application/x-www-form-urlencoded",
        headers=headers,
    )


def error_of(response: Any) -> str:
    """The OAuth error name of a refused token request, after checking the body's shape."""
    body = response.json()
    (error,) = body["errors"]
    assert set(error) == {"title", "detail", "code", "status", "meta"}
    assert error["status"] == response.status_code
    assert body["error"] == error["title"]
    assert body["error_description"] == error["detail"]
    assert response["Cache-Control"] == "no-store"
    title: str = error["title"]
    return title
