"""JSON:API resources of SKU lists and their items (what promotions and their rules target):
back office only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import serializers

from markets import services
from markets.models import Sku, SkuList, SkuListItem
from oms.api.permissions import BACK_OFFICE
from oms.api.serializers import Relationship, ResourceSerializer
from oms.api.views import ResourceViewSet, fields

SKU_LIST_WRITABLE = ("name", "description", "image_url", "manual", "sku_code_regex")


def sku_list_skus(sku_list: SkuList) -> QuerySet[Sku]:
    """The SKUs of a list: its items' (manual), else those whose code matches its regex."""
    if sku_list.manual:
        return Sku.objects.filter(sku_list_items__sku_list=sku_list)
    return Sku.objects.filter(code__regex=sku_list.sku_code_regex)


class SkuListSerializer(ResourceSerializer):
    relationships = {
        "sku_list_items": Relationship("sku_list_items", many=True, reverse="sku_list"),
    }
    computed_relationships = {"skus": ("get_skus", "skus")}

    class Meta:
        model = SkuList
        resource_name = "sku_lists"
        fields = ("name", "slug", *SKU_LIST_WRITABLE[1:])
        read_only_fields = ("slug",)
        creatable = SKU_LIST_WRITABLE
        updatable = SKU_LIST_WRITABLE

    def get_skus(self, sku_list: SkuList) -> list[Sku]:
        if sku_list.manual:
            # prefetched with the items when `skus` is included (see SkuListView)
            return [item.sku for item in sku_list.sku_list_items.all()]
        return list(sku_list_skus(sku_list))


class SkuListItemSerializer(ResourceSerializer):
    relationships = {
        "sku_list": Relationship("sku_lists", writable="create", required=True),
        "sku": Relationship("skus", writable="create"),
    }
    sku_code = serializers.CharField(required=False, max_length=255)

    class Meta:
        model = SkuListItem
        resource_name = "sku_list_items"
        select_related = ("sku",)
        fields = ("position", "sku_code", "quantity")
        creatable = ("position", "sku_code", "quantity", "sku_list", "sku")
        updatable = ("position", "sku_code", "quantity")


class SkuListView(ResourceViewSet):
    resource_name = "sku_lists"
    serializer_class = SkuListSerializer
    policy = BACK_OFFICE
    filterable = fields("name", "slug", "description", "image_url", "manual")
    sortable = fields("name", "slug", "manual")
    computed_relationships = {"skus": "skus"}

    def computed_related_ids(self, name: str, parent: Model) -> Sequence[str]:
        assert isinstance(parent, SkuList)
        return list(sku_list_skus(parent).values_list("pk", flat=True))

    def with_includes(self, queryset: QuerySet[Any], includes: set[str]) -> QuerySet[Any]:
        if "skus" in {path.split(".")[0] for path in includes}:
            # a manual list's SKUs are its items' (a regex list's are looked up per list);
            # plain lookups, which the items' own include then reuses
            queryset = queryset.prefetch_related("sku_list_items", "sku_list_items__sku")
            includes = {path for path in includes if path.split(".")[0] != "skus"}
        return super().with_includes(queryset, includes)

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.sku_list_create(data=data)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, SkuList)
        return services.sku_list_update(sku_list=instance, data=data)


class SkuListItemView(ResourceViewSet):
    resource_name = "sku_list_items"
    serializer_class = SkuListItemSerializer
    policy = BACK_OFFICE
    filterable = fields(
        "position",
        "quantity",
        sku_code="sku__code",
        sku_id="sku__id",
        sku_list_id="sku_list__id",
    )
    sortable = fields("position", "quantity", sku_code="sku__code")

    def default_ordering(self) -> tuple[str, ...]:
        return ("position", "created_at", "pk")

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.sku_list_item_create(data=data)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, SkuListItem)
        return services.sku_list_item_update(sku_list_item=instance, data=data)


SKU_LIST_VIEWS: tuple[type[ResourceViewSet], ...] = (SkuListView, SkuListItemView)
