from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from unfold.admin import StackedInline, TabularInline

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
    SkuList,
    SkuListItem,
    TaxCalculator,
    TaxCategory,
    TaxRule,
)
from oms.admin import MoneyModelForm, ServiceModelAdmin
from oms.services import resource_delete


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
    list_display = (
        "name",
        "code",
        "number",
        "merchant",
        "price_list",
        "customer_group",
        "tax_calculator",
        "enabled",
    )
    list_filter = ("price_list__currency_code", "tax_calculator")
    search_fields = ("name", "code")
    readonly_fields = ("id", "number", "disabled_at", "created_at", "updated_at")
    list_select_related = ("merchant", "price_list", "customer_group", "tax_calculator")
    actions = ("disable_markets", "enable_markets")

    @admin.display(boolean=True)
    def enabled(self, market: Market) -> bool:
        return market.is_enabled

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        services.market_save(market=obj)

    @admin.action(description="Disable selected markets", permissions=["change"])
    def disable_markets(self, request: HttpRequest, queryset: QuerySet[Market]) -> None:
        for market in queryset:
            services.market_disable(market=market)
        self.message_user(request, f"{queryset.count()} market(s) disabled.", messages.SUCCESS)

    @admin.action(description="Enable selected markets", permissions=["change"])
    def enable_markets(self, request: HttpRequest, queryset: QuerySet[Market]) -> None:
        for market in queryset:
            services.market_enable(market=market)
        self.message_user(request, f"{queryset.count()} market(s) enabled.", messages.SUCCESS)


TAX_RATE_HELP = "Between 0 and 1: 0.22 is 22%."
TAX_RULE_PATTERNS_HELP = (
    "Regular expressions matched in full against the shipping address (else the billing one), "
    "ignoring letter case, e.g. IT|FR. Leave empty to match any."
)


class TaxRuleInline(StackedInline):
    """A calculator's rules, in the order they are tried: the first that matches decides."""

    model = TaxRule
    extra = 0
    show_change_link = True
    fieldsets = (
        (None, {"fields": (("name", "tax_rate"),)}),
        (
            "Addresses taxed",
            {
                "fields": (
                    ("country_code_regex", "not_country_code_regex"),
                    ("state_code_regex", "not_state_code_regex"),
                    ("zip_code_regex", "not_zip_code_regex"),
                ),
                "description": TAX_RULE_PATTERNS_HELP,
            },
        ),
        (
            "Taxed besides the items",
            {
                "fields": (
                    (
                        "freight_taxable",
                        "payment_method_taxable",
                        "gift_card_taxable",
                        "adjustment_taxable",
                    ),
                )
            },
        ),
    )

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.base_fields["tax_rate"].help_text = TAX_RATE_HELP
        return formset


@admin.register(TaxCalculator)
class TaxCalculatorAdmin(ServiceModelAdmin):
    """A manual tax calculator and its rules; markets choose one on their own page."""

    list_display = ("name", "type", "created_at")
    search_fields = ("name",)
    readonly_fields = ("type", *ServiceModelAdmin.readonly_fields)
    inlines = (TaxRuleInline,)


@admin.register(TaxRule)
class TaxRuleAdmin(ServiceModelAdmin):
    list_display = (
        "name",
        "manual_tax_calculator",
        "tax_rate",
        "country_code_regex",
        "state_code_regex",
        "zip_code_regex",
        "freight_taxable",
        "payment_method_taxable",
    )
    list_filter = ("manual_tax_calculator", "freight_taxable", "payment_method_taxable")
    search_fields = ("name", "country_code_regex", "state_code_regex", "zip_code_regex")
    list_select_related = ("manual_tax_calculator",)
    ordering = ("manual_tax_calculator__name", "created_at", "id")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["tax_rate"].help_text = TAX_RATE_HELP
        return form


@admin.register(TaxCategory)
class TaxCategoryAdmin(ServiceModelAdmin):
    list_display = ("sku", "code", "tax_calculator")
    list_filter = ("tax_calculator",)
    search_fields = ("sku__code", "sku__name", "code")
    list_select_related = ("sku", "tax_calculator")
    autocomplete_fields = ("sku",)


