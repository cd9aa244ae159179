"""POST /oauth/token: every grant's success and refusal, JSON and form bodies, the claims."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import jwt
import pytest

from markets.models import Market
from markets.services import market_disable
from oms.oauth.models import Application, RefreshToken
from oms.oauth.services import (
    ApplicationCredentials,
    Owner,
    application_create,
    application_revoke,
)
from oms.oauth.tokens import signing_key
from tests import factories
from tests.oauth.conftest import TOKEN_URL, error_of, post_form, post_json

pytestmark = pytest.mark.django_db

TOKEN_KEYS = {"access_token", "token_type", "expires_in", "scope", "created_at"}
CUSTOMER_AUTHENTICATOR = "tests.oauth.test_token_endpoint.customer_authenticate"


def claims_of(response: Any) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(
        response.json()["access_token"], signing_key(), algorithms=["HS256"]
    )
    return claims


def customer_authenticate(
    *, application: Application, markets: Sequence[Market], username: str, password: str
) -> Owner | None:
    """Stands in for the orders app's customer check until customers exist."""
    if username == "ada@example.com" and password == "right password":
        return Owner(type="Customer", id="cust0000001")
    return None


def integration_body(integration: ApplicationCredentials, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": integration.application.client_id,
        "client_secret": integration.client_secret or "",
        **extra,
    }


# --- client_credentials: sales channels ---------------------------------------------------


def test_sales_channel_gets_a_market_scoped_token_with_a_json_body(client, sales_channel, market):
    response = post_json(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": sales_channel.client_id,
            "scope": "market:code:eu",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == TOKEN_KEYS
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7200
    assert body["scope"] == "market:code:eu"
    assert isinstance(body["created_at"], int)
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert claims_of(response)["market"]["id"] == [market.pk]


def test_sales_channel_gets_a_token_with_a_form_body(client, sales_channel, market):
    response = post_form(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": sales_channel.client_id,
            "scope": f"market:id:{market.pk}",
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == f"market:id:{market.pk}"


def test_jsonapi_media_types_are_tolerated(client, sales_channel, market):
    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "client_credentials",
            "client_id": sales_channel.client_id,
            "scope": "market:code:eu",
        },
        content_type="application/vnd.api+json",
        headers={"Accept": "application/vnd.api+json"},
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"


def test_sales_channel_without_a_market_scope_is_refused(client, sales_channel):
    response = post_json(
        client, {"grant_type": "client_credentials", "client_id": sales_channel.client_id}
    )
    assert response.status_code == 400
    assert error_of(response) == "invalid_scope"


def test_sales_channel_cannot_ask_for_all_markets(client, sales_channel):
    response = post_json(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": sales_channel.client_id,
            "scope": "market:all",
        },
    )
    assert error_of(response) == "invalid_scope"


def test_sales_channel_needs_no_secret_and_an_extra_one_is_ignored(client, sales_channel):
    response = post_json(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": sales_channel.client_id,
            "client_secret": "whatever",
            "scope": "market:code:eu",
        },
    )
    assert response.status_code == 200


def test_application_market_is_the_default_scope(client, market):
    application = factories.ApplicationFactory.create(market=market)
    response = post_json(
        client, {"grant_type": "client_credentials", "client_id": application.client_id}
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == f"market:id:{market.pk}"
    assert claims_of(response)["market"]["id"] == [market.pk]


@pytest.mark.parametrize("scope", ["market:code:us", "market:code:eu market:code:us", "market:all"])
def test_application_tied_to_a_market_cannot_get_another(client, market, other_market, scope):
    application = factories.ApplicationFactory.create(market=market)
    response = post_json(
        client,
        {"grant_type": "client_credentials", "client_id": application.client_id, "scope": scope},
    )
    assert response.status_code == 400
    assert error_of(response) == "invalid_scope"


def test_integration_tied_to_a_market_gets_that_market_only(client, market, other_market):
    credentials = application_create(
        name="Local ERP", kind="integration", role="admin", market=market
    )
    ok = post_json(client, integration_body(credentials))
    assert ok.status_code == 200
    assert claims_of(ok)["market"]["id"] == [market.pk]
    refused = post_json(client, integration_body(credentials, scope="market:code:us"))
    assert error_of(refused) == "invalid_scope"


# --- scopes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        "market:code:nowhere",
        "market:id:XXXXXXXXXXXX",
        "market:code:",
        "market:eu",
        "market",
        "stock_location:code:eu",
        "orders:all",
        "market:code:eu market:all",
    ],
)
def test_unknown_or_malformed_scopes_are_refused(client, sales_channel, scope):
    response = post_json(
        client,
        {"grant_type": "client_credentials", "client_id": sales_channel.client_id, "scope": scope},
    )
    assert response.status_code == 400
    assert error_of(response) == "invalid_scope"


