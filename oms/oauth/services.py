"""Every write of the oauth app: applications, their credentials, and the tokens they get."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from markets.errors import OrganizationMissing
from markets.models import Market, Organization
from markets.services import organization_get
from oms.oauth.errors import (
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    TemporarilyUnavailable,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from oms.oauth.models import CLIENT_ID_LENGTH, Application, RefreshToken
from oms.oauth.params import TokenParams
from oms.oauth.tokens import (
    access_token_encode,
    issuer_for,
    new_refresh_token,
    refresh_token_hash,
)
from oms.services import resource_save

DEFAULT_ACCESS_TOKEN_LIFETIME = 7200
DEFAULT_REFRESH_TOKEN_LIFETIME = 30 * 24 * 3600
MAX_SCOPE_TERMS = 25
MARKET_ALL = "market:all"
CLIENT_AUTHENTICATION_FAILED = (
    "Client authentication failed: unknown or revoked client, or missing or wrong client secret."
)

# --- applications ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationCredentials:
    """A new application and its plain client secret, which exists only in this object."""

    application: Application
    client_secret: str | None


def client_secret_digest(client_secret: str) -> str:
    """Client secrets are 256 random bits, so one SHA-256 is as strong as a slow password hash
    (nothing to brute-force) and keeps every integration token request cheap."""
    return "sha256$" + hashlib.sha256(client_secret.encode()).hexdigest()


def client_secret_matches(client_secret: str, digest: str) -> bool:
    return hmac.compare_digest(client_secret_digest(client_secret), digest)


def application_create(
    *, name: str, kind: str, role: str = "", market: Market | None = None
) -> ApplicationCredentials:
    if market is not None and not market.is_enabled:
        raise ValidationError({"market": f"The market {market.code!r} is disabled."})
    client_secret = secrets.token_urlsafe(32) if kind == Application.Kind.INTEGRATION else None
    application = Application(
        name=name,
        kind=kind,
        role=role,
        market=market,
        client_secret_hash=client_secret_digest(client_secret) if client_secret else "",
    )
    resource_save(application)
    return ApplicationCredentials(application=application, client_secret=client_secret)


def application_update(*, application: Application, name: str) -> Application:
    """Only the name changes: kind, role and market define what tokens mean, so a different
    client is a new application."""
    application.name = name
    return resource_save(application)


def application_revoke(*, application: Application) -> Application:
    """Refuse every token of the application from now on, access and refresh alike."""
    now = timezone.now()
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.revoked_at is None:
            locked.revoked_at = now
            locked.save(update_fields=["revoked_at", "updated_at"])
        RefreshToken.objects.filter(application=locked, revoked_at__isnull=True).update(
            revoked_at=now
        )
    return locked


# --- the token endpoint ---------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """Whom a token acts for besides its application: a customer (password grant)."""

    type: str
    id: str


class CustomerAuthenticator(Protocol):
    """What `settings.OMS_CUSTOMER_AUTHENTICATOR` names: checks a customer's credentials in the
    markets of the token, returns the customer as an Owner (type "Customer") or None."""

    def __call__(
        self,
        *,
        application: Application,
        markets: Sequence[Market],
        username: str,
        password: str,
    ) -> Owner | None: ...


@dataclass(frozen=True)
class ScopeGrant:
    """A resolved scope: its normalized text and the markets it names (none for market:all)."""

    scope: str
    markets: tuple[Market, ...]

    @property
    def market_ids(self) -> frozenset[str]:
        return frozenset(market.pk for market in self.markets)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str
    created_at: int
    claims: dict[str, Any]
    refresh_token: str | None = None
    owner: Owner | None = None

    def as_response(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
            "created_at": self.created_at,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        if self.owner is not None:
            body["owner_id"] = self.owner.id
            body["owner_type"] = self.owner.type.lower()
        return body


def token_grant(*, params: TokenParams) -> IssuedToken:
    """Answer a token request: authenticate the client, then run its grant."""
    if params.grant_type == "client_credentials":
        application = client_authenticate(
            client_id=params.client_id, client_secret=params.client_secret
        )
        return token_issue(application=application, scope=params.scope)
    if params.grant_type == "refresh_token":
        application = client_authenticate(
            client_id=params.client_id, client_secret=params.client_secret
        )
        if not params.refresh_token:
            raise InvalidRequest("The refresh_token parameter is required.")
        return token_refresh(
            application=application, refresh_token=params.refresh_token, scope=params.scope
        )
    if params.grant_type == "password":
        authenticator = customer_authenticator()
        if authenticator is None:
            raise UnsupportedGrantType("The password grant is not available yet.")
        application = client_authenticate(
            client_id=params.client_id, client_secret=params.client_secret
        )
        if not params.username or not params.password:
            raise InvalidRequest("The username and password parameters are required.")
        return token_password(
            application=application,
            username=params.username,
            password=params.password,
            scope=params.scope,
            authenticator=authenticator,
        )
    raise UnsupportedGrantType(
        "Supported grant types: client_credentials, password and refresh_token."
    )


def client_authenticate(*, client_id: str, client_secret: str) -> Application:
    """Sales channels are public clients (client_id only); integrations prove their secret."""
    if not client_id or len(client_id) > CLIENT_ID_LENGTH:
        raise InvalidClient(CLIENT_AUTHENTICATION_FAILED)
    application = (
        Application.objects.select_related("market")
        .filter(client_id=client_id, revoked_at__isnull=True)
        .first()
    )
    if application is None:
        raise InvalidClient(CLIENT_AUTHENTICATION_FAILED)
    if application.kind == Application.Kind.INTEGRATION and not (
        client_secret and client_secret_matches(client_secret, application.client_secret_hash)
    ):
        raise InvalidClient(CLIENT_AUTHENTICATION_FAILED)
    return application


def token_issue(
    *,
    application: Application,
    scope: str = "",
    owner: Owner | None = None,
    lifetime: int | None = None,
) -> IssuedToken:
    """A new access token (and, for integrations and customers, a new refresh token family).

    `lifetime` overrides `OMS_ACCESS_TOKEN_LIFETIME` (seconds); tests pass a negative one to
    get a token that has already expired."""
    grant = scope_resolve(application=application, scope=scope)
    return _token_build(
        application=application, grant=grant, owner=owner, lifetime=lifetime, family=None
    )


def token_password(
    *,
    application: Application,
    username: str,
    password: str,
    scope: str = "",
    authenticator: CustomerAuthenticator,
) -> IssuedToken:
    if application.kind != Application.Kind.SALES_CHANNEL:
        raise UnauthorizedClient("Only a sales channel can use the password grant.")
    grant = scope_resolve(application=application, scope=scope)
    owner = authenticator(
        application=application, markets=grant.markets, username=username, password=password
    )
    if owner is None:
        raise InvalidGrant("The customer's username or password is wrong.")
    return _token_build(
        application=application, grant=grant, owner=owner, lifetime=None, family=None
    )


def token_refresh(*, application: Application, refresh_token: str, scope: str = "") -> IssuedToken:
    """Rotate a refresh token: it is spent, and a new one (same family) comes with the access
    token. Presenting a spent token revokes its whole family: one of its copies was stolen."""
    invalid = InvalidGrant("The refresh token is invalid, expired, used or revoked.")
    row = RefreshToken.objects.filter(token_hash=refresh_token_hash(refresh_token)).first()
    if row is None or row.application_id != application.pk:
        raise invalid
    if row.used_at is not None:
        refresh_token_family_revoke(family=row.family)
        raise invalid
    if row.revoked_at is not None or row.expires_at <= timezone.now():
        raise invalid

    original = scope_resolve(application=application, scope=row.scope)
    grant = original
    if scope:
        grant = scope_resolve(application=application, scope=scope)
        widens = original.markets and (not grant.markets or grant.market_ids - original.market_ids)
        if widens:
            raise InvalidScope("A refreshed token cannot reach beyond the original scope.")
    owner = Owner(type=row.owner_type, id=row.owner_id) if row.owner_type else None

    with transaction.atomic():
        # The conditional update is the lock: of two concurrent refreshes, one spends the token.
        spent = RefreshToken.objects.filter(
            pk=row.pk, used_at__isnull=True, revoked_at__isnull=True
        ).update(used_at=timezone.now())
        if not spent:
            raise invalid
        return _token_build(
            application=application, grant=grant, owner=owner, lifetime=None, family=row.family
        )


def refresh_token_family_revoke(*, family: str) -> int:
    return RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def refresh_tokens_of_owner_revoke(*, owner: Owner) -> int:
    """Revoke every refresh token of `owner` (a customer whose password was reset: a session
    opened with the old password does not outlive it beyond its access token)."""
    return RefreshToken.objects.filter(
        owner_type=owner.type, owner_id=owner.id, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def customer_authenticator() -> CustomerAuthenticator | None:
    """The customer check the password grant uses; none until customers exist (orders app)."""
    path = getattr(settings, "OMS_CUSTOMER_AUTHENTICATOR", "")
    if not path:
        return None
    authenticator: CustomerAuthenticator = import_string(path)
    return authenticator


# --- scopes ---------------------------------------------------------------------------------


def scope_resolve(*, application: Application, scope: str) -> ScopeGrant:
    """Parse `market:code:CODE`, `market:id:ID` (space-separated, several allowed) or
    `market:all`; fall back to the application's market. A sales channel always needs a market,
    and an application tied to a market gets that market only."""
    terms = list(dict.fromkeys(scope.split()))
    if not terms:
        if application.market is not None:
            return _markets_grant(application, [f"market:id:{application.market.pk}"])
        if application.kind == Application.Kind.SALES_CHANNEL:
            raise InvalidScope(
                "A sales channel token needs a market scope: market:code:CODE or market:id:ID."
            )
        return ScopeGrant(scope=MARKET_ALL, markets=())
    if len(terms) > MAX_SCOPE_TERMS:
        raise InvalidScope(f"A scope names at most {MAX_SCOPE_TERMS} markets.")
    if MARKET_ALL in terms:
        if len(terms) > 1:
            raise InvalidScope("market:all cannot be combined with other scopes.")
        if application.kind == Application.Kind.SALES_CHANNEL or application.market is not None:
            raise InvalidScope("This application can only get tokens for a given market.")
        return ScopeGrant(scope=MARKET_ALL, markets=())
    return _markets_grant(application, terms)


def _markets_grant(application: Application, terms: list[str]) -> ScopeGrant:
    by_id: dict[str, str] = {}
    by_code: dict[str, str] = {}
    for term in terms:
        resource, _, rest = term.partition(":")
        how, _, value = rest.partition(":")
        if resource != "market" or how not in {"id", "code"} or not value:
            raise InvalidScope(
                f"Unknown scope {term!r}: use market:code:CODE, market:id:ID or market:all."
            )
        (by_id if how == "id" else by_code)[value] = term
    found = Market.objects.filter(Q(pk__in=by_id) | Q(code__in=by_code))
    markets: dict[str, Market] = {}
    for market in found:
        markets[market.pk] = market
    resolved_ids = set(markets)
    codes = {market.code for market in markets.values()}
    missing = [term for value, term in by_id.items() if value not in resolved_ids]
    missing += [term for value, term in by_code.items() if value not in codes]
    if missing:
        raise InvalidScope(f"No market matches {', '.join(missing)}.")
    for market in markets.values():
        if not market.is_enabled:
            raise InvalidScope(f"The market {market.code!r} is disabled.")
        if application.market_id is not None and market.pk != application.market_id:
            raise InvalidScope("This application can only get tokens for its own market.")
    ordered = sorted(markets.values(), key=lambda market: market.number)
    return ScopeGrant(scope=" ".join(terms), markets=tuple(ordered))


# --- building tokens ------------------------------------------------------------------------


def _token_build(
    *,
    application: Application,
    grant: ScopeGrant,
    owner: Owner | None,
    lifetime: int | None,
    family: str | None,
) -> IssuedToken:
    organization = _organization()
    if lifetime is None:
        lifetime = int(
            getattr(settings, "OMS_ACCESS_TOKEN_LIFETIME", DEFAULT_ACCESS_TOKEN_LIFETIME)
        )
    issued_at = int(timezone.now().timestamp())
    claims = access_token_claims(
        organization=organization,
        application=application,
        grant=grant,
        owner=owner,
        issued_at=issued_at,
        lifetime=lifetime,
    )
    access_token = access_token_encode(claims)  # before any write: a bad key fails cleanly
    refresh_token = None
    if owner is not None or application.kind == Application.Kind.INTEGRATION:
        refresh_token = _refresh_token_create(
            application=application, grant=grant, owner=owner, family=family
        )
    return IssuedToken(
        access_token=access_token,
        expires_in=lifetime,
        scope=grant.scope,
        created_at=issued_at,
        claims=claims,
        refresh_token=refresh_token,
        owner=owner,
    )


def access_token_claims(
    *,
    organization: Organization,
    application: Application,
    grant: ScopeGrant,
    owner: Owner | None,
    issued_at: int,
    lifetime: int,
) -> dict[str, Any]:
    """Commerce Layer's claims: what js-auth and the SDK read from a token's payload."""
    claims: dict[str, Any] = {
        "organization": {"id": organization.pk, "slug": organization.slug},
        "application": {
            "id": application.pk,
            "client_id": application.client_id,
            "kind": application.kind,
            "public": application.is_public,
        },
        "scope": grant.scope,
        "exp": issued_at + lifetime,
        "iat": issued_at,
        "iss": issuer_for(organization.domain),
        "test": False,
        # Two tokens issued in the same second still differ.
        "rand": secrets.randbelow(2**53),
    }
    if grant.markets:
        price_lists = {market.price_list_id for market in grant.markets}
        claims["market"] = {
            "id": [market.pk for market in grant.markets],
            "price_list_id": price_lists.pop() if len(price_lists) == 1 else None,
            "stock_location_ids": [],
            "geocoder_id": None,
            "allows_external_prices": any(market.external_prices_url for market in grant.markets),
        }
    if owner is not None:
        claims["owner"] = {"id": owner.id, "type": owner.type}
    return claims


def _refresh_token_create(
    *,
    application: Application,
    grant: ScopeGrant,
    owner: Owner | None,
    family: str | None,
) -> str:
    token = new_refresh_token()
    lifetime = int(getattr(settings, "OMS_REFRESH_TOKEN_LIFETIME", DEFAULT_REFRESH_TOKEN_LIFETIME))
    RefreshToken.objects.create(
        token_hash=refresh_token_hash(token),
        family=family or secrets.token_urlsafe(32),
        application=application,
        scope=grant.scope,
        owner_type=owner.type if owner else "",
        owner_id=owner.id if owner else "",
        expires_at=timezone.now() + timedelta(seconds=lifetime),
    )
    return token


def _organization() -> Organization:
    try:
        return organization_get()
    except OrganizationMissing as exc:
        raise TemporarilyUnavailable(exc.detail) from exc
