"""JSON:API serializers of customers, orders, line items, shipments and payment sources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Model
from rest_framework import serializers

from fulfillment.models import Shipment, ShippingMethod
from fulfillment.selectors import shipping_methods_available
from markets.models import Sku
from oms.api.errors import Conflict
from oms.api.permissions import principal_of
from oms.api.serializers import (
    Relationship,
    ResourceSerializer,
    TypedMethodField,
    money_fields,
)
from orders.models import (
    Customer,
    CustomerAddress,
    CustomerPasswordReset,
    CustomerPaymentSource,
    GiftCard,
    LineItem,
    Order,
)
from orders.services.checkout import ORDER_SHIPMENT_TRIGGERS, payment_source_of
from orders.services.wallet import customer_payment_sources_available
from payments.models import ExternalPayment, PaymentMethod, TestPayment, WireTransfer
from payments.selectors import payment_methods_available

ORDER_AMOUNTS = (
    "subtotal_amount",
    "shipping_amount",
    "payment_method_amount",
    "discount_amount",
    "adjustment_amount",
    "gift_card_amount",
    "subtotal_tax_amount",
    "shipping_tax_amount",
    "payment_method_tax_amount",
    "adjustment_tax_amount",
    "total_tax_amount",
    "total_amount",
    "total_amount_with_taxes",
    "subtotal_taxable_amount",
    "shipping_taxable_amount",
    "payment_method_taxable_amount",
    "adjustment_taxable_amount",
    "total_taxable_amount",
    "place_total_amount",
)


class CustomerSerializer(ResourceSerializer):
    # checked by the service (normalised, then unique case-insensitively: "has already been
    # taken"), not by the model field's own validators
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, required=False, max_length=128)
    has_password = serializers.BooleanField(read_only=True)
    relationships = {
        "customer_group": Relationship("customer_groups", writable="both"),
        "orders": Relationship("orders", many=True, reverse="customer"),
        "customer_addresses": Relationship("customer_addresses", many=True, reverse="customer"),
        "customer_payment_sources": Relationship(
            "customer_payment_sources", many=True, reverse="customer"
        ),
        # a return has no customer column (it is its order's): its related endpoint only
        "returns": Relationship("returns", many=True, reverse="order__customer", links_only=True),
    }

    class Meta:
        model = Customer
        resource_name = "customers"
        fields = (
            "email",
            "status",
            "total_orders_count",
            "shopper_reference",
            "profile_id",
            "tax_exemption_code",
            "password",
            "has_password",
        )
        read_only_fields = ("status", "total_orders_count")
        creatable = (
            "email",
            "password",
            "shopper_reference",
            "profile_id",
            "tax_exemption_code",
            "customer_group",
        )
        updatable = creatable


class CustomerAddressSerializer(ResourceSerializer):
    relationships = {
        "customer": Relationship(
            "customers", writable="create", required=True, customers_only=True
        ),
        "address": Relationship("addresses", writable="create", required=True),
    }
    name = serializers.CharField(read_only=True)
    customer_email = serializers.CharField(read_only=True)

    class Meta:
        model = CustomerAddress
        resource_name = "customer_addresses"
        fields = ("name", "customer_email")
        select_related = ("customer", "address")
        creatable = ("customer", "address")
        updatable = ("address",)


class CustomerPaymentSourceSerializer(ResourceSerializer):
    """A wallet entry: the gateway's reusable token, never a card number."""

    relationships = {
        "customer": Relationship(
            "customers", writable="create", required=True, customers_only=True
        ),
        "payment_method": Relationship("payment_methods", writable="create", required=True),
    }
    name = serializers.CharField(read_only=True)
    payment_source_type = serializers.CharField(read_only=True)
    payment_source_token = serializers.CharField(max_length=512)
    customer_token = serializers.CharField(required=False, allow_blank=True, max_length=512)

    class Meta:
        model = CustomerPaymentSource
        resource_name = "customer_payment_sources"
        fields = ("name", "payment_source_type", "payment_source_token", "customer_token")
        select_related = ("customer", "payment_method")
        creatable = ("customer", "payment_method", "payment_source_token", "customer_token")
        updatable = ()


