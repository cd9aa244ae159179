"""`POST /oauth/token`: JSON or form body in, Commerce Layer's token response (or error) out.

The view sets its own parsers, renderer, negotiation, throttles and error handling, so it answers
the same whatever the API-wide REST_FRAMEWORK settings say: it is not a JSON:API endpoint.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import SuspiciousOperation
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from oms.oauth import services
from oms.oauth.errors import InvalidClient, OAuthError, error_body
from oms.oauth.params import token_params_read
from oms.oauth.throttling import TokenClientRateThrottle, TokenIPRateThrottle

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}  # RFC 6749 §5.1


class TokenJSONParser(JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:  # "[[[[…" deeper than the interpreter's stack
            raise exceptions.ParseError("JSON parse error - too deeply nested.") from exc


class TokenVndApiJSONParser(TokenJSONParser):
    """Some JSON:API clients send their usual media type to the token endpoint too; the body is
    still a plain JSON object of OAuth parameters."""

    media_type = "application/vnd.api+json"


class AlwaysJSON(BaseContentNegotiation):
    """Token responses are JSON whatever the Accept header asks for (js-auth sends
    application/json, the SDK's users may send application/vnd.api+json)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        for parser in parsers:
            if _media_type(request.content_type) == parser.media_type:
                return parser
        return None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class TokenView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (TokenJSONParser, FormParser, TokenVndApiJSONParser)
    renderer_classes = (JSONRenderer,)
    content_negotiation_class = AlwaysJSON
    # IP first: it counts every request, even one whose body the client throttle cannot read.
    throttle_classes = (TokenIPRateThrottle, TokenClientRateThrottle)
    versioning_class = None

    def post(self, request: Request) -> Response:
        params = token_params_read(request)
        issued = services.token_grant(params=params)
        return Response(issued.as_response(), headers=NO_STORE)

    def check_throttles(self, request: Request) -> None:
        # Unlike DRF's loop, stop at the first refusal: the client throttle reads the body, and
        # an unreadable body must not turn an IP's 429 into a 400.
        for throttle in self.get_throttles():
            if not throttle.allow_request(request, self):
                raise exceptions.Throttled(wait=throttle.wait())

    def handle_exception(self, exc: Exception) -> Response:
        response = token_error_response(exc)
        if response is None:
            self.raise_uncaught_exception(exc)
        assert response is not None
        response.exception = True
        return response


def token_error_response(exc: Exception) -> Response | None:
    headers = dict(NO_STORE)
    if isinstance(exc, OAuthError):
        if isinstance(exc, InvalidClient):
            headers["WWW-Authenticate"] = 'Basic realm="oauth"'
        return Response(exc.as_body(), status=exc.status, headers=headers)
    if isinstance(exc, exceptions.Throttled):
        wait: float | None = getattr(exc, "wait", None)
        wait = 60 if wait is None else wait
        headers["Retry-After"] = str(max(1, math.ceil(wait)))
        body = error_body(
            error="too_many_requests",
            detail=f"Too many token requests: retry in {headers['Retry-After']} seconds.",
            status=429,
            code="TOO_MANY_REQUESTS",
        )
        return Response(body, status=429, headers=headers)
    if isinstance(exc, exceptions.APIException):
        status = exc.status_code
        code = "BAD_REQUEST" if isinstance(exc, exceptions.ParseError) else str(exc.default_code)
        body = error_body(
            error="invalid_request", detail=str(exc.detail), status=status, code=code.upper()
        )
        return Response(body, status=status, headers=headers)
    if isinstance(exc, SuspiciousOperation):  # too many fields, body too large
        body = error_body(
            error="invalid_request",
            detail="The request body cannot be read.",
            status=400,
            code="BAD_REQUEST",
        )
        return Response(body, status=400, headers=headers)
    return None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()
