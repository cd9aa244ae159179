"""Fulfillment endpoints: stock, inventory models, shipping methods and parcels.

Storefronts read the shipping methods of their market and the stock items at their market's
stock locations; everything else here is the back office's. Shipments are served by the
orders API.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model, Q, QuerySet

from fulfillment import services
from fulfillment.api import serializers as s
from fulfillment.models import (
    InventoryStockLocation,
    Parcel,
    ShippingMethod,
    StockItem,
    StockLocation,
)
from markets.models import Market
from markets.services import sku_find
from oms.api.permissions import BACK_OFFICE, CATALOG, READ, Policy
from oms.api.principal import Principal
from oms.api.views import ResourceViewSet, fields

# records the services write as side effects: integrations read them, nobody writes them here
INTEGRATIONS_READ = Policy(read_only=READ, admin=READ)


def market_stock_location_ids(principal: Principal) -> QuerySet[Any]:
    """The stock locations of the inventory models of the token's markets."""
    inventory_models = Market.objects.filter(id__in=principal.market_ids).values(
        "inventory_model_id"
    )
    return InventoryStockLocation.objects.filter(inventory_model_id__in=inventory_models).values(
        "stock_location_id"
    )


class StockLocationView(ResourceViewSet):
    resource_name = "stock_locations"
    serializer_class = s.StockLocationSerializer
    policy = BACK_OFFICE
    filterable = fields(
        "number", "name", "code", "label_format", "suppress_etd", address_id="address__id"
    )
    sortable = fields("number", "name", "code", "label_format", "suppress_etd")

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.stock_location_save(stock_location=StockLocation(**data))

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, StockLocation)
        for field, value in data.items():
            setattr(instance, field, value)
        return services.stock_location_save(stock_location=instance)


class StockItemView(ResourceViewSet):
    resource_name = "stock_items"
    serializer_class = s.StockItemSerializer
    policy = CATALOG
    filterable = fields(
        "quantity",
        sku_id="sku__id",
        sku_code="sku__code",
        stock_location_id="stock_location__id",
        stock_location_code="stock_location__code",
        stock_location_name="stock_location__name",
    )
    sortable = fields("quantity", sku_code="sku__code")
    # stock_item_save always checks the quantity against the reservations
    trigger_parameters = frozenset({"_validate"})

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        return queryset.filter(stock_location_id__in=market_stock_location_ids(principal))

    @staticmethod
    def with_sku(data: dict[str, Any]) -> dict[str, Any]:
        """`sku_code` names the SKU when the relationship is not given (as prices do)."""
        values = dict(data)
        sku_code = values.pop("sku_code", None)
        if sku_code and values.get("sku") is None:
            values["sku"] = sku_find(code=sku_code)
        return values

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.stock_item_save(stock_item=StockItem(**self.with_sku(data)))

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, StockItem)
        for field, value in self.with_sku(data).items():
            setattr(instance, field, value)
        return services.stock_item_save(stock_item=instance)


class InventoryModelView(ResourceViewSet):
    resource_name = "inventory_models"
    serializer_class = s.InventoryModelSerializer
    policy = BACK_OFFICE
    filterable = fields(
        "name",
        "strategy",
        "stock_locations_cutoff",
        "stock_reservation_cutoff",
        "put_stock_transfers_on_hold",
        "manual_stock_decrement",
    )
    sortable = fields("name", "strategy", "stock_locations_cutoff", "stock_reservation_cutoff")


INVENTORY_LOCATION_FILTERS = {
    "inventory_model_id": "inventory_model__id",
    "stock_location_id": "stock_location__id",
    "stock_location_code": "stock_location__code",
}


class InventoryStockLocationView(ResourceViewSet):
    resource_name = "inventory_stock_locations"
    serializer_class = s.InventoryStockLocationSerializer
    policy = BACK_OFFICE
    filterable = fields("priority", "on_hold", **INVENTORY_LOCATION_FILTERS)
    sortable = fields("priority", "on_hold")

    def default_ordering(self) -> tuple[str, ...]:
        return ("priority", "created_at", "pk")


class InventoryReturnLocationView(ResourceViewSet):
    resource_name = "inventory_return_locations"
    serializer_class = s.InventoryReturnLocationSerializer
    policy = BACK_OFFICE
    filterable = fields("priority", **INVENTORY_LOCATION_FILTERS)
    sortable = fields("priority")

    def default_ordering(self) -> tuple[str, ...]:
        return ("priority", "created_at", "pk")


