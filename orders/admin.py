"""The back office for customers and orders. Orders are read-only pages: every change goes
through a service, here the approve / cancel / archive actions, whose refusals are shown as
admin messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from oms.actors import Actor
from oms.admin import ServiceModelAdmin
from oms.errors import DomainError
from orders import services
from orders.models import Customer, CustomerAddress, LineItem, Order, OrderEvent


def actor_of(request: HttpRequest) -> Actor:
    user = request.user
    return Actor(kind="user", id=str(user.pk or ""), name=user.get_username())


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CustomerAddressInline(ReadOnlyInline):
    model = CustomerAddress
    fields = readonly_fields = ("address", "created_at")


@admin.register(Customer)
class CustomerAdmin(ServiceModelAdmin):
    list_display = ("email", "status", "total_orders_count", "customer_group", "created_at")
    list_filter = ("status", "customer_group")
    search_fields = ("email", "reference")
    readonly_fields = ("id", "status", "total_orders_count", "created_at", "updated_at")
    list_select_related = ("customer_group",)
    inlines = (CustomerAddressInline,)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        services.customer_save(customer=obj)


class LineItemInline(ReadOnlyInline):
    model = LineItem
    fields = readonly_fields = (
        "item_type",
        "sku_code",
        "name",
        "quantity",
        "formatted_unit_amount",
        "formatted_discount",
        "formatted_tax_amount",
        "formatted_total_amount",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[LineItem]:
        return super().get_queryset(request).select_related("order")


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name = "timeline event"
    verbose_name_plural = "timeline"
    fields = readonly_fields = (
        "created_at",
        "trigger",
        "subject_type",
        "field",
        "from_status",
        "to_status",
        "actor",
        "message",
    )


class ArchivedFilter(admin.SimpleListFilter):
    """Archived orders leave the default list (spec 2.1); they are one click away."""

    title = "archived"
    parameter_name = "archived"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("archived", "Archived"), ("all", "All")]

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Not archived",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "archived":
            return queryset.filter(archived_at__isnull=False)
        if self.value() == "all":
            return queryset
        return queryset.filter(archived_at__isnull=True)


ORDER_TOTALS = (
    "formatted_subtotal_amount",
    "formatted_shipping_amount",
    "formatted_payment_method_amount",
    "formatted_discount_amount",
    "formatted_adjustment_amount",
    "formatted_gift_card_amount",
    "formatted_total_amount",
    "formatted_total_tax_amount",
    "formatted_total_amount_with_taxes",
    "formatted_place_total_amount",
    "skus_count",
)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "status",
        "payment_status",
        "fulfillment_status",
        "market",
        "customer_email",
        "total",
        "placed_at",
        "archived",
    )
    list_display_links = ("__str__",)
    list_filter = ("status", "payment_status", "fulfillment_status", "market", ArchivedFilter)
    search_fields = ("customer_email", "reference", "id")
    list_select_related = ("market",)
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    inlines = (LineItemInline, OrderEventInline)
    actions = ("approve_orders", "cancel_orders", "archive_orders", "unarchive_orders")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "id"),
                    ("status", "payment_status", "fulfillment_status"),
                    ("market", "currency_code", "tax_included"),
                    ("customer", "customer_email", "guest"),
                    ("language_code", "autorefresh", "place_async"),
                    ("reference", "reference_origin"),
                )
            },
        ),
        ("Addresses", {"fields": ("shipping_address", "billing_address")}),
        ("Totals", {"fields": ORDER_TOTALS}),
        (
            "Dates",
            {
                "fields": (
                    ("created_at", "updated_at", "refreshed_at"),
                    ("placed_at", "approved_at", "cancelled_at", "archived_at"),
                    ("payment_updated_at", "fulfillment_updated_at"),
                )
            },
        ),
        ("Placement errors", {"fields": ("placement_errors",), "classes": ("collapse",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Orders change only through their triggers: the page shows, the actions act.
        names: list[str] = []
        for _title, options in self.fieldsets:
            for line in options["fields"]:
                names.extend([line] if isinstance(line, str) else line)
        return names

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # placed orders are never deleted; abandoned carts are purged by command

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The list (and its actions) needs change permission; an order page is read-only.
        return obj is None and super().has_change_permission(request)

    @admin.display(description="total", ordering="total_amount_with_taxes_cents")
    def total(self, order: Order) -> str:
        return order.formatted_total_amount_with_taxes

    @admin.display(boolean=True, ordering="archived_at")
    def archived(self, order: Order) -> bool:
        return order.archived

    def _run(
        self,
        request: HttpRequest,
        queryset: QuerySet[Order],
        service: Callable[..., Order],
        done: str,
    ) -> None:
        actor = actor_of(request)
        succeeded = 0
        for order in queryset.order_by("pk"):
            try:
                service(order=order, actor=actor)
            except DomainError as exc:
                self.message_user(
                    request, f"Order #{order.number}: {exc.detail} ({exc.code})", messages.ERROR
                )
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{succeeded} order(s) {done}.", messages.SUCCESS)

    @admin.action(description="Approve selected orders", permissions=["change"])
    def approve_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_approve, "approved")

    @admin.action(description="Cancel selected orders", permissions=["change"])
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_cancel, "cancelled")

    @admin.action(description="Archive selected orders", permissions=["change"])
    def archive_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_archive, "archived")

    @admin.action(description="Unarchive selected orders", permissions=["change"])
    def unarchive_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_unarchive, "unarchived")
