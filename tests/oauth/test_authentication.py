"""BearerTokenAuthentication, through a tiny DRF view that echoes the Principal."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
from django.urls import path
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from markets.models import Organization
from oms.api.principal import Principal
from oms.oauth import services
from oms.oauth.authentication import ApiClient, BearerTokenAuthentication
from oms.oauth.services import (
    ApplicationCredentials,
    Owner,
    application_revoke,
    token_issue,
)
from oms.oauth.tokens import signing_key
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.oauth.test_authentication")]


def echo_errors(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Independent of the project's JSON:API error handler: status, code and detail only."""
    if not isinstance(exc, APIException):
        return None
    return Response(
        {"code": exc.get_codes(), "detail": str(exc.detail)},
        status=exc.status_code,
        headers={"WWW-Authenticate": h} if (h := getattr(exc, "auth_header", None)) else None,
    )


class WhoAmI(APIView):
    authentication_classes = (BearerTokenAuthentication,)
    permission_classes = (IsAuthenticated,)
    renderer_classes = (JSONRenderer,)

    def get_exception_handler(self) -> Any:
        return echo_errors

    def get(self, request: Request) -> Response:
        principal = request.auth
        assert isinstance(principal, Principal)
        assert isinstance(request.user, ApiClient)
        return Response(
            {
                "application_id": principal.application_id,
                "kind": principal.kind,
                "role": principal.role,
                "market_ids": list(principal.market_ids),
                "customer_id": principal.customer_id,
                "scope": principal.scope,
                "user_pk": request.user.pk,
            }
        )


urlpatterns = [path("whoami", WhoAmI.as_view())]


def call(client: Any, token: str | None = None, header: str | None = None) -> Any:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if header is not None:
        headers["Authorization"] = header
    return client.get("/whoami", headers=headers)


def forge(claims: dict[str, Any], key: str | None = None) -> str:
    return jwt.encode(claims, key or signing_key(), algorithm="HS256")


def valid_claims(credentials: ApplicationCredentials) -> dict[str, Any]:
    return token_issue(application=credentials.application).claims


# --- accepted tokens ----------------------------------------------------------------------


def test_integration_token_gives_an_integration_principal(client, integration):
    token = token_issue(application=integration.application).access_token
    response = call(client, token)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "application_id": integration.application.pk,
        "kind": "integration",
        "role": "admin",
        "market_ids": [],
        "customer_id": None,
        "scope": "market:all",
        "user_pk": integration.application.pk,
    }


def test_sales_channel_token_carries_its_markets(client, sales_channel, market):
    token = token_issue(application=sales_channel, scope="market:code:eu").access_token
    body = call(client, token).json()
    assert body["kind"] == "sales_channel"
    assert body["role"] is None
    assert body["market_ids"] == [market.pk]
    assert body["scope"] == "market:code:eu"


def test_customer_token_names_the_customer(client, sales_channel, market):
    owner = Owner(type="Customer", id="cust0000001")
    token = token_issue(application=sales_channel, scope="market:code:eu", owner=owner)
    assert call(client, token.access_token).json()["customer_id"] == "cust0000001"


def test_principal_properties(integration, sales_channel, market):
    auth = BearerTokenAuthentication()
    token = token_issue(application=integration.application).access_token
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    result = auth.authenticate(Request(request))
    assert result is not None
    user, principal = result
    assert user.is_authenticated
    assert principal.is_integration
    assert principal.can_write_back_office
    assert principal.claims["iss"] == "https://auth.oms.test"


def test_verification_costs_one_query(integration, django_assert_num_queries):
    token = token_issue(application=integration.application).access_token
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}"))
    with django_assert_num_queries(1):
        assert BearerTokenAuthentication().authenticate(request) is not None


def test_scheme_is_case_insensitive(client, integration):
    token = token_issue(application=integration.application).access_token
    assert call(client, header=f"bearer {token}").status_code == 200


# --- no token: the permission layer answers ----------------------------------------------


def test_missing_header_is_left_to_the_permission_layer(client, organization):
    response = call(client)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_another_scheme_is_not_ours(organization):
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION="Basic dXNlcjpwdw=="))
    assert BearerTokenAuthentication().authenticate(request) is None


# --- refused tokens -----------------------------------------------------------------------