class CustomerPasswordResetSerializer(ResourceSerializer):
    """A password reset request. Its token goes to the customer's mailbox only:
    `reset_password_token` is always null here."""

    customer_email = serializers.CharField(max_length=254)
    reset_password_token = serializers.SerializerMethodField()
    reset_password_at = serializers.DateTimeField(read_only=True)
    customer_password = serializers.CharField(write_only=True, required=False, max_length=128)
    _reset_password_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=128
    )

    class Meta:
        model = CustomerPasswordReset
        resource_name = "customer_password_resets"
        fields = (
            "customer_email",
            "reset_password_token",
            "reset_password_at",
            "customer_password",
            "_reset_password_token",
        )
        read_only_fields = ("reset_password_at",)
        creatable = ("customer_email",)
        updatable = ("customer_password", "_reset_password_token")

    def get_reset_password_token(self, reset: CustomerPasswordReset) -> None:
        return None


ORDER_TRIGGERS = (
    "_place",
    "_cancel",
    "_approve",
    "_approve_and_capture",
    "_capture",
    "_refund",
    "_fulfill",
    "_archive",
    "_unarchive",
    "_start_editing",
    "_stop_editing",
    "_refresh",
    "_pending",
    "_update_taxes",
)
ORDER_ADDRESS_TRIGGERS = (
    "_shipping_address_same_as_billing",
    "_billing_address_same_as_shipping",
)
ORDER_CLONE_IDS = ("_shipping_address_clone_id", "_billing_address_clone_id")
# Saved for the order's customer when it is placed (customer tokens and integrations only).
ORDER_SAVE_TRIGGERS = (
    "_save_shipping_address_to_customer_address_book",
    "_save_billing_address_to_customer_address_book",
    "_save_payment_source_to_customer_wallet",
)
ORDER_WALLET_ATTRIBUTES = ("_customer_payment_source_id", *ORDER_SAVE_TRIGGERS)
PAYMENT_SOURCE_TYPES = ("wire_transfers", "external_payments", "test_payments")
ORDER_CART_ATTRIBUTES = (
    "coupon_code",
    "gift_card_code",
    "customer_email",
    "guest",
    "language_code",
    "autorefresh",
    "place_async",
    "shipping_country_code_lock",
    "affiliate_code",
    "cart_url",
    "return_url",
    "terms_url",
    "privacy_url",
)