class StockReservationView(ResourceViewSet):
    """Read only: reservations are written by the order workflows' services."""

    resource_name = "stock_reservations"
    serializer_class = s.StockReservationSerializer
    policy = INTEGRATIONS_READ
    filterable = fields(
        "status",
        "quantity",
        "expires_at",
        stock_item_id="stock_item__id",
        line_item_id="line_item__id",
        order_id="order__id",
        sku_code="stock_item__sku__code",
    )
    sortable = fields("status", "quantity", "expires_at")


class ShippingZoneView(ResourceViewSet):
    resource_name = "shipping_zones"
    serializer_class = s.ShippingZoneSerializer
    policy = BACK_OFFICE
    filterable = fields("name")
    sortable = fields("name")


class ShippingMethodView(ResourceViewSet):
    resource_name = "shipping_methods"
    serializer_class = s.ShippingMethodSerializer
    policy = CATALOG
    filterable = fields(
        "name",
        "scheme",
        "currency_code",
        "price_amount_cents",
        "free_over_amount_cents",
        "disabled_at",
        market_id="market__id",
        market_code="market__code",
        shipping_zone_id="shipping_zone__id",
        shipping_category_id="shipping_category__id",
        shipping_category_code="shipping_category__code",
        stock_location_id="stock_location__id",
    )
    sortable = fields(
        "name",
        "scheme",
        "currency_code",
        "price_amount_cents",
        "free_over_amount_cents",
        "disabled_at",
    )
    triggers = {"_disable": "trigger_disable", "_enable": "trigger_enable"}

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        return queryset.filter(Q(market_id__in=principal.market_ids) | Q(market__isnull=True))

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        triggers = {name: data.pop(name) for name in list(data) if name.startswith("_")}
        method: Model = super().perform_create_service(data)
        for name, value in triggers.items():
            if value:
                method = self.perform_trigger(method, name, value)
        return method

    def trigger_disable(self, instance: ShippingMethod, value: Any) -> ShippingMethod:
        return services.shipping_method_disable(shipping_method=instance)

    def trigger_enable(self, instance: ShippingMethod, value: Any) -> ShippingMethod:
        return services.shipping_method_enable(shipping_method=instance)


class ShippingWeightTierView(ResourceViewSet):
    resource_name = "shipping_weight_tiers"
    serializer_class = s.ShippingWeightTierSerializer
    policy = BACK_OFFICE
    filterable = fields(
        "name", "up_to", "price_amount_cents", shipping_method_id="shipping_method__id"
    )
    sortable = fields("name", "up_to", "price_amount_cents")


class DeliveryLeadTimeView(ResourceViewSet):
    resource_name = "delivery_lead_times"
    serializer_class = s.DeliveryLeadTimeSerializer
    policy = BACK_OFFICE
    filterable = fields(
        "min_hours",
        "max_hours",
        stock_location_id="stock_location__id",
        shipping_method_id="shipping_method__id",
    )
    sortable = fields("min_hours", "max_hours")


class StockLineItemView(ResourceViewSet):
    """Read only: stock line items are planned with their shipments."""

    resource_name = "stock_line_items"
    serializer_class = s.StockLineItemSerializer
    policy = INTEGRATIONS_READ
    filterable = fields(
        "quantity",
        sku_code="sku__code",
        sku_id="sku__id",
        shipment_id="shipment__id",
        line_item_id="line_item__id",
        stock_item_id="stock_item__id",
    )
    sortable = fields("quantity", sku_code="sku__code")


class ParcelView(ResourceViewSet):
    resource_name = "parcels"
    serializer_class = s.ParcelSerializer
    policy = BACK_OFFICE
    filterable = fields(
        "number",
        "weight",
        "contents_explanation",
        "shipping_label_url",
        "shipping_label_file_type",
        "shipping_label_size",
        "shipping_label_resolution",
        "tracking_number",
        "tracking_status",
        "tracking_status_detail",
        "tracking_status_updated_at",
        "carrier_weight_oz",
        "incoterm",
        "delivery_confirmation",
        shipment_id="shipment__id",
    )
    sortable = fields(
        "number", "weight", "tracking_status", "tracking_status_updated_at", "carrier_weight_oz"
    )

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        return services.parcel_save(parcel=Parcel(**data), actor=self.actor)

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, Parcel)
        for field, value in data.items():
            setattr(instance, field, value)
        return services.parcel_save(parcel=instance, actor=self.actor)

    def perform_destroy_service(self, instance: Model) -> None:
        assert isinstance(instance, Parcel)
        services.parcel_delete(parcel=instance, actor=self.actor)
