from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from markets import services
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
from oms.admin import ServiceModelAdmin


@admin.register(Organization)
class OrganizationAdmin(ServiceModelAdmin):
    list_display = ("name", "slug", "domain")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Organization.objects.exists()


@admin.register(Address)
class AddressAdmin(ServiceModelAdmin):
    list_display = ("full_name", "line_1", "city", "zip_code", "country_code", "phone")
    list_filter = ("business", "country_code")
    search_fields = ("first_name", "last_name", "company", "line_1", "city", "zip_code", "email")


@admin.register(Merchant)
class MerchantAdmin(ServiceModelAdmin):
    list_display = ("name", "address")
    search_fields = ("name",)
    autocomplete_fields = ("address",)


@admin.register(CustomerGroup)
class CustomerGroupAdmin(ServiceModelAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


@admin.register(ShippingCategory)
class ShippingCategoryAdmin(ServiceModelAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")


@admin.register(PriceList)
class PriceListAdmin(ServiceModelAdmin):
    list_display = ("name", "code", "currency_code", "tax_included")
    list_filter = ("currency_code", "tax_included")
    search_fields = ("name", "code")


@admin.register(Market)
class MarketAdmin(ServiceModelAdmin):
    list_display = ("name", "code", "number", "merchant", "price_list", "customer_group", "enabled")
    list_filter = ("price_list__currency_code",)
    search_fields = ("name", "code")
    readonly_fields = ("id", "number", "disabled_at", "created_at", "updated_at")
    list_select_related = ("merchant", "price_list", "customer_group")
    actions = ("disable_markets", "enable_markets")

    @admin.display(boolean=True)
    def enabled(self, market: Market) -> bool:
        return market.is_enabled

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        services.market_save(market=obj)

    @admin.action(description="Disable selected markets")
    def disable_markets(self, request: HttpRequest, queryset: QuerySet[Market]) -> None:
        for market in queryset:
            services.market_disable(market=market)
        self.message_user(request, f"{queryset.count()} market(s) disabled.", messages.SUCCESS)

    @admin.action(description="Enable selected markets")
    def enable_markets(self, request: HttpRequest, queryset: QuerySet[Market]) -> None:
        for market in queryset:
            services.market_enable(market=market)
        self.message_user(request, f"{queryset.count()} market(s) enabled.", messages.SUCCESS)


@admin.register(Sku)
class SkuAdmin(ServiceModelAdmin):
    list_display = ("code", "name", "shipping_category", "do_not_ship", "do_not_track")
    list_filter = ("shipping_category", "do_not_ship", "do_not_track")
    search_fields = ("code", "name")
    list_select_related = ("shipping_category",)


class PriceVolumeTierInline(admin.TabularInline):
    model = PriceVolumeTier
    extra = 0
    fields = ("name", "up_to", "price_amount_cents")


@admin.register(Price)
class PriceAdmin(ServiceModelAdmin):
    list_display = (
        "sku",
        "price_list",
        "amount_cents",
        "formatted_amount",
        "compare_at_amount_cents",
    )
    list_filter = ("price_list",)
    search_fields = ("sku__code", "sku__name")
    list_select_related = ("sku", "price_list")
    autocomplete_fields = ("sku",)
    inlines = (PriceVolumeTierInline,)
