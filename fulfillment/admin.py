"""Admin pages for stock and shipping: a thin face over `fulfillment.services`. The shipments'
triggers, which change their order, are the orders admin's (over `orders.services`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from unfold.admin import ModelAdmin, StackedInline, TabularInline

from fulfillment import services
from fulfillment.models import (
    DeliveryLeadTime,
    InventoryModel,
    InventoryReturnLocation,
    InventoryStockLocation,
    Parcel,
    Shipment,
    ShippingMethod,
    ShippingWeightTier,
    ShippingZone,
    StockAdjustment,
    StockItem,
    StockLineItem,
    StockLocation,
    StockReservation,
)
from fulfillment.selectors import stock_item_reserved, stock_items_with_availability
from markets.admin import SkuAdmin
from markets.models import Sku
from oms.actors import Actor
from oms.admin import ServiceModelAdmin
from oms.errors import DomainError


def actor_of(request: HttpRequest) -> Actor:
    user = request.user
    return Actor(kind="user", id=str(user.pk), name=user.get_username())


@admin.register(StockLocation)
class StockLocationAdmin(ServiceModelAdmin):
    list_display = ("name", "code", "number", "address", "label_format", "suppress_etd")
    search_fields = ("name", "code")
    readonly_fields = ("id", "number", "created_at", "updated_at")
    autocomplete_fields = ("address",)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        services.stock_location_save(stock_location=obj)


class StockItemForm(forms.ModelForm):
    class Meta:
        model = StockItem
        fields = ("stock_location", "sku", "quantity", "reference", "reference_origin", "metadata")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk and data.get("quantity") is not None:
            reserved = stock_item_reserved(stock_item=self.instance)
            if data["quantity"] < reserved:
                self.add_error(
                    "quantity", f"The quantity cannot go below the {reserved} reserved units."
                )
        return data


class LowStockFilter(admin.SimpleListFilter):
    title = "availability"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("low", f"Low (≤ {settings.OMS_LOW_STOCK_THRESHOLD} available)"),
            ("out", "Out of stock (nothing available)"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "low":
            return queryset.filter(available__lte=settings.OMS_LOW_STOCK_THRESHOLD)
        if self.value() == "out":
            return queryset.filter(available__lte=0)
        return queryset


class StockAdjustmentInline(TabularInline):
    """The stock history: every change by hand, newest first, with who made it and why."""

    model = StockAdjustment
    fields = ("created_at", "delta", "quantity_before", "quantity_after", "reason", "actor_name")
    readonly_fields = fields
    ordering = ("-created_at",)
    extra = 0
    can_delete = False
    verbose_name = "stock change"
    verbose_name_plural = "Stock history"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StockAdjustForm(forms.Form):
    delta = forms.IntegerField(
        label="Change (units)", help_text="+12 after a delivery, -3 after a count or breakage"
    )
    reason = forms.CharField(max_length=255, label="Reason")


@admin.register(StockItem)
class StockItemAdmin(ServiceModelAdmin):
    form = StockItemForm
    list_display = ("sku_display", "location_display", "quantity", "reserved", "available")
    list_filter = (LowStockFilter, "stock_location")
    search_fields = ("sku__code", "sku__name", "stock_location__name")
    list_select_related = ("sku", "stock_location")
    autocomplete_fields = ("sku",)
    inlines = (StockAdjustmentInline,)
    change_form_before_template = "admin/fulfillment/stockitem/adjust_link.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return stock_items_with_availability(super().get_queryset(request))

    @admin.display(description="SKU", ordering="sku__code")
    def sku_display(self, stock_item: StockItem) -> str:
        return f"{stock_item.sku.code} — {stock_item.sku.name}"

    @admin.display(description="stock location", ordering="stock_location__name")
    def location_display(self, stock_item: StockItem) -> str:
        return stock_item.stock_location.name

    @admin.display(description="reserved", ordering="reserved")
    def reserved(self, stock_item: Any) -> int:
        return int(stock_item.reserved)

    @admin.display(description="available", ordering="available")
    def available(self, stock_item: Any) -> int:
        return int(stock_item.available)

    def get_urls(self) -> list[URLPattern]:
        adjust = self.admin_site.admin_view(self.adjust_view)
        return [
            path("<path:object_id>/adjust/", adjust, name="fulfillment_stockitem_adjust"),
            *super().get_urls(),
        ]

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Add or remove units with a reason, recorded in the stock history
        (`stock_item_adjust`: on the locked row, never below what is reserved)."""
        stock_item = self.get_object(request, object_id)
        if stock_item is None:
            raise Http404("No such stock item.")
        if not self.has_change_permission(request, stock_item):
            raise PermissionDenied
        page_url = reverse("admin:fulfillment_stockitem_change", args=[stock_item.pk])
        form = StockAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                adjustment = services.stock_item_adjust(
                    stock_item=stock_item,
                    delta=form.cleaned_data["delta"],
                    reason=form.cleaned_data["reason"],
                    actor=actor_of(request),
                )
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                self.message_user(
                    request,
                    f"{stock_item}: {adjustment}, now {adjustment.quantity_after} in stock.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(page_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust the stock of {stock_item}",
            "opts": self.opts,
            "stock_item": stock_item,
            "form": form,
            "page_url": page_url,
        }
        return TemplateResponse(request, "admin/fulfillment/stockitem/adjust.html", context)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        try:
            services.stock_item_save(stock_item=obj)
        except DomainError as exc:  # lost a race with a reservation after the form's check
            self.message_user(request, f"Not saved: {exc.detail}", messages.ERROR)