def assert_invalid_token(response: Any) -> None:
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "INVALID_TOKEN"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_expired_token_is_refused(client, integration):
    token = token_issue(application=integration.application, lifetime=-5).access_token
    response = call(client, token)
    assert_invalid_token(response)
    assert "expired" in response.json()["detail"]


def issued_seconds_ago(credentials: ApplicationCredentials, seconds: int, monkeypatch: Any) -> str:
    past = timezone.now() - timedelta(seconds=seconds)
    with monkeypatch.context() as patch:
        patch.setattr(services.timezone, "now", lambda: past)
        return token_issue(application=credentials.application, lifetime=60).access_token


def test_token_is_accepted_until_its_lifetime_ends(client, integration, monkeypatch):
    assert call(client, issued_seconds_ago(integration, 30, monkeypatch)).status_code == 200
    assert_invalid_token(call(client, issued_seconds_ago(integration, 61, monkeypatch)))


def test_tampered_signature_is_refused(client, integration):
    token = token_issue(application=integration.application).access_token
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert_invalid_token(call(client, f"{header}.{payload}.{flipped}"))


def test_tampered_payload_is_refused(client, integration, sales_channel):
    token = token_issue(application=sales_channel, scope="market:code:eu").access_token
    header, _, signature = token.split(".")
    claims = valid_claims(integration)
    other_payload = forge(claims).split(".")[1]
    assert_invalid_token(call(client, f"{header}.{other_payload}.{signature}"))


def test_token_signed_with_another_key_is_refused(client, integration):
    assert_invalid_token(call(client, forge(valid_claims(integration), key="x" * 40)))


def test_unsigned_token_is_refused(client, integration):
    token = jwt.encode(valid_claims(integration), key=None, algorithm="none")
    assert_invalid_token(call(client, token))


def test_wrong_issuer_is_refused(client, integration):
    claims = {**valid_claims(integration), "iss": "https://auth.commercelayer.io"}
    response = call(client, forge(claims))
    assert_invalid_token(response)
    assert "another server" in response.json()["detail"]


def test_token_of_a_previous_domain_is_refused(client, integration):
    token = token_issue(application=integration.application).access_token
    Organization.objects.update(domain="shop.example.com")
    assert_invalid_token(call(client, token))


def test_revoked_application_is_refused(client, integration):
    token = token_issue(application=integration.application).access_token
    application_revoke(application=integration.application)
    response = call(client, token)
    assert_invalid_token(response)
    assert "revoked" in response.json()["detail"]


@pytest.mark.parametrize(
    "change",
    [
        {"application": None},
        {"application": "x"},
        {"application": {"id": 5, "client_id": "c", "kind": "integration"}},
        {"organization": {"id": "nope", "slug": "acme"}},
        {"organization": []},
        {"market": {"id": "not-a-list"}},
        {"market": {"id": [1, 2]}},
        {"market": "eu"},
        {"owner": "cust"},
        {"exp": "tomorrow"},
    ],
)
def test_malformed_claims_are_refused(client, integration, change):
    assert_invalid_token(call(client, forge({**valid_claims(integration), **change})))


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "application", "organization"])
def test_tokens_missing_a_required_claim_are_refused(client, integration, missing):
    claims = valid_claims(integration)
    del claims[missing]
    assert_invalid_token(call(client, forge(claims)))


def test_kind_claim_must_match_the_application(client, integration):
    claims = valid_claims(integration)
    claims["application"] = {**claims["application"], "kind": "sales_channel"}
    assert_invalid_token(call(client, forge(claims)))


def test_token_naming_an_unknown_application_is_refused(client, organization):
    application = factories.ApplicationFactory.create()
    claims = {
        "organization": {"id": organization.pk, "slug": organization.slug},
        "application": {
            "id": "XXXXXXXXXXXX",
            "client_id": application.client_id,
            "kind": "sales_channel",
        },
        "exp": int(time.time()) + 60,
        "iat": int(time.time()),
        "iss": "https://auth.oms.test",
    }
    assert_invalid_token(call(client, forge(claims)))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer not.a.jwt",
        "Bearer abc",
        "Bearer ....",
        "Bearer \u00e9t\u00e9",
        "Bearer " + "a" * 5000,
    ],
)
def test_malformed_headers_are_refused(client, organization, header):
    assert_invalid_token(call(client, header=header))
