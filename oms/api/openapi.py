"""OpenAPI 3 description of the JSON:API, generated from the same declarations the API runs on
(each resource view's serializer, relationships, creatable/updatable names, filterable and
sortable attributes, policy), so the document cannot drift from the behaviour."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework_json_api.relations import HyperlinkedRelatedField, ResourceRelatedField

from oms.api.pagination import MAX_PAGE_SIZE
from oms.api.serializers import (
    COMMON_READ_ONLY,
    MoneyFloatField,
    Relationship,
    ResourceSerializer,
    TypedMethodField,
)
from oms.api.views import ResourceViewSet

JSONAPI = "application/vnd.api+json"
PREDICATES = [
    "eq",
    "not_eq",
    "lt",
    "lteq",
    "gt",
    "gteq",
    "in",
    "not_in",
    "cont",
    "start",
    "end",
    "matches",
    "null",
    "not_null",
    "present",
    "blank",
    "true",
    "false",
]
ERROR_STATUSES = {
    "400": "Bad request: malformed document, query parameter or filter",
    "401": "Missing, invalid or expired token, or a role that may not do this",
    "404": "No such record (or not visible to this token)",
    "406": "Accept does not allow application/vnd.api+json",
    "409": "The document's type or id does not match the endpoint",
    "415": "The body is not application/vnd.api+json",
    "422": "Validation failed, or the state of the resource refuses it",
    "429": "Too many requests",
}


def field_schema(field: Any) -> dict[str, Any]:
    if isinstance(field, TypedMethodField | MoneyFloatField):
        return dict(field.openapi_schema)
    if isinstance(field, serializers.BooleanField):
        schema: dict[str, Any] = {"type": "boolean"}
    elif isinstance(field, serializers.IntegerField):
        schema = {"type": "integer"}
        if field.min_value is not None:
            schema["minimum"] = field.min_value
        if field.max_value is not None:
            schema["maximum"] = field.max_value
    elif isinstance(field, serializers.FloatField | serializers.DecimalField):
        schema = {"type": "number"}
        min_value = getattr(field, "min_value", None)
        if min_value is not None:
            schema["minimum"] = float(min_value)
    elif isinstance(field, serializers.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    elif isinstance(field, serializers.JSONField | serializers.DictField):
        schema = {"type": "object", "additionalProperties": True}
    elif isinstance(field, serializers.ListField):
        schema = {"type": "array", "items": {}}
        if field.max_length is not None:
            schema["maxItems"] = field.max_length
    elif isinstance(field, serializers.ChoiceField):
        schema = {"type": "string", "enum": [*field.choices]}
        if getattr(field, "allow_blank", False):
            schema["enum"].append("")
    elif isinstance(field, serializers.CharField):
        schema = {"type": "string"}
        if field.max_length is not None:
            schema["maxLength"] = field.max_length
    else:
        schema = {"type": "string"}
    if getattr(field, "allow_null", False):
        schema["nullable"] = True
    if "enum" in schema and schema.get("nullable"):
        schema["enum"].append(None)
    return schema


def attribute_fields(serializer: ResourceSerializer) -> dict[str, Any]:
    return {
        name: field
        for name, field in serializer.fields.items()
        if name not in ("id", "url")
        and name not in serializer.relationships
        and not isinstance(field, ResourceRelatedField | HyperlinkedRelatedField)
    }


def identifier(resource_type: str, *others: str) -> dict[str, Any]:
    """A resource identifier of `resource_type` (or, polymorphic, of one of `others`)."""
    return {
        "type": "object",
        "required": ["type", "id"],
        "properties": {
            "type": {"type": "string", "enum": list(dict.fromkeys((resource_type, *others)))},
            "id": {"type": "string"},
        },
    }


LINKS = {"type": "object", "additionalProperties": {"type": "string"}}


def resource_object_schema(view: type[ResourceViewSet]) -> dict[str, Any]:
    serializer = view.serializer_class()
    attributes = {
        name: field_schema(field)
        for name, field in attribute_fields(serializer).items()
        if not field.write_only
    }
    relationships: dict[str, Any] = {}
    for name, rel in serializer.relationships.items():
        linkage: dict[str, Any]
        if rel.many:
            linkage = {"type": "array", "items": identifier(rel.type)}
        else:
            linkage = {**identifier(rel.type, *rel.polymorphic), "nullable": True}
        relationships[name] = {
            "type": "object",
            "properties": {
                "links": LINKS,
                "data": linkage,
                "meta": {"type": "object", "additionalProperties": True},
            },
        }
    return {
        "type": "object",
        "required": ["type", "id"],
        "properties": {
            "type": {"type": "string", "enum": [view.resource_name]},
            "id": {"type": "string"},
            "attributes": {"type": "object", "properties": attributes},
            "relationships": {"type": "object", "properties": relationships},
            "links": LINKS,
        },
    }


def request_document_schema(view: type[ResourceViewSet], *, create: bool) -> dict[str, Any]:
    serializer = view.serializer_class()
    meta = view.serializer_class.Meta
    allowed = set(meta.creatable if create else meta.updatable) | {
        "reference",
        "reference_origin",
        "metadata",
    }
    fields = attribute_fields(serializer)
    attributes = {
        name: field_schema(fields[name])
        for name in allowed
        if name in fields and not fields[name].read_only
    }
    relationships = {
        name: {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": (
                    {"type": "array", "items": identifier(rel.type)}
                    if rel.many
                    else {**identifier(rel.type, *rel.polymorphic), "nullable": not rel.required}
                )
            },
        }
        for name, rel in serializer.relationships.items()
        if name in allowed
    }
    data: dict[str, Any] = {
        "type": "object",
        "required": ["type"] if create else ["type", "id"],
        "properties": {
            "type": {"type": "string", "enum": [view.resource_name]},
            "id": {"type": "string"},
            "attributes": {
                "type": "object",
                "properties": attributes,
                "additionalProperties": False,
            },
            "relationships": {
                "type": "object",
                "properties": relationships,
                "additionalProperties": False,
            },
        },
    }
    required = [
        name
        for name in meta.creatable
        if create
        and name in fields
        and fields[name].required
        and not fields[name].read_only
        and not name.startswith("_")
    ]
    if required:
        data["properties"]["attributes"]["required"] = required
        data["required"].append("attributes")
    return {"type": "object", "required": ["data"], "properties": {"data": data}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def content(schema: dict[str, Any]) -> dict[str, Any]:
    return {JSONAPI: {"schema": schema}}


def error_responses(*statuses: str) -> dict[str, Any]:
    return {
        status: {"description": ERROR_STATUSES[status], "content": content(ref("Errors"))}
        for status in statuses
    }


def list_parameters(view: type[ResourceViewSet]) -> list[dict[str, Any]]:
    filterable = sorted(view.filterable)
    return [
        {
            "name": "filter[q]",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "description": "Ransack filters: filter[q][{attribute}_{predicate}]=value, attributes "
            f"joined by _or_. Attributes: {', '.join(filterable)}. "
            f"Predicates: {', '.join(PREDICATES)}.",
            "schema": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        {
            "name": "sort",
            "in": "query",
            "description": "Comma-separated attributes, '-' for descending: "
            + ", ".join(sorted(view.sortable)),
            "schema": {"type": "string"},
        },
        {
            "name": "page[number]",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "default": 1},
        },
        {
            "name": "page[size]",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 10},
        },
        *read_parameters(view),
    ]


def read_parameters(view: type[ResourceViewSet]) -> list[dict[str, Any]]:
    return [
        {
            "name": "include",
            "in": "query",
            "description": "Comma-separated relationship paths (dotted for nested): "
            + ", ".join(sorted(view.serializer_class.relationships)),
            "schema": {"type": "string"},
        },
        {
            "name": f"fields[{view.resource_name}]",
            "in": "query",
            "description": "Sparse fieldset: the attributes and relationships to return.",
            "schema": {"type": "string"},
        },
    ]


# singleton path -> (resource type, view), registered by the apps' urls
SINGLETONS: dict[str, tuple[str, type[ResourceViewSet]]] = {}


def build_schema(base_path: str = "/api") -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Errors": {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["title", "detail", "code", "status"],
                        "properties": {
                            "title": {"type": "string"},
                            "detail": {"type": "string"},
                            "code": {"type": "string"},
                            "status": {"type": "string"},
                            "source": {
                                "type": "object",
                                "properties": {
                                    "pointer": {"type": "string"},
                                    "parameter": {"type": "string"},
                                },
                            },
                        },
                    },
                }
            },
        },
        "AnyResource": {
            "type": "object",
            "required": ["type", "id"],
            "properties": {
                "type": {"type": "string"},
                "id": {"type": "string"},
                "attributes": {"type": "object"},
                "relationships": {"type": "object"},
                "links": LINKS,
            },
        },
    }
    paths: dict[str, Any] = {}
    security: list[dict[str, list[str]]] = [{"bearer": []}]
    for name, view in sorted(ResourceViewSet.registry.items()):
        title = name.replace("_", " ")
        schemas[name] = resource_object_schema(view)
        single = {
            "type": "object",
            "required": ["data"],
            "properties": {
                "data": ref(name),
                "included": {"type": "array", "items": ref("AnyResource")},
                "links": LINKS,
            },
        }
        many = {
            "type": "object",
            "required": ["data", "meta", "links"],
            "properties": {
                "data": {"type": "array", "items": ref(name)},
                "included": {"type": "array", "items": ref("AnyResource")},
                "meta": {
                    "type": "object",
                    "required": ["record_count", "page_count"],
                    "properties": {
                        "record_count": {"type": "integer", "minimum": 0},
                        "page_count": {"type": "integer", "minimum": 0},
                    },
                },
                "links": LINKS,
            },
        }
        schemas[f"{name}_document"] = single
        schemas[f"{name}_list_document"] = many
        id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        paths[f"{base_path}/{name}"] = {
            "get": {
                "operationId": f"{name}_list",
                "tags": [name],
                "summary": f"List {title}",
                "parameters": list_parameters(view),
                "security": security,
                "responses": {
                    "200": {
                        "description": f"A page of {title}",
                        "content": content(ref(f"{name}_list_document")),
                    },
                    **error_responses("400", "401", "406"),
                },
            },
            "post": {
                "operationId": f"{name}_create",
                "tags": [name],
                "summary": f"Create one of the {title}",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "schema": {"type": "string", "maxLength": 255},
                    }
                ],
                "security": security,
                "requestBody": {
                    "required": True,
                    "content": content(request_document_schema(view, create=True)),
                },
                "responses": {
                    "201": {"description": "Created", "content": content(ref(f"{name}_document"))},
                    **error_responses("400", "401", "406", "409", "415", "422"),
                },
            },
        }
        paths[f"{base_path}/{name}/{{id}}"] = {
            "get": {
                "operationId": f"{name}_retrieve",
                "tags": [name],
                "parameters": [id_param, *read_parameters(view)],
                "security": security,
                "responses": {
                    "200": {
                        "description": "The record",
                        "content": content(ref(f"{name}_document")),
                    },
                    **error_responses("400", "401", "404", "406"),
                },
            },
            "patch": {
                "operationId": f"{name}_update",
                "tags": [name],
                "parameters": [
                    id_param,
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "schema": {"type": "string", "maxLength": 255},
                    },
                ],
                "security": security,
                "requestBody": {
                    "required": True,
                    "content": content(request_document_schema(view, create=False)),
                },
                "responses": {
                    "200": {"description": "Updated", "content": content(ref(f"{name}_document"))},
                    **error_responses("400", "401", "404", "406", "409", "415", "422"),
                },
            },
            "delete": {
                "operationId": f"{name}_delete",
                "tags": [name],
                "parameters": [id_param],
                "security": security,
                "responses": {
                    "204": {"description": "Deleted"},
                    **error_responses("401", "404", "406", "422"),
                },
            },
        }
        relationships = {
            **view.serializer_class.relationships,
            **{
                name: Relationship(resource_type, many=True)
                for name, resource_type in view.computed_relationships.items()
            },
        }
        for rel_name, rel in relationships.items():
            served = rel.type in ResourceViewSet.registry
            if not served and rel.many:
                # the related type's API is not served (yet): both endpoints answer 404
                continue
            if served:  # a to-one of a type not served yet has only its linkage
                target = f"{rel.type}_list_document" if rel.many else f"{rel.type}_document"
                related_schema: dict[str, Any] = ref(target)
                if not rel.many:
                    # anyOf: a document with a resource also satisfies the loose second shape
                    related_schema = {
                        "anyOf": [
                            ref(target),
                            {
                                "type": "object",
                                "properties": {"data": {"nullable": True, "type": "object"}},
                            },
                        ]
                    }
                paths[f"{base_path}/{name}/{{id}}/{rel_name}"] = {
                    "get": {
                        "operationId": f"{name}_{rel_name}",
                        "tags": [name],
                        "summary": f"The {rel_name.replace('_', ' ')} of one of the {title}",
                        "parameters": [id_param],
                        "security": security,
                        "responses": {
                            "200": {
                                "description": "The related resource(s)",
                                "content": content(related_schema),
                            },
                            **error_responses("400", "401", "404", "406"),
                        },
                    }
                }
            linkage = (
                {"type": "array", "items": identifier(rel.type)}
                if rel.many
                else {**identifier(rel.type, *rel.polymorphic), "nullable": True}
            )
            paths[f"{base_path}/{name}/{{id}}/relationships/{rel_name}"] = {
                "get": {
                    "operationId": f"{name}_relationships_{rel_name}",
                    "tags": [name],
                    "parameters": [id_param],
                    "security": security,
                    "responses": {
                        "200": {
                            "description": "Resource identifiers",
                            "content": content(
                                {
                                    "type": "object",
                                    "required": ["data"],
                                    "properties": {"data": linkage, "links": LINKS},
                                }
                            ),
                        },
                        **error_responses("401", "404", "406"),
                    },
                }
            }
    for path, (name, view) in SINGLETONS.items():
        schemas[name] = resource_object_schema(view)
        paths[f"{base_path}/{path}"] = {
            "get": {
                "operationId": f"{path}_retrieve",
                "tags": [path],
                "security": security,
                "responses": {
                    "200": {
                        "description": f"The {path}",
                        "content": content(
                            {
                                "type": "object",
                                "required": ["data"],
                                "properties": {"data": ref(name)},
                            }
                        ),
                    },
                    **error_responses("401", "406"),
                },
            }
        }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "OMS API",
            "version": "1.0",
            "description": "JSON:API in Commerce Layer's dialect. Get a token at POST /oauth/token.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
        "paths": paths,
    }


__all__ = ["COMMON_READ_ONLY", "build_schema"]
