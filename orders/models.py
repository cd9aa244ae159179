"""Customers, their address books, orders, line items and the order timeline.

The payments and fulfillment apps reference `orders.Order` and `orders.LineItem` by string;
every write goes through `orders.services` (STYLE: services own every write).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any, overload

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from markets.models import validate_country_code
from oms.models import Resource, UpperCodeField
from oms.money import cents_to_float, format_money
from payments.models import validate_not_card_number


class CentsAs[T]:
    """A read-only rendering of a `*_cents` field in the model's currency: the `*_float` and
    `formatted_*` attributes of the API. Presentation only; never computed with."""

    def __init__(self, cents_field: str, render: Callable[[int | None, str], T]) -> None:
        self.cents_field = cents_field
        self.render = render

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> CentsAs[T]: ...
    @overload
    def __get__(self, instance: object, owner: type[Any]) -> T: ...
    def __get__(self, instance: object | None, owner: type[Any]) -> CentsAs[T] | T:
        if instance is None:
            return self
        currency_code: str = getattr(instance, "currency_code")  # noqa: B009
        return self.render(getattr(instance, self.cents_field), currency_code)


def as_float(cents_field: str) -> CentsAs[float | None]:
    return CentsAs(cents_field, cents_to_float)


def as_formatted(cents_field: str) -> CentsAs[str]:
    return CentsAs(cents_field, format_money)


_UNSET = object()


def empty_errors() -> list[dict[str, str]]:
    return []


class Customer(Resource):
    """Someone who buys. Found or created from an order's `customer_email`."""

    class Status(models.TextChoices):
        PROSPECT = "prospect", "prospect"
        """Known by e-mail, has not placed an order yet."""
        ACQUIRED = "acquired", "acquired"
        """Has placed exactly one order."""
        REPEAT = "repeat", "repeat"
        """Has placed more than one order."""

    # Stored in lower case by `customer_find_or_create`; unique case-insensitively (see Meta).
    email = models.EmailField(unique=True)
    # Derived from total_orders_count by `customer_order_placed` (and checked in the database).
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PROSPECT, editable=False
    )
    customer_group = models.ForeignKey(
        "markets.CustomerGroup",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customers",
    )
    total_orders_count = models.PositiveIntegerField(default=0, editable=False)
    shopper_reference = models.CharField(max_length=255, blank=True, default="")
    # Django's password hash; empty: the customer cannot log in (guests, imported customers)
    password_hash = models.CharField(max_length=255, blank=True, default="", editable=False)
    profile_id = models.CharField(max_length=255, blank=True, default="")
    tax_exemption_code = models.CharField(max_length=255, blank=True, default="")

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(total_orders_count__gte=0), name="customer_orders_count_not_negative"
            ),
            models.UniqueConstraint(Lower("email"), name="customer_email_unique_ci"),
            models.CheckConstraint(
                condition=Q(status="prospect", total_orders_count=0)
                | Q(status="acquired", total_orders_count=1)
                | Q(status="repeat", total_orders_count__gte=2),
                name="customer_status_follows_orders_count",
            ),
        ]

    @property
    def has_password(self) -> bool:
        """Whether the customer can log in (signed up, or given a password by the back office)."""
        return bool(self.password_hash)

    def __str__(self) -> str:
        return self.email


class CustomerPasswordReset(Resource):
    """A request to reset a customer's password: a single-use token, e-mailed to the customer
    and stored only as its hash, valid until `expires_at`. A request for an e-mail nobody
    signed up with is recorded too (without a customer, and no e-mail is sent), so the answer
    does not tell who has an account."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="password_resets",
    )
    customer_email = models.EmailField()
    token_hash = models.CharField(max_length=64, editable=False)
    expires_at = models.DateTimeField(editable=False)
    reset_password_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self) -> str:
        return f"password reset of {self.customer_email}"


class CustomerAddress(Resource):
    """An address in a customer's address book. Orders never point at it: they get a clone."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="customer_addresses"
    )
    address = models.ForeignKey(
        "markets.Address", on_delete=models.PROTECT, related_name="customer_addresses"
    )

    class Meta(Resource.Meta):
        verbose_name_plural = "customer addresses"
        constraints = [
            models.UniqueConstraint(fields=["customer", "address"], name="customer_address_unique"),
        ]

    @property
    def name(self) -> str:
        return self.address.name

    @property
    def customer_email(self) -> str:
        return self.customer.email

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.address_id}"


