"""Stock, inventory models, shipping methods and shipments (spec section 5).

Every write goes through `fulfillment.services`; these classes hold tables, constraints, the
shipment state machine and small predicates only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from markets.models import Address, Sku, unique_code, validate_currency_code
from oms.models import Resource, UpperCodeField
from oms.money import cents_to_float, format_money

# Parcels and shipping methods weigh in the SKUs' units.
UnitOfWeight = Sku.UnitOfWeight


GRAMS_PER_UNIT: dict[str, Decimal] = {
    UnitOfWeight.GRAMS: Decimal(1),
    UnitOfWeight.OUNCES: Decimal("28.349523125"),
    UnitOfWeight.POUNDS: Decimal("453.59237"),
}


def weight_convert(weight: Decimal, *, from_unit: str, to_unit: str) -> Decimal:
    """`weight` expressed in `from_unit`, converted to `to_unit` (exact decimal arithmetic)."""
    if from_unit == to_unit:
        return weight
    return weight * GRAMS_PER_UNIT[from_unit] / GRAMS_PER_UNIT[to_unit]


def validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(
            f"Not a valid regular expression: {exc}.", code="invalid_regex"
        ) from exc


def not_negative(field: str, model: str, *, nullable: bool = False) -> models.CheckConstraint:
    condition = Q(**{f"{field}__gte": 0})
    if nullable:
        condition |= Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=condition, name=f"{model}_{field}_not_negative")


# --- stock ----------------------------------------------------------------------------------


class StockLocation(Resource):
    """A place stock is kept and shipped from (a warehouse, a store): its address is the
    shipments' "from" address."""

    class LabelFormat(models.TextChoices):
        PDF = "PDF", "PDF"
        ZPL = "ZPL", "ZPL"
        EPL2 = "EPL2", "EPL2"
        PNG = "PNG", "PNG"

    number = models.PositiveIntegerField(unique=True, editable=False)
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=100, blank=True, default="")
    address = models.ForeignKey(Address, on_delete=models.PROTECT, related_name="+")
    label_format = models.CharField(
        max_length=4, choices=LabelFormat.choices, default=LabelFormat.PDF
    )
    suppress_etd = models.BooleanField(default=False)

    class Meta:
        ordering = ("number",)
        constraints = [unique_code("stock_location")]

    def __str__(self) -> str:
        return self.name


class StockItem(Resource):
    """How many units of a SKU a stock location holds. What is available to sell is this
    quantity minus the active reservations on it (see `fulfillment.selectors`)."""

    stock_location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="stock_items"
    )
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="stock_items")
    quantity = models.IntegerField(validators=[MinValueValidator(0)])

    class Meta(Resource.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["sku", "stock_location"], name="stock_item_sku_location_unique"
            ),
            not_negative("quantity", "stock_item"),
        ]

    @property
    def sku_code(self) -> str:
        return self.sku.code

    def __str__(self) -> str:
        # Names, not ids: the admin's selects, history and messages show this.
        return f"{self.sku.code} @ {self.stock_location.name}"


class StockAdjustment(Resource):
    """One change of a stock item's quantity by hand, with its reason: the stock history.
    Written by `stock_item_adjust` in the transaction that moves the quantity."""

    stock_item = models.ForeignKey(
        StockItem, on_delete=models.CASCADE, related_name="stock_adjustments"
    )
    delta = models.IntegerField()
    quantity_before = models.IntegerField()
    quantity_after = models.IntegerField(validators=[MinValueValidator(0)])
    reason = models.CharField(max_length=255)
    actor_kind = models.CharField(max_length=20)
    actor_name = models.CharField(max_length=255, blank=True, default="")

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity_after=F("quantity_before") + F("delta")),
                name="stock_adjustment_adds_up",
            ),
            not_negative("quantity_after", "stock_adjustment"),
        ]

    def __str__(self) -> str:
        sign = "+" if self.delta > 0 else ""
        return f"{sign}{self.delta} ({self.reason})"


