"""djangorestframework-jsonapi's renderer, plus: error documents and documents built by hand
(relationship endpoints, idempotent replays) pass through untouched."""

from __future__ import annotations

from typing import Any

from rest_framework.renderers import JSONRenderer as PlainJSONRenderer
from rest_framework_json_api.renderers import JSONRenderer


class JSONAPIRenderer(JSONRenderer):
    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        if data is None:
            return b""
        if getattr(response, "raw_document", False) or (
            isinstance(data, dict) and "errors" in data
        ):
            return PlainJSONRenderer.render(self, data, accepted_media_type, renderer_context)
        return super().render(data, accepted_media_type, renderer_context)


def raw_document(data: Any, status: int = 200) -> Any:
    """A response whose `data` already is the JSON:API document."""
    from rest_framework.response import Response

    response = Response(data, status=status)
    response.raw_document = True  # type: ignore[attr-defined]
    return response
