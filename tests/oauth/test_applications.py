"""Applications: created and revoked through the services, invariants kept by the database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from markets.models import Market
from markets.services import market_disable
from oms.oauth.models import Application, RefreshToken
from oms.oauth.services import (
    application_create,
    application_revoke,
    client_secret_matches,
    token_issue,
)
from tests import factories

pytestmark = pytest.mark.django_db


def test_integration_gets_a_secret_that_is_stored_hashed(organization):
    credentials = application_create(name="ERP", kind="integration", role="read_only")
    application = Application.objects.get(pk=credentials.application.pk)
    assert credentials.client_secret
    assert len(credentials.client_secret) >= 43
    assert credentials.client_secret not in application.client_secret_hash
    assert client_secret_matches(credentials.client_secret, application.client_secret_hash)
    assert application.role == "read_only"


def test_sales_channel_has_no_secret_and_no_role(organization):
    credentials = application_create(name="Shop", kind="sales_channel")
    assert credentials.client_secret is None
    assert credentials.application.client_secret_hash == ""
    assert credentials.application.role == ""
    assert credentials.application.is_public


def test_client_ids_are_long_random_and_distinct(organization):
    ids = {factories.ApplicationFactory.create().client_id for _ in range(5)}
    assert len(ids) == 5
    assert all(len(client_id) == 43 for client_id in ids)


@pytest.mark.parametrize(
    ("kind", "role", "field"),
    [
        ("sales_channel", "admin", "role"),
        ("integration", "", "role"),
        ("integration", "owner", "role"),
        ("robot", "", "kind"),
    ],
)
def test_role_must_match_kind(organization, kind, role, field):
    with pytest.raises(ValidationError) as exc:
        application_create(name="X", kind=kind, role=role)
    assert field in exc.value.message_dict
    assert not Application.objects.exists()


def test_database_refuses_a_role_on_a_sales_channel(organization):
    application = factories.ApplicationFactory.create()
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=application.pk).update(role="admin")


def test_database_refuses_an_integration_without_a_secret(integration):
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.filter(pk=integration.application.pk).update(client_secret_hash="")


def test_an_application_cannot_be_tied_to_a_disabled_market(market):
    market_disable(market=market)
    market.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        application_create(name="Shop", kind="sales_channel", market=market)
    assert "disabled" in exc.value.message_dict["market"][0]


def test_a_market_with_applications_cannot_be_deleted(market):
    factories.ApplicationFactory.create(market=market)
    with pytest.raises(ProtectedError):
        Market.objects.filter(pk=market.pk).delete()


def test_revoking_an_application_revokes_its_refresh_tokens_and_is_idempotent(integration):
    token_issue(application=integration.application)
    first = application_revoke(application=integration.application)
    assert first.revoked_at is not None
    assert not RefreshToken.objects.filter(revoked_at__isnull=True).exists()
    again = application_revoke(application=integration.application)
    assert again.revoked_at == first.revoked_at