class CustomerPaymentSource(Resource):
    """A payment source in a customer's wallet: what the gateway of `payment_method` reuses to
    charge the customer again (its reusable token or reference, and its customer token), never
    a card number. An order paid with it gets a new payment source of its own with that token
    (`_customer_payment_source_id`)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="customer_payment_sources"
    )
    payment_method = models.ForeignKey(
        "payments.PaymentMethod",
        on_delete=models.CASCADE,
        related_name="customer_payment_sources",
    )
    # the payment source type the token is for (the method's, when it was saved)
    payment_source_type = models.CharField(max_length=40, editable=False)
    payment_source_token = models.CharField(max_length=512, validators=[validate_not_card_number])
    customer_token = models.CharField(
        max_length=512, blank=True, default="", validators=[validate_not_card_number]
    )
    name = models.CharField(max_length=255, blank=True, default="")

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=~Q(payment_source_token=""),
                name="customer_payment_source_token_not_empty",
            ),
            models.UniqueConstraint(
                fields=["customer", "payment_method", "payment_source_token"],
                name="customer_payment_source_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"{self.payment_source_type} {self.pk}"


# Line item types grouped by the order total they add to (spec section 3).
PURCHASABLE_ITEM_TYPES = frozenset({"skus", "bundles", "gift_cards"})
PROMOTION_ITEM_TYPES = frozenset(
    {
        "percentage_discount_promotions",
        "free_shipping_promotions",
        "buy_x_pay_y_promotions",
        "free_gift_promotions",
        "fixed_price_promotions",
        "external_promotions",
        "fixed_amount_promotions",
    }
)
# Lines that can only cost money (never negative).
CHARGE_ITEM_TYPES = PURCHASABLE_ITEM_TYPES | {"shipments", "payment_methods"}


# Transition conditions (django-fsm calls them with the order).
def _ready_for_checkout(order: Any) -> bool:
    return bool(order.is_ready_for_checkout())


def _not_ready_for_checkout(order: Any) -> bool:
    return not order.is_ready_for_checkout()


def _within_place_total(order: Any) -> bool:
    return bool(order.is_within_place_total())


class Order(ConcurrentTransitionMixin, Resource):
    """A cart that becomes an order. Its three statuses move independently (spec section 2).

    `status` is a protected state machine: only the transition methods below change it, and
    only the services in `orders.services` call them (inside a transaction, on a locked row).
    ConcurrentTransitionMixin makes a save from a stale copy fail instead of overwriting.
    """

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

    # States in which the order's contents (lines, customer, addresses) may change.
    CART_STATUSES = frozenset({Status.DRAFT, Status.PENDING})
    EDITABLE_STATUSES = CART_STATUSES | {Status.EDITING}
    ARCHIVABLE_STATUSES = frozenset({Status.PLACED, Status.APPROVED, Status.CANCELLED})
    WAS_PLACED_STATUSES = frozenset({Status.PLACED, Status.EDITING, Status.APPROVED})

    number = models.PositiveBigIntegerField(unique=True, editable=False)
    market = models.ForeignKey("markets.Market", on_delete=models.PROTECT, related_name="orders")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    customer_email = models.EmailField(blank=True, default="")
    guest = models.BooleanField(default=False)
    currency_code = models.CharField(max_length=3, editable=False)
    tax_included = models.BooleanField(default=True, editable=False)
    language_code = models.CharField(max_length=10, default="en")
    status = FSMField(
        max_length=20,
        choices=Status.choices,
        default=Status.DRAFT,
        protected=True,
        db_index=True,
    )
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
    # The payment source is the order's latest wire transfer, external or test payment (each
    # points at its order); the method is chosen here and priced as a line.
    payment_method = models.ForeignKey(
        "payments.PaymentMethod",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
    )

    # Saved to the customer's address book and wallet when the order is placed (the
    # `_save_*` triggers set them; `orders.services.placement` acts on them).
    save_shipping_address_to_customer_address_book = models.BooleanField(
        default=False, editable=False
    )
    save_billing_address_to_customer_address_book = models.BooleanField(
        default=False, editable=False
    )
    save_payment_source_to_customer_wallet = models.BooleanField(default=False, editable=False)

    # Checkout options.
    autorefresh = models.BooleanField(
        default=True, help_text="Recompute prices and totals on every change of a cart."
    )
    place_async = models.BooleanField(
        default=False, help_text="`_place` runs in the background (pending → placing → placed)."
    )
    affiliate_code = models.CharField(max_length=255, blank=True, default="")
    # A storefront sets the codes; the coupon and gift card they name are resolved once, when
    # the code is set (`orders.services.discounts`), and used by the recompute pipeline.
    coupon_code = models.CharField(max_length=255, blank=True, default="")
    coupon = models.ForeignKey(
        "orders.Coupon", on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    gift_card_code = models.CharField(max_length=255, blank=True, default="")
    gift_card = models.ForeignKey(
        "orders.GiftCard", on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    # True from the placement that counted this order's promotion and coupon uses and debited
    # its gift card until a cancellation (or an aborted placement) gives them back: the flag,
    # changed on the locked order, makes both happen exactly once.
    redemptions_claimed = models.BooleanField(default=False, editable=False)
    shipping_country_code_lock = UpperCodeField(
        max_length=2, blank=True, default="", validators=[validate_country_code]
    )
    cart_url = models.URLField(max_length=2048, blank=True, default="")
    return_url = models.URLField(max_length=2048, blank=True, default="")
    terms_url = models.URLField(max_length=2048, blank=True, default="")
    privacy_url = models.URLField(max_length=2048, blank=True, default="")

    # Totals: written only by `order_totals_write` from `orders.totals.order_totals_compute`.
    subtotal_amount_cents = models.BigIntegerField(default=0, editable=False)
    shipping_amount_cents = models.BigIntegerField(default=0, editable=False)
    payment_method_amount_cents = models.BigIntegerField(default=0, editable=False)
    discount_amount_cents = models.BigIntegerField(default=0, editable=False)
    adjustment_amount_cents = models.BigIntegerField(default=0, editable=False)
    gift_card_amount_cents = models.BigIntegerField(default=0, editable=False)
    subtotal_tax_amount_cents = models.BigIntegerField(default=0, editable=False)
    shipping_tax_amount_cents = models.BigIntegerField(default=0, editable=False)
    payment_method_tax_amount_cents = models.BigIntegerField(default=0, editable=False)
    adjustment_tax_amount_cents = models.BigIntegerField(default=0, editable=False)
    total_tax_amount_cents = models.BigIntegerField(default=0, editable=False)
    total_amount_cents = models.BigIntegerField(default=0, editable=False)
    total_amount_with_taxes_cents = models.BigIntegerField(default=0, editable=False)
    # What the taxes are computed on: each line's amount after its discount, net of the tax a
    # tax-included price holds.
    subtotal_taxable_amount_cents = models.BigIntegerField(default=0, editable=False)
    shipping_taxable_amount_cents = models.BigIntegerField(default=0, editable=False)
    payment_method_taxable_amount_cents = models.BigIntegerField(default=0, editable=False)
    adjustment_taxable_amount_cents = models.BigIntegerField(default=0, editable=False)
    total_taxable_amount_cents = models.BigIntegerField(default=0, editable=False)
    place_total_amount_cents = models.BigIntegerField(null=True, blank=True, editable=False)
    skus_count = models.PositiveIntegerField(default=0, editable=False)

    # What went wrong the last time a background placement failed: [{code, detail, pointer}].
    placement_errors = models.JSONField(default=empty_errors, blank=True, editable=False)

    # indexed where set (see Meta.indexes): a plain index would put the carts first
    placed_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    payment_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    fulfillment_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    refreshed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Resource.Meta):
        # What a staff role may do to an order beyond viewing it (the admin's buttons; the
        # groups of orders/migrations/0006_staff_roles.py hold them).
        permissions = [
            ("approve_order", "Can approve orders"),
            ("capture_order", "Can capture and void the payment of orders"),
            ("refund_order", "Can refund orders"),
            ("cancel_order", "Can cancel orders"),
            ("archive_order", "Can archive orders"),
            ("note_order", "Can add staff notes to orders"),
        ]
        constraints = [
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 0}), name=f"order_{name}_not_negative"
                )
                for name in (
                    "subtotal_amount_cents",
                    "shipping_amount_cents",
                    "payment_method_amount_cents",
                    "subtotal_tax_amount_cents",
                    "shipping_tax_amount_cents",
                    "payment_method_tax_amount_cents",
                    "adjustment_tax_amount_cents",
                    "total_tax_amount_cents",
                    "total_amount_cents",
                    "total_amount_with_taxes_cents",
                    "skus_count",
                )
            ],
            models.CheckConstraint(
                condition=Q(place_total_amount_cents__isnull=True)
                | Q(place_total_amount_cents__gte=0),
                name="order_place_total_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(discount_amount_cents__lte=0), name="order_discount_not_positive"
            ),
            models.CheckConstraint(
                condition=Q(gift_card_amount_cents__lte=0), name="order_gift_card_not_positive"
            ),
            # The parts add up exactly, whoever writes the row.
            models.CheckConstraint(
                condition=Q(
                    total_amount_cents=F("subtotal_amount_cents")
                    + F("shipping_amount_cents")
                    + F("payment_method_amount_cents")
                    + F("discount_amount_cents")
                    + F("adjustment_amount_cents")
                    + F("gift_card_amount_cents")
                ),
                name="order_total_is_sum_of_parts",
            ),
            models.CheckConstraint(
                condition=Q(
                    total_tax_amount_cents=F("subtotal_tax_amount_cents")
                    + F("shipping_tax_amount_cents")
                    + F("payment_method_tax_amount_cents")
                    + F("adjustment_tax_amount_cents")
                ),
                name="order_total_tax_is_sum_of_parts",
            ),
            models.CheckConstraint(
                condition=Q(
                    tax_included=True, total_amount_with_taxes_cents=F("total_amount_cents")
                )
                | Q(
                    tax_included=False,
                    total_amount_with_taxes_cents=F("total_amount_cents")
                    + F("total_tax_amount_cents"),
                ),
                name="order_total_with_taxes_follows_tax_included",
            ),
            # An order owns its addresses: never shared between its two slots or two orders.
            models.CheckConstraint(
                condition=Q(shipping_address__isnull=True)
                | Q(billing_address__isnull=True)
                | ~Q(shipping_address=F("billing_address")),
                name="order_addresses_not_shared",
            ),
            models.UniqueConstraint(
                fields=["shipping_address"], name="order_shipping_address_unique"
            ),
            models.UniqueConstraint(
                fields=["billing_address"], name="order_billing_address_unique"
            ),
            # The timestamps of the lifecycle go with the status.
            models.CheckConstraint(
                condition=~Q(status__in=["placed", "editing", "approved"])
                | Q(placed_at__isnull=False, place_total_amount_cents__isnull=False),
                name="order_placed_has_placed_at",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(approved_at__isnull=False),
                name="order_approved_has_approved_at",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False),
                name="order_cancelled_has_cancelled_at",
            ),
        ]
        indexes = [
            models.Index(fields=["market", "status"]),
            # The order lists (API and admin): filtered by status (and market), newest placed
            # first. Partial on archived_at IS NULL, the lists' own filter; the market last, so
            # a market's count reads the index only (INCLUDE would do, but not on SQLite).
            # docs/performance.md has the plans.
            models.Index(
                fields=["status", "placed_at", "market"],
                condition=Q(archived_at__isnull=True),
                name="order_list_status_placed",
            ),
            # placed_at ranges. Not a plain index: scanned backwards for `-placed_at`, a plain
            # one meets every cart (placed_at NULL sorts first) before the first placed order,
            # and the planner, not knowing, preferred it to the list index above (400 ms).
            models.Index(
                fields=["placed_at"],
                condition=Q(placed_at__isnull=False),
                name="order_placed_at_set",
            ),
        ]

    # --- renderings of the amounts ------------------------------------------------------
    subtotal_amount_float = as_float("subtotal_amount_cents")
    formatted_subtotal_amount = as_formatted("subtotal_amount_cents")
    shipping_amount_float = as_float("shipping_amount_cents")
    formatted_shipping_amount = as_formatted("shipping_amount_cents")
    payment_method_amount_float = as_float("payment_method_amount_cents")
    formatted_payment_method_amount = as_formatted("payment_method_amount_cents")
    discount_amount_float = as_float("discount_amount_cents")
    formatted_discount_amount = as_formatted("discount_amount_cents")
    adjustment_amount_float = as_float("adjustment_amount_cents")
    formatted_adjustment_amount = as_formatted("adjustment_amount_cents")
    gift_card_amount_float = as_float("gift_card_amount_cents")
    formatted_gift_card_amount = as_formatted("gift_card_amount_cents")
    subtotal_tax_amount_float = as_float("subtotal_tax_amount_cents")
    formatted_subtotal_tax_amount = as_formatted("subtotal_tax_amount_cents")
    shipping_tax_amount_float = as_float("shipping_tax_amount_cents")
    formatted_shipping_tax_amount = as_formatted("shipping_tax_amount_cents")
    payment_method_tax_amount_float = as_float("payment_method_tax_amount_cents")
    formatted_payment_method_tax_amount = as_formatted("payment_method_tax_amount_cents")
    adjustment_tax_amount_float = as_float("adjustment_tax_amount_cents")
    formatted_adjustment_tax_amount = as_formatted("adjustment_tax_amount_cents")
    total_tax_amount_float = as_float("total_tax_amount_cents")
    formatted_total_tax_amount = as_formatted("total_tax_amount_cents")
    total_amount_float = as_float("total_amount_cents")
    formatted_total_amount = as_formatted("total_amount_cents")
    total_amount_with_taxes_float = as_float("total_amount_with_taxes_cents")
    formatted_total_amount_with_taxes = as_formatted("total_amount_with_taxes_cents")
    subtotal_taxable_amount_float = as_float("subtotal_taxable_amount_cents")
    formatted_subtotal_taxable_amount = as_formatted("subtotal_taxable_amount_cents")
    shipping_taxable_amount_float = as_float("shipping_taxable_amount_cents")
    formatted_shipping_taxable_amount = as_formatted("shipping_taxable_amount_cents")
    payment_method_taxable_amount_float = as_float("payment_method_taxable_amount_cents")
    formatted_payment_method_taxable_amount = as_formatted("payment_method_taxable_amount_cents")
    adjustment_taxable_amount_float = as_float("adjustment_taxable_amount_cents")
    formatted_adjustment_taxable_amount = as_formatted("adjustment_taxable_amount_cents")
    total_taxable_amount_float = as_float("total_taxable_amount_cents")
    formatted_total_taxable_amount = as_formatted("total_taxable_amount_cents")
    place_total_amount_float = as_float("place_total_amount_cents")
    formatted_place_total_amount = as_formatted("place_total_amount_cents")

    def refresh_from_db(
        self,
        using: str | None = None,
        fields: Iterable[str] | None = None,
        from_queryset: models.QuerySet[Any] | None = None,
    ) -> None:
        """A thread-safe reload. django-fsm-2's own version unprotects the status field for
        the whole class while it reloads, so two threads reloading orders at once can find the
        protection back mid-way ("Direct status modification is not allowed"). Here the
        instance's status leaves its __dict__ first, so the reload assigns it the way a fresh
        instance is assigned, and the protection is never switched off."""
        names = None if fields is None else set(fields)
        reload_status = names is None or "status" in names
        previous = self.__dict__.pop("status", _UNSET)
        try:
            models.Model.refresh_from_db(
                self, using=using, fields=names, from_queryset=from_queryset
            )
            if not reload_status:
                # Not asked for: keep the status this copy had, whatever the reload did.
                self.__dict__.pop("status", None)
                if previous is not _UNSET:
                    self.__dict__["status"] = previous
            elif "status" not in self.__dict__:
                self.__dict__["status"] = (
                    type(self)
                    ._base_manager.using(using or self._state.db)
                    .filter(pk=self.pk)
                    .values_list("status", flat=True)
                    .get()
                )
        except BaseException:
            if "status" not in self.__dict__ and previous is not _UNSET:
                self.__dict__["status"] = previous
            raise
        self._update_initial_state()

    # --- small predicates ---------------------------------------------------------------
    @property
    def editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    @property
    def archived(self) -> bool:
        return self.archived_at is not None

    @property
    def country_code(self) -> str:
        """From the shipping address, else the billing address (spec: inherited)."""
        for address in (self.shipping_address, self.billing_address):
            if address is not None:
                return address.country_code
        return ""

    @property
    def line_item_options_count(self) -> int:
        # Line item options are not modelled (yet): a line never has any.
        return 0

    @property
    def errors_count(self) -> int:
        return len(self.placement_errors)

    def has_purchasable_line_items(self) -> bool:
        known = self.__dict__.get("_purchasable_known")  # set for one decision: order_status_sync
        if known is not None:
            return bool(known)
        return self.line_items.filter(item_type__in=PURCHASABLE_ITEM_TYPES).exists()

    def is_ready_for_checkout(self) -> bool:
        """draft → pending guard: a customer and at least one purchasable line item."""
        return self.customer_id is not None and self.has_purchasable_line_items()

    def is_within_place_total(self) -> bool:
        """An edited order may not cost more than what was authorized at placement."""
        return (
            self.place_total_amount_cents is not None
            and self.total_amount_with_taxes_cents <= self.place_total_amount_cents
        )

    # --- the status machine (spec 2.1). Services call these on a locked row. -------------
    @transition(
        field=status,
        source=Status.DRAFT,
        target=Status.PENDING,
        conditions=[_ready_for_checkout],
    )
    def become_pending(self) -> None:
        """draft → pending, automatically or by `_pending`."""

    @transition(
        field=status,
        source=Status.PENDING,
        target=Status.DRAFT,
        conditions=[_not_ready_for_checkout],
    )
    def become_draft(self) -> None:
        """pending → draft when the customer or the last purchasable line item goes."""

    @transition(field=status, source=Status.PENDING, target=Status.PLACING)
    def start_placing(self) -> None:
        """pending → placing: `_place` with `place_async`."""

    @transition(field=status, source=Status.PLACING, target=Status.PENDING)
    def abort_placing(self) -> None:
        """placing → pending: a background placement failed, or `_pending`."""

    @transition(field=status, source=[Status.PENDING, Status.PLACING], target=Status.PLACED)
    def place(self) -> None:
        """pending/placing → placed."""

    @transition(field=status, source=Status.PLACED, target=Status.APPROVED)
    def approve(self) -> None:
        """placed → approved."""

    @transition(
        field=status,
        source=[Status.PENDING, Status.PLACED, Status.APPROVED],
        target=Status.CANCELLED,
    )
    def cancel(self) -> None:
        """pending/placed → cancelled by `_cancel`; approved → cancelled by a full refund."""

    @transition(field=status, source=Status.PLACED, target=Status.EDITING)
    def start_editing(self) -> None:
        """placed → editing."""

    @transition(
        field=status,
        source=Status.EDITING,
        target=Status.PLACED,
        conditions=[_within_place_total],
    )
    def stop_editing(self) -> None:
        """editing → placed, if the new total does not exceed the placed one."""

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
    # The public id of the polymorphic item when it is not a SKU (a shipment, a payment method).
    item_id = models.CharField(max_length=32, blank=True, default="")
    sku_code = models.CharField(max_length=255, blank=True, default="")
    name = models.CharField(max_length=255, blank=True, default="")
    image_url = models.URLField(max_length=2048, blank=True, default="")
    quantity = models.PositiveIntegerField(default=1)
    unit_amount_cents = models.BigIntegerField(default=0)
    # True when an integration set the unit price: refreshes keep it instead of repricing.
    unit_amount_manual = models.BooleanField(default=False, editable=False)
    compare_at_amount_cents = models.BigIntegerField(null=True, blank=True)
    total_amount_cents = models.BigIntegerField(default=0)
    # Written by the totals function; promotions and taxes plug in there (0 until then).
    discount_cents = models.BigIntegerField(default=0, editable=False)
    tax_rate = models.DecimalField(
        max_digits=9, decimal_places=6, default=Decimal(0), editable=False
    )
    tax_amount_cents = models.BigIntegerField(default=0, editable=False)
    # promotion id -> {"cents": its share of this line's discount_cents}, written with it
    discount_breakdown = models.JSONField(default=dict, blank=True, editable=False)
    # on a promotion line: the coupon that unlocked its promotion
    coupon_code = models.CharField(max_length=255, blank=True, default="", editable=False)

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
            models.CheckConstraint(
                condition=Q(total_amount_cents=F("unit_amount_cents") * F("quantity")),
                name="line_item_total_is_unit_times_quantity",
            ),
            models.CheckConstraint(
                condition=~Q(item_type__in=sorted(CHARGE_ITEM_TYPES)) | Q(unit_amount_cents__gte=0),
                name="line_item_charge_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(item_type__in=sorted(PROMOTION_ITEM_TYPES))
                | Q(unit_amount_cents__lte=0),
                name="line_item_promotion_not_positive",
            ),
            models.CheckConstraint(
                condition=Q(compare_at_amount_cents__isnull=True)
                | Q(compare_at_amount_cents__gte=0),
                name="line_item_compare_at_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(discount_cents__lte=0), name="line_item_discount_not_positive"
            ),
            models.CheckConstraint(
                condition=Q(tax_amount_cents__gte=0), name="line_item_tax_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0), name="line_item_tax_rate_not_negative"
            ),
            # One line per shipment / payment method of an order.
            models.UniqueConstraint(
                fields=["order", "item_type", "item_id"],
                condition=~Q(item_id=""),
                name="line_item_one_per_item",
            ),
        ]

    @property
    def currency_code(self) -> str:
        return self.order.currency_code

    unit_amount_float = as_float("unit_amount_cents")
    formatted_unit_amount = as_formatted("unit_amount_cents")
    compare_at_amount_float = as_float("compare_at_amount_cents")
    formatted_compare_at_amount = as_formatted("compare_at_amount_cents")
    total_amount_float = as_float("total_amount_cents")
    formatted_total_amount = as_formatted("total_amount_cents")
    discount_float = as_float("discount_cents")
    formatted_discount = as_formatted("discount_cents")
    tax_amount_float = as_float("tax_amount_cents")
    formatted_tax_amount = as_formatted("tax_amount_cents")

    @property
    def purchasable(self) -> bool:
        return self.item_type in PURCHASABLE_ITEM_TYPES

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku_code or self.name}"


class OrderEvent(models.Model):
    """One row of an order's timeline: a status change of the order, a payment or a shipment,
    written in the same transaction as the change (spec section 8). Each kind of change is an
    `event_type`, written by its own `<entity>_<event>_event` function (orders/events.py,
    fulfillment/events.py), so the timeline, the webhooks and the dashboard read the same
    facts."""

    class Type(models.TextChoices):
        ORDER_STATUS_CHANGED = "order_status_changed"
        ORDER_PAYMENT_STATUS_CHANGED = "order_payment_status_changed"
        ORDER_FULFILLMENT_STATUS_CHANGED = "order_fulfillment_status_changed"
        ORDER_ARCHIVED_CHANGED = "order_archived_changed"
        ORDER_NOTE_ADDED = "order_note_added"
        TRANSACTION_SETTLED = "transaction_settled"
        SHIPMENT_STATUS_CHANGED = "shipment_status_changed"
        RETURN_STATUS_CHANGED = "return_status_changed"
        RETURN_LINE_ITEM_RESTOCKED = "return_line_item_restocked"

    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    event_type = models.CharField(max_length=40, choices=Type.choices)
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


class SavedOrderFilter(Resource):
    """A staff user's named view of the order list: the query string of its filters and
    search, shown as a link above the list (issue 9)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_order_filters"
    )
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True, default="")

    class Meta(Resource.Meta):
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_order_filter_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Promotion(Resource):
    """A discount a market applies to the carts its rules match (spec section 6). One table
    for the five kinds; `type` is the API resource and the promotion line's item type."""

    class Type(models.TextChoices):
        PERCENTAGE_DISCOUNT = "percentage_discount_promotions", "percentage discount"
        FIXED_AMOUNT = "fixed_amount_promotions", "fixed amount"
        FREE_SHIPPING = "free_shipping_promotions", "free shipping"
        FIXED_PRICE = "fixed_price_promotions", "fixed price"
        BUY_X_PAY_Y = "buy_x_pay_y_promotions", "buy X pay Y"

    class Status(models.TextChoices):
        DISABLED = "disabled", "disabled: switched off by the merchant"
        EXPIRED = "expired", "expired: past its expires_at"
        PENDING = "pending", "pending: its starts_at is still to come"
        ACTIVE = "active", "active: applied to the carts its rules match"
        INACTIVE = "inactive", "inactive: its total usage limit is reached"

    type = models.CharField(max_length=40, choices=Type.choices, editable=False)
    market = models.ForeignKey(
        "markets.Market", on_delete=models.PROTECT, related_name="promotions"
    )
    name = models.CharField(max_length=255)
    currency_code = UpperCodeField(max_length=3, blank=True, default="")
    exclusive = models.BooleanField(default=False)
    priority = models.PositiveIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    total_usage_limit = models.PositiveIntegerField(null=True, blank=True)
    total_usage_count = models.PositiveIntegerField(default=0, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # What each kind needs (the others leave them empty).
    percentage = models.PositiveSmallIntegerField(null=True, blank=True)
    fixed_amount_cents = models.BigIntegerField(null=True, blank=True)
    x = models.PositiveIntegerField(null=True, blank=True)
    y = models.PositiveIntegerField(null=True, blank=True)
    cheapest_free = models.BooleanField(default=False)
    # The SKUs a percentage, fixed price or buy X pay Y promotion discounts (all when empty).
    sku_list = models.ForeignKey(
        "markets.SkuList",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="promotions",
    )

    class Meta:
        ordering = ("priority", "created_at", "id")
        indexes = [models.Index(fields=["market", "expires_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("starts_at")), name="promotion_expires_after_start"
            ),
            models.CheckConstraint(
                condition=Q(total_usage_limit__isnull=True)
                | Q(total_usage_count__lte=F("total_usage_limit")),
                name="promotion_usage_within_limit",
            ),
            models.CheckConstraint(
                condition=~Q(type="percentage_discount_promotions")
                | Q(percentage__gte=1, percentage__lte=100),
                name="promotion_percentage_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(type__in=["fixed_amount_promotions", "fixed_price_promotions"])
                | Q(fixed_amount_cents__gte=0),
                name="promotion_fixed_amount_set",
            ),
            models.CheckConstraint(
                condition=~Q(type="buy_x_pay_y_promotions") | Q(x__gte=1, y__gte=0, x__gt=F("y")),
                name="promotion_x_greater_than_y",
            ),
        ]

    def status_at(self, now: Any) -> str:
        if self.disabled_at is not None:
            return self.Status.DISABLED
        if self.expires_at <= now:
            return self.Status.EXPIRED
        if self.starts_at > now:
            return self.Status.PENDING
        if self.total_usage_reached:
            return self.Status.INACTIVE
        return self.Status.ACTIVE

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    @property
    def active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def total_usage_reached(self) -> bool:
        limit = self.total_usage_limit
        return limit is not None and self.total_usage_count >= limit

    @property
    def weight(self) -> int:
        """Higher applies first: exclusive promotions, then by priority (lower first)."""
        priority = self.priority if self.priority is not None else 99_999
        return (1_000_000 if self.exclusive else 0) + max(0, 100_000 - priority)

    fixed_amount_float = as_float("fixed_amount_cents")
    formatted_fixed_amount = as_formatted("fixed_amount_cents")

    def __str__(self) -> str:
        return f"{self.name} ({self.get_type_display()})"


class PromotionRule(Resource):
    """A condition a cart must meet for its promotion to apply (every rule must match); a
    promotion has at most one rule of each kind."""

    class Type(models.TextChoices):
        ORDER_AMOUNT = "order_amount_promotion_rules", "order amount"
        SKU_LIST = "sku_list_promotion_rules", "SKU list"
        COUPON_CODES = "coupon_codes_promotion_rules", "coupon codes"

    type = models.CharField(max_length=40, choices=Type.choices, editable=False)
    promotion = models.ForeignKey(
        Promotion, on_delete=models.CASCADE, related_name="promotion_rules"
    )
    # order amount: the cart's total (its subtotal with `use_subtotal`) must reach it
    order_amount_cents = models.BigIntegerField(null=True, blank=True)
    use_subtotal = models.BooleanField(default=False)
    # SKU list: at least `min_quantity` units of the list's SKUs (all of them with `all_skus`)
    sku_list = models.ForeignKey(
        "markets.SkuList",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="promotion_rules",
    )
    all_skus = models.BooleanField(default=False)
    min_quantity = models.PositiveIntegerField(null=True, blank=True)

    class Meta(Resource.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "type"], name="promotion_rule_one_per_type"
            ),
            models.CheckConstraint(
                condition=~Q(type="order_amount_promotion_rules") | Q(order_amount_cents__gte=0),
                name="promotion_rule_order_amount_set",
            ),
            models.CheckConstraint(
                condition=~Q(type="sku_list_promotion_rules") | Q(sku_list__isnull=False),
                name="promotion_rule_sku_list_set",
            ),
        ]

    @property
    def currency_code(self) -> str:
        return self.promotion.market.price_list.currency_code

    order_amount_float = as_float("order_amount_cents")
    formatted_order_amount = as_formatted("order_amount_cents")

    def __str__(self) -> str:
        return f"{self.get_type_display()} rule of {self.promotion.name}"


