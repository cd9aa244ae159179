"""Admin pages of the payments app: a thin face over `payments.services`.

Gateways and methods are edited through the generic resource services; transactions are
read-only. Their capture / void / refund buttons change an order (its payment and fulfillment
statuses follow the money), so they call the order-level workflow like the API does, and live
with it: `orders/admin.py` registers `TransactionAdmin` below with those actions (payments
never imports the orders services, see STYLE.md's arrows).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from oms.admin import ServiceModelAdmin
from oms.money import format_money
from payments import services
from payments.models import (
    ExternalPayment,
    PaymentGateway,
    PaymentMethod,
    TestPayment,
    Transaction,
    WireTransfer,
)


@admin.register(PaymentGateway)
class PaymentGatewayAdmin(ServiceModelAdmin):
    list_display = ("name", "type", "enabled", "created_at")
    list_filter = ("type",)
    search_fields = ("name",)
    readonly_fields = ("id", "shared_secret", "disabled_at", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "type", "name", "force_payments", "disabled_at")}),
        (
            "External gateway",
            {
                "description": "The merchant's endpoints, called with a payload signed by the "
                "shared secret (X-CommerceLayer-Signature).",
                "fields": (
                    "authorize_url",
                    "capture_url",
                    "void_url",
                    "refund_url",
                    "token_url",
                    "timeout_ms",
                    "shared_secret",
                ),
            },
        ),
        ("Test gateway", {"fields": ("test_latency_ms",)}),
        (
            None,
            {"fields": ("reference", "reference_origin", "metadata", "created_at", "updated_at")},
        ),
    )
    actions = ("disable_gateways", "enable_gateways", "regenerate_shared_secrets")

    @admin.display(boolean=True)
    def enabled(self, gateway: PaymentGateway) -> bool:
        return gateway.is_enabled

    @admin.action(description="Disable the selected gateways", permissions=["change"])
    def disable_gateways(self, request: HttpRequest, queryset: QuerySet[PaymentGateway]) -> None:
        for gateway in queryset:
            services.payment_gateway_disable(payment_gateway=gateway)

    @admin.action(description="Enable the selected gateways", permissions=["change"])
    def enable_gateways(self, request: HttpRequest, queryset: QuerySet[PaymentGateway]) -> None:
        for gateway in queryset:
            services.payment_gateway_enable(payment_gateway=gateway)

    @admin.action(
        description="Regenerate the shared secret of the selected gateways", permissions=["change"]
    )
    def regenerate_shared_secrets(
        self, request: HttpRequest, queryset: QuerySet[PaymentGateway]
    ) -> None:
        for gateway in queryset:
            services.payment_gateway_regenerate_shared_secret(payment_gateway=gateway)
        messages.warning(request, "Update the secret on the merchant's endpoints too.")


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ServiceModelAdmin):
    list_display = (
        "name",
        "market",
        "payment_source_type",
        "currency_code",
        "payment_gateway",
        "price_amount_cents",
        "enabled",
    )
    list_filter = ("payment_source_type", "currency_code", "payment_gateway__type")
    search_fields = ("name",)
    list_select_related = ("market", "payment_gateway")
    readonly_fields = ("id", "disabled_at", "created_at", "updated_at")
    actions = ("disable_methods", "enable_methods")

    @admin.display(boolean=True)
    def enabled(self, method: PaymentMethod) -> bool:
        return method.is_enabled

    @admin.action(description="Disable the selected payment methods", permissions=["change"])
    def disable_methods(self, request: HttpRequest, queryset: QuerySet[PaymentMethod]) -> None:
        for method in queryset:
            services.payment_method_disable(payment_method=method)

    @admin.action(description="Enable the selected payment methods", permissions=["change"])
    def enable_methods(self, request: HttpRequest, queryset: QuerySet[PaymentMethod]) -> None:
        for method in queryset:
            services.payment_method_enable(payment_method=method)


class ReadOnlyAdmin(ModelAdmin):
    """Rows written only by services: listed and shown, never edited here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TransactionAdmin(ReadOnlyAdmin):
    """The transactions' list and page; registered, with its money actions, by the orders
    admin."""

    list_display = (
        "number",
        "type",
        "status",
        "formatted_amount",
        "order",
        "payment_method_type",
        "error_code",
        "created_at",
    )
    list_filter = ("type", "status", "payment_method_type", "error_code")
    search_fields = ("number", "gateway_transaction_id", "token", "order__number")
    list_select_related = ("order",)
    readonly_fields = ("formatted_amount", "left_to_capture", "left_to_refund")

    @admin.display(description="Left to capture")
    def left_to_capture(self, txn: Transaction) -> str:
        return format_money(txn.capture_balance_cents, txn.currency_code)

    @admin.display(description="Left to refund")
    def left_to_refund(self, txn: Transaction) -> str:
        return format_money(txn.refund_balance_cents, txn.currency_code)


@admin.register(WireTransfer)
class WireTransferAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "created_at")
    list_select_related = ("order",)


@admin.register(ExternalPayment)
class ExternalPaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "payment_source_token", "created_at")
    list_select_related = ("order",)


@admin.register(TestPayment)
class TestPaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "order", "token", "created_at")
    list_select_related = ("order",)