def test_disabled_market_is_refused(client, sales_channel, market):
    market_disable(market=market)
    response = post_json(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": sales_channel.client_id,
            "scope": "market:code:eu",
        },
    )
    assert error_of(response) == "invalid_scope"
    assert "disabled" in response.json()["errors"][0]["detail"]


def test_several_markets_can_be_scoped_at_once(client, integration, market, other_market):
    response = post_json(
        client, integration_body(integration, scope=f"market:code:us market:id:{market.pk}")
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == f"market:code:us market:id:{market.pk}"
    assert claims_of(response)["market"]["id"] == [market.pk, other_market.pk]


# --- client_credentials: integrations -----------------------------------------------------


def test_integration_gets_a_token_and_a_refresh_token(client, integration):
    response = post_json(client, integration_body(integration))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {*TOKEN_KEYS, "refresh_token"}
    assert body["scope"] == "market:all"
    assert "market" not in claims_of(response)


def test_integration_gets_a_token_with_a_form_body(client, integration):
    response = post_form(client, integration_body(integration))
    assert response.status_code == 200, response.content


def test_integration_may_authenticate_with_http_basic(client, integration):
    pair = f"{integration.application.client_id}:{integration.client_secret}"
    basic = base64.b64encode(pair.encode()).decode()
    response = post_form(
        client, {"grant_type": "client_credentials"}, Authorization=f"Basic {basic}"
    )
    assert response.status_code == 200, response.content


def test_client_credentials_in_both_basic_and_body_are_refused(client, integration):
    pair = f"{integration.application.client_id}:{integration.client_secret}"
    basic = base64.b64encode(pair.encode()).decode()
    response = post_json(client, integration_body(integration), Authorization=f"Basic {basic}")
    assert response.status_code == 400
    assert error_of(response) == "invalid_request"


@pytest.mark.parametrize("header", ["Basic !!!", "Basic " + base64.b64encode(b"no-colon").decode()])
def test_unreadable_basic_credentials_are_refused(client, organization, header):
    response = post_json(client, {"grant_type": "client_credentials"}, Authorization=header)
    assert response.status_code == 401
    assert error_of(response) == "invalid_client"


@pytest.mark.parametrize(
    "change",
    [
        {"client_secret": "wrong"},
        {"client_secret": ""},
        {"client_id": "unknown-client"},
        {"client_id": ""},
        {"client_id": "x" * 500},
    ],
    ids=["wrong secret", "no secret", "unknown client", "no client", "overlong client"],
)
def test_bad_client_credentials_are_refused_with_401(client, integration, change):
    response = post_json(client, {**integration_body(integration), **change})
    assert response.status_code == 401
    assert error_of(response) == "invalid_client"
    error = response.json()["errors"][0]
    assert error["code"] == "UNAUTHORIZED"
    assert response["WWW-Authenticate"] == 'Basic realm="oauth"'


def test_revoked_application_gets_no_token(client, integration):
    application_revoke(application=integration.application)
    response = post_json(client, integration_body(integration))
    assert response.status_code == 401
    assert error_of(response) == "invalid_client"


def test_missing_organization_is_a_503_not_a_500(client, db):
    credentials = application_create(name="ERP", kind="integration", role="admin")
    response = post_json(client, integration_body(credentials))
    assert response.status_code == 503
    assert error_of(response) == "temporarily_unavailable"


# --- claims -------------------------------------------------------------------------------


def test_claims_follow_commerce_layer(client, organization, sales_channel, market):
    response = post_json(
        client,
        {
            "grant_type": "client_credentials",
            "client_id": sales_channel.client_id,
            "scope": "market:code:eu",
        },
    )
    claims = claims_of(response)
    assert jwt.get_unverified_header(response.json()["access_token"])["alg"] == "HS256"
    assert claims["organization"] == {"id": organization.pk, "slug": "acme"}
    assert claims["application"] == {
        "id": sales_channel.pk,
        "client_id": sales_channel.client_id,
        "kind": "sales_channel",
        "public": True,
    }
    assert claims["market"]["id"] == [market.pk]
    assert claims["market"]["price_list_id"] == market.price_list_id
    assert claims["scope"] == "market:code:eu"
    assert claims["iss"] == "https://auth.oms.test"
    assert claims["test"] is False
    assert claims["exp"] - claims["iat"] == 7200
    assert claims["iat"] == response.json()["created_at"]
    assert "owner" not in claims


def test_integration_claims_say_it_is_not_public(client, integration):
    claims = claims_of(post_json(client, integration_body(integration)))
    assert claims["application"]["kind"] == "integration"
    assert claims["application"]["public"] is False


def test_lifetime_comes_from_settings(client, integration, settings):
    settings.OMS_ACCESS_TOKEN_LIFETIME = 600
    response = post_json(client, integration_body(integration))
    assert response.json()["expires_in"] == 600
    claims = claims_of(response)
    assert claims["exp"] - claims["iat"] == 600


def test_configured_signing_key_signs_the_tokens(client, integration, settings):
    settings.OMS_JWT_SIGNING_KEY = "k" * 40
    token = post_json(client, integration_body(integration)).json()["access_token"]
    assert jwt.decode(token, "k" * 40, algorithms=["HS256"])["application"]["kind"] == "integration"


def test_a_short_signing_key_is_a_configuration_error(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.OMS_JWT_SIGNING_KEY = "short"
    with pytest.raises(ImproperlyConfigured):
        signing_key()


# --- refresh_token ------------------------------------------------------------------------


def refresh(client: Any, credentials: ApplicationCredentials, token: str, **extra: str) -> Any:
    return post_json(
        client,
        {
            "grant_type": "refresh_token",
            "client_id": credentials.application.client_id,
            "client_secret": credentials.client_secret or "",
            "refresh_token": token,
            **extra,
        },
    )


def test_refresh_rotates_the_refresh_token(client, integration):
    first = post_json(client, integration_body(integration)).json()
    response = refresh(client, integration, first["refresh_token"])
    assert response.status_code == 200, response.content
    second = response.json()
    assert set(second) == {*TOKEN_KEYS, "refresh_token"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == "market:all"
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1


def test_refresh_works_with_a_form_body(client, integration):
    first = post_form(client, integration_body(integration)).json()
    response = post_form(
        client,
        {
            "grant_type": "refresh_token",
            "client_id": integration.application.client_id,
            "client_secret": integration.client_secret or "",
            "refresh_token": first["refresh_token"],
        },
    )
    assert response.status_code == 200, response.content


def test_reusing_a_refresh_token_is_refused_and_revokes_its_successor(client, integration):
    first = post_json(client, integration_body(integration)).json()
    second = refresh(client, integration, first["refresh_token"]).json()
    reuse = refresh(client, integration, first["refresh_token"])
    assert reuse.status_code == 400
    assert error_of(reuse) == "invalid_grant"
    successor = refresh(client, integration, second["refresh_token"])
    assert error_of(successor) == "invalid_grant"


def test_refresh_token_of_another_application_is_refused(client, integration, organization):
    other = application_create(name="Other ERP", kind="integration", role="read_only")
    token = post_json(client, integration_body(integration)).json()["refresh_token"]
    response = refresh(client, other, token)
    assert error_of(response) == "invalid_grant"


def test_refresh_needs_the_integration_secret(client, integration):
    token = post_json(client, integration_body(integration)).json()["refresh_token"]
    response = post_json(
        client,
        {
            "grant_type": "refresh_token",
            "client_id": integration.application.client_id,
            "refresh_token": token,
        },
    )
    assert response.status_code == 401
    assert error_of(response) == "invalid_client"


def test_expired_refresh_token_is_refused(client, integration, settings):
    settings.OMS_REFRESH_TOKEN_LIFETIME = -1
    token = post_json(client, integration_body(integration)).json()["refresh_token"]
    assert error_of(refresh(client, integration, token)) == "invalid_grant"


def test_refresh_after_revocation_is_refused(client, integration):
    token = post_json(client, integration_body(integration)).json()["refresh_token"]
    application_revoke(application=integration.application)
    assert error_of(refresh(client, integration, token)) == "invalid_client"


@pytest.mark.parametrize(("token", "error"), [("nope", "invalid_grant"), ("", "invalid_request")])
def test_unknown_or_missing_refresh_token_is_refused(client, integration, token, error):
    response = refresh(client, integration, token)
    assert response.status_code == 400
    assert error_of(response) == error


def test_refresh_may_narrow_the_scope_but_not_widen_it(client, integration, market, other_market):
    everything = post_json(client, integration_body(integration)).json()
    narrowed = refresh(client, integration, everything["refresh_token"], scope="market:code:eu")
    assert narrowed.status_code == 200, narrowed.content
    assert claims_of(narrowed)["market"]["id"] == [market.pk]
    widened = refresh(client, integration, narrowed.json()["refresh_token"], scope="market:code:us")
    assert error_of(widened) == "invalid_scope"
    to_all = refresh(client, integration, narrowed.json()["refresh_token"], scope="market:all")
    assert error_of(to_all) == "invalid_scope"


def test_refresh_keeps_the_original_scope(client, integration, market):
    first = post_json(client, integration_body(integration, scope="market:code:eu")).json()
    response = refresh(client, integration, first["refresh_token"])
    assert response.json()["scope"] == "market:code:eu"
    assert claims_of(response)["market"]["id"] == [market.pk]


# --- password -----------------------------------------------------------------------------


def password_body(application: Application, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": application.client_id,
        "username": "ada@example.com",
        "password": "right password",
        "scope": "market:code:eu",
        **extra,
    }


def test_password_grant_is_unsupported_without_a_customer_authenticator(
    client, sales_channel, settings
):
    settings.OMS_CUSTOMER_AUTHENTICATOR = ""
    response = post_json(client, password_body(sales_channel))
    assert response.status_code == 400
    assert error_of(response) == "unsupported_grant_type"


def test_password_grant_issues_a_customer_token_once_customers_plug_in(
    client, sales_channel, settings
):
    settings.OMS_CUSTOMER_AUTHENTICATOR = CUSTOMER_AUTHENTICATOR
    response = post_form(client, password_body(sales_channel))
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {*TOKEN_KEYS, "refresh_token", "owner_id", "owner_type"}
    assert body["owner_id"] == "cust0000001"
    assert body["owner_type"] == "customer"
    assert claims_of(response)["owner"] == {"id": "cust0000001", "type": "Customer"}

    refreshed = post_json(
        client,
        {
            "grant_type": "refresh_token",
            "client_id": sales_channel.client_id,
            "refresh_token": body["refresh_token"],
        },
    )
    assert refreshed.status_code == 200, refreshed.content
    assert claims_of(refreshed)["owner"] == {"id": "cust0000001", "type": "Customer"}
    assert refreshed.json()["scope"] == "market:code:eu"


def test_wrong_customer_password_is_an_invalid_grant(client, sales_channel, settings):
    settings.OMS_CUSTOMER_AUTHENTICATOR = CUSTOMER_AUTHENTICATOR
    response = post_json(client, password_body(sales_channel, password="wrong"))
    assert response.status_code == 400
    assert error_of(response) == "invalid_grant"


def test_password_grant_needs_username_and_password(client, sales_channel, settings):
    settings.OMS_CUSTOMER_AUTHENTICATOR = CUSTOMER_AUTHENTICATOR
    response = post_json(client, password_body(sales_channel, password=""))
    assert error_of(response) == "invalid_request"


def test_password_grant_needs_a_market(client, sales_channel, settings):
    settings.OMS_CUSTOMER_AUTHENTICATOR = CUSTOMER_AUTHENTICATOR
    response = post_json(client, password_body(sales_channel, scope=""))
    assert error_of(response) == "invalid_scope"


def test_integrations_cannot_use_the_password_grant(client, integration, settings, market):
    settings.OMS_CUSTOMER_AUTHENTICATOR = CUSTOMER_AUTHENTICATOR
    body = password_body(integration.application, client_secret=integration.client_secret or "")
    response = post_json(client, body)
    assert response.status_code == 400
    assert error_of(response) == "unauthorized_client"


# --- other grants and methods -------------------------------------------------------------


@pytest.mark.parametrize("grant_type", ["authorization_code", "implicit", "CLIENT_CREDENTIALS"])
def test_other_grant_types_are_unsupported(client, sales_channel, grant_type):
    response = post_json(client, {"grant_type": grant_type, "client_id": sales_channel.client_id})
    assert response.status_code == 400
    assert error_of(response) == "unsupported_grant_type"


def test_get_is_not_allowed(client, db):
    response = client.get(TOKEN_URL)
    assert response.status_code == 405
    assert error_of(response) == "invalid_request"
