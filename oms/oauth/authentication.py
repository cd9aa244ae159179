"""Bearer-token authentication for the API: a verified access token becomes a `Principal`."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Subquery
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from markets.models import Organization
from oms.api.principal import ApplicationKind, IntegrationRole, Principal
from oms.oauth.errors import InvalidToken
from oms.oauth.models import Application
from oms.oauth.tokens import access_token_decode, issuer_for

INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (an error code, not a secret)


class ApiClient:
    """`request.user` for token-authenticated requests: the application, not a Django user."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False

    def __init__(self, principal: Principal):
        self.principal = principal

    @property
    def pk(self) -> str:
        return self.principal.application_id

    def __str__(self) -> str:
        return f"application {self.principal.application_id}"


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <JWT>`. No header: None (the permission layer answers 401
    UNAUTHORIZED); a bad token: 401 INVALID_TOKEN."""

    def authenticate(self, request: Request) -> tuple[ApiClient, Principal] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                "The Authorization header must be 'Bearer <access token>'.", code=INVALID_TOKEN
            )
        try:
            token = parts[1].decode("ascii")
            principal = principal_from_token(token)
        except (InvalidToken, UnicodeDecodeError) as exc:
            detail = str(exc) if isinstance(exc, InvalidToken) else "The access token is invalid."
            raise AuthenticationFailed(detail, code=INVALID_TOKEN) from exc
        return ApiClient(principal), principal

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def principal_from_token(token: str) -> Principal:
    """Verify a token (signature, expiry, issuer, live application) in one query."""
    claims = access_token_decode(token)
    application_claim = _mapping(claims.get("application"))
    organization_claim = _mapping(claims.get("organization"))
    application_id = _text(application_claim.get("id"))
    client_id = _text(application_claim.get("client_id"))

    organization = Organization.objects.all()
    row = (
        Application.objects.filter(pk=application_id, client_id=client_id, revoked_at__isnull=True)
        .annotate(
            # The organization is a singleton: read it in the same query as the application.
            organization_id=Subquery(organization.values("pk")[:1]),
            organization_domain=Subquery(organization.values("domain")[:1]),
        )
        .values("kind", "role", "organization_id", "organization_domain")
        .first()
    )
    if row is None:
        raise InvalidToken("The access token's application is unknown or revoked.")
    if row["organization_domain"] is None or claims.get("iss") != issuer_for(
        row["organization_domain"]
    ):
        raise InvalidToken("The access token was issued by another server.")
    if organization_claim.get("id") != row["organization_id"]:
        raise InvalidToken("The access token belongs to another organization.")
    if application_claim.get("kind") != row["kind"]:
        raise InvalidToken("The access token is invalid.")

    market_claim = claims.get("market")
    market_ids: tuple[str, ...] = ()
    if market_claim is not None:
        ids = _mapping(market_claim).get("id")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise InvalidToken("The access token is invalid.")
        market_ids = tuple(ids)
    customer_id = None
    if "owner" in claims:
        owner = _mapping(claims["owner"])
        if owner.get("type") == "Customer":
            customer_id = _text(owner.get("id"))
    scope = claims.get("scope", "")
    return Principal(
        application_id=application_id,
        kind=cast(ApplicationKind, row["kind"]),
        role=cast(IntegrationRole, row["role"]) if row["role"] else None,
        market_ids=market_ids,
        customer_id=customer_id,
        scope=scope if isinstance(scope, str) else "",
        claims=claims,
    )


def _mapping(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidToken("The access token is invalid.")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or not value or "\x00" in value:
        raise InvalidToken("The access token is invalid.")
    return value
