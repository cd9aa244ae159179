"""The JSON:API request parser: djangorestframework-jsonapi's, with the document's shape checked
first so a malformed body is a 400 with a pointer (its own parser answers 500 when, e.g.,
`relationships` is not an object)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework_json_api import exceptions as jsonapi_exceptions
from rest_framework_json_api.parsers import JSONParser

from oms.api.errors import BadRequest, Conflict

MAX_BODY_KEYS = 200


def _bad(detail: str, pointer: str, code: str = "INVALID_DATA_FORMAT") -> BadRequest:
    return BadRequest(detail, code=code, pointer=pointer)


def _check_identifier(value: Any, pointer: str) -> None:
    if not isinstance(value, Mapping):
        raise _bad("A resource identifier must be an object with type and id.", pointer)
    if not isinstance(value.get("type"), str) or not value.get("type"):
        raise _bad("A resource identifier needs a string type.", f"{pointer}/type")
    if not isinstance(value.get("id"), str) or not value.get("id"):
        raise _bad("A resource identifier needs a string id.", f"{pointer}/id")


def check_no_nul(value: Any, pointer: str) -> None:
    """PostgreSQL text cannot hold NUL characters: refuse them up front instead of failing late."""
    if isinstance(value, str):
        if "\x00" in value:
            raise _bad("Text may not contain NUL characters.", pointer, code="INVALID_FIELD_VALUE")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if "\x00" in str(key):
                raise _bad(
                    "Names may not contain NUL characters.", pointer, code="INVALID_FIELD_VALUE"
                )
            check_no_nul(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_no_nul(item, f"{pointer}/{index}")


def check_document(document: Any) -> None:
    """Raise a 400 naming the first part of `document` that is not a JSON:API resource document."""
    if not isinstance(document, Mapping):
        raise _bad("The request body must be a JSON object.", "/")
    if "data" not in document:
        raise _bad("The request body must have a top-level data member.", "/data")
    data = document["data"]
    if not isinstance(data, Mapping):
        raise _bad("data must be a resource object.", "/data")
    if not isinstance(data.get("type"), str) or not data.get("type"):
        raise _bad("data.type must be a non-empty string.", "/data/type")
    if "id" in data and not (isinstance(data["id"], str) or data["id"] is None):
        raise _bad("data.id must be a string.", "/data/id")
    attributes = data.get("attributes", {})
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, Mapping):
        raise _bad("data.attributes must be an object.", "/data/attributes")
    relationships = data.get("relationships", {})
    if relationships is None:
        relationships = {}
    if not isinstance(relationships, Mapping):
        raise _bad("data.relationships must be an object.", "/data/relationships")
    if len(attributes) + len(relationships) > MAX_BODY_KEYS:
        raise _bad("Too many attributes and relationships.", "/data")
    overlap = set(attributes) & set(relationships)
    if overlap:
        name = sorted(overlap)[0]
        raise _bad(f"{name} is both an attribute and a relationship.", f"/data/attributes/{name}")
    for name, relationship in relationships.items():
        pointer = f"/data/relationships/{name}"
        if not isinstance(relationship, Mapping) or "data" not in relationship:
            raise _bad("A relationship must be an object with a data member.", pointer)
        linkage = relationship["data"]
        if linkage is None:
            continue
        if isinstance(linkage, list):
            for index, item in enumerate(linkage):
                _check_identifier(item, f"{pointer}/data/{index}")
        else:
            _check_identifier(linkage, f"{pointer}/data")
    meta = document.get("meta")
    if meta is not None and not isinstance(meta, Mapping):
        raise _bad("meta must be an object.", "/meta")
    check_no_nul(dict(document), "")


class JSONAPIParser(JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            document = super(JSONParser, self).parse(stream, media_type, parser_context)
        except ParseError as exc:
            raise BadRequest(
                f"The request body is not valid JSON: {exc.detail}", pointer="/"
            ) from exc
        view = (parser_context or {}).get("view")
        if getattr(view, "parses_resource_documents", True):
            check_document(document)
        try:
            parsed = self.parse_data(document, parser_context)
        except jsonapi_exceptions.Conflict as exc:
            raise Conflict(str(exc.detail), pointer="/data") from exc
        except ParseError as exc:
            raise BadRequest(str(exc.detail), pointer="/data") from exc
        if isinstance(parsed, dict) and isinstance(document.get("data"), Mapping):
            data = document["data"]
            parsed["_sources"] = {
                **dict.fromkeys(data.get("attributes") or {}, "attributes"),
                **dict.fromkeys(data.get("relationships") or {}, "relationships"),
            }
        return parsed