class SkuStockInline(TabularInline):
    """A SKU's stock in every location, with what is reserved and available."""

    model = StockItem
    fields = ("stock_location", "quantity", "reserved", "available")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "Stock"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        items = super().get_queryset(request).select_related("stock_location", "sku")
        return stock_items_with_availability(items)

    @admin.display(description="reserved")
    def reserved(self, stock_item: Any) -> int:
        return int(stock_item.reserved)

    @admin.display(description="available")
    def available(self, stock_item: Any) -> int:
        return int(stock_item.available)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(Sku)


@admin.register(Sku)
class SkuWithStockAdmin(SkuAdmin):
    inlines = (*SkuAdmin.inlines, SkuStockInline)


class InventoryStockLocationInline(TabularInline):
    model = InventoryStockLocation
    fields = ("stock_location", "priority", "on_hold")
    extra = 0


class InventoryReturnLocationInline(TabularInline):
    model = InventoryReturnLocation
    fields = ("stock_location", "priority")
    extra = 0


@admin.register(InventoryModel)
class InventoryModelAdmin(ServiceModelAdmin):
    list_display = (
        "name",
        "strategy",
        "stock_locations_cutoff",
        "stock_reservation_cutoff",
        "manual_stock_decrement",
    )
    list_filter = ("strategy", "manual_stock_decrement")
    search_fields = ("name",)
    inlines = (InventoryStockLocationInline, InventoryReturnLocationInline)


@admin.register(ShippingZone)
class ShippingZoneAdmin(ServiceModelAdmin):
    list_display = ("name", "country_code_regex", "state_code_regex", "zip_code_regex")
    search_fields = ("name",)


class ShippingWeightTierInline(TabularInline):
    model = ShippingWeightTier
    fields = ("name", "up_to", "price_amount_cents")
    extra = 0


class DeliveryLeadTimeInline(TabularInline):
    model = DeliveryLeadTime
    fields = ("stock_location", "min_hours", "max_hours")
    extra = 0


