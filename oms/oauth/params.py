"""Reading a token request (RFC 6749 §4, §6), whatever its body looks like.

Shared by the view and the per-client throttle, so both see the same client_id. Every problem is
an `InvalidRequest` (400) or `InvalidClient` (401), never an unhandled exception.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from django.http import QueryDict
from rest_framework.request import Request

from oms.oauth.errors import InvalidClient, InvalidRequest

PARAMETERS = ("grant_type", "client_id", "client_secret", "scope", "username", "password")
PARAMETERS_WITH_TOKEN = (*PARAMETERS, "refresh_token")
MAX_PARAMETER_LENGTH = 4096


@dataclass(frozen=True)
class TokenParams:
    grant_type: str
    client_id: str
    client_secret: str = ""
    scope: str = ""
    username: str = ""
    password: str = ""
    refresh_token: str = ""


def token_params_read(request: Request) -> TokenParams:
    """The token request's parameters, from the body and an optional HTTP Basic header."""
    values = _body_parameters(request.data)
    basic = _basic_credentials(request)
    if basic is not None:
        if values.get("client_id") or values.get("client_secret"):
            raise InvalidRequest(
                "Authenticate the client either with HTTP Basic or in the body, not both."
            )
        values["client_id"], values["client_secret"] = basic
    if not values.get("grant_type"):
        raise InvalidRequest("The grant_type parameter is required.")
    return TokenParams(
        grant_type=values["grant_type"],
        client_id=values.get("client_id", ""),
        client_secret=values.get("client_secret", ""),
        scope=values.get("scope", ""),
        username=values.get("username", ""),
        password=values.get("password", ""),
        refresh_token=values.get("refresh_token", ""),
    )


def client_id_peek(request: Request) -> str | None:
    """The client_id a request claims to be, for rate limiting; None when it names none."""
    try:
        basic = _basic_credentials(request)
        if basic is not None:
            return basic[0] or None
        data = request.data
    except (InvalidRequest, InvalidClient):
        return None
    if isinstance(data, QueryDict):
        value: object = data.get("client_id")
    elif isinstance(data, Mapping):
        value = data.get("client_id")
    else:
        return None
    return value if isinstance(value, str) and value else None


def _body_parameters(data: object) -> dict[str, str]:
    if isinstance(data, QueryDict):
        values: dict[str, str] = {}
        for name in PARAMETERS_WITH_TOKEN:
            given = data.getlist(name)
            if len(given) > 1:
                raise InvalidRequest(f"The {name} parameter is repeated.")
            if given:
                values[name] = _checked(name, given[0])
        return values
    if not isinstance(data, Mapping):
        raise InvalidRequest("The request body must be a JSON object or a form.")
    values = {}
    for name in PARAMETERS_WITH_TOKEN:
        value = data.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidRequest(f"The {name} parameter must be a string.")
        values[name] = _checked(name, value)
    return values


def _checked(name: str, value: str) -> str:
    if len(value) > MAX_PARAMETER_LENGTH:
        raise InvalidRequest(f"The {name} parameter is too long.")
    # PostgreSQL refuses NUL in text; it is never part of a valid credential.
    if "\x00" in value:
        raise InvalidRequest(f"The {name} parameter contains a NUL character.")
    return value.strip() if name != "password" else value


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidClient("The HTTP Basic credentials cannot be read.") from exc
    client_id, colon, client_secret = decoded.partition(":")
    if not colon:
        raise InvalidClient("The HTTP Basic credentials cannot be read.")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
    return (
        _checked("client_id", unquote(client_id)),
        _checked("client_secret", unquote(client_secret)),
    )
