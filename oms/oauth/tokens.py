"""Access tokens: HS256 JWTs carrying Commerce Layer's claims.

Commerce Layer signs with RS512 and publishes its keys; we sign with a shared HMAC key because
only this server verifies its own tokens. Clients (js-auth, the SDK) decode the payload without
verifying it, so the algorithm is invisible to them.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac

from oms.oauth.errors import InvalidToken

ALGORITHM = "HS256"
MIN_KEY_LENGTH = 32  # bytes: RFC 7518 §3.2, a key at least as long as the hash output


def signing_key() -> str:
    configured: str = getattr(settings, "OMS_JWT_SIGNING_KEY", "") or ""
    if configured:
        if len(configured.encode()) < MIN_KEY_LENGTH:
            raise ImproperlyConfigured(
                f"OMS_JWT_SIGNING_KEY must be at least {MIN_KEY_LENGTH} bytes long."
            )
        return configured
    # Derived, not SECRET_KEY itself, so a leaked token key does not expose sessions and vice versa.
    return salted_hmac("oms.oauth.tokens.signing_key", "jwt-hs256", algorithm="sha256").hexdigest()


def issuer_for(domain: str) -> str:
    return f"https://auth.{domain}"


def access_token_encode(claims: dict[str, Any]) -> str:
    return jwt.encode(claims, signing_key(), algorithm=ALGORITHM, headers={"typ": "JWT"})


def access_token_decode(token: str) -> dict[str, Any]:
    """Verify the signature and expiry; the issuer and the application are checked against the
    database by the caller. Anything wrong raises `InvalidToken`."""
    try:
        claims = jwt.decode(
            token,
            signing_key(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "iss", "application", "organization"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("The access token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("The access token is invalid.") from exc
    if not isinstance(claims, dict):
        raise InvalidToken("The access token is invalid.")
    return claims


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