class InventoryModel(Resource):
    """How a market uses its stock locations: which ones, in what order, how shipments split."""

    class Strategy(models.TextChoices):
        NO_SPLIT = "no_split", "no split"
        """One shipment (per shipping category) from the first location that has everything."""
        SPLIT_SHIPMENTS = "split_shipments", "split shipments"
        """Each line from locations in priority order, one shipment per location used."""
        SHIP_FROM_PRIMARY = "ship_from_primary", "ship from primary"
        """Everything from the first location; missing stock is transferred there."""
        SHIP_FROM_FIRST_AVAILABLE_OR_PRIMARY = (
            "ship_from_first_available_or_primary",
            "ship from first available or primary",
        )
        """The first location that has everything, else the primary one with transfers."""

    name = models.CharField(max_length=255)
    strategy = models.CharField(max_length=40, choices=Strategy.choices, default=Strategy.NO_SPLIT)
    stock_locations_cutoff = models.PositiveIntegerField(
        default=2, validators=[MinValueValidator(1)]
    )
    stock_reservation_cutoff = models.PositiveIntegerField(
        default=3600,
        validators=[MinValueValidator(1)],
        help_text="Seconds a draft reservation lasts.",
    )
    put_stock_transfers_on_hold = models.BooleanField(default=False)
    manual_stock_decrement = models.BooleanField(
        default=False,
        help_text="Approval keeps the reservations; stock is decremented per shipment by hand.",
    )

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(stock_locations_cutoff__gte=1),
                name="inventory_model_locations_cutoff_positive",
            ),
            models.CheckConstraint(
                condition=Q(stock_reservation_cutoff__gte=1),
                name="inventory_model_reservation_cutoff_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InventoryStockLocation(Resource):
    """A stock location used by an inventory model; smaller `priority` is tried first.
    `on_hold`: shipments fulfilled from here wait on hold (back-orders, pre-orders)."""

    inventory_model = models.ForeignKey(
        InventoryModel, on_delete=models.CASCADE, related_name="inventory_stock_locations"
    )
    stock_location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="inventory_stock_locations"
    )
    priority = models.PositiveIntegerField()
    on_hold = models.BooleanField(default=False)

    class Meta:
        ordering = ("inventory_model", "priority", "created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["inventory_model", "stock_location"],
                name="inventory_stock_location_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stock_location_id} (priority {self.priority})"


class InventoryReturnLocation(Resource):
    """A stock location returns of an inventory model's orders go back to, by priority."""

    inventory_model = models.ForeignKey(
        InventoryModel, on_delete=models.CASCADE, related_name="inventory_return_locations"
    )
    stock_location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, related_name="inventory_return_locations"
    )
    priority = models.PositiveIntegerField()

    class Meta:
        ordering = ("inventory_model", "priority", "created_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=["inventory_model", "stock_location"],
                name="inventory_return_location_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stock_location_id} (priority {self.priority})"


class StockReservation(Resource):
    """Units of a stock item held for an order's line item, so nobody else can sell them."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        """Held for a cart (`_reserve_stock`) until `expires_at`; gone once expired."""
        PENDING = "pending", "pending"
        """Held for a placed order until it is approved (decrement) or cancelled (release)."""

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    stock_item = models.ForeignKey(
        StockItem, on_delete=models.PROTECT, related_name="stock_reservations"
    )
    line_item = models.ForeignKey(
        "orders.LineItem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="stock_reservations",
    )
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="stock_reservations",
    )
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="stock_reservation_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(status="draft", expires_at__isnull=False)
                | Q(status="pending", expires_at__isnull=True),
                name="stock_reservation_only_drafts_expire",
            ),
            models.UniqueConstraint(
                fields=["line_item", "stock_item"],
                condition=Q(line_item__isnull=False),
                name="stock_reservation_one_per_line_and_item",
            ),
        ]

    def is_active(self, now: datetime | None = None) -> bool:
        """Pending reservations hold until approval or cancellation; drafts until they expire."""
        if self.status == self.Status.PENDING:
            return True
        return self.expires_at is not None and self.expires_at > (now or timezone.now())

    def __str__(self) -> str:
        return f"{self.quantity} of {self.stock_item_id} ({self.status})"


# --- shipping -------------------------------------------------------------------------------


class ShippingZone(Resource):
    """Where a shipping method delivers: regular expressions on the shipping address's country,
    state and zip code (searched, as Commerce Layer does); an empty pattern matches anything."""

    name = models.CharField(max_length=255)
    country_code_regex = models.TextField(
        blank=True, default="", validators=[MaxLengthValidator(5000), validate_regex]
    )
    not_country_code_regex = models.TextField(
        blank=True, default="", validators=[MaxLengthValidator(5000), validate_regex]
    )
    state_code_regex = models.TextField(
        blank=True, default="", validators=[MaxLengthValidator(5000), validate_regex]
    )
    not_state_code_regex = models.TextField(
        blank=True, default="", validators=[MaxLengthValidator(5000), validate_regex]
    )
    zip_code_regex = models.TextField(
        blank=True, default="", validators=[MaxLengthValidator(5000), validate_regex]
    )
    not_zip_code_regex = models.TextField(
        blank=True, default="", validators=[MaxLengthValidator(5000), validate_regex]
    )

    def matches(self, address: Address) -> bool:
        checks = (
            (self.country_code_regex, self.not_country_code_regex, address.country_code),
            (self.state_code_regex, self.not_state_code_regex, address.state_code),
            (self.zip_code_regex, self.not_zip_code_regex, address.zip_code),
        )
        for wanted, unwanted, value in checks:
            if wanted and not re.search(wanted, value or ""):
                return False
            if unwanted and re.search(unwanted, value or ""):
                return False
        return True

    def __str__(self) -> str:
        return self.name


class ShippingMethod(Resource):
    """A way to ship, with its price: flat, or by weight tiers; free over an order amount."""

    class Scheme(models.TextChoices):
        FLAT = "flat", "flat"
        """One price whatever the shipment weighs."""
        WEIGHT_TIERED = "weight_tiered", "weight tiered"
        """The price of the lightest weight tier that holds the shipment."""
        EXTERNAL = "external", "external"
        """Priced by a merchant service (not supported yet: never offered)."""

    name = models.CharField(max_length=255)
    scheme = models.CharField(max_length=20, choices=Scheme.choices, default=Scheme.FLAT)
    market = models.ForeignKey(
        "markets.Market",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipping_methods",
    )
    shipping_zone = models.ForeignKey(
        ShippingZone,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipping_methods",
    )
    shipping_category = models.ForeignKey(
        "markets.ShippingCategory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipping_methods",
    )
    stock_location = models.ForeignKey(
        StockLocation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipping_methods",
    )
    currency_code = UpperCodeField(
        max_length=3,
        blank=True,
        validators=[validate_currency_code],
        help_text="Leave empty to use the market's currency.",
    )
    external_prices_url = models.URLField(max_length=2048, blank=True, default="")
    price_amount_cents = models.BigIntegerField(validators=[MinValueValidator(0)])
    free_over_amount_cents = models.BigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0)]
    )
    use_subtotal = models.BooleanField(default=False)
    min_weight = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    max_weight = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    unit_of_weight = models.CharField(
        max_length=2, choices=UnitOfWeight.choices, blank=True, default=""
    )
    tax_code = models.CharField(max_length=100, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Resource.Meta):
        constraints = [
            not_negative("price_amount_cents", "shipping_method"),
            not_negative("free_over_amount_cents", "shipping_method", nullable=True),
            not_negative("min_weight", "shipping_method", nullable=True),
            not_negative("max_weight", "shipping_method", nullable=True),
            models.CheckConstraint(
                condition=Q(min_weight__isnull=True)
                | Q(max_weight__isnull=True)
                | Q(min_weight__lte=models.F("max_weight")),
                name="shipping_method_min_weight_lte_max",
            ),
            models.CheckConstraint(
                condition=~Q(currency_code="") | Q(market__isnull=False),
                name="shipping_method_currency_or_market",
            ),
            models.CheckConstraint(
                condition=Q(currency_code=Upper("currency_code")),
                name="shipping_method_currency_upper",
            ),
        ]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.currency_code and self.market is not None:
            self.currency_code = self.market.currency_code
        if not self.currency_code:
            errors["currency_code"] = "A shipping method without a market needs a currency."
        needs_unit = (
            self.min_weight is not None
            or self.max_weight is not None
            or self.scheme == self.Scheme.WEIGHT_TIERED
        )
        if needs_unit and not self.unit_of_weight:
            errors["unit_of_weight"] = "Weight limits and weight tiers need a unit (gr, oz, lb)."
        if (
            self.min_weight is not None
            and self.max_weight is not None
            and self.min_weight > self.max_weight
        ):
            errors["max_weight"] = "The maximum weight is below the minimum."
        if self.scheme == self.Scheme.EXTERNAL and not self.external_prices_url:
            errors["external_prices_url"] = "An external scheme needs its prices URL."
        if errors:
            raise ValidationError(errors)

    @property
    def is_enabled(self) -> bool:
        return self.disabled_at is None

    @property
    def price_amount_float(self) -> float | None:
        return cents_to_float(self.price_amount_cents, self.currency_code)

    @property
    def formatted_price_amount(self) -> str:
        return format_money(self.price_amount_cents, self.currency_code)

    @property
    def free_over_amount_float(self) -> float | None:
        return cents_to_float(self.free_over_amount_cents, self.currency_code)

    @property
    def formatted_free_over_amount(self) -> str:
        return format_money(self.free_over_amount_cents, self.currency_code)

    def __str__(self) -> str:
        return self.name


class ShippingWeightTier(Resource):
    """The price of a weight-tiered shipping method for shipments up to `up_to` (in the method's
    unit of weight); an empty `up_to` is the open-ended tier."""

    shipping_method = models.ForeignKey(
        ShippingMethod, on_delete=models.CASCADE, related_name="shipping_weight_tiers"
    )
    name = models.CharField(max_length=255)
    up_to = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    price_amount_cents = models.BigIntegerField(validators=[MinValueValidator(0)])

    class Meta:
        ordering = ("shipping_method", "up_to")
        constraints = [
            models.UniqueConstraint(
                fields=["shipping_method", "up_to"], name="shipping_weight_tier_up_to_unique"
            ),
            models.UniqueConstraint(
                fields=["shipping_method"],
                condition=Q(up_to__isnull=True),
                name="shipping_weight_tier_one_open_ended",
            ),
            not_negative("price_amount_cents", "shipping_weight_tier"),
            not_negative("up_to", "shipping_weight_tier", nullable=True),
        ]

    @property
    def type(self) -> str:
        return "shipping_weight_tiers"

    def __str__(self) -> str:
        return self.name


class DeliveryLeadTime(Resource):
    """How long a shipping method takes from a stock location, in hours."""

    stock_location = models.ForeignKey(
        StockLocation, on_delete=models.CASCADE, related_name="delivery_lead_times"
    )
    shipping_method = models.ForeignKey(
        ShippingMethod, on_delete=models.CASCADE, related_name="delivery_lead_times"
    )
    min_hours = models.PositiveIntegerField()
    max_hours = models.PositiveIntegerField()

    class Meta(Resource.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["stock_location", "shipping_method"], name="delivery_lead_time_unique"
            ),
            models.CheckConstraint(
                condition=Q(min_hours__lte=models.F("max_hours")),
                name="delivery_lead_time_min_lte_max",
            ),
        ]

    def clean(self) -> None:
        if (
            self.min_hours is not None
            and self.max_hours is not None
            and self.min_hours > self.max_hours
        ):
            raise ValidationError({"max_hours": "The maximum is below the minimum."})

    @property
    def min_days(self) -> int:
        return round(self.min_hours / 24)

    @property
    def max_days(self) -> int:
        return round(self.max_hours / 24)

    def __str__(self) -> str:
        return f"{self.min_hours}-{self.max_hours} h"


# --- shipments ------------------------------------------------------------------------------


def held_from(state: str) -> Callable[[Any], bool]:
    """Condition: a shipment on hold goes back only to the state it was held from."""

    def condition(shipment: Shipment) -> bool:
        return shipment.status_before_hold == state

    condition.__name__ = f"held_from_{state}"
    return condition


class Shipment(ConcurrentTransitionMixin, Resource):
    """What one stock location sends for an order. Its status moves only through the
    transitions below, each named after the API trigger attribute that fires it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        """Planned for a cart; rebuilt whenever the cart changes."""
        UPCOMING = "upcoming", "upcoming"
        """The order is placed: the warehouse will prepare it."""
        CANCELLED = "cancelled", "cancelled"
        """Will not be shipped."""
        ON_HOLD = "on_hold", "on hold"
        """Paused (back-order, pre-order, a problem); resumes where it was."""
        PICKING = "picking", "picking"
        """Items are being picked from the shelves."""
        PACKING = "packing", "packing"
        """Items are being packed into parcels."""
        READY_TO_SHIP = "ready_to_ship", "ready to ship"
        """Packed and labelled, waiting for the carrier."""
        SHIPPED = "shipped", "shipped"
        """Handed to the carrier."""
        DELIVERED = "delivered", "delivered"
        """Received by the customer."""

    # Triggers from "picking" onwards need the order's fulfillment to be in progress.
    TRIGGERS_NEEDING_FULFILLMENT = frozenset(
        {"_picking", "_packing", "_ready_to_ship", "_ship", "_deliver"}
    )
    HOLDABLE = (Status.UPCOMING, Status.PICKING, Status.PACKING)
    CANCELLABLE = (
        Status.DRAFT,
        Status.UPCOMING,
        Status.ON_HOLD,
        Status.PICKING,
        Status.PACKING,
        Status.READY_TO_SHIP,
    )

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="shipments")
    number = models.CharField(max_length=64, unique=True, editable=False)
    status = FSMField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, protected=True, db_index=True
    )
    status_before_hold = models.CharField(
        max_length=20, choices=Status.choices, blank=True, default="", editable=False
    )
    inventory_stock_location = models.ForeignKey(
        InventoryStockLocation, on_delete=models.PROTECT, related_name="shipments"
    )
    shipping_category = models.ForeignKey(
        "markets.ShippingCategory",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments",
    )
    shipping_method = models.ForeignKey(
        ShippingMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="shipments"
    )
    on_hold_at = models.DateTimeField(null=True, blank=True, editable=False)
    picking_at = models.DateTimeField(null=True, blank=True, editable=False)
    packing_at = models.DateTimeField(null=True, blank=True, editable=False)
    ready_to_ship_at = models.DateTimeField(null=True, blank=True, editable=False)
    shipped_at = models.DateTimeField(null=True, blank=True, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("order", "number")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    status="on_hold", status_before_hold__in=["upcoming", "picking", "packing"]
                )
                | (~Q(status="on_hold") & Q(status_before_hold="")),
                name="shipment_hold_remembers_origin",
            ),
        ]

    @property
    def stock_location(self) -> StockLocation:
        return self.inventory_stock_location.stock_location

    @property
    def origin_address(self) -> Address:
        return self.stock_location.address

    @property
    def shipping_address(self) -> Address | None:
        return self.order.shipping_address

    @property
    def currency_code(self) -> str:
        return self.order.currency_code

    @property
    def skus_count(self) -> int:
        return sum(line.quantity for line in self.stock_line_items.all())

    # The transitions. Bodies only stamp times; services lock, guard and record events.

    @transition(field=status, source=Status.DRAFT, target=Status.UPCOMING)
    @transition(
        field=status,
        source=Status.ON_HOLD,
        target=Status.UPCOMING,
        conditions=[held_from(Status.UPCOMING)],
    )
    def _upcoming(self) -> None:
        self.status_before_hold = ""

    @transition(field=status, source=HOLDABLE, target=Status.ON_HOLD)
    def _on_hold(self) -> None:
        self.status_before_hold = self.status
        self.on_hold_at = timezone.now()

    @transition(field=status, source=Status.UPCOMING, target=Status.PICKING)
    @transition(
        field=status,
        source=Status.ON_HOLD,
        target=Status.PICKING,
        conditions=[held_from(Status.PICKING)],
    )
    def _picking(self) -> None:
        self.status_before_hold = ""
        self.picking_at = self.picking_at or timezone.now()

    @transition(field=status, source=Status.PICKING, target=Status.PACKING)
    @transition(
        field=status,
        source=Status.ON_HOLD,
        target=Status.PACKING,
        conditions=[held_from(Status.PACKING)],
    )
    def _packing(self) -> None:
        self.status_before_hold = ""
        self.packing_at = self.packing_at or timezone.now()

    @transition(field=status, source=Status.PACKING, target=Status.READY_TO_SHIP)
    def _ready_to_ship(self) -> None:
        self.ready_to_ship_at = timezone.now()

    @transition(field=status, source=Status.READY_TO_SHIP, target=Status.SHIPPED)
    def _ship(self) -> None:
        self.shipped_at = timezone.now()

    @transition(field=status, source=Status.SHIPPED, target=Status.DELIVERED)
    def _deliver(self) -> None:
        self.delivered_at = timezone.now()

    @transition(field=status, source=CANCELLABLE, target=Status.CANCELLED)
    def _cancel(self) -> None:
        self.status_before_hold = ""

    def __str__(self) -> str:
        return self.number


