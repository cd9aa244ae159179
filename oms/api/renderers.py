"""djangorestframework-jsonapi's renderer, plus: error documents and documents built by hand
(relationship endpoints, idempotent replays) pass through untouched, and `include` is bounded.

The library walks `include` record by record and renders each to-many relationship again every
time it meets its record. Here a record is walked once per remaining include path, and a read
whose compound document would hold more than MAX_INCLUDED_RECORDS included records answers 400
instead of rendering them (the view bounds the depth, `oms.api.views.MAX_INCLUDE_DEPTH`)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from rest_framework.permissions import SAFE_METHODS
from rest_framework.relations import ManyRelatedField, RelatedField
from rest_framework.renderers import JSONRenderer as PlainJSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework_json_api.renderers import JSONRenderer

from oms.api.errors import error_object

MAX_INCLUDED_RECORDS = 500


class IncludeWalk:
    """The document being rendered: the (serializer, pk, remaining include paths) walked,
    and whether it is capped."""

    def __init__(self, *, capped: bool):
        self.walked: set[tuple[Any, ...]] = set()
        self.capped = capped
        # (serializer class, context id) -> the fields its serializers share in this render
        self.fields: dict[tuple[type, int], Any] = {}
        # id(fields) -> (fields, their attribute fields, their relationship fields)
        self.split: dict[int, tuple[Any, dict[str, Any], dict[str, Any], int]] = {}

    def split_fields(self, fields: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """`fields` parted into what the library's `extract_attributes` and
        `extract_relationships` would keep (in order), once per fields object and render:
        both otherwise test every one of a record's ~100 fields for every record."""
        known = self.split.get(id(fields))
        if known is not None and known[0] is fields and len(fields) == len(known[1]) + known[3]:
            return known[1], known[2]
        attributes: dict[str, Any] = {}
        relationships: dict[str, Any] = {}
        for name, field in fields.items():
            if isinstance(field, (RelatedField, ManyRelatedField)):
                if name != api_settings.URL_FIELD_NAME and not field.write_only:
                    relationships[name] = field
            elif name != "id":
                attributes[name] = field
        # the fields object is kept alive with its parts, so its id cannot be reused
        self.split[id(fields)] = (fields, attributes, relationships, len(fields) - len(attributes))
        return attributes, relationships

    def check(self, included_cache: Any) -> None:
        if self.capped and sum(map(len, included_cache.values())) > MAX_INCLUDED_RECORDS:
            raise TooManyIncluded


_walk: ContextVar[IncludeWalk | None] = ContextVar("include_walk", default=None)


def current_walk() -> IncludeWalk | None:
    """The document being rendered, if any."""
    return _walk.get()


class TooManyIncluded(Exception):
    pass


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
        request = renderer_context.get("request")
        # A write has happened by now: its document is rendered whole rather than refused.
        capped = request is None or request.method in SAFE_METHODS
        token = _walk.set(IncludeWalk(capped=capped))
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except TooManyIncluded:
            if response is not None:
                response.status_code = 400
            error = error_object(
                status_code=400,
                code="INVALID_INCLUDE",
                detail=f"include would add more than {MAX_INCLUDED_RECORDS} records: "
                "ask for fewer relationships or a smaller page.",
                parameter="include",
            )
            return PlainJSONRenderer.render(
                self, {"errors": [error]}, accepted_media_type, renderer_context
            )
        finally:
            _walk.reset(token)

    @classmethod
    def extract_attributes(cls, fields: Any, resource: Any) -> Any:
        walk = _walk.get()
        if walk is None:
            return super().extract_attributes(fields, resource)
        return super().extract_attributes(walk.split_fields(fields)[0], resource)

    @classmethod
    def extract_relationships(cls, fields: Any, resource: Any, resource_instance: Any) -> Any:
        walk = _walk.get()
        if walk is None:
            return super().extract_relationships(fields, resource, resource_instance)
        return super().extract_relationships(
            walk.split_fields(fields)[1], resource, resource_instance
        )

    @classmethod
    def extract_included(
        cls,
        fields: Any,
        resource: Any,
        resource_instance: Any,
        included_resources: Any,
        included_cache: Any,
    ) -> None:
        if not included_resources or resource_instance is None:
            return
        walk = _walk.get()
        if walk is None:  # rendered outside of `render` (no such caller today)
            super().extract_included(
                fields, resource, resource_instance, included_resources, included_cache
            )
            return
        key = (
            type(fields.serializer),
            getattr(resource_instance, "pk", None),
            tuple(sorted(included_resources)),
        )
        if key in walk.walked:
            return  # everything below this record is in the document already
        walk.walked.add(key)
        walk.check(included_cache)
        super().extract_included(
            fields, resource, resource_instance, included_resources, included_cache
        )
        walk.check(included_cache)


def raw_document(data: Any, status: int = 200) -> Any:
    """A response whose `data` already is the JSON:API document."""
    response = Response(data, status=status)
    response.raw_document = True  # type: ignore[attr-defined]
    return response
