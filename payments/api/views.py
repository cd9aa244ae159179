"""Payment endpoints: methods and gateways (catalog-like), transactions and their triggers."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, Q, QuerySet

from oms.api.permissions import BACK_OFFICE, CATALOG, READ, Policy
from oms.api.principal import Principal
from oms.api.views import ResourceViewSet, fields
from payments import services
from payments.api import serializers as s
from payments.models import PaymentGateway, PaymentMethod, Transaction


class PaymentMethodView(ResourceViewSet):
    resource_name = "payment_methods"
    serializer_class = s.PaymentMethodSerializer
    policy = CATALOG
    filterable = fields(
        "name",
        "payment_source_type",
        "currency_code",
        "price_amount_cents",
        "disabled_at",
        market_id="market__id",
        market_code="market__code",
    )
    sortable = fields(
        "name", "payment_source_type", "currency_code", "price_amount_cents", "disabled_at"
    )
    triggers = {"_disable": "trigger_disable", "_enable": "trigger_enable"}

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if principal.is_integration:
            return queryset
        return queryset.filter(Q(market_id__in=principal.market_ids) | Q(market__isnull=True))

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        triggers = {name: data.pop(name) for name in list(data) if name.startswith("_")}
        method: Model = services.payment_method_create(data=data)
        for name, value in triggers.items():
            if value:
                method = self.perform_trigger(method, name, value)
        return method

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, PaymentMethod)
        return services.payment_method_update(payment_method=instance, data=data)

    def trigger_disable(self, instance: PaymentMethod, value: Any) -> PaymentMethod:
        return services.payment_method_disable(payment_method=instance)

    def trigger_enable(self, instance: PaymentMethod, value: Any) -> PaymentMethod:
        return services.payment_method_enable(payment_method=instance)


class PaymentGatewayView(ResourceViewSet):
    """Every gateway, whatever its kind (read only: write through the typed endpoints)."""

    resource_name = "payment_gateways"
    serializer_class = s.PaymentGatewaySerializer
    policy = Policy(sales_channel=frozenset(), read_only=READ, admin=READ)
    filterable = fields("name", "type", "disabled_at")
    sortable = fields("name", "type", "disabled_at")
    gateway_type: ClassVar[str | None] = None

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        return queryset.filter(type=self.gateway_type) if self.gateway_type else queryset

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        triggers = {name: data.pop(name) for name in list(data) if name.startswith("_")}
        gateway: Model = services.payment_gateway_create(data={**data, "type": self.gateway_type})
        for name, value in triggers.items():
            if value:
                gateway = self.perform_trigger(gateway, name, value)
        return gateway

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, PaymentGateway)
        return services.payment_gateway_update(payment_gateway=instance, data=data)

    triggers = {
        "_disable": "trigger_disable",
        "_enable": "trigger_enable",
        "_regenerate_shared_secret": "trigger_regenerate_shared_secret",
    }

    def trigger_disable(self, instance: PaymentGateway, value: Any) -> PaymentGateway:
        return services.payment_gateway_disable(payment_gateway=instance)

    def trigger_enable(self, instance: PaymentGateway, value: Any) -> PaymentGateway:
        return services.payment_gateway_enable(payment_gateway=instance)

    def trigger_regenerate_shared_secret(
        self, instance: PaymentGateway, value: Any
    ) -> PaymentGateway:
        return services.payment_gateway_regenerate_shared_secret(payment_gateway=instance)


class ManualGatewayView(PaymentGatewayView):
    resource_name = "manual_gateways"
    serializer_class = s.ManualGatewaySerializer
    policy = BACK_OFFICE
    gateway_type = PaymentGateway.Type.MANUAL


class ExternalGatewayView(PaymentGatewayView):
    resource_name = "external_gateways"
    serializer_class = s.ExternalGatewaySerializer
    policy = BACK_OFFICE
    gateway_type = PaymentGateway.Type.EXTERNAL


# A storefront reads a transaction whose id it holds, of an order it may see; the money
# triggers (`_capture`, `_void`, `_refund`…) move the order too, so the orders API serves them
# (orders.api.views): payments' own endpoints never change an order.
TRANSACTION_FILTERS = fields(
    "number",
    "type",
    "currency_code",
    "amount_cents",
    "message",
    "error_code",
    "error_detail",
    "token",
    "gateway_transaction_id",
    succeeded="status",
    order_id="order__id",
)


class TransactionView(ResourceViewSet):
    resource_name = "transactions"
    serializer_class = s.TransactionSerializer
    policy = Policy(sales_channel=frozenset({"retrieve"}))
    filterable = TRANSACTION_FILTERS
    sortable = fields("number", "type", "amount_cents")
    transaction_type: ClassVar[str | None] = None

    def scope_queryset(self, queryset: QuerySet[Any], principal: Principal) -> QuerySet[Any]:
        if self.transaction_type:
            queryset = queryset.filter(type=self.transaction_type)
        if principal.is_integration:
            return queryset
        # a transaction is visible as its order is, whoever decides that (the orders API)
        return queryset.filter(order__in=self.scoped_queryset_of("orders").values("pk"))


class AuthorizationView(TransactionView):
    resource_name = "authorizations"
    serializer_class = s.AuthorizationSerializer
    transaction_type = Transaction.Type.AUTHORIZATIONS


class CaptureView(TransactionView):
    resource_name = "captures"
    serializer_class = s.CaptureSerializer
    transaction_type = Transaction.Type.CAPTURES


class VoidView(TransactionView):
    resource_name = "voids"
    serializer_class = s.VoidSerializer
    transaction_type = Transaction.Type.VOIDS


class RefundView(TransactionView):
    resource_name = "refunds"
    serializer_class = s.RefundSerializer
    transaction_type = Transaction.Type.REFUNDS