class StockLineItem(Resource):
    """A quantity of one SKU of an order's line item that a shipment sends from a stock item
    (no stock item for `do_not_track` SKUs)."""

    shipment = models.ForeignKey(
        Shipment, on_delete=models.CASCADE, null=True, blank=True, related_name="stock_line_items"
    )
    line_item = models.ForeignKey(
        "orders.LineItem",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="stock_line_items",
    )
    stock_item = models.ForeignKey(
        StockItem, on_delete=models.PROTECT, null=True, blank=True, related_name="stock_line_items"
    )
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="stock_line_items")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        ordering = ("shipment", "created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="stock_line_item_quantity_positive"
            ),
        ]

    @property
    def sku_code(self) -> str:
        return self.sku.code

    @property
    def name(self) -> str:
        return self.line_item.name if self.line_item else self.sku.name

    @property
    def image_url(self) -> str:
        return self.sku.image_url

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku_id}"


class Parcel(Resource):
    """A box of a shipment, with its weight and the carrier's tracking."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="parcels")
    number = models.CharField(max_length=80, unique=True, editable=False)
    weight = models.DecimalField(
        max_digits=12, decimal_places=3, validators=[MinValueValidator(Decimal(0))]
    )
    unit_of_weight = models.CharField(max_length=2, choices=UnitOfWeight.choices)
    eel_pfc = models.CharField(max_length=100, blank=True, default="")
    contents_type = models.CharField(max_length=100, blank=True, default="")
    contents_explanation = models.CharField(max_length=255, blank=True, default="")
    customs_certify = models.BooleanField(default=False)
    customs_signer = models.CharField(max_length=255, blank=True, default="")
    non_delivery_option = models.CharField(max_length=20, blank=True, default="return")
    restriction_type = models.CharField(max_length=50, blank=True, default="")
    restriction_comments = models.CharField(max_length=255, blank=True, default="")
    customs_info_required = models.BooleanField(default=False)
    shipping_label_url = models.URLField(max_length=2048, blank=True, default="")
    shipping_label_file_type = models.CharField(max_length=50, blank=True, default="")
    shipping_label_size = models.CharField(max_length=20, blank=True, default="")
    shipping_label_resolution = models.CharField(max_length=20, blank=True, default="")
    tracking_number = models.CharField(max_length=255, blank=True, default="", db_index=True)
    tracking_status = models.CharField(max_length=50, blank=True, default="")
    tracking_status_detail = models.CharField(max_length=255, blank=True, default="")
    tracking_status_updated_at = models.DateTimeField(null=True, blank=True)
    tracking_details = models.JSONField(default=list, blank=True)
    carrier_weight_oz = models.CharField(max_length=20, blank=True, default="")
    signed_by = models.CharField(max_length=255, blank=True, default="")
    incoterm = models.CharField(max_length=20, blank=True, default="")
    delivery_confirmation = models.CharField(max_length=50, blank=True, default="")

    class Meta:
        ordering = ("shipment", "number")
        constraints = [not_negative("weight", "parcel")]

    def __str__(self) -> str:
        return self.number


class Return(ConcurrentTransitionMixin, Resource):
    """Goods a customer sends back from a fulfilled order (spec section 5). Its status moves
    only through the transitions below, each named after the API trigger that fires it; the
    order workflow (`orders.services.returns`) locks, guards and records the events."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        """Being put together: lines can be added, changed and removed."""
        REQUESTED = "requested", "requested"
        """The customer asked to send these items back; the merchant decides."""
        APPROVED = "approved", "approved"
        """The merchant accepts the return: the customer may ship it."""
        CANCELLED = "cancelled", "cancelled"
        """Withdrawn before it was shipped; nothing comes back."""
        SHIPPED = "shipped", "shipped"
        """The customer handed the parcel to a carrier."""
        REJECTED = "rejected", "rejected"
        """The merchant refused what arrived (or it never arrived): no refund, no restock."""
        RECEIVED = "received", "received"
        """The goods arrived at the return's stock location: they can be restocked and refunded."""
        REFUNDED = "refunded", "refunded"
        """The customer got the money back, by a refund of one of the order's captures."""

    CANCELLABLE = (Status.DRAFT, Status.REQUESTED, Status.APPROVED)
    # a return in one of these still claims its lines' quantities (others gave them back)
    CLAIMING = (
        Status.DRAFT,
        Status.REQUESTED,
        Status.APPROVED,
        Status.SHIPPED,
        Status.RECEIVED,
        Status.REFUNDED,
    )
    RESTOCKABLE = (Status.RECEIVED, Status.REFUNDED)

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="returns")
    number = models.CharField(max_length=64, unique=True, editable=False)
    status = FSMField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, protected=True, db_index=True
    )
    stock_location = models.ForeignKey(
        StockLocation, on_delete=models.PROTECT, null=True, blank=True, related_name="returns"
    )
    # the capture a refund goes against (the order's last succeeded capture when not set)
    reference_capture = models.ForeignKey(
        "payments.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # the refund of this return, from the moment it is asked of the gateway (pending) on
    reference_refund = models.ForeignKey(
        "payments.Transaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    shipped_at = models.DateTimeField(null=True, blank=True, editable=False)
    rejected_at = models.DateTimeField(null=True, blank=True, editable=False)
    received_at = models.DateTimeField(null=True, blank=True, editable=False)
    refunded_at = models.DateTimeField(null=True, blank=True, editable=False)
    archived_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("order", "number")

    @property
    def customer_email(self) -> str:
        return self.order.customer_email

    @property
    def customer(self) -> Any:
        return self.order.customer

    @property
    def origin_address(self) -> Address | None:
        """Where the goods come from: the address the order was shipped to."""
        return self.order.shipping_address

    @property
    def destination_address(self) -> Address | None:
        """Where they go: the return's stock location."""
        return self.stock_location.address if self.stock_location else None

    @property
    def currency_code(self) -> str:
        return self.order.currency_code

    @property
    def skus_count(self) -> int:
        return sum(line.quantity for line in self.return_line_items.all())

    @property
    def estimated_refund_amount_cents(self) -> int:
        """What the returned lines cost the customer, discounts included."""
        return sum(line.total_amount_cents for line in self.return_line_items.all())

    @property
    def estimated_refund_amount_float(self) -> float | None:
        return cents_to_float(self.estimated_refund_amount_cents, self.currency_code)

    @property
    def formatted_estimated_refund_amount(self) -> str:
        return format_money(self.estimated_refund_amount_cents, self.currency_code)

    # The transitions. Bodies only stamp times; the order workflow locks, guards and records.

    @transition(field=status, source=Status.DRAFT, target=Status.REQUESTED)
    def _request(self) -> None:
        pass

    @transition(field=status, source=Status.REQUESTED, target=Status.APPROVED)
    def _approve(self) -> None:
        self.approved_at = timezone.now()

    @transition(field=status, source=CANCELLABLE, target=Status.CANCELLED)
    def _cancel(self) -> None:
        self.cancelled_at = timezone.now()

    @transition(field=status, source=Status.APPROVED, target=Status.SHIPPED)
    def _ship(self) -> None:
        self.shipped_at = timezone.now()

    @transition(field=status, source=Status.SHIPPED, target=Status.REJECTED)
    def _reject(self) -> None:
        self.rejected_at = timezone.now()

    @transition(field=status, source=Status.SHIPPED, target=Status.RECEIVED)
    def _receive(self) -> None:
        self.received_at = timezone.now()

    @transition(field=status, source=Status.RECEIVED, target=Status.REFUNDED)
    def _refund(self) -> None:
        self.refunded_at = timezone.now()

    def __str__(self) -> str:
        return self.number


class ReturnLineItem(Resource):
    """A quantity of one of the order's SKU lines coming back in a return."""

    order_return = models.ForeignKey(
        Return, on_delete=models.CASCADE, related_name="return_line_items"
    )
    line_item = models.ForeignKey(
        "orders.LineItem", on_delete=models.PROTECT, related_name="return_line_items"
    )
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    return_reason = models.JSONField(default=dict, blank=True)
    restocked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ("order_return", "created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="return_line_item_quantity_positive"
            ),
            models.UniqueConstraint(
                fields=["order_return", "line_item"], name="return_line_item_unique"
            ),
        ]

    @property
    def sku_code(self) -> str:
        return self.line_item.sku_code

    @property
    def bundle_code(self) -> str:
        return ""

    @property
    def name(self) -> str:
        return self.line_item.name

    @property
    def image_url(self) -> str:
        return self.line_item.image_url

    @property
    def currency_code(self) -> str:
        return self.line_item.currency_code

    @property
    def total_amount_cents(self) -> int:
        """What the customer paid for the units returned: the line's total less its discount,
        plus its taxes where they were added on top of the prices, prorated by quantity and
        rounded down (a share never refunds more than was paid); all of it when every unit
        comes back."""
        line = self.line_item
        paid = line.total_amount_cents + line.discount_cents
        # the order as it is loaded already: with the line (a list of lines) or with the
        # return (a return's lines)
        order_field = line._meta.get_field("order")
        cached = order_field.is_cached(line) or self.order_return_id is None
        order = line.order if cached else self.order_return.order
        if not order.tax_included:
            paid += line.tax_amount_cents
        if not line.quantity or self.quantity >= line.quantity:
            return paid
        return paid * self.quantity // line.quantity

    @property
    def total_amount_float(self) -> float | None:
        return cents_to_float(self.total_amount_cents, self.currency_code)

    @property
    def formatted_total_amount(self) -> str:
        return format_money(self.total_amount_cents, self.currency_code)

    def __str__(self) -> str:
        return f"{self.quantity} x {self.line_item_id}"