class Coupon(Resource):
    """A code that unlocks the promotion of its coupon-codes rule. Codes are unique whatever
    their case; `usage_count` moves at placement and back at cancellation."""

    promotion_rule = models.ForeignKey(
        PromotionRule, on_delete=models.CASCADE, related_name="coupons"
    )
    code = models.CharField(max_length=255)
    customer_single_use = models.BooleanField(default=False)
    usage_limit = models.PositiveIntegerField(null=True, blank=True)
    usage_count = models.PositiveIntegerField(default=0, editable=False)
    recipient_email = models.EmailField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta(Resource.Meta):
        constraints = [
            models.UniqueConstraint(Upper("code"), name="coupon_code_unique_any_case"),
            models.CheckConstraint(condition=~Q(code=""), name="coupon_code_not_empty"),
            models.CheckConstraint(
                condition=Q(usage_limit__isnull=True) | Q(usage_count__lte=F("usage_limit")),
                name="coupon_usage_within_limit",
            ),
        ]

    @property
    def usage_reached(self) -> bool:
        return self.usage_limit is not None and self.usage_count >= self.usage_limit

    def __str__(self) -> str:
        return self.code


def new_gift_card_code() -> str:
    """122 random bits, as Commerce Layer's UUID codes: not guessable, not enumerable."""
    return str(uuid.uuid4())


