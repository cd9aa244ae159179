"""Errors of the token endpoint and of bearer-token authentication.

The token endpoint answers the way Commerce Layer's auth server does, which is what
`@commercelayer/js-auth` reads: a JSON object with an `errors` array whose items carry the
OAuth 2.0 error name as `title` (RFC 6749 §5.2), a human `detail`, an upper-case `code` and a
numeric `status`. We add RFC 6749's top-level `error` / `error_description` too, so generic
OAuth 2.0 clients can read the same body.
"""

from __future__ import annotations

from typing import Any, ClassVar


class OAuthError(Exception):
    """A refused token request; `error` is the RFC 6749 error name, stable across releases."""

    error: ClassVar[str] = "invalid_request"
    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail

    def as_body(self) -> dict[str, Any]:
        return error_body(error=self.error, detail=self.detail, status=self.status, code=self.code)


class InvalidRequest(OAuthError):
    """A parameter is missing, repeated, of the wrong type, or the body cannot be read."""

    error = "invalid_request"


class InvalidClient(OAuthError):
    """Unknown or revoked client, wrong or missing secret."""

    error = "invalid_client"
    status = 401
    code = "UNAUTHORIZED"


class InvalidGrant(OAuthError):
    """The refresh token or the customer's credentials are unknown, used, expired or revoked."""

    error = "invalid_grant"


class UnauthorizedClient(OAuthError):
    """The client exists but may not use this grant type (an integration asking for `password`)."""

    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    """Malformed scope, unknown or disabled market, or a market the application may not use."""

    error = "invalid_scope"


class TemporarilyUnavailable(OAuthError):
    """The deployment cannot issue tokens yet (no organization is set up)."""

    error = "temporarily_unavailable"
    status = 503
    code = "SERVICE_UNAVAILABLE"


class InvalidToken(Exception):
    """An access token that is malformed, tampered with, expired, or whose application is revoked."""


def error_body(*, error: str, detail: str, status: int, code: str) -> dict[str, Any]:
    return {
        "errors": [
            {"title": error, "detail": detail, "code": code, "status": status, "meta": {}},
        ],
        "error": error,
        "error_description": detail,
    }
