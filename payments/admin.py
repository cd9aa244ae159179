"""Admin pages of the payments app: a thin face over `payments.services`.

Gateways and methods are edited through the generic resource services; transactions are
read-only, and money moves only through the capture / void / refund actions, which call the
same services as the API (so the same locks, balance checks and idempotency apply).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from oms.actors import Actor
from oms.admin import ServiceModelAdmin
from oms.errors import DomainError
from orders import services as order_services
from payments import services
from payments.models import (
    ExternalPayment,
    PaymentGateway,
    PaymentMethod,
    TestPayment,
    Transaction,
    WireTransfer,
)


def admin_actor(request: HttpRequest) -> Actor:
    user = request.user
    return Actor(kind="user", id=str(user.pk), name=user.get_username())


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
                    "lookup_url",
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

    @admin.action(description="Disable the selected gateways")
    def disable_gateways(self, request: HttpRequest, queryset: QuerySet[PaymentGateway]) -> None:
        for gateway in queryset:
            services.payment_gateway_disable(payment_gateway=gateway)

    @admin.action(description="Enable the selected gateways")
    def enable_gateways(self, request: HttpRequest, queryset: QuerySet[PaymentGateway]) -> None:
        for gateway in queryset:
            services.payment_gateway_enable(payment_gateway=gateway)

    @admin.action(description="Regenerate the shared secret of the selected gateways")
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

    @admin.action(description="Disable the selected payment methods")
    def disable_methods(self, request: HttpRequest, queryset: QuerySet[PaymentMethod]) -> None:
        for method in queryset:
            services.payment_method_disable(payment_method=method)

    @admin.action(description="Enable the selected payment methods")
    def enable_methods(self, request: HttpRequest, queryset: QuerySet[PaymentMethod]) -> None:
        for method in queryset:
            services.payment_method_enable(payment_method=method)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services: listed and shown, never edited here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
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
    readonly_fields = ("formatted_amount", "capture_balance_cents", "refund_balance_cents")
    actions = ("capture_balance", "void_balance", "refund_balance")

    def has_move_money_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.change_transaction")

    @admin.action(
        description="Capture the balance of the selected authorizations", permissions=["move_money"]
    )
    def capture_balance(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> None:
        actor = admin_actor(request)
        self._each(
            request,
            queryset,
            lambda txn: order_services.order_authorization_capture(authorization=txn, actor=actor),
        )

    @admin.action(description="Void the selected authorizations", permissions=["move_money"])
    def void_balance(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> None:
        actor = admin_actor(request)
        self._each(
            request,
            queryset,
            lambda txn: order_services.order_authorization_void(authorization=txn, actor=actor),
        )

    @admin.action(
        description="Refund the balance of the selected captures", permissions=["move_money"]
    )
    def refund_balance(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> None:
        actor = admin_actor(request)
        self._each(
            request,
            queryset,
            lambda txn: order_services.order_capture_refund(capture=txn, actor=actor),
        )

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Transaction],
        operation: Callable[[Transaction], Transaction],
    ) -> None:
        for txn in queryset.order_by("pk"):
            try:
                result = operation(txn)
            except DomainError as exc:
                messages.error(request, f"{txn.number}: {exc.detail} ({exc.code})")
                continue
            if result.succeeded:
                messages.success(
                    request,
                    f"{result.get_type_display()} {result.number}: {result.formatted_amount}",
                )
            else:
                messages.error(
                    request,
                    f"{result.get_type_display()} {result.number} failed: "
                    f"{result.message} ({result.error_code})",
                )


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