class OrderSerializer(ResourceSerializer):
    relationships = {
        "market": Relationship("markets", writable="create"),
        "customer": Relationship("customers", writable="both", customers_only=True),
        "shipping_address": Relationship("addresses", writable="both"),
        "billing_address": Relationship("addresses", writable="both"),
        "payment_method": Relationship("payment_methods", writable="both"),
        "line_items": Relationship("line_items", many=True, reverse="order"),
        "shipments": Relationship("shipments", many=True, reverse="order"),
        "authorizations": Relationship(
            "authorizations",
            many=True,
            source="transactions",
            reverse="order",
            filter=(("type", "authorizations"),),
        ),
        "captures": Relationship(
            "captures",
            many=True,
            source="transactions",
            reverse="order",
            filter=(("type", "captures"),),
        ),
        "voids": Relationship(
            "voids", many=True, source="transactions", reverse="order", filter=(("type", "voids"),)
        ),
        "refunds": Relationship(
            "refunds",
            many=True,
            source="transactions",
            reverse="order",
            filter=(("type", "refunds"),),
        ),
        "stock_reservations": Relationship("stock_reservations", many=True, reverse="order"),
        # a buyer's after-sales: not a sales channel's, which holds the order by id only
        "returns": Relationship("returns", many=True, reverse="order", customers_only=True),
        "payment_source": Relationship(
            "payment_sources", polymorphic=PAYMENT_SOURCE_TYPES, resolve=payment_source_of
        ),
    }
    computed_relationships = {
        "available_payment_methods": ("get_available_payment_methods", "payment_methods"),
        "available_customer_payment_sources": (
            "get_available_customer_payment_sources",
            "customer_payment_sources",
        ),
    }
    computed_fields = {
        **{name: field for amount in ORDER_AMOUNTS for name, field in money_fields(amount).items()},
        **{
            trigger: serializers.BooleanField(write_only=True, required=False)
            for trigger in (*ORDER_TRIGGERS, *ORDER_SAVE_TRIGGERS)
        },
    }
    editable = serializers.BooleanField(read_only=True)
    line_item_options_count = serializers.IntegerField(read_only=True)
    errors_count = serializers.IntegerField(read_only=True)
    country_code = serializers.CharField(read_only=True, allow_null=True)
    archived = serializers.BooleanField(read_only=True)
    customer_email = serializers.EmailField(required=False, allow_blank=True)
    _shipping_address_same_as_billing = serializers.BooleanField(write_only=True, required=False)
    _billing_address_same_as_shipping = serializers.BooleanField(write_only=True, required=False)
    _shipping_address_clone_id = serializers.CharField(write_only=True, required=False)
    _billing_address_clone_id = serializers.CharField(write_only=True, required=False)
    _customer_payment_source_id = serializers.CharField(
        write_only=True, required=False, max_length=64
    )

    class Meta:
        model = Order
        resource_name = "orders"
        fields = (
            "number",
            "status",
            "payment_status",
            "fulfillment_status",
            *ORDER_CART_ATTRIBUTES,
            "currency_code",
            "tax_included",
            "country_code",
            "editable",
            "archived",
            "skus_count",
            "line_item_options_count",
            "errors_count",
            "placement_errors",
            "placed_at",
            "approved_at",
            "cancelled_at",
            "archived_at",
            "payment_updated_at",
            "fulfillment_updated_at",
            "refreshed_at",
            *ORDER_ADDRESS_TRIGGERS,
            *ORDER_CLONE_IDS,
            "_customer_payment_source_id",
        )
        read_only_fields = (
            "number",
            "status",
            "payment_status",
            "fulfillment_status",
            "currency_code",
            "tax_included",
            "skus_count",
            "placement_errors",
            "placed_at",
            "approved_at",
            "cancelled_at",
            "archived_at",
            "payment_updated_at",
            "fulfillment_updated_at",
            "refreshed_at",
        )
        select_related = (
            "market__price_list",
            "payment_method",
            "shipping_address",
            "billing_address",
        )
        creatable = (
            *ORDER_CART_ATTRIBUTES,
            "market",
            "customer",
            "shipping_address",
            "billing_address",
            "payment_method",
            *ORDER_ADDRESS_TRIGGERS,
            *ORDER_CLONE_IDS,
            *ORDER_SAVE_TRIGGERS,
        )
        updatable = (
            *ORDER_CART_ATTRIBUTES,
            "customer",
            "shipping_address",
            "billing_address",
            "payment_method",
            *ORDER_TRIGGERS,
            *ORDER_ADDRESS_TRIGGERS,
            *ORDER_CLONE_IDS,
            *ORDER_WALLET_ATTRIBUTES,
        )

    def get_available_customer_payment_sources(self, order: Order) -> list[CustomerPaymentSource]:
        """The customer's saved sources the cart can pay with: shown to the customer's own
        token (and integrations), never to a sales channel, which may hold a cart carrying a
        customer's e-mail without being that customer."""
        principal = principal_of(self.context["request"]) if "request" in self.context else None
        if principal is None or not (principal.is_integration or principal.is_customer):
            return []
        if principal.is_customer and order.customer_id != principal.customer_id:
            return []
        return list(customer_payment_sources_available(order=order))

    def get_available_payment_methods(self, order: Order) -> list[PaymentMethod]:
        return list(
            payment_methods_available(
                market=order.market,
                currency_code=order.currency_code,
                amount_cents=order.total_amount_with_taxes_cents,
            )
        )


