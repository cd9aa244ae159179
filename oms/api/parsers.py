"""The JSON:API request parser: djangorestframework-jsonapi's, with the document's shape checked
first so a malformed body is a 400 with a pointer (its own parser answers 500 when, e.g.,
`relationships` is not an object).

The body is decoded by `json_document`, which measures how deep it nests before the recursive
JSON decoder runs: "[[[[…" ten thousand deep would otherwise exhaust the interpreter's stack
(a 500) after holding the worker for the whole descent."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant
from rest_framework_json_api import exceptions as jsonapi_exceptions
from rest_framework_json_api.parsers import JSONParser

from oms.api.errors import BadRequest, Conflict

MAX_BODY_KEYS = 200
# How many arrays and objects a body may nest: a resource document needs 3 levels around its
# attributes, metadata may hold 10 (see `MetadataField`); anything deeper is not a document.
MAX_NESTING_DEPTH = 32
# a JSON string (with its escapes), or a bracket outside of one
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
# json.loads joins an escaped surrogate pair into one character: any surrogate left is alone,
# and no database can store it (it is not encodable as UTF-8)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _bad(detail: str, pointer: str, code: str = "INVALID_DATA_FORMAT") -> BadRequest:
    return BadRequest(detail, code=code, pointer=pointer)


def _check_identifier(value: Any, pointer: str) -> None:
    if not isinstance(value, Mapping):
        raise _bad("A resource identifier must be an object with type and id.", pointer)
    if not isinstance(value.get("type"), str) or not value.get("type"):
        raise _bad("A resource identifier needs a string type.", f"{pointer}/type")
    if not isinstance(value.get("id"), str) or not value.get("id"):
        raise _bad("A resource identifier needs a string id.", f"{pointer}/id")


def check_nesting(text: str) -> None:
    """Refuse a JSON text nesting deeper than MAX_NESTING_DEPTH, in one linear scan."""
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                raise BadRequest(
                    f"The request body nests deeper than {MAX_NESTING_DEPTH} levels.",
                    pointer="/",
                )
        elif token in ("]", "}"):
            depth -= 1


def json_document(raw: bytes, encoding: str) -> Any:
    """The JSON value of a request body, or a 400 saying why it is not one."""
    try:
        text = raw.decode(encoding)
        check_nesting(text)
        return json.loads(text, parse_constant=strict_constant)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError among them
        raise BadRequest(
            f"The request body is not valid JSON: JSON parse error - {exc}", pointer="/"
        ) from exc


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "NUL characters"
    if _SURROGATE.search(text):
        return "unpaired surrogate escapes (\\ud800-\\udfff)"
    return None


def check_text(value: Any, pointer: str) -> None:
    """Refuse text no database can store, up front instead of failing late (a 500): NUL
    characters (PostgreSQL text) and lone UTF-16 surrogates (not UTF-8 at all)."""
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem:
            raise _bad(f"Text may not contain {problem}.", pointer, code="INVALID_FIELD_VALUE")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            problem = _text_problem(str(key))
            if problem:
                raise _bad(f"Names may not contain {problem}.", pointer, code="INVALID_FIELD_VALUE")
            check_text(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_text(item, f"{pointer}/{index}")


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


class JSONAPIParser(JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        document = json_document(
            stream.read(), (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        )
        # first: any later error that names a part of the body must be renderable as UTF-8
        check_text(document, "")
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
