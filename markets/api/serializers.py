"""JSON:API serializers of the catalog (names and flags as in Commerce Layer's resources)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from markets.models import (
    Address,
    CustomerGroup,
    Market,
    Merchant,
    Organization,
    Price,
    PriceList,
    PriceVolumeTier,
    ShippingCategory,
    Sku,
)
from oms.api.serializers import Relationship, ResourceSerializer, TypedMethodField


class OrganizationSerializer(ResourceSerializer):
    class Meta:
        model = Organization
        resource_name = "organizations"
        singleton = True
        fields = (
            "name",
            "slug",
            "domain",
            "support_phone",
            "support_email",
            "logo_url",
            "favicon_url",
            "primary_color",
            "gtm_id",
            "gtm_id_test",
            "config",
        )
        read_only_fields = fields
        creatable = ()
        updatable = ()


ADDRESS_WRITABLE = (
    "business",
    "first_name",
    "last_name",
    "company",
    "line_1",
    "line_2",
    "city",
    "zip_code",
    "state_code",
    "country_code",
    "phone",
    "email",
    "notes",
    "lat",
    "lng",
    "billing_info",
)


class AddressSerializer(ResourceSerializer):
    full_name = serializers.CharField(read_only=True)
    full_address = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Address
        resource_name = "addresses"
        fields = (*ADDRESS_WRITABLE, "full_name", "full_address", "name")
        creatable = ADDRESS_WRITABLE
        updatable = ADDRESS_WRITABLE


class MerchantSerializer(ResourceSerializer):
    relationships = {"address": Relationship("addresses", writable="both", required=True)}

    class Meta:
        model = Merchant
        resource_name = "merchants"
        fields = ("name",)
        creatable = ("name", "address")
        updatable = ("name", "address")


class CustomerGroupSerializer(ResourceSerializer):
    relationships = {"markets": Relationship("markets", many=True, reverse="customer_group")}

    class Meta:
        model = CustomerGroup
        resource_name = "customer_groups"
        fields = ("name", "code")
        creatable = ("name", "code")
        updatable = ("name", "code")


class ShippingCategorySerializer(ResourceSerializer):
    relationships = {"skus": Relationship("skus", many=True, reverse="shipping_category")}

    class Meta:
        model = ShippingCategory
        resource_name = "shipping_categories"
        fields = ("name", "code")
        creatable = ("name", "code")
        updatable = ("name", "code")


class PriceListSerializer(ResourceSerializer):
    relationships = {"prices": Relationship("prices", many=True, reverse="price_list")}

    class Meta:
        model = PriceList
        resource_name = "price_lists"
        fields = ("name", "code", "currency_code", "tax_included", "rules")
        creatable = ("name", "code", "currency_code", "tax_included", "rules")
        updatable = creatable


class MarketSerializer(ResourceSerializer):
    relationships = {
        "merchant": Relationship("merchants", writable="both", required=True),
        "price_list": Relationship("price_lists", writable="both", required=True),
        "customer_group": Relationship("customer_groups", writable="both"),
        "inventory_model": Relationship("inventory_models", writable="both"),
        # taxes are back office: a storefront sees the id, never includes the calculator
        "tax_calculator": Relationship("manual_tax_calculators", writable="both", private=True),
    }
    private = serializers.BooleanField(read_only=True)
    _disable = serializers.BooleanField(write_only=True, required=False)
    _enable = serializers.BooleanField(write_only=True, required=False)
    _regenerate_shared_secret = serializers.BooleanField(write_only=True, required=False)

    class Meta:
        model = Market
        resource_name = "markets"
        fields = (
            "number",
            "name",
            "code",
            "facebook_pixel_id",
            "checkout_url",
            "external_prices_url",
            "external_order_validation_url",
            "private",
            "shipping_cost_cutoff",
            "disabled_at",
            "shared_secret",
            "_disable",
            "_enable",
            "_regenerate_shared_secret",
        )
        read_only_fields = ("number", "disabled_at", "shared_secret")
        creatable = (
            "name",
            "code",
            "facebook_pixel_id",
            "checkout_url",
            "external_prices_url",
            "external_order_validation_url",
            "shipping_cost_cutoff",
            "merchant",
            "price_list",
            "customer_group",
            "inventory_model",
            "tax_calculator",
            "_disable",
            "_enable",
        )
        updatable = (*creatable, "_regenerate_shared_secret")

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        principal = getattr(self.context.get("request"), "auth", None)
        if "shared_secret" in data and not getattr(principal, "is_integration", False):
            data["shared_secret"] = None  # a storefront never sees the market's signing secret
        return data


SKU_WRITABLE = (
    "code",
    "name",
    "description",
    "image_url",
    "pieces_per_pack",
    "weight",
    "unit_of_weight",
    "hs_tariff_number",
    "do_not_ship",
    "do_not_track",
)


class SkuSerializer(ResourceSerializer):
    relationships = {
        "shipping_category": Relationship("shipping_categories", writable="both", required=True),
        "prices": Relationship("prices", many=True, reverse="sku"),
        "stock_items": Relationship("stock_items", many=True, reverse="sku"),
    }
    weight = serializers.FloatField(required=False, allow_null=True, min_value=0)

    class Meta:
        model = Sku
        resource_name = "skus"
        fields = SKU_WRITABLE
        creatable = (*SKU_WRITABLE, "shipping_category")
        updatable = creatable


class PriceSerializer(ResourceSerializer):
    relationships = {
        "price_list": Relationship("price_lists", writable="create", required=True),
        "sku": Relationship("skus", writable="both"),
        "price_volume_tiers": Relationship("price_volume_tiers", many=True, reverse="price"),
    }
    sku_code = serializers.CharField(required=False, max_length=255)
    currency_code = serializers.CharField(read_only=True)
    amount_float = serializers.FloatField(read_only=True)
    formatted_amount = serializers.CharField(read_only=True)
    compare_at_amount_float = serializers.FloatField(read_only=True, allow_null=True)
    formatted_compare_at_amount = serializers.CharField(read_only=True)

    class Meta:
        model = Price
        resource_name = "prices"
        select_related = ("price_list", "sku")
        fields = (
            "currency_code",
            "sku_code",
            "amount_cents",
            "amount_float",
            "formatted_amount",
            "compare_at_amount_cents",
            "compare_at_amount_float",
            "formatted_compare_at_amount",
            "rules",
        )
        creatable = (
            "sku_code",
            "amount_cents",
            "compare_at_amount_cents",
            "rules",
            "price_list",
            "sku",
        )
        updatable = ("sku_code", "amount_cents", "compare_at_amount_cents", "rules", "sku")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("sku") and not attrs.get("sku_code"):
            raise serializers.ValidationError(
                {"sku": "A price needs a SKU (relationship or sku_code)."}
            )
        return attrs


class PriceVolumeTierSerializer(ResourceSerializer):
    _reserved_field_names = {"meta", "results"}
    relationships = {"price": Relationship("prices", writable="create", required=True)}
    type = TypedMethodField({"type": "string", "enum": ["price_volume_tiers"]})
    price_amount_float = serializers.FloatField(read_only=True)
    formatted_price_amount = serializers.CharField(read_only=True)

    class Meta:
        model = PriceVolumeTier
        resource_name = "price_volume_tiers"
        select_related = ("price__price_list",)
        fields = (
            "name",
            "type",
            "up_to",
            "price_amount_cents",
            "price_amount_float",
            "formatted_price_amount",
        )
        creatable = ("name", "up_to", "price_amount_cents", "price")
        updatable = ("name", "up_to", "price_amount_cents")

    def get_type(self, instance: PriceVolumeTier) -> str:
        return "price_volume_tiers"
