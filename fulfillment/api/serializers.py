"""JSON:API serializers of stock, inventory models, shipping and parcels (names and flags as in
Commerce Layer's resources). Shipments themselves belong to the orders API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from fulfillment.models import (
    DeliveryLeadTime,
    InventoryModel,
    InventoryReturnLocation,
    InventoryStockLocation,
    Parcel,
    ShippingMethod,
    ShippingWeightTier,
    ShippingZone,
    StockItem,
    StockLineItem,
    StockLocation,
    StockReservation,
)
from oms.api.serializers import (
    FormattedMoneyField,
    MoneyFloatField,
    Relationship,
    ResourceSerializer,
    TypedMethodField,
)

# the largest value of a 32-bit integer column (PostgreSQL refuses more)
MAX_INTEGER = 2**31 - 1


class StockLocationSerializer(ResourceSerializer):
    relationships = {
        "address": Relationship("addresses", writable="both", required=True),
        "inventory_stock_locations": Relationship(
            "inventory_stock_locations", many=True, reverse="stock_location"
        ),
        "inventory_return_locations": Relationship(
            "inventory_return_locations", many=True, reverse="stock_location"
        ),
        "stock_items": Relationship("stock_items", many=True, reverse="stock_location"),
    }

    class Meta:
        model = StockLocation
        resource_name = "stock_locations"
        fields = ("number", "name", "code", "label_format", "suppress_etd")
        read_only_fields = ("number",)
        creatable = ("name", "code", "label_format", "suppress_etd", "address")
        updatable = creatable


class StockItemSerializer(ResourceSerializer):
    relationships = {
        "stock_location": Relationship("stock_locations", writable="both", required=True),
        "sku": Relationship("skus", writable="both"),
        # reservations name orders: a storefront must not learn other customers' order ids
        "stock_reservations": Relationship(
            "stock_reservations", many=True, reverse="stock_item", private=True
        ),
    }
    sku_code = serializers.CharField(required=False, max_length=255)
    quantity = serializers.IntegerField(min_value=0, max_value=MAX_INTEGER)
    # Commerce Layer's opt-in check against reserved stock; here it always runs
    _validate = serializers.BooleanField(write_only=True, required=False)

    class Meta:
        model = StockItem
        resource_name = "stock_items"
        select_related = ("sku",)
        fields = ("sku_code", "quantity", "_validate")
        creatable = ("sku_code", "quantity", "stock_location", "sku")
        updatable = (*creatable, "_validate")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("sku") and not attrs.get("sku_code"):
            raise serializers.ValidationError(
                {"sku": "A stock item needs a SKU (relationship or sku_code)."}
            )
        return attrs


INVENTORY_MODEL_WRITABLE = (
    "name",
    "strategy",
    "stock_locations_cutoff",
    "stock_reservation_cutoff",
    "put_stock_transfers_on_hold",
    "manual_stock_decrement",
)


class InventoryModelSerializer(ResourceSerializer):
    relationships = {
        "inventory_stock_locations": Relationship(
            "inventory_stock_locations", many=True, reverse="inventory_model"
        ),
        "inventory_return_locations": Relationship(
            "inventory_return_locations", many=True, reverse="inventory_model"
        ),
    }

    class Meta:
        model = InventoryModel
        resource_name = "inventory_models"
        fields = INVENTORY_MODEL_WRITABLE
        creatable = INVENTORY_MODEL_WRITABLE
        updatable = INVENTORY_MODEL_WRITABLE


INVENTORY_LOCATION_RELATIONSHIPS = {
    "stock_location": Relationship("stock_locations", writable="both", required=True),
    "inventory_model": Relationship("inventory_models", writable="both", required=True),
}


class InventoryStockLocationSerializer(ResourceSerializer):
    relationships = INVENTORY_LOCATION_RELATIONSHIPS

    class Meta:
        model = InventoryStockLocation
        resource_name = "inventory_stock_locations"
        fields = ("priority", "on_hold")
        creatable = ("priority", "on_hold", "stock_location", "inventory_model")
        updatable = creatable


class InventoryReturnLocationSerializer(ResourceSerializer):
    relationships = INVENTORY_LOCATION_RELATIONSHIPS

    class Meta:
        model = InventoryReturnLocation
        resource_name = "inventory_return_locations"
        fields = ("priority",)
        creatable = ("priority", "stock_location", "inventory_model")
        updatable = creatable


class StockReservationSerializer(ResourceSerializer):
    relationships = {
        "stock_item": Relationship("stock_items"),
        "line_item": Relationship("line_items"),
        "order": Relationship("orders"),
    }

    class Meta:
        model = StockReservation
        resource_name = "stock_reservations"
        fields = ("status", "quantity", "expires_at")
        read_only_fields = fields
        creatable = ()
        updatable = ()


ZONE_WRITABLE = (
    "name",
    "country_code_regex",
    "not_country_code_regex",
    "state_code_regex",
    "not_state_code_regex",
    "zip_code_regex",
    "not_zip_code_regex",
)


class ShippingZoneSerializer(ResourceSerializer):
    class Meta:
        model = ShippingZone
        resource_name = "shipping_zones"
        fields = ZONE_WRITABLE
        creatable = ZONE_WRITABLE
        updatable = ZONE_WRITABLE


SHIPPING_METHOD_WRITABLE = (
    "name",
    "scheme",
    "currency_code",
    "external_prices_url",
    "price_amount_cents",
    "free_over_amount_cents",
    "use_subtotal",
    "min_weight",
    "max_weight",
    "unit_of_weight",
    "tax_code",
)


class ShippingMethodSerializer(ResourceSerializer):
    relationships = {
        "market": Relationship("markets", writable="both"),
        "shipping_zone": Relationship("shipping_zones", writable="both"),
        "shipping_category": Relationship("shipping_categories", writable="both"),
        "stock_location": Relationship("stock_locations", writable="both"),
        "shipping_weight_tiers": Relationship(
            "shipping_weight_tiers", many=True, reverse="shipping_method"
        ),
    }
    price_amount_float = MoneyFloatField("price_amount_cents")
    formatted_price_amount = FormattedMoneyField("price_amount_cents")
    free_over_amount_float = MoneyFloatField("free_over_amount_cents")
    formatted_free_over_amount = FormattedMoneyField("free_over_amount_cents")
    _disable = serializers.BooleanField(write_only=True, required=False)
    _enable = serializers.BooleanField(write_only=True, required=False)

    class Meta:
        model = ShippingMethod
        resource_name = "shipping_methods"
        fields = (
            *SHIPPING_METHOD_WRITABLE,
            "price_amount_float",
            "formatted_price_amount",
            "free_over_amount_float",
            "formatted_free_over_amount",
            "disabled_at",
            "_disable",
            "_enable",
        )
        read_only_fields = ("disabled_at",)
        creatable = (
            *SHIPPING_METHOD_WRITABLE,
            "market",
            "shipping_zone",
            "shipping_category",
            "stock_location",
            "_disable",
            "_enable",
        )
        updatable = creatable


class ShippingWeightTierSerializer(ResourceSerializer):
    # `type` is an attribute of this resource (Commerce Layer's tiers are polymorphic)
    _reserved_field_names = {"meta", "results"}
    relationships = {
        "shipping_method": Relationship("shipping_methods", writable="both", required=True)
    }
    type = TypedMethodField({"type": "string", "enum": ["shipping_weight_tiers"]})
    price_amount_float = MoneyFloatField("price_amount_cents", "shipping_method.currency_code")
    formatted_price_amount = FormattedMoneyField(
        "price_amount_cents", "shipping_method.currency_code"
    )

    class Meta:
        model = ShippingWeightTier
        resource_name = "shipping_weight_tiers"
        select_related = ("shipping_method",)
        fields = (
            "name",
            "type",
            "up_to",
            "price_amount_cents",
            "price_amount_float",
            "formatted_price_amount",
        )
        creatable = ("name", "up_to", "price_amount_cents", "shipping_method")
        updatable = creatable

    def get_type(self, instance: ShippingWeightTier) -> str:
        return "shipping_weight_tiers"


class DeliveryLeadTimeSerializer(ResourceSerializer):
    relationships = {
        "stock_location": Relationship("stock_locations", writable="both", required=True),
        "shipping_method": Relationship("shipping_methods", writable="both", required=True),
    }
    min_hours = serializers.IntegerField(min_value=0, max_value=MAX_INTEGER)
    max_hours = serializers.IntegerField(min_value=0, max_value=MAX_INTEGER)
    min_days = serializers.IntegerField(read_only=True)
    max_days = serializers.IntegerField(read_only=True)

    class Meta:
        model = DeliveryLeadTime
        resource_name = "delivery_lead_times"
        fields = ("min_hours", "max_hours", "min_days", "max_days")
        creatable = ("min_hours", "max_hours", "stock_location", "shipping_method")
        updatable = creatable


class StockLineItemSerializer(ResourceSerializer):
    relationships = {
        "shipment": Relationship("shipments"),
        "line_item": Relationship("line_items"),
        "stock_item": Relationship("stock_items"),
        "sku": Relationship("skus"),
    }
    sku_code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    image_url = serializers.CharField(read_only=True)

    class Meta:
        model = StockLineItem
        resource_name = "stock_line_items"
        select_related = ("sku", "line_item")
        fields = ("sku_code", "quantity", "name", "image_url")
        read_only_fields = fields
        creatable = ()
        updatable = ()


PARCEL_WRITABLE = (
    "weight",
    "unit_of_weight",
    "eel_pfc",
    "contents_type",
    "contents_explanation",
    "customs_certify",
    "customs_signer",
    "non_delivery_option",
    "restriction_type",
    "restriction_comments",
    "customs_info_required",
    "shipping_label_url",
    "shipping_label_file_type",
    "shipping_label_size",
    "shipping_label_resolution",
    "tracking_number",
    "tracking_status",
    "tracking_status_detail",
    "tracking_status_updated_at",
    "tracking_details",
    "carrier_weight_oz",
    "signed_by",
    "incoterm",
    "delivery_confirmation",
)


class ParcelSerializer(ResourceSerializer):
    # a parcel is packed for one shipment: it does not move to another
    relationships = {"shipment": Relationship("shipments", writable="create", required=True)}
    tracking_details = serializers.ListField(
        child=serializers.JSONField(), required=False, max_length=1000
    )

    class Meta:
        model = Parcel
        resource_name = "parcels"
        fields = ("number", *PARCEL_WRITABLE)
        read_only_fields = ("number",)
        creatable = (*PARCEL_WRITABLE, "shipment")
        updatable = PARCEL_WRITABLE