class GiftCard(Resource):
    """Stored value a customer pays with (spec section 6): draft → inactive (`_purchase`) →
    active (`_activate`) ↔ inactive (`_deactivate`); a single-use card is redeemed once used.
    `balance_cents` only moves through `orders.services.gift_cards`, each move logged."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft: being set up, not yet sold"
        INACTIVE = "inactive", "inactive: sold or switched off, cannot pay yet"
        ACTIVE = "active", "active: pays orders from its balance"
        REDEEMED = "redeemed", "redeemed: a single-use card that has been used"

    status = FSMField(max_length=20, choices=Status.choices, default=Status.DRAFT, protected=True)
    code = models.CharField(max_length=255, default=new_gift_card_code)
    market = models.ForeignKey(
        "markets.Market",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="gift_cards",
    )
    currency_code = UpperCodeField(max_length=3)
    initial_balance_cents = models.BigIntegerField(default=0, editable=False)
    balance_cents = models.BigIntegerField(default=0)
    balance_max_cents = models.BigIntegerField(null=True, blank=True)
    single_use = models.BooleanField(default=False)
    rechargeable = models.BooleanField(default=True)
    distribute_discount = models.BooleanField(default=True)
    image_url = models.URLField(max_length=2048, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    recipient_email = models.EmailField(blank=True, default="")

    class Meta(Resource.Meta):
        constraints = [
            models.UniqueConstraint(Upper("code"), name="gift_card_code_unique_any_case"),
            models.CheckConstraint(condition=~Q(code=""), name="gift_card_code_not_empty"),
            models.CheckConstraint(
                condition=Q(balance_cents__gte=0), name="gift_card_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(balance_max_cents__isnull=True)
                | Q(balance_cents__lte=F("balance_max_cents")),
                name="gift_card_balance_within_max",
            ),
        ]

    initial_balance_float = as_float("initial_balance_cents")
    formatted_initial_balance = as_formatted("initial_balance_cents")
    balance_float = as_float("balance_cents")
    formatted_balance = as_formatted("balance_cents")
    balance_max_float = as_float("balance_max_cents")
    formatted_balance_max = as_formatted("balance_max_cents")

    @transition(field=status, source=Status.DRAFT, target=Status.INACTIVE)
    def purchase(self) -> None:
        """draft → inactive."""

    @transition(field=status, source=Status.INACTIVE, target=Status.ACTIVE)
    def activate(self) -> None:
        """inactive → active."""

    @transition(field=status, source=Status.ACTIVE, target=Status.INACTIVE)
    def deactivate(self) -> None:
        """active → inactive."""

    @transition(field=status, source=Status.ACTIVE, target=Status.REDEEMED)
    def redeem(self) -> None:
        """active → redeemed (a single-use card, used)."""

    @transition(field=status, source=Status.REDEEMED, target=Status.ACTIVE)
    def unredeem(self) -> None:
        """redeemed → active (the order that used it was cancelled: its balance is back)."""

    def __str__(self) -> str:
        return f"gift card …{self.code[-4:]} ({self.formatted_balance})"


class GiftCardBalanceChange(models.Model):
    """One move of a gift card's balance: set by the merchant (`_balance_change_cents`), paid
    to an order at its placement (negative), given back at its cancellation (positive)."""

    class Kind(models.TextChoices):
        CHANGE = "change", "balance changed by the merchant"
        DEBIT = "debit", "paid to an order"
        CREDIT = "credit", "given back by an order"

    id = models.BigAutoField(primary_key=True)
    gift_card = models.ForeignKey(
        GiftCard, on_delete=models.CASCADE, related_name="balance_changes"
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount_cents = models.BigIntegerField()
    balance_cents = models.BigIntegerField()  # after this move
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_cents__gte=0), name="gift_card_change_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_cents}"