class SkuPriceInline(TabularInline):
    """The SKU's prices in every price list, in major units; each opens its own page."""

    model = Price
    fields = ("price_list", "formatted_amount", "formatted_compare_at_amount")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "Prices"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Price]:
        return super().get_queryset(request).select_related("price_list", "sku")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Sku)
class SkuAdmin(ServiceModelAdmin):
    """One page per SKU with its prices (here) and its stock per location (the fulfillment
    admin adds that inline: this app does not know stock)."""

    list_display = ("code", "name", "shipping_category", "do_not_ship", "do_not_track")
    inlines: tuple[type[Any], ...] = (SkuPriceInline,)
    list_filter = ("shipping_category", "do_not_ship", "do_not_track")
    search_fields = ("code", "name")
    list_select_related = ("shipping_category",)


class PriceVolumeTierForm(MoneyModelForm):
    price_amount = forms.DecimalField(min_value=0, decimal_places=4, label="Unit price")
    money_fields = {"price_amount": "price_amount_cents"}
    parent: Price | None = None  # set by the formset: a new price has no pk yet

    class Meta:
        model = PriceVolumeTier
        fields = ("name", "up_to")

    def currency_code_of(self, data: dict[str, Any]) -> str:
        price = self.parent or self.instance.price
        return str(price.price_list.currency_code)


class PriceVolumeTierFormSet(BaseInlineFormSet):
    def _construct_form(self, i: int, **kwargs: Any) -> Any:
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        form.parent = self.instance
        return form


class PriceVolumeTierInline(TabularInline):
    model = PriceVolumeTier
    form = PriceVolumeTierForm
    formset = PriceVolumeTierFormSet
    extra = 0
    fields = ("name", "up_to", "price_amount")


class PriceForm(MoneyModelForm):
    """The price in major units of its price list's currency (69.00 EUR), not cents."""

    amount = forms.DecimalField(min_value=0, decimal_places=4, label="Amount")
    compare_at_amount = forms.DecimalField(
        min_value=0, decimal_places=4, required=False, label="Compare-at amount"
    )
    money_fields = {"amount": "amount_cents", "compare_at_amount": "compare_at_amount_cents"}

    class Meta:
        model = Price
        exclude = ("amount_cents", "compare_at_amount_cents")

    def currency_code_of(self, data: dict[str, Any]) -> str:
        price_list = data.get("price_list") or self.instance.price_list
        return str(price_list.currency_code)


@admin.register(Price)
class PriceAdmin(ServiceModelAdmin):
    form = PriceForm
    fields = (
        "sku",
        "price_list",
        "amount",
        "compare_at_amount",
        "rules",
        "reference",
        "reference_origin",
        "metadata",
        *ServiceModelAdmin.readonly_fields,
    )
    list_display = ("sku", "price_list", "formatted_amount", "formatted_compare_at_amount")
    list_filter = ("price_list",)
    search_fields = ("sku__code", "sku__name")
    list_select_related = ("sku", "price_list")
    autocomplete_fields = ("sku",)
    inlines = (PriceVolumeTierInline,)


class SkuListItemInline(TabularInline):
    """A manual list's SKUs, each with the quantity the list asks for."""

    model = SkuListItem
    extra = 0
    fields = ("sku", "quantity", "position")
    autocomplete_fields = ("sku",)
    ordering = ("position", "created_at")


@admin.register(SkuList)
class SkuListAdmin(ServiceModelAdmin):
    """The SKU lists promotions and their rules target: manual (its items) or by a regex on
    the SKU codes."""

    list_display = ("name", "slug", "manual", "sku_code_regex", "items")
    list_filter = ("manual",)
    search_fields = ("name", "slug", "sku_list_items__sku__code")
    readonly_fields = ("slug", *ServiceModelAdmin.readonly_fields)
    inlines = (SkuListItemInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[SkuList]:
        queryset: QuerySet[SkuList] = super().get_queryset(request)
        return queryset.annotate(items_count=Count("sku_list_items"))

    @admin.display(description="items", ordering="items_count")
    def items(self, sku_list: SkuList) -> int:
        return int(getattr(sku_list, "items_count", 0))

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        services.sku_list_save(sku_list=obj)

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        items = formset.save(commit=False)
        for item in formset.deleted_objects:
            resource_delete(item)
        for item in items:
            services.sku_list_item_save(sku_list_item=item)
