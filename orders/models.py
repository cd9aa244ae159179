"""Customers, orders and line items.

This is the skeleton the payments and fulfillment apps reference; the order lifecycle
(state machines, totals, triggers) is built on top of it in `orders/`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from oms.models import Resource


class Customer(Resource):
    """Someone who buys. Found or created from an order's `customer_email`."""

    class Status(models.TextChoices):
        PROSPECT = "prospect", "prospect"
        """Known by e-mail, has not placed an order yet."""
        ACQUIRED = "acquired", "acquired"
        """Has placed exactly one order."""
        REPEAT = "repeat", "repeat"
        """Has placed more than one order."""

    email = models.EmailField(unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROSPECT)
    customer_group = models.ForeignKey(
        "markets.CustomerGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    total_orders_count = models.PositiveIntegerField(default=0)

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(total_orders_count__gte=0), name="customer_orders_count_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.email


class Order(Resource):
    """A cart that becomes an order. Its three statuses move independently (spec section 2)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        """A cart: no customer or no purchasable item yet."""
        PENDING = "pending", "pending"
        """A cart ready to be placed."""
        PLACING = "placing", "placing"
        """Being placed in the background (`place_async`)."""
        PLACED = "placed", "placed"
        """Placed by the customer: payment authorized, stock reserved; awaiting approval."""
        EDITING = "editing", "editing"
        """Being edited by the back office after placement."""
        APPROVED = "approved", "approved"
        """Approved by the merchant: stock decremented, ready to fulfil."""
        CANCELLED = "cancelled", "cancelled"
        """Cancelled: authorization voided or payment refunded, stock released."""

    class PaymentStatus(models.TextChoices):
        UNPAID = "unpaid", "unpaid"
        """Nothing authorized."""
        AUTHORIZED = "authorized", "authorized"
        """The full total is authorized."""
        PARTIALLY_AUTHORIZED = "partially_authorized", "partially authorized"
        """Part of the total is authorized."""
        PAID = "paid", "paid"
        """The full total is captured."""
        PARTIALLY_PAID = "partially_paid", "partially paid"
        """Part of the total is captured."""
        VOIDED = "voided", "voided"
        """The authorization was voided."""
        PARTIALLY_VOIDED = "partially_voided", "partially voided"
        """Part of the authorization was voided."""
        REFUNDED = "refunded", "refunded"
        """Everything captured was refunded."""
        PARTIALLY_REFUNDED = "partially_refunded", "partially refunded"
        """Part of the capture was refunded."""
        FREE = "free", "free"
        """Placed with a total of zero: nothing to pay."""

    class FulfillmentStatus(models.TextChoices):
        UNFULFILLED = "unfulfilled", "unfulfilled"
        """Nothing shipped yet and not being prepared."""
        IN_PROGRESS = "in_progress", "in progress"
        """Paid (or approved without capture): shipments are being prepared."""
        FULFILLED = "fulfilled", "fulfilled"
        """Every shipment has left."""
        NOT_REQUIRED = "not_required", "not required"
        """Nothing to ship: every item is digital."""

    number = models.PositiveBigIntegerField(unique=True, editable=False)
    market = models.ForeignKey("markets.Market", on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    customer_email = models.EmailField(blank=True, default="")
    currency_code = models.CharField(max_length=3)
    tax_included = models.BooleanField(default=True)
    language_code = models.CharField(max_length=10, default="en")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    payment_status = models.CharField(
        max_length=30, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID
    )
    fulfillment_status = models.CharField(
        max_length=20, choices=FulfillmentStatus.choices, default=FulfillmentStatus.UNFULFILLED
    )
    shipping_address = models.ForeignKey(
        "markets.Address", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    billing_address = models.ForeignKey(
        "markets.Address", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"#{self.number}"


class LineItem(Resource):
    """A line of an order: a SKU bought, or a shipping cost, a payment fee, a discount."""

    class ItemType(models.TextChoices):
        SKUS = "skus", "SKU"
        BUNDLES = "bundles", "bundle"
        GIFT_CARDS = "gift_cards", "gift card"
        SHIPMENTS = "shipments", "shipment"
        PAYMENT_METHODS = "payment_methods", "payment method"
        ADJUSTMENTS = "adjustments", "adjustment"
        PERCENTAGE_DISCOUNT_PROMOTIONS = "percentage_discount_promotions", "percentage discount"
        FREE_SHIPPING_PROMOTIONS = "free_shipping_promotions", "free shipping"
        BUY_X_PAY_Y_PROMOTIONS = "buy_x_pay_y_promotions", "buy X pay Y"
        FREE_GIFT_PROMOTIONS = "free_gift_promotions", "free gift"
        FIXED_PRICE_PROMOTIONS = "fixed_price_promotions", "fixed price"
        EXTERNAL_PROMOTIONS = "external_promotions", "external promotion"
        FIXED_AMOUNT_PROMOTIONS = "fixed_amount_promotions", "fixed amount"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="line_items")
    item_type = models.CharField(max_length=40, choices=ItemType.choices)
    sku = models.ForeignKey(
        "markets.Sku", on_delete=models.PROTECT, null=True, blank=True, related_name="line_items"
    )
    sku_code = models.CharField(max_length=255, blank=True, default="")
    name = models.CharField(max_length=255, blank=True, default="")
    quantity = models.PositiveIntegerField(default=1)
    unit_amount_cents = models.BigIntegerField(default=0)
    total_amount_cents = models.BigIntegerField(default=0)

    class Meta(Resource.Meta):
        ordering = ("created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="line_item_quantity_positive"
            ),
            models.CheckConstraint(
                condition=~Q(item_type="skus") | Q(sku__isnull=False),
                name="line_item_sku_line_has_sku",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku_code or self.name}"


class OrderEvent(models.Model):
    """One row of an order's timeline: a status change of the order, a payment or a shipment,
    written in the same transaction as the change (spec section 8)."""

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=255)
    trigger = models.CharField(max_length=64)  # e.g. "_place", "_capture", "_ship"
    subject_type = models.CharField(max_length=64)  # "orders", "captures", "shipments", ...
    subject_id = models.CharField(max_length=32)
    field = models.CharField(max_length=64, default="status")  # which status moved
    from_status = models.CharField(max_length=40, blank=True, default="")
    to_status = models.CharField(max_length=40, blank=True, default="")
    amount_cents = models.BigIntegerField(null=True, blank=True)  # when money moved
    currency_code = models.CharField(max_length=3, blank=True, default="")
    message = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["order", "created_at"])]

    def __str__(self) -> str:
        return f"{self.subject_type} {self.field}: {self.from_status} -> {self.to_status}"
