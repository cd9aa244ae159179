"""Refresh-token rotation under real concurrency (PostgreSQL threads)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from oms.oauth.errors import InvalidGrant
from oms.oauth.models import RefreshToken
from oms.oauth.services import application_create, token_issue, token_refresh
from tests import factories

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_refresh_token_spent_concurrently_is_spent_once(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    factories.OrganizationFactory.create()
    credentials = application_create(name="ERP", kind="integration", role="admin")
    token = token_issue(application=credentials.application).refresh_token
    assert token is not None

    def spend(_: int) -> str:
        try:
            token_refresh(application=credentials.application, refresh_token=token)
        except InvalidGrant:
            return "refused"
        finally:
            connection.close()
        return "refreshed"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(spend, range(16)))
    assert outcomes.count("refreshed") == 1
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1
