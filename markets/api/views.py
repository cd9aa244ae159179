"""Catalog endpoints. Sales channels see only their market's slice of the catalog."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, Model, OuterRef, QuerySet

from markets import services
from markets.api import serializers as s
from markets.models import Market, Price
from oms.api.permissions import BACK_OFFICE, CATALOG, SINGLETON
from oms.api.principal import Principal
from oms.api.views import ResourceViewSet, fields


def market_price_list_ids(principal: Principal) -> QuerySet[Any]:
    return Market.objects.filter(id__in=principal.market_ids).values("price_list_id")


class OrganizationView(ResourceViewSet):
    resource_name = "organizations"
    serializer_class = s.OrganizationSerializer
    policy = SINGLETON

    def get_object(self) -> Model:
        return services.organization_get()


class MerchantView(ResourceViewSet):
    resource_name = "merchants"
    serializer_class = s.MerchantSerializer
    policy = BACK_OFFICE
    filterable = fields("name", address_id="address__id")
    sortable = fields("name")


class CustomerGroupView(ResourceViewSet):
    resource_name = "customer_groups"
    serializer_class = s.CustomerGroupSerializer
    policy = BACK_OFFICE
    filterable = fields("name", "code")
    sortable = fields("name", "code")


class ShippingCategoryView(ResourceViewSet):
    resource_name = "shipping_categories"
    serializer_class = s.ShippingCategorySerializer
    policy = CATALOG
    filterable = fields("name", "code")
    sortable = fields("name", "code")


class PriceListView(ResourceViewSet):
    resource_name = "price_lists"
    serializer_class = s.PriceListSerializer
    policy = CATALOG
    filterable = fields("name", "code", "currency_code", "tax_included")
    sortable = fields("name", "code", "currency_code", "tax_included")

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        return queryset.filter(id__in=market_price_list_ids(principal))


class MarketView(ResourceViewSet):
    resource_name = "markets"
    serializer_class = s.MarketSerializer
    policy = CATALOG
    filterable = fields(
        "name",
        "code",
        "disabled_at",
        merchant_id="merchant__id",
        price_list_id="price_list__id",
        customer_group_id="customer_group__id",
        inventory_model_id="inventory_model__id",
        tax_calculator_id="tax_calculator__id",
    )
    sortable = fields("name", "code", "disabled_at", "number")
    triggers = {
        "_disable": "trigger_disable",
        "_enable": "trigger_enable",
        "_regenerate_shared_secret": "trigger_regenerate_shared_secret",
    }

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        return queryset.filter(id__in=principal.market_ids)

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        triggers = {name: data.pop(name) for name in list(data) if name.startswith("_")}
        market: Model = services.market_create(data=data)
        for name, value in triggers.items():
            if value:
                market = self.perform_trigger(market, name, value)
        return market

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, Market)
        for field, value in data.items():
            setattr(instance, field, value)
        return services.market_save(market=instance)

    def trigger_disable(self, instance: Market, value: Any) -> Market:
        return services.market_disable(market=instance)

    def trigger_enable(self, instance: Market, value: Any) -> Market:
        return services.market_enable(market=instance)

    def trigger_regenerate_shared_secret(self, instance: Market, value: Any) -> Market:
        return services.market_regenerate_shared_secret(market=instance)


class SkuView(ResourceViewSet):
    resource_name = "skus"
    serializer_class = s.SkuSerializer
    policy = CATALOG
    filterable = fields(
        "code",
        "name",
        "description",
        "image_url",
        "do_not_ship",
        "do_not_track",
        shipping_category_id="shipping_category__id",
        shipping_category_code="shipping_category__code",
        shipping_category_name="shipping_category__name",
    )
    sortable = fields("code", "name", "do_not_ship", "do_not_track")
    # a storefront's included prices and stock items are its market's only
    scoped_includes = frozenset({"prices", "stock_items"})

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        priced = Price.objects.filter(
            sku=OuterRef("pk"), price_list_id__in=market_price_list_ids(principal)
        )
        return queryset.filter(Exists(priced))


class PriceView(ResourceViewSet):
    resource_name = "prices"
    serializer_class = s.PriceSerializer

    policy = CATALOG
    filterable = fields(
        "amount_cents",
        "compare_at_amount_cents",
        sku_code="sku__code",
        sku_id="sku__id",
        price_list_id="price_list__id",
        price_list_code="price_list__code",
        currency_code="price_list__currency_code",
    )
    sortable = fields("amount_cents", "compare_at_amount_cents", sku_code="sku__code")

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        return queryset.filter(price_list_id__in=market_price_list_ids(principal))

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.price_create(data=data)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, Price)
        return services.price_update(price=instance, data=data)


class PriceVolumeTierView(ResourceViewSet):
    resource_name = "price_volume_tiers"
    serializer_class = s.PriceVolumeTierSerializer
    policy = CATALOG
    filterable = fields("name", "up_to", "price_amount_cents", price_id="price__id")
    sortable = fields("name", "up_to", "price_amount_cents")

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        return queryset.filter(price__price_list_id__in=market_price_list_ids(principal))

    def default_ordering(self) -> tuple[str, ...]:
        return ("up_to", "pk")