# What a line's polymorphic `item` may be (shipments, payment methods and promotions have
# their own lines, set by their workflows, and no `item` linkage here).
LINE_ITEM_ITEM_TYPES = ("skus", "gift_cards")


def line_item_item_of(line: LineItem) -> Model | None:
    """The record a line sells: its SKU, or the gift card its `item_id` names."""
    if line.item_type == LineItem.ItemType.SKUS:
        return line.sku
    if line.item_type == LineItem.ItemType.GIFT_CARDS and line.item_id:
        return GiftCard.objects.filter(pk=line.item_id).first()
    return None


def line_item_item_of_linkage(linkage: Any) -> Sku | GiftCard:
    """The SKU or gift card a new line's `item` linkage names."""
    if not isinstance(linkage, Mapping) or "type" not in linkage or "id" not in linkage:
        raise serializers.ValidationError({"item": "An item needs a type and an id."})
    kind, pk = linkage["type"], str(linkage["id"])
    if kind not in LINE_ITEM_ITEM_TYPES:
        raise Conflict(
            f"Incorrect relation type. Expected one of {', '.join(LINE_ITEM_ITEM_TYPES)}, "
            f"received {kind}.",
            pointer="/data/relationships/item",
        )
    found = (Sku if kind == "skus" else GiftCard).objects.filter(pk=pk).first()
    if found is None:
        raise serializers.ValidationError({"item": f'Invalid pk "{pk}" - object does not exist.'})
    return found


class LineItemSerializer(ResourceSerializer):
    relationships = {
        "order": Relationship("orders", writable="create", required=True),
        "sku": Relationship("skus", writable="create"),
        # a SKU or a gift card (`item_type: gift_cards`: the card is sold in the order); the
        # umbrella type "items" has no serializer of its own, as "payment_sources"
        "item": Relationship(
            "items", polymorphic=LINE_ITEM_ITEM_TYPES, resolve=line_item_item_of, writable="create"
        ),
        "stock_reservations": Relationship("stock_reservations", many=True, reverse="line_item"),
        "stock_line_items": Relationship("stock_line_items", many=True, reverse="line_item"),
        "return_line_items": Relationship(
            "return_line_items", many=True, reverse="line_item", customers_only=True
        ),
    }
    computed_fields = {
        # unit_amount_cents is writable (an integration's price override), declared below
        **{
            name: field
            for name, field in money_fields("unit_amount").items()
            if name != "unit_amount_cents"
        },
        **money_fields("total_amount"),
        **{
            name: field
            for name, field in money_fields("compare_at_amount").items()
            if name != "compare_at_amount_cents"
        },
    }
    sku_code = serializers.CharField(required=False, allow_blank=True, max_length=255)
    unit_amount_cents = serializers.IntegerField(required=False, min_value=0)
    quantity = serializers.IntegerField(required=False, min_value=1, max_value=100000)
    # creatable as "skus" (the default) or "gift_cards"; the view refuses the others
    item_type = serializers.ChoiceField(choices=LineItem.ItemType.choices, required=False)
    _update_quantity = serializers.BooleanField(write_only=True, required=False)
    _reserve_stock = serializers.BooleanField(write_only=True, required=False)
    tax_rate = serializers.FloatField(read_only=True)
    tax_breakdown = TypedMethodField({"type": "object", "nullable": True})

    class Meta:
        model = LineItem
        resource_name = "line_items"
        fields = (
            "sku_code",
            "item_type",
            "item_id",
            "name",
            "image_url",
            "quantity",
            "unit_amount_cents",
            "compare_at_amount_cents",
            "discount_cents",
            "discount_breakdown",
            "coupon_code",
            "tax_rate",
            "tax_amount_cents",
            "tax_breakdown",
            "_update_quantity",
            "_reserve_stock",
        )
        read_only_fields = (
            "item_id",
            "discount_cents",
            "discount_breakdown",
            "coupon_code",
            "tax_rate",
            "tax_amount_cents",
            "compare_at_amount_cents",
        )
        select_related = ("order", "sku")
        creatable = (
            "sku_code",
            "item_type",
            "quantity",
            "unit_amount_cents",
            "name",
            "order",
            "sku",
            "item",
            "_update_quantity",
            "_reserve_stock",
        )
        updatable = ("quantity", "unit_amount_cents", "name", "_reserve_stock")

    def build_fields(self) -> dict[str, Any]:
        fields = super().build_fields()
        fields["currency_code"] = serializers.CharField(
            source="order.currency_code", read_only=True
        )
        return fields

    def get_tax_breakdown(self, line: LineItem) -> dict[str, Any] | None:
        """What the line's tax was computed on (null when it is not taxed)."""
        if not line.tax_rate:
            return None
        discounted = line.total_amount_cents + line.discount_cents
        taxable = discounted - line.tax_amount_cents if line.order.tax_included else discounted
        return {
            "tax_rate": float(line.tax_rate),
            "taxable_amount_cents": taxable,
            "tax_amount_cents": line.tax_amount_cents,
        }

    def to_internal_value(self, data: Any) -> Any:
        # the polymorphic `item` renders read only; a create names it here
        attrs = super().to_internal_value(data)
        if isinstance(data, Mapping) and data.get("item") is not None:
            attrs["item"] = line_item_item_of_linkage(data["item"])
        return attrs


