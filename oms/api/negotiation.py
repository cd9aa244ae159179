"""JSON:API media type rules: 406 for an `Accept` that excludes it, 415 for a body in another
type. A GET may carry `Content-Type: application/vnd.api+json` (the SDK sends it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

JSONAPI_MEDIA_TYPE = "application/vnd.api+json"
ACCEPTABLE_RANGES = {JSONAPI_MEDIA_TYPE, "application/*", "*/*"}


def accepts_jsonapi(accept_header: str) -> bool:
    if not accept_header.strip():
        return True
    for media_range in accept_header.split(","):
        media_type, *params = (part.strip() for part in media_range.split(";"))
        params = [p for p in params if p and not p.startswith("q=")]
        if media_type.lower() in ACCEPTABLE_RANGES and not (
            media_type.lower() == JSONAPI_MEDIA_TYPE and params
        ):
            return True
    return False


class JSONAPIContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        if not accepts_jsonapi(request.META.get("HTTP_ACCEPT", "")):
            raise NotAcceptable(
                f"This API speaks {JSONAPI_MEDIA_TYPE} only; the Accept header must allow it."
            )
        renderer = next(iter(renderers))
        return renderer, renderer.media_type

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> Any:
        content_type = request.content_type.split(";")[0].strip().lower()
        for parser in parsers:
            if content_type == parser.media_type:
                return parser
        return None
