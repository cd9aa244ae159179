"""JSON:API serializers of payment methods, gateways and transactions."""

from __future__ import annotations

from rest_framework import serializers

from oms.api.serializers import (
    FormattedMoneyField,
    MoneyFloatField,
    Relationship,
    ResourceSerializer,
    money_fields,
)
from payments.models import PaymentGateway, PaymentMethod, Transaction


class PaymentMethodSerializer(ResourceSerializer):
    relationships = {
        "market": Relationship("markets", writable="both"),
        "payment_gateway": Relationship("payment_gateways", writable="both", required=True),
    }
    price_amount_float = serializers.FloatField(read_only=True, allow_null=True)
    formatted_price_amount = serializers.CharField(read_only=True)
    auto_capture_max_amount_float = MoneyFloatField("auto_capture_max_amount_cents")
    formatted_auto_capture_max_amount = FormattedMoneyField("auto_capture_max_amount_cents")
    _disable = serializers.BooleanField(write_only=True, required=False)
    _enable = serializers.BooleanField(write_only=True, required=False)

    class Meta:
        model = PaymentMethod
        resource_name = "payment_methods"
        fields = (
            "name",
            "payment_source_type",
            "currency_code",
            "moto",
            "require_capture",
            "auto_place",
            "auto_capture",
            "price_amount_cents",
            "price_amount_float",
            "formatted_price_amount",
            "auto_capture_max_amount_cents",
            "auto_capture_max_amount_float",
            "formatted_auto_capture_max_amount",
            "min_order_amount_cents",
            "max_order_amount_cents",
            "disabled_at",
            "_disable",
            "_enable",
        )
        read_only_fields = ("disabled_at",)
        creatable = (
            "name",
            "payment_source_type",
            "currency_code",
            "moto",
            "require_capture",
            "auto_place",
            "auto_capture",
            "price_amount_cents",
            "auto_capture_max_amount_cents",
            "min_order_amount_cents",
            "max_order_amount_cents",
            "market",
            "payment_gateway",
            "_disable",
            "_enable",
        )
        updatable = creatable


GATEWAY_FIELDS = ("name", "force_payments", "disabled_at", "_disable", "_enable")
EXTERNAL_URLS = (
    "authorize_url",
    "capture_url",
    "void_url",
    "refund_url",
    "token_url",
    "lookup_url",
)


class PaymentGatewaySerializer(ResourceSerializer):
    _reserved_field_names = {"meta", "results"}
    relationships = {
        "payment_methods": Relationship("payment_methods", many=True, reverse="payment_gateway")
    }
    type = serializers.CharField(read_only=True)
    _disable = serializers.BooleanField(write_only=True, required=False)
    _enable = serializers.BooleanField(write_only=True, required=False)

    class Meta:
        model = PaymentGateway
        resource_name = "payment_gateways"
        fields: tuple[str, ...] = ("type", *GATEWAY_FIELDS)
        read_only_fields: tuple[str, ...] = ("disabled_at",)
        creatable: tuple[str, ...] = ()
        updatable: tuple[str, ...] = ()


class ManualGatewaySerializer(PaymentGatewaySerializer):
    class Meta(PaymentGatewaySerializer.Meta):
        resource_name = "manual_gateways"
        fields = GATEWAY_FIELDS
        creatable = ("name", "force_payments", "_disable", "_enable")
        updatable = creatable


class ExternalGatewaySerializer(PaymentGatewaySerializer):
    _regenerate_shared_secret = serializers.BooleanField(write_only=True, required=False)

    class Meta(PaymentGatewaySerializer.Meta):
        resource_name = "external_gateways"
        fields = (
            *GATEWAY_FIELDS,
            *EXTERNAL_URLS,
            "shared_secret",
            "timeout_ms",
            "_regenerate_shared_secret",
        )
        read_only_fields = ("disabled_at", "shared_secret")
        creatable = ("name", "force_payments", *EXTERNAL_URLS, "timeout_ms", "_disable", "_enable")
        updatable = (*creatable, "_regenerate_shared_secret")


TRANSACTION_FIELDS = (
    "number",
    "type",
    "status",
    "payment_method_type",
    "currency_code",
    "amount_cents",
    "amount_float",
    "formatted_amount",
    "succeeded",
    "message",
    "error_code",
    "error_detail",
    "token",
    "gateway_transaction_id",
)


# The payment source of a transaction is one of the order's, whichever kind (served by the
# orders API, which owns the order's payment sources).
PAYMENT_SOURCE_TYPES = ("wire_transfers", "external_payments", "test_payments")
TRANSACTION_RELATIONSHIPS = {
    "order": Relationship("orders"),
    "payment_source": Relationship("payment_sources", polymorphic=PAYMENT_SOURCE_TYPES),
}


class TransactionSerializer(ResourceSerializer):
    _reserved_field_names = {"meta", "results"}
    relationships = TRANSACTION_RELATIONSHIPS
    type = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    succeeded = serializers.BooleanField(read_only=True)
    amount_float = serializers.FloatField(read_only=True, allow_null=True)
    formatted_amount = serializers.CharField(read_only=True)

    class Meta:
        model = Transaction
        resource_name = "transactions"
        fields: tuple[str, ...] = TRANSACTION_FIELDS
        read_only_fields = TRANSACTION_FIELDS
        creatable: tuple[str, ...] = ()
        updatable: tuple[str, ...] = ()


AUTHORIZATION_MONEY = {
    **money_fields("capture_amount"),
    **money_fields("capture_balance"),
    **money_fields("void_balance"),
}
CAPTURE_MONEY = {**money_fields("refund_amount"), **money_fields("refund_balance")}


class AuthorizationSerializer(TransactionSerializer):
    computed_fields = AUTHORIZATION_MONEY
    _capture = serializers.BooleanField(write_only=True, required=False)
    _capture_amount_cents = serializers.IntegerField(write_only=True, required=False, min_value=1)
    _void = serializers.BooleanField(write_only=True, required=False)

    class Meta(TransactionSerializer.Meta):
        resource_name = "authorizations"
        fields = (
            *TRANSACTION_FIELDS,
            *AUTHORIZATION_MONEY,
            "_capture",
            "_capture_amount_cents",
            "_void",
        )
        updatable = ("_capture", "_capture_amount_cents", "_void")


class CaptureSerializer(TransactionSerializer):
    computed_fields = CAPTURE_MONEY
    relationships = {
        **TRANSACTION_RELATIONSHIPS,
        "reference_authorization": Relationship("authorizations"),
    }
    _refund = serializers.BooleanField(write_only=True, required=False)
    _refund_amount_cents = serializers.IntegerField(write_only=True, required=False, min_value=1)

    class Meta(TransactionSerializer.Meta):
        resource_name = "captures"
        fields: tuple[str, ...] = (
            *TRANSACTION_FIELDS,
            *CAPTURE_MONEY,
            "_refund",
            "_refund_amount_cents",
        )
        updatable = ("_refund", "_refund_amount_cents")


class VoidSerializer(TransactionSerializer):
    relationships = {
        **TRANSACTION_RELATIONSHIPS,
        "reference_authorization": Relationship("authorizations"),
    }

    class Meta(TransactionSerializer.Meta):
        resource_name = "voids"


class RefundSerializer(TransactionSerializer):
    relationships = {**TRANSACTION_RELATIONSHIPS, "reference_capture": Relationship("captures")}

    class Meta(TransactionSerializer.Meta):
        resource_name = "refunds"