@admin.register(ShippingMethod)
class ShippingMethodAdmin(ServiceModelAdmin):
    list_display = (
        "name",
        "scheme",
        "market",
        "shipping_zone",
        "shipping_category",
        "price_amount_cents",
        "currency_code",
        "free_over_amount_cents",
        "enabled",
    )
    list_filter = ("scheme", "market", "currency_code")
    search_fields = ("name",)
    readonly_fields = ("id", "disabled_at", "created_at", "updated_at")
    list_select_related = ("market", "shipping_zone", "shipping_category")
    inlines = (ShippingWeightTierInline, DeliveryLeadTimeInline)
    actions = ("disable_methods", "enable_methods")

    @admin.display(boolean=True)
    def enabled(self, method: ShippingMethod) -> bool:
        return method.is_enabled

    @admin.action(description="Disable the selected shipping methods", permissions=["change"])
    def disable_methods(self, request: HttpRequest, queryset: QuerySet[ShippingMethod]) -> None:
        for method in queryset:
            services.shipping_method_disable(shipping_method=method)

    @admin.action(description="Enable the selected shipping methods", permissions=["change"])
    def enable_methods(self, request: HttpRequest, queryset: QuerySet[ShippingMethod]) -> None:
        for method in queryset:
            services.shipping_method_enable(shipping_method=method)


class StockLineItemInline(TabularInline):
    model = StockLineItem
    fields = ("sku", "stock_item", "line_item", "quantity")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ParcelInline(StackedInline):
    model = Parcel
    fields = ("number", "weight", "unit_of_weight", "tracking_number", "tracking_status")
    readonly_fields = ("number",)
    extra = 0


class ShipmentAdmin(ServiceModelAdmin):
    """Shipments are planned by the services. Their page (reference, metadata, parcels) is
    here; the trigger actions that move them change the order's fulfillment too, so
    `orders/admin.py` registers this admin with them, over the order-level workflow
    (fulfillment never imports the orders services, see STYLE.md's arrows)."""

    list_display = ("number", "order", "status", "stock_location_name", "shipping_method")
    list_filter = ("status",)
    search_fields = ("number",)
    list_select_related = ("order", "shipping_method", "inventory_stock_location__stock_location")
    readonly_fields = (
        "id",
        "order",
        "number",
        "status",
        "status_before_hold",
        "inventory_stock_location",
        "shipping_category",
        "shipping_method",
        "on_hold_at",
        "picking_at",
        "packing_at",
        "ready_to_ship_at",
        "shipped_at",
        "delivered_at",
        "created_at",
        "updated_at",
    )
    fields = (*readonly_fields, "reference", "reference_origin", "metadata")
    inlines = (StockLineItemInline, ParcelInline)

    @admin.display(description="stock location")
    def stock_location_name(self, shipment: Shipment) -> str:
        return shipment.inventory_stock_location.stock_location.name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        if formset.model is not Parcel:
            return super().save_formset(request, form, formset, change)
        for parcel in formset.save(commit=False):
            try:
                services.parcel_save(parcel=parcel, actor=actor_of(request))
            except DomainError as exc:
                self.message_user(request, f"Parcel not saved: {exc.detail}", messages.ERROR)
        for parcel in formset.deleted_objects:
            services.parcel_delete(parcel=parcel, actor=actor_of(request))
        return None


@admin.register(Parcel)
class ParcelAdmin(ServiceModelAdmin):
    list_display = ("number", "shipment", "weight", "unit_of_weight", "tracking_number")
    search_fields = ("number", "tracking_number")
    readonly_fields = ("id", "number", "created_at", "updated_at")
    list_select_related = ("shipment",)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        try:
            services.parcel_save(parcel=obj, actor=actor_of(request))
        except DomainError as exc:
            self.message_user(request, f"Not saved: {exc.detail}", messages.ERROR)


@admin.register(StockReservation)
class StockReservationAdmin(ModelAdmin):
    """Read only: reservations are made and dropped by the order workflows."""

    list_display = ("stock_item", "order", "line_item", "status", "quantity", "expires_at")
    list_filter = ("status",)
    list_select_related = ("stock_item__sku", "stock_item__stock_location", "order", "line_item")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
