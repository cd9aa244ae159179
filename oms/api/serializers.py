"""The base of every resource serializer: Commerce Layer's common fields, relationships declared
once (they drive the serializer fields, `include`, the related and relationship endpoints), and
the rules on which attributes a client may send when creating or updating."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, ClassVar

from django.db.models import Model
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from rest_framework import serializers
from rest_framework.serializers import ListSerializer
from rest_framework_json_api import serializers as jsonapi
from rest_framework_json_api.relations import (
    HyperlinkedRelatedField,
    ResourceRelatedField,
    SerializerMethodResourceRelatedField,
    SkipDataMixin,
)
from rest_framework_json_api.serializers import LazySerializersDict
from rest_framework_json_api.utils import get_included_resources

from oms.api.errors import BadRequest
from oms.api.links import use_link_templates
from oms.api.registry import SERIALIZERS
from oms.api.renderers import current_walk
from oms.money import cents_to_float, format_money

COMMON_READ_ONLY = ("id", "created_at", "updated_at")
COMMON_WRITABLE = ("reference", "reference_origin", "metadata")
DOCUMENT_KEYS = {"type", "id", "_meta", "_sources"}


@dataclass(frozen=True)
class Relationship:
    """A relationship of a resource.

    `type`: the related resource type (e.g. "skus"); `source`: the model attribute when it differs
    from the name; `many`: to-many; `writable`: "create", "update", "both" or "" (read only);
    `reverse`: for to-many, the related model's field pointing back (used by related endpoints);
    `required`: must be given on create; `private`: only integrations may include it (it
    exposes ids a storefront must not learn, such as other customers' orders).

    The related type may have no serializer in `oms.api.registry` yet (e.g. "shipments", served
    by another app's API): the linkage still renders with the declared type, and `include` and
    the related endpoint start working once that app registers it.
    """

    type: str
    many: bool = False
    source: str | None = None
    writable: str = ""
    reverse: str | None = None
    required: bool = False
    private: bool = False
    # customer data: only integrations and customer tokens may include it (a sales channel
    # cannot read customers; a customer reads only itself, which the related view's scope keeps)
    customers_only: bool = False
    # reachable by its related endpoint only (no model attribute to render or include it from)
    links_only: bool = False
    # a to-many that is a filtered part of `source` (an order's authorizations are its
    # transactions of that type): included through a filtered prefetch (`filtered_prefetch`)
    filter: tuple[tuple[str, str], ...] = ()
    # a to-one whose record is one of these resource types (an order's payment source: a
    # wire transfer, an external or a test payment), found by `resolve` (else the `source`
    # attribute); its linkage renders only when included (finding it costs queries)
    polymorphic: tuple[str, ...] = ()
    resolve: Callable[[Any], Model | None] | None = None

    def prefetch_attribute(self, name: str) -> str:
        return f"_included_{name}"

    def record_of(self, parent: Any, name: str) -> Model | None:
        """The related record of a polymorphic relationship."""
        if self.resolve is not None:
            return self.resolve(parent)
        record: Model | None = getattr(parent, self.source or name)
        return record


def polymorphic_type_of(record: Model, types: tuple[str, ...]) -> str:
    """The resource type, among `types`, whose serializer renders `record`'s model."""
    # one table for several resources (promotions): the record names its own resource type
    own_type = getattr(record, "type", None)
    if own_type in types:
        return str(own_type)
    for resource_type in types:
        if import_string(SERIALIZERS[resource_type]).Meta.model is type(record):
            return resource_type
    raise LookupError(f"{type(record).__name__} is none of {', '.join(types)}")


def polymorphic_serializer(types: tuple[str, ...]) -> type:
    """Stands for the serializer of whichever of `types` an included record is: the renderer
    calls it like a serializer class and gets that type's serializer."""

    class PolymorphicSerializer:
        included_serializers: ClassVar[dict[str, Any]] = {}

        class Meta:
            resource_name = "|".join(types)

        def __new__(cls, instance: Any = None, *args: Any, **kwargs: Any) -> Any:
            serializer = import_string(SERIALIZERS[polymorphic_type_of(instance, types)])
            return serializer(instance, *args, **kwargs)

    return PolymorphicSerializer


class PolymorphicRelatedField(ResourceRelatedField):
    """The linkage of a polymorphic to-one (`Relationship.polymorphic`), typed per record."""

    class JSONAPIMeta:
        resource_name = "polymorphic"

    def __init__(self, *, relationship: Relationship, name: str, **kwargs: Any):
        self.relationship = relationship
        self.relationship_name = name
        super().__init__(read_only=True, source="*", **kwargs)

    def use_pk_only_optimization(self) -> bool:
        return False

    def get_attribute(self, instance: Any) -> Any:
        return self.relationship.record_of(instance, self.relationship_name)

    def to_representation(self, value: Any) -> dict[str, str]:
        return {
            "type": polymorphic_type_of(value, self.relationship.polymorphic),
            "id": str(value.pk),
        }


class PolymorphicLinksField(SkipDataMixin, PolymorphicRelatedField):
    """A polymorphic to-one not included: its links only, no query."""


class DeclaredTypeRelatedField(ResourceRelatedField):
    """A relationship field whose resource type is the declared one, whether or not the related
    type's serializer is registered (the library would otherwise fall back to the model's name)."""

    def __init__(self, *, resource_type: str, **kwargs: Any):
        self.resource_type = resource_type
        super().__init__(**kwargs)

    def get_resource_type_from_included_serializer(self) -> str:
        return self.resource_type


class DeclaredTypeMethodRelatedField(SerializerMethodResourceRelatedField):
    """A to-many relationship computed by a serializer method, rendered with its declared type."""

    def __init__(self, *, resource_type: str, **kwargs: Any):
        self.resource_type = resource_type
        super().__init__(**kwargs)

    def get_resource_type_from_included_serializer(self) -> str:
        return self.resource_type


def links_field(resource_type: str, *, many: bool, **kwargs: Any) -> Any:
    """A relationship rendered as links only; the renderer still needs the related model."""
    field = HyperlinkedRelatedField(many=many, read_only=True, **kwargs)
    model = import_string(SERIALIZERS[resource_type]).Meta.model
    for target in (field, getattr(field, "child_relation", None)):
        if target is not None:
            target.model = model
    return field


class MetadataField(serializers.JSONField):
    """`metadata`: free key-value data for the client, as a JSON object (Commerce Layer's), at
    most MAX_DEPTH levels deep and MAX_LENGTH characters as JSON, so it stays something every
    reader of a resource can load and render cheaply."""

    MAX_DEPTH = 10
    MAX_LENGTH = 32_768

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError("metadata must be a JSON object.")
        if json_depth(data) > self.MAX_DEPTH:
            raise serializers.ValidationError(
                f"metadata may nest at most {self.MAX_DEPTH} levels deep."
            )
        if len(json.dumps(data, ensure_ascii=False)) > self.MAX_LENGTH:
            raise serializers.ValidationError(
                f"metadata may be at most {self.MAX_LENGTH} characters as JSON."
            )
        return super().to_internal_value(data)


def json_depth(value: Any) -> int:
    """How many objects and arrays deep `value` nests (a flat object is 1), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        children = (
            current.values()
            if isinstance(current, Mapping)
            else current
            if isinstance(current, list)
            else None
        )
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


class TypedMethodField(serializers.SerializerMethodField):
    """A computed attribute that tells the OpenAPI document its JSON schema."""

    def __init__(self, schema: dict[str, Any], **kwargs: Any):
        self.openapi_schema = schema
        super().__init__(**kwargs)


class MoneyFloatField(serializers.Field):
    """`*_float`: the amount of `cents_attribute` in major units (presentation only)."""

    openapi_schema = {"type": "number", "nullable": True}

    def __init__(
        self, cents_attribute: str, currency_attribute: str = "currency_code", **kwargs: Any
    ):
        # `currency_attribute` may be dotted ("shipping_method.currency_code")
        self.cents_attribute = cents_attribute
        self.currency_attribute = currency_attribute
        super().__init__(read_only=True, source="*", **kwargs)

    def currency(self, instance: Any) -> Any:
        return attrgetter(self.currency_attribute)(instance)

    def to_representation(self, instance: Any) -> float | None:
        return cents_to_float(getattr(instance, self.cents_attribute), self.currency(instance))


class FormattedMoneyField(MoneyFloatField):
    """`formatted_*`: the amount of `cents_attribute` formatted for the locale."""

    openapi_schema = {"type": "string"}

    def to_representation(self, instance: Any) -> str:  # type: ignore[override]
        return format_money(getattr(instance, self.cents_attribute), self.currency(instance))


def money_fields(name: str, cents_attribute: str | None = None) -> dict[str, serializers.Field]:
    """The three renderings of an amount: `{name}_cents`, `{name}_float`, `formatted_{name}`."""
    cents = cents_attribute or f"{name}_cents"
    return {
        f"{name}_cents": serializers.IntegerField(read_only=True, source=cents)
        if cents != f"{name}_cents"
        else serializers.IntegerField(read_only=True),
        f"{name}_float": MoneyFloatField(cents),
        f"formatted_{name}": FormattedMoneyField(cents),
    }


def include_names(request: Any) -> set[str]:
    """Every relationship name mentioned at any depth of `include`."""
    if request is None:
        return set()
    return {
        segment
        for path in get_included_resources(request)
        for segment in path.split(".")
        if segment
    }


# (serializer class, the include names it renders) -> its unbound fields; see `get_fields`
_FIELD_PROTOTYPES: dict[tuple[type, frozenset[str]], dict[str, Any]] = {}


def field_copy(prototype: Any) -> Any:
    """A copy of an unbound field its serializer may bind: shallow (the prototype's
    arguments, validators and querysets are shared, never changed), except that a child field
    is copied too and re-parented, and a nested serializer is copied whole."""
    if isinstance(prototype, serializers.BaseSerializer):
        return copy.deepcopy(prototype)
    field = object.__new__(type(prototype))  # copy.copy, without its reduce protocol
    field.__dict__.update(prototype.__dict__)
    for attribute in ("child_relation", "child"):
        child = getattr(prototype, attribute, None)
        if isinstance(child, serializers.Field):
            child = field_copy(child)
            child.parent = field
            setattr(field, attribute, child)
    return field


class ResourceSerializer(jsonapi.ModelSerializer):
    """Declare `Meta.resource_name`, `Meta.model`, `Meta.fields` (attributes, without the
    common ones), `Meta.creatable` and `Meta.updatable` (attribute and relationship names a
    client may send), and `relationships`."""

    relationships: ClassVar[dict[str, Relationship]] = {}
    included_serializers: ClassVar[Any] = {}
    # to-many relationships computed by a method: name -> (method name, resource type)
    computed_relationships: ClassVar[dict[str, tuple[str, str]]] = {}
    # fields built by helpers such as `money_fields`, declared like class attributes
    computed_fields: ClassVar[dict[str, serializers.Field]] = {}

    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=255)
    reference_origin = serializers.CharField(required=False, allow_blank=True, max_length=255)
    metadata = MetadataField(required=False)

    class Meta:
        model: type[Model]
        resource_name: str
        fields: tuple[str, ...] = ()
        creatable: tuple[str, ...] = ()
        updatable: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "computed_fields" in cls.__dict__:
            cls._declared_fields = {**cls._declared_fields, **cls.computed_fields}
        meta = cls.Meta
        resource = getattr(meta, "resource_name", None)
        if resource:
            meta.fields = tuple(
                dict.fromkeys(
                    (
                        "url",
                        *COMMON_READ_ONLY,
                        *meta.fields,
                        *cls.computed_fields,
                        *COMMON_WRITABLE,
                        *(
                            name
                            for name, rel in cls.relationships.items()
                            if not rel.links_only and not rel.filter and not rel.polymorphic
                        ),
                    )
                )
            )
            cls.included_serializers = LazySerializersDict(
                cls,
                {
                    name: SERIALIZERS[rel.type]
                    for name, rel in cls.relationships.items()
                    if rel.type in SERIALIZERS and not rel.links_only
                }
                | {
                    name: polymorphic_serializer(rel.polymorphic)
                    for name, rel in cls.relationships.items()
                    if rel.polymorphic
                }
                | {
                    name: SERIALIZERS[resource_type]
                    for name, (_, resource_type) in cls.computed_relationships.items()
                    if resource_type in SERIALIZERS
                },
            )

    @cached_property
    def fields(self) -> Any:
        """While a document renders, the serializers the renderer makes for each included
        record of a class share the first one's fields (the renderer reads them against the
        record it passes; they depend only on the class and the request)."""
        walk = current_walk()
        if walk is None or not (self.parent is None or isinstance(self.parent, ListSerializer)):
            return super().fields
        key = (type(self), id(self.context))
        shared = walk.fields.get(key)
        if shared is None:
            shared = walk.fields[key] = super().fields
        return shared

    def get_fields(self) -> dict[str, Any]:
        """The fields, copied from prototypes built once per (class, includes it renders).

        Building them is most of a read's time otherwise: DRF introspects the model and deep
        copies every declared field for every serializer, and the JSON:API renderer makes one
        serializer per included record. What the fields depend on is the class and which of
        its relationships `include` names; each serializer gets shallow copies of unbound
        prototypes, bound to it alone."""
        request = self.context.get("request")
        names = include_names(request)
        key = (
            type(self),
            frozenset(
                name
                for name in names
                if name in self.relationships or name in self.computed_relationships
            ),
        )
        prototypes = _FIELD_PROTOTYPES.get(key)
        if prototypes is None:
            prototypes = self.build_fields()
            _FIELD_PROTOTYPES[key] = prototypes
        return {name: field_copy(field) for name, field in prototypes.items()}

    def build_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        resource = self.Meta.resource_name
        if getattr(self.Meta, "singleton", False):
            fields.pop("url", None)
        else:
            fields["url"] = serializers.HyperlinkedIdentityField(view_name=f"{resource}-detail")
        request = self.context.get("request")
        included = include_names(request)
        for name, rel in self.relationships.items():
            link_kwargs: dict[str, Any] = {
                "self_link_view_name": f"{resource}-relationships",
                "related_link_view_name": f"{resource}-related",
                "related_link_url_kwarg": "pk",
            }
            if rel.source and rel.source != name:
                link_kwargs["source"] = rel.source
            if rel.links_only:
                link_kwargs["source"] = "*"
                fields[name] = links_field(rel.type, many=rel.many, **link_kwargs)
                continue
            if rel.polymorphic:
                link_kwargs.pop("source", None)
                field_class = PolymorphicRelatedField if name in included else PolymorphicLinksField
                fields[name] = field_class(relationship=rel, name=name, **link_kwargs)
                continue
            if rel.many:
                if rel.filter and name not in included:
                    fields[name] = links_field(
                        rel.type, many=True, **{**link_kwargs, "source": "*"}
                    )
                elif name in included and rel.filter:
                    fields[name] = DeclaredTypeRelatedField(
                        resource_type=rel.type,
                        many=True,
                        read_only=True,
                        model=self._related_model(rel, name),
                        **{**link_kwargs, "source": rel.prefetch_attribute(name)},
                    )
                elif name in included:
                    fields[name] = DeclaredTypeRelatedField(
                        resource_type=rel.type,
                        many=True,
                        read_only=True,
                        model=self._related_model(rel, name),
                        **link_kwargs,
                    )
                else:
                    fields[name] = HyperlinkedRelatedField(many=True, read_only=True, **link_kwargs)
                continue
            model = self._related_model(rel, name)
            if rel.writable:
                fields[name] = DeclaredTypeRelatedField(
                    resource_type=rel.type,
                    queryset=model._default_manager.all(),
                    required=False,
                    allow_null=not rel.required,
                    model=model,
                    **link_kwargs,
                )
            else:
                fields[name] = DeclaredTypeRelatedField(
                    resource_type=rel.type, read_only=True, model=model, **link_kwargs
                )
        for name, (method_name, resource_type) in self.computed_relationships.items():
            computed_links = {
                "self_link_view_name": f"{resource}-relationships",
                "related_link_view_name": f"{resource}-related",
                "related_link_url_kwarg": "pk",
            }
            if name in included:
                fields[name] = DeclaredTypeMethodRelatedField(
                    resource_type=resource_type,
                    many=True,
                    read_only=True,
                    method_name=method_name,
                    model=import_string(SERIALIZERS[resource_type]).Meta.model,
                    **computed_links,
                )
            else:
                fields[name] = links_field(resource_type, many=True, source="*", **computed_links)
        for field in fields.values():
            use_link_templates(field)
        return fields

    def get_validators(self) -> list[Any]:
        # Uniqueness and constraints are checked by the model (full_clean) in the service,
        # once, with the same messages as the admin; DRF's copies would make fields required.
        return []

    def _related_model(self, rel: Relationship, name: str) -> type[Model]:
        field = self.Meta.model._meta.get_field(rel.source or name)
        related = field.related_model
        assert isinstance(related, type)
        return related

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            self.check_sent_keys(data)
            data = self.blank_nulls(data)
        return super().to_internal_value(data)

    def blank_nulls(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """Clients (the SDK among them) send null for an unset optional text; we store those
        as empty strings, so null clears them."""
        fields = self.fields
        cleared = {
            key: ""
            for key, value in data.items()
            if value is None
            and isinstance(fields.get(key), serializers.CharField)
            and not fields[key].allow_null
            and fields[key].allow_blank
        }
        return {**data, **cleared} if cleared else data

    def check_sent_keys(self, data: Mapping[str, Any]) -> None:
        """A client may send only the attributes and relationships the resource lets it
        create or update; anything else is named in a 400 instead of being ignored."""
        allowed = set(self.Meta.updatable if self.instance is not None else self.Meta.creatable)
        allowed |= set(COMMON_WRITABLE)
        sources = data.get("_sources") or {}
        for key in data:
            if key in DOCUMENT_KEYS or key in allowed:
                continue
            where = sources.get(key, "attributes")
            verb = "updated" if self.instance is not None else "set on create"
            known = key in self.fields or key in self.relationships
            detail = (
                f"{key} cannot be {verb}." if known else f"{key} is not a field of this resource."
            )
            raise BadRequest(detail, code="PARAM_NOT_ALLOWED", pointer=f"/data/{where}/{key}")
        if self.instance is None:
            for name, rel in self.relationships.items():
                if rel.required and data.get(name) is None:
                    raise serializers.ValidationError({name: "This relationship is required."})