SHIPMENT_TRIGGERS = ORDER_SHIPMENT_TRIGGERS


class ShipmentSerializer(ResourceSerializer):
    relationships = {
        "order": Relationship("orders"),
        "shipping_category": Relationship("shipping_categories"),
        "shipping_method": Relationship("shipping_methods", writable="update"),
        "stock_line_items": Relationship("stock_line_items", many=True, reverse="shipment"),
        "parcels": Relationship("parcels", many=True, reverse="shipment"),
    }
    computed_relationships = {
        "available_shipping_methods": ("get_available_shipping_methods", "shipping_methods"),
    }
    computed_fields = {
        trigger: serializers.BooleanField(write_only=True, required=False)
        for trigger in SHIPMENT_TRIGGERS
    }
    skus_count = serializers.IntegerField(read_only=True)
    currency_code = serializers.CharField(read_only=True)

    class Meta:
        model = Shipment
        resource_name = "shipments"
        fields = (
            "number",
            "status",
            "currency_code",
            "skus_count",
            "on_hold_at",
            "picking_at",
            "packing_at",
            "ready_to_ship_at",
            "shipped_at",
            "delivered_at",
        )
        read_only_fields = fields
        select_related = ("order__market", "order__shipping_address", "inventory_stock_location")
        prefetch_related = ("stock_line_items",)
        creatable = ()
        updatable = ("shipping_method", *SHIPMENT_TRIGGERS)

    def get_available_shipping_methods(self, shipment: Shipment) -> list[ShippingMethod]:
        return shipping_methods_available(shipment=shipment)


class PaymentSourceSerializer(ResourceSerializer):
    relationships = {"order": Relationship("orders", writable="create", required=True)}
    payment_instrument = serializers.JSONField(read_only=True)


class WireTransferSerializer(PaymentSourceSerializer):
    class Meta:
        model = WireTransfer
        resource_name = "wire_transfers"
        fields = ("payment_instrument",)
        creatable = ("order",)
        updatable = ()


class ExternalPaymentSerializer(PaymentSourceSerializer):
    class Meta:
        model = ExternalPayment
        resource_name = "external_payments"
        fields = ("payment_instrument", "payment_source_token", "options")
        creatable = ("order", "payment_source_token", "options")
        updatable = ("options",)


class TestPaymentSerializer(PaymentSourceSerializer):
    """The test gateway's card: its `token` decides the answer (tok_success, tok_declined…)."""

    __test__ = False

    class Meta:
        model = TestPayment
        resource_name = "test_payments"
        fields = ("payment_instrument", "token")
        creatable = ("order", "token")
        updatable = ()
