"""The one viewset every JSON:API resource uses.

A resource view declares its serializer, its `policy` (roles), `filterable` and `sortable`
attributes (API name -> ORM path), how a sales channel's view of it is scoped, and the services
that create, update and delete it. List, retrieve, the related endpoints
(`/api/{type}/{id}/{relationship}`) and the relationship endpoints
(`/api/{type}/{id}/relationships/{relationship}`) come from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from django.db import transaction
from django.db.models import Model, Prefetch, QuerySet
from django.http import Http404
from django.utils.module_loading import import_string
from rest_framework import status, viewsets
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework_json_api.utils import get_included_resources

from oms.actors import Actor
from oms.api.errors import BadRequest
from oms.api.filtering import RansackFilterBackend, SortBackend, check_query_parameters
from oms.api.idempotency import IdempotencyMixin
from oms.api.permissions import CATALOG, Forbidden, Policy, principal_of
from oms.api.principal import Principal
from oms.api.registry import SERIALIZERS
from oms.api.renderers import raw_document
from oms.api.serializers import (
    Relationship,
    ResourceSerializer,
    include_names,
    polymorphic_type_of,
)
from oms.services import resource_create, resource_delete, resource_update

PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# `/api/{type}/{id}/{relationship}` and `/api/{type}/{id}/relationships/{relationship}`
RELATED_ACTIONS = frozenset({"related", "relationship"})

# `include`: at most 3 levels deep (Commerce Layer's limit) and 20 comma-separated paths
MAX_INCLUDE_DEPTH = 3
MAX_INCLUDE_PATHS = 20
INVALID_INCLUDE = "INVALID_INCLUDE"

# Every resource is filterable and sortable on these (resources.json).
COMMON_ATTRIBUTES = {
    "id": "id",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "reference": "reference",
    "reference_origin": "reference_origin",
}


def fields(*names: str, **paths: str) -> dict[str, str]:
    """`filterable`/`sortable` of a view: the common attributes, `names` (same ORM name) and
    `paths` (API attribute -> ORM path, e.g. `sku_code="sku__code"`)."""
    return {**COMMON_ATTRIBUTES, **{name: name for name in names}, **paths}


def check_include_parameter(request: Request) -> None:
    """Refuse an `include` no resource could serve before anything is read: its cost grows with
    every level (each level renders the records of the one above), so it is bounded here."""
    raw = request.query_params.get("include")
    if not raw:
        return
    paths = raw.split(",")
    if len(paths) > MAX_INCLUDE_PATHS:
        raise BadRequest(
            f"include may name at most {MAX_INCLUDE_PATHS} paths.",
            code=INVALID_INCLUDE,
            parameter="include",
        )
    for path in paths:
        segments = path.split(".")
        if not all(segments):
            raise BadRequest(
                f"{path!r} is not a relationship path.", code=INVALID_INCLUDE, parameter="include"
            )
        if len(segments) > MAX_INCLUDE_DEPTH:
            raise BadRequest(
                f"{path} is more than {MAX_INCLUDE_DEPTH} levels deep.",
                code=INVALID_INCLUDE,
                parameter="include",
            )


def check_include_paths(serializer_class: Any, paths: set[str]) -> None:
    """Each path must walk relationships the resource can include (the library's own check
    answers without saying which parameter is wrong)."""
    for path in sorted(paths):
        current = serializer_class
        for segment in path.split("."):
            included = getattr(current, "included_serializers", None) or {}
            if segment not in included:
                raise BadRequest(
                    f"{path} is not a relationship path of this resource.",
                    code=INVALID_INCLUDE,
                    parameter="include",
                )
            current = included[segment]


def include_lookups(
    serializer_class: Any,
    includes: set[str],
    names: set[str] | None = None,
    skip: frozenset[str] = frozenset(),
) -> tuple[list[str], list[Any]]:
    """The select_related and prefetch_related lookups that render `includes`.

    A rendered resource, root or included, carries the linkage of each of its to-many
    relationships whose name appears anywhere in `include` (`names`, see `include_names`), so
    those are prefetched too; `skip` names root relationships the caller prefetches itself."""
    if names is None:
        names = {segment for path in includes for segment in path.split(".")}
    select: list[str] = []
    prefetch: list[Any] = []
    # a to-many lookup -> (its model, the to-one relations its serializer reads): fetched as
    # one joined query per level instead of one more query per related table
    joined: dict[str, tuple[Any, list[str]]] = {}

    def linkage(current: Any, orm: list[str]) -> None:
        for name, relationship in current.relationships.items():
            if relationship.many and name in names and (orm or name not in skip):
                if relationship.filter:
                    prefetch.append(filtered_prefetch(relationship, name, orm))
                else:
                    prefetch.append("__".join([*orm, relationship.source or name]))

    linkage(serializer_class, [])
    for path in sorted(includes):
        current = serializer_class
        orm: list[str] = []
        through_many = False
        for segment in path.split("."):
            relationship = current.relationships.get(segment)
            if relationship is None or relationship.type not in SERIALIZERS:
                break  # the serializer's include validation reports it
            if relationship.filter:
                # a filtered part of a relation: prefetched as such; nothing below it
                prefetch.append(filtered_prefetch(relationship, segment, orm))
                break
            orm.append(relationship.source or segment)
            through_many = through_many or relationship.many
            current = import_string(SERIALIZERS[relationship.type])
            lookup = "__".join(orm)
            wanted = getattr(current.Meta, "select_related", ())
            needs = [f"{lookup}__{need}" for need in wanted]
            (prefetch if through_many else select).extend([lookup, *needs])
            if relationship.many and relationship.reverse and wanted:
                # the way back to the parent is filled in by the prefetch itself
                joins = [need for need in wanted if need.split("__")[0] != relationship.reverse]
                if joins:
                    joined.setdefault(lookup, (current.Meta.model, joins))
            prefetch.extend(
                f"{lookup}__{need}" for need in getattr(current.Meta, "prefetch_related", ())
            )
            linkage(current, orm)
    prefetch = [
        Prefetch(item, queryset=joined[item][0]._default_manager.select_related(*joined[item][1]))
        if isinstance(item, str) and item in joined
        else item
        for item in dict.fromkeys(prefetch)
    ]
    return list(dict.fromkeys(select)), list(dict.fromkeys(prefetch))


def filtered_prefetch(relationship: Relationship, name: str, orm: list[str]) -> Prefetch:
    """The records of a filtered relationship (e.g. an order's authorizations), put where the
    serializer reads them when included."""
    serializer = import_string(SERIALIZERS[relationship.type])
    queryset = serializer.Meta.model._default_manager.filter(**dict(relationship.filter))
    needs = getattr(serializer.Meta, "select_related", ())
    if needs:
        queryset = queryset.select_related(*needs)
    return Prefetch(
        "__".join([*orm, relationship.source or name]),
        queryset=queryset.order_by("created_at", "pk"),
        to_attr=relationship.prefetch_attribute(name),
    )


def include_relationships(serializer_class: Any, path: str) -> list[Relationship]:
    """The relationships an include path walks through, as far as they are known."""
    walked: list[Relationship] = []
    current = serializer_class
    for segment in path.split("."):
        relationship = current.relationships.get(segment)
        if relationship is None or relationship.type not in SERIALIZERS:
            break
        walked.append(relationship)
        current = import_string(SERIALIZERS[relationship.type])
    return walked


class NestedListMixin:
    """Storefronts list these only through their parent (e.g. `/api/orders/{id}/line_items`):
    a bare list would show other carts' records."""

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        view: Any = self
        if not view.principal.is_integration and not view.parent_filter:
            raise Forbidden("List them through their parent resource: /api/orders/{id}/...")
        response: Response = super().list(request, *args, **kwargs)  # type: ignore[misc]
        return response


class ResourceViewSet(IdempotencyMixin, viewsets.GenericViewSet):
    resource_name: ClassVar[str]
    serializer_class: Any
    policy: ClassVar[Policy] = CATALOG
    filterable: ClassVar[Mapping[str, str]] = {}
    sortable: ClassVar[Mapping[str, str]] = {}
    filter_backends = (RansackFilterBackend, SortBackend)
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    parses_resource_documents = True
    # every resource type -> its view, filled by `oms.api.routing`
    registry: ClassVar[dict[str, type[ResourceViewSet]]] = {}
    # set when this view serves a related endpoint: narrows the list to the parent's children
    parent_filter: dict[str, Any] | None = None
    # to-many relationships whose included records a storefront sees only as their own
    # endpoint would show them (a SKU's prices and stock items: its market's only)
    scoped_includes: ClassVar[frozenset[str]] = frozenset()

    # --- scoping -------------------------------------------------------------------------
    @property
    def principal(self) -> Principal:
        principal = principal_of(self.request)
        assert principal is not None  # RolePermission runs first
        return principal

    @property
    def actor(self) -> Actor:
        principal = self.principal
        if principal.customer_id:
            return Actor(kind="customer", id=principal.customer_id)
        return Actor(kind="application", id=principal.application_id, name=principal.kind)

    def idempotency_key(self) -> str | None:
        """The request's Idempotency-Key, scoped to the application (and the customer of a
        customer token), for money services."""
        key = self.request.META.get("HTTP_IDEMPOTENCY_KEY")
        if not key:
            return None
        principal = self.principal
        if principal.customer_id:
            return f"{principal.application_id}:{principal.customer_id}:{key}"
        return f"{principal.application_id}:{key}"

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        """Narrow what a sales channel or customer sees; integrations see everything."""
        return queryset

    def scoped_queryset_of(self, resource_type: str) -> QuerySet[Any]:
        """What this request's principal may see of another resource type, as that type's
        own view scopes it (a transaction is visible as its order is, an address as what
        owns it), without importing the app that serves it."""
        view = self.registry[resource_type](
            request=self.request, format_kwarg=None, action="list", kwargs={}
        )
        return view.scope_queryset(view.base_queryset(), self.principal)

    def base_queryset(self) -> QuerySet[Any]:
        meta = self.serializer_class.Meta
        queryset = meta.model._default_manager.all()
        needs = getattr(meta, "select_related", ())
        if needs:
            queryset = queryset.select_related(*needs)
        prefetches = getattr(meta, "prefetch_related", ())
        return queryset.prefetch_related(*prefetches) if prefetches else queryset

    def serves_related_records(self) -> bool:
        """On a related or relationship endpoint this view only finds the parent: the query
        string (filter, sort, page, include) is the related records' and their view's."""
        return self.action in RELATED_ACTIONS

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.scope_queryset(self.base_queryset(), self.principal)
        if self.parent_filter:
            queryset = queryset.filter(**self.parent_filter)
        if self.serves_related_records():
            return queryset
        includes = set(get_included_resources(self.request))
        check_include_paths(self.serializer_class, includes)
        self.check_includes(includes)
        queryset = self.with_includes(queryset, includes)
        if self.finding_the_written:
            queryset = queryset.prefetch_related(None)
        return queryset

    finding_the_written = False

    def get_object(self) -> Any:
        """The record a request reads or writes. One a write answers from (see
        `answers_from_written`) is found without what only rendering it needs: the write
        hands back the record it saved, or the answer reads it again."""
        self.finding_the_written = self.answers_from_written and self.action in (
            "update",
            "partial_update",
        )
        try:
            return super().get_object()
        finally:
            self.finding_the_written = False

    def check_includes(self, includes: set[str]) -> None:
        """Only integrations may include a private relationship, at any depth, and only they
        and customer tokens a customer (a sales channel's cart does not lead to its buyer)."""
        principal = self.principal
        if principal.is_integration:
            return
        for path in includes:
            for rel in include_relationships(self.serializer_class, path):
                if rel.private or (rel.customers_only and not principal.is_customer):
                    raise Forbidden(f"You are not authorized to include {path}.")

    def include_reaches_many(self, path: str) -> bool:
        """Whether an include path walks through a to-many (other than a filtered part of a
        visible record, such as an order's authorizations)."""
        return any(
            rel.many and not rel.filter
            for rel in include_relationships(self.serializer_class, path)
        )

    def with_includes(self, queryset: QuerySet[Any], includes: set[str]) -> QuerySet[Any]:
        """Preload what `include` renders, so a page costs the same queries whatever it holds:
        chains of to-one relationships are joined, anything past a to-many is prefetched."""
        scoped: set[str] = set()
        if not self.principal.is_integration:
            # A storefront's included records are what their own endpoints would show it:
            # whatever hangs below a to-many is fetched through the related view's scope
            # (a customer's orders: this market's only), to-one chains are joined.
            first = {path.split(".")[0] for path in includes}
            scoped = (first & self.scoped_includes) | {
                path.split(".")[0] for path in includes if self.include_reaches_many(path)
            }
            scoped = {
                name
                for name in scoped
                if self.serializer_class.relationships[name].type in self.registry
                and not self.serializer_class.relationships[name].filter
            }
            for name in sorted(scoped):
                nested = {p.split(".", 1)[1] for p in includes if p.startswith(f"{name}.")}
                queryset = queryset.prefetch_related(self.scoped_prefetch(name, nested))
            includes = {path for path in includes if path.split(".")[0] not in scoped}
        select, prefetch = include_lookups(
            self.serializer_class,
            includes,
            names=include_names(self.request),
            skip=frozenset(scoped),
        )
        if select:
            queryset = queryset.select_related(*select)
        if prefetch:
            # a lookup the queryset already prefetches plainly stays plain (Django refuses
            # the same lookup again with a queryset)
            plain = {
                lookup
                for lookup in getattr(queryset, "_prefetch_related_lookups", ())
                if isinstance(lookup, str)
            }
            prefetch = [
                item.prefetch_through
                if isinstance(item, Prefetch) and item.prefetch_to in plain
                else item
                for item in prefetch
            ]
            queryset = queryset.prefetch_related(*prefetch)
        return queryset

    def scoped_prefetch(self, name: str, includes: set[str]) -> Prefetch[Any]:
        """Prefetch the to-many `name` through the related view's own scope and includes."""
        relationship = self.serializer_class.relationships[name]
        view = self.registry[relationship.type](
            request=self.request, format_kwarg=None, action="list", kwargs={}
        )
        children = view.scope_queryset(view.base_queryset(), self.principal)
        return Prefetch(
            relationship.source or name, queryset=view.with_includes(children, includes)
        )

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.serves_related_records():
            return queryset
        return super().filter_queryset(queryset)

    def relationship_names(self) -> set[str]:
        return set(self.serializer_class.relationships)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        check_query_parameters(request)
        check_include_parameter(request)
        pk = kwargs.get("pk")
        if pk is not None and not PUBLIC_ID.fullmatch(pk):
            raise Http404  # no record has such an id (and PostgreSQL rejects NUL in text)

    # --- reads ---------------------------------------------------------------------------
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        if not queryset.query.order_by:
            queryset = queryset.order_by(*self.default_ordering())
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    def default_ordering(self) -> tuple[str, ...]:
        return ("-created_at", "pk")

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    # --- writes --------------------------------------------------------------------------
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=self.request_data())
        serializer.is_valid(raise_exception=True)
        # Everything up to the rendered document, so a request that answers an error (the
        # new record is not visible to its creator, say) leaves nothing behind.
        with transaction.atomic():
            instance = self.perform_create_service(dict(serializer.validated_data))
            data = self.get_serializer(self.reload(instance)).data
        return Response(data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=self.request_data(), partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        triggers = {name: data.pop(name) for name in list(data) if name.startswith("_")}
        self.trigger_values = triggers
        # No transaction here: each service opens its own, and money services must commit their
        # reservation before they call a gateway (never a gateway call inside a held lock).
        if data:
            instance = self.perform_update_service(instance, data)
        ran: set[str] = set()
        for name, value in triggers.items():
            if name in self.trigger_parameters or value in (None, False, ""):
                continue
            method_name = self.triggers.get(name, name)
            if method_name in ran:
                continue  # `_capture` with `_capture_amount_cents`: one capture
            ran.add(method_name)
            instance = self.perform_trigger(instance, name, value)
        return Response(self.get_serializer(self.reload(instance)).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise MethodNotAllowed("PUT", detail="Use PATCH to update a resource.")

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        self.perform_destroy_service(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def request_data(self) -> Any:
        data = self.request.data
        if not isinstance(data, Mapping) or not data:
            raise BadRequest("The request needs a JSON:API document body.", pointer="/data")
        return data

    # A view whose writes leave the record as it renders, visible to its writer (a line of a
    # cart the writer holds, an address nothing owns yet, a cart's payment source): answered
    # from the written record when the request includes nothing and the record has every
    # relation its serializer joins. Other views read it again through their scope.
    answers_from_written: ClassVar[bool] = False

    def reload(self, instance: Model) -> Model:
        """Re-read through the view's queryset so the response renders with its preloading
        (and only if the writer may see it)."""
        if self.answers_from_written and self.renders_as_written(instance):
            return instance
        return self.get_queryset().get(pk=instance.pk)

    # set by a write that ran a trigger's workflow: it commits transactions of its own, so
    # the record the write holds is not what it left; the answer reads it again
    triggered = False

    def renders_as_written(self, instance: Model) -> bool:
        """Whether the serializer has everything it reads: no trigger ran, nothing included,
        what it prefetches and each relation it joins already on the record."""
        meta = self.serializer_class.Meta
        if self.triggered or get_included_resources(self.request):
            return False
        prefetched = getattr(instance, "_prefetched_objects_cache", {})
        if any(lookup not in prefetched for lookup in getattr(meta, "prefetch_related", ())):
            return False
        for path in getattr(meta, "select_related", ()):
            record: Model | None = instance
            for name in path.split("__"):
                if record is None:
                    break
                field: Any = record._meta.get_field(name)
                if getattr(record, field.attname) is None:
                    break  # nothing there to render
                if not field.is_cached(record):
                    return False
                record = field.get_cached_value(record)
        return True

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return resource_create(self.serializer_class.Meta.model, data)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        return resource_update(instance, data)

    def perform_destroy_service(self, instance: Model) -> None:
        resource_delete(instance)

    # trigger attribute -> the view method that runs it
    triggers: ClassVar[Mapping[str, str]] = {}
    # attributes that only parameterise a trigger (e.g. `_capture_amount_cents`)
    trigger_parameters: ClassVar[frozenset[str]] = frozenset()
    trigger_values: dict[str, Any] = {}

    def perform_trigger(self, instance: Model, name: str, value: Any) -> Model:
        method_name = self.triggers.get(name)
        if method_name is None:
            raise BadRequest(
                f"{name} is not a trigger of this resource.",
                code="PARAM_NOT_ALLOWED",
                pointer=f"/data/attributes/{name}",
            )
        method: Callable[[Model, Any], Model] = getattr(self, method_name)
        return method(instance, value)

    # --- related and relationship endpoints ------------------------------------------------
    def _relationship(self, name: str, *, needs_view: bool) -> Relationship:
        relationship = self.serializer_class.relationships.get(name)
        if relationship is None:
            raise Http404
        if needs_view and relationship.type not in self.registry:
            raise Http404  # the related type's API is not served (yet)
        if relationship.private and not self.principal.is_integration:
            # as for `include`: only integrations follow a private relationship
            raise Forbidden(f"You are not authorized to read {name}.")
        return relationship

    # to-many relationships computed by `computed_related_ids` (name -> resource type), such as
    # an order's `available_payment_methods`
    computed_relationships: ClassVar[Mapping[str, str]] = {}

    def computed_related_ids(self, name: str, parent: Model) -> Sequence[str]:
        raise NotImplementedError

    def _computed_target(self, request: Request, related_field: str) -> ResourceViewSet:
        resource_type = self.computed_relationships[related_field]
        parent = self.get_object()
        ids = self.computed_related_ids(related_field, parent)
        target_view = self.target_view(Relationship(resource_type, many=True), request, "list")
        target_view.parent_filter = {"pk__in": ids}
        return target_view

    def _polymorphic(self, name: str) -> Relationship | None:
        relationship = self.serializer_class.relationships.get(name)
        return relationship if relationship is not None and relationship.polymorphic else None

    def _polymorphic_record(self, relationship: Relationship, name: str) -> Model | None:
        return relationship.record_of(self.get_object(), name)

    def related(self, request: Request, pk: str, related_field: str) -> Response:
        if polymorphic := self._polymorphic(related_field):
            record = self._polymorphic_record(polymorphic, related_field)
            if record is None:
                return raw_document({"data": None})
            resource_type = polymorphic_type_of(record, polymorphic.polymorphic)
            target_view = self.target_view(Relationship(resource_type), request, "retrieve")
            self.resource_name = resource_type  # type: ignore[misc]
            target_view.kwargs = {"pk": record.pk}
            return target_view.retrieve(request)
        if related_field in self.computed_relationships:
            target_view = self._computed_target(request, related_field)
            self.resource_name = target_view.resource_name  # type: ignore[misc]
            return target_view.list(request)
        relationship = self._relationship(related_field, needs_view=True)
        parent = self.get_object()
        target_view = self.target_view(
            relationship, request, "list" if relationship.many else "retrieve"
        )
        self.resource_name = relationship.type  # type: ignore[misc]  # the document renders the target's type
        if relationship.many:
            target_view.parent_filter = {relationship.reverse or "": parent.pk}
            return target_view.list(request)
        related_id = getattr(parent, f"{relationship.source or related_field}_id", None)
        if related_id is None:
            return raw_document({"data": None})
        target_view.kwargs = {"pk": related_id}
        return target_view.retrieve(request)

    def relationship(self, request: Request, pk: str, related_field: str) -> Response:
        if polymorphic := self._polymorphic(related_field):
            record = self._polymorphic_record(polymorphic, related_field)
            linkage = (
                None
                if record is None
                else {"type": polymorphic_type_of(record, polymorphic.polymorphic), "id": record.pk}
            )
            return raw_document(
                {"data": linkage, "links": self.relationship_links(pk, related_field)}
            )
        if related_field in self.computed_relationships:
            target_view = self._computed_target(request, related_field)
            ids = target_view.get_queryset().values_list("pk", flat=True)
            resource_type = self.computed_relationships[related_field]
            return raw_document(
                {
                    "data": [{"type": resource_type, "id": str(i)} for i in ids],
                    "links": self.relationship_links(pk, related_field),
                }
            )
        relationship = self._relationship(related_field, needs_view=False)
        if relationship.many and relationship.type not in self.registry:
            raise Http404  # a to-many's identifiers are scoped by the related type's view
        parent = self.get_object()
        if relationship.many:
            target_view = self.target_view(relationship, request, "list")
            target_view.parent_filter = {relationship.reverse or "": parent.pk}
            ids = target_view.get_queryset().values_list("pk", flat=True)
            data: Any = [{"type": relationship.type, "id": str(i)} for i in ids]
        else:
            related_id = getattr(parent, f"{relationship.source or related_field}_id", None)
            data = None if related_id is None else {"type": relationship.type, "id": related_id}
        return raw_document({"data": data, "links": self.relationship_links(pk, related_field)})

    def relationship_links(self, pk: str, name: str) -> dict[str, str]:
        kwargs = {"pk": pk, "related_field": name}
        return {
            "self": reverse(
                f"{self.resource_name}-relationships", kwargs=kwargs, request=self.request
            ),
            "related": reverse(
                f"{self.resource_name}-related", kwargs=kwargs, request=self.request
            ),
        }

    def target_view(
        self, relationship: Relationship, request: Request, action: str
    ) -> ResourceViewSet:
        view_class = self.registry[relationship.type]
        view = view_class(request=request, format_kwarg=None, action=action, kwargs={})
        view.headers = {}
        view.args = ()
        view.check_permissions(request)
        return view


__all__ = ["ResourceSerializer", "ResourceViewSet"]
