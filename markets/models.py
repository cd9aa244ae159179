"""Organization, merchants, markets and the catalog they sell: SKUs and their prices."""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from oms.countries import is_country_code
from oms.models import Resource, UpperCodeField
from oms.money import cents_to_float, format_money, is_currency_code


def validate_currency_code(value: str) -> None:
    if not is_currency_code(value):
        raise ValidationError(
            "%(value)s is not an ISO 4217 currency code.",
            code="invalid_currency",
            params={"value": value},
        )


def validate_country_code(value: str) -> None:
    if not is_country_code(value):
        raise ValidationError(
            "%(value)s is not an ISO 3166-1 alpha-2 country code.",
            code="invalid_country",
            params={"value": value},
        )


def new_shared_secret() -> str:
    return secrets.token_urlsafe(32)


def unique_code(model: str) -> models.UniqueConstraint:
    """Codes are optional, but two rows never share a non-empty one."""
    return models.UniqueConstraint(
        fields=["code"], condition=~Q(code=""), name=f"{model}_code_unique"
    )


class Organization(Resource):
    """The one organization a deployment serves (a singleton)."""

    singleton = models.BooleanField(default=True, editable=False)
    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=100, unique=True)
    domain = models.CharField(max_length=255, default="commercelayer.io")
    support_phone = models.CharField(max_length=50, blank=True, default="")
    support_email = models.EmailField(blank=True, default="")
    logo_url = models.URLField(max_length=2048, blank=True, default="")
    favicon_url = models.URLField(max_length=2048, blank=True, default="")
    primary_color = models.CharField(max_length=20, blank=True, default="")
    gtm_id = models.CharField(max_length=50, blank=True, default="")
    gtm_id_test = models.CharField(max_length=50, blank=True, default="")
    config = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(singleton=True), name="organization_singleton_true"),
            models.UniqueConstraint(fields=["singleton"], name="organization_is_singleton"),
        ]

    def __str__(self) -> str:
        return self.name


class Address(Resource):
    """A postal address: merchants, stock locations, customers and orders all use this shape."""

    business = models.BooleanField(default=False)
    first_name = models.CharField(max_length=255, blank=True, default="")
    last_name = models.CharField(max_length=255, blank=True, default="")
    company = models.CharField(max_length=255, blank=True, default="")
    line_1 = models.CharField(max_length=255)
    line_2 = models.CharField(max_length=255, blank=True, default="")
    city = models.CharField(max_length=255)
    zip_code = models.CharField(max_length=32, blank=True, default="")
    state_code = models.CharField(max_length=32, blank=True, default="")
    country_code = UpperCodeField(max_length=2, validators=[validate_country_code])
    phone = models.CharField(max_length=50)
    email = models.EmailField(blank=True, default="")
    notes = models.TextField(blank=True, default="")
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    billing_info = models.CharField(max_length=255, blank=True, default="")

    class Meta(Resource.Meta):
        verbose_name_plural = "addresses"
        constraints = [
            models.CheckConstraint(
                condition=Q(business=True, company__gt="")
                | Q(business=False, first_name__gt="", last_name__gt=""),
                name="address_named_by_kind",
            ),
            models.CheckConstraint(
                condition=Q(country_code=Upper("country_code")), name="address_country_upper"
            ),
        ]

    CHECKED_IN_CLEAN = frozenset({"address_named_by_kind", "address_country_upper"})

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.business:
            if not self.company.strip():
                errors["company"] = "A business address needs a company name."
        else:
            if not self.first_name.strip():
                errors["first_name"] = "A personal address needs a first name."
            if not self.last_name.strip():
                errors["last_name"] = "A personal address needs a last name."
        if self.country_code != self.country_code.upper():
            errors["country_code"] = "A country code is written in capitals (ISO 3166-1)."
        if errors:
            raise ValidationError(errors)

    @property
    def full_name(self) -> str:
        if self.business:
            return self.company
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def name(self) -> str:
        return ", ".join(
            part
            for part in (
                self.full_name,
                self.line_1,
                self.zip_code,
                self.city,
                self.state_code,
                self.country_code,
                self.phone,
            )
            if part
        )

    @property
    def full_address(self) -> str:
        return ", ".join(
            part
            for part in (
                self.line_1,
                self.line_2,
                self.zip_code,
                self.city,
                self.state_code,
                self.country_code,
                self.phone,
            )
            if part
        )

    def __str__(self) -> str:
        return self.name


class Merchant(Resource):
    """Who sells: a legal entity with an address; a market belongs to one merchant."""

    name = models.CharField(max_length=255)
    address = models.ForeignKey(Address, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return self.name


class CustomerGroup(Resource):
    """A set of customers a market may be restricted to (e.g. wholesale buyers)."""

    name = models.CharField(max_length=255)
    code = models.CharField(max_length=100, blank=True, default="")

    class Meta(Resource.Meta):
        constraints = [unique_code("customer_group")]

    def __str__(self) -> str:
        return self.name


class ShippingCategory(Resource):
    """Groups SKUs that ship alike (e.g. apparel, fragile); shipping methods may be limited to one."""

    name = models.CharField(max_length=255)
    code = models.CharField(max_length=100, blank=True, default="")

    class Meta(Resource.Meta):
        verbose_name_plural = "shipping categories"
        constraints = [unique_code("shipping_category")]

    def __str__(self) -> str:
        return self.name


class PriceList(Resource):
    """Prices in one currency; `tax_included` says whether they already contain taxes."""

    name = models.CharField(max_length=255)
    code = models.CharField(max_length=100, blank=True, default="")
    currency_code = UpperCodeField(max_length=3, validators=[validate_currency_code])
    tax_included = models.BooleanField(default=True)
    rules = models.JSONField(default=dict, blank=True)

    class Meta(Resource.Meta):
        constraints = [
            unique_code("price_list"),
            models.CheckConstraint(
                condition=Q(currency_code=Upper("currency_code")), name="price_list_currency_upper"
            ),
        ]

    def __str__(self) -> str:
        return (
            self.name if self.currency_code in self.name else f"{self.name} ({self.currency_code})"
        )


class Market(Resource):
    """Where a merchant sells: decides price list and currency, stock, methods, taxes."""

    number = models.PositiveIntegerField(unique=True, editable=False)
    name = models.CharField(max_length=255)
    code = models.CharField(max_length=100, unique=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="markets")
    price_list = models.ForeignKey(PriceList, on_delete=models.PROTECT, related_name="markets")
    customer_group = models.ForeignKey(
        CustomerGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="markets"
    )
    inventory_model = models.ForeignKey(
        "fulfillment.InventoryModel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="markets",
    )
    tax_calculator = models.ForeignKey(
        "markets.TaxCalculator",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="markets",
    )
    facebook_pixel_id = models.CharField(max_length=100, blank=True, default="")
    checkout_url = models.URLField(max_length=2048, blank=True, default="")
    external_prices_url = models.URLField(max_length=2048, blank=True, default="")
    external_order_validation_url = models.URLField(max_length=2048, blank=True, default="")
    shipping_cost_cutoff = models.PositiveIntegerField(null=True, blank=True)
    shared_secret = models.CharField(max_length=64, default=new_shared_secret, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="market_code_not_empty"),
        ]

    @property
    def private(self) -> bool:
        return self.customer_group_id is not None

    @property
    def is_enabled(self) -> bool:
        return self.disabled_at is None

    @property
    def currency_code(self) -> str:
        return self.price_list.currency_code

    def __str__(self) -> str:
        return f"{self.name} [{self.code}]"


class Sku(Resource):
    """A stock keeping unit: what a line item buys and a stock item counts."""

    class UnitOfWeight(models.TextChoices):
        GRAMS = "gr", "grams"
        OUNCES = "oz", "ounces"
        POUNDS = "lb", "pounds"

    code = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, default="")
    image_url = models.URLField(max_length=2048, blank=True, default="")
    pieces_per_pack = models.PositiveIntegerField(null=True, blank=True)
    weight = models.DecimalField(
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    unit_of_weight = models.CharField(
        max_length=2, choices=UnitOfWeight.choices, blank=True, default=""
    )
    hs_tariff_number = models.CharField(max_length=50, blank=True, default="")
    do_not_ship = models.BooleanField(default=False, help_text="Digital goods: nothing to ship.")
    do_not_track = models.BooleanField(default=False, help_text="Stock is not counted.")
    shipping_category = models.ForeignKey(
        ShippingCategory, on_delete=models.PROTECT, related_name="skus"
    )

    class Meta(Resource.Meta):
        verbose_name = "SKU"
        constraints = [
            models.CheckConstraint(condition=~Q(code=""), name="sku_code_not_empty"),
            models.CheckConstraint(
                condition=Q(weight__isnull=True) | Q(weight__gte=0), name="sku_weight_not_negative"
            ),
        ]

    def clean(self) -> None:
        self.code = (self.code or "").strip()
        if self.weight is not None and not self.unit_of_weight:
            raise ValidationError({"unit_of_weight": "A weight needs its unit (gr, oz or lb)."})

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Price(Resource):
    """The price of a SKU in a price list; volume tiers may lower it by quantity."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="prices")
    amount_cents = models.BigIntegerField(validators=[MinValueValidator(0)])
    compare_at_amount_cents = models.BigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0)]
    )
    rules = models.JSONField(default=dict, blank=True)

    class Meta(Resource.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["sku", "price_list"], name="price_sku_price_list_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0), name="price_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(compare_at_amount_cents__isnull=True)
                | Q(compare_at_amount_cents__gte=0),
                name="price_compare_at_not_negative",
            ),
        ]

    @property
    def currency_code(self) -> str:
        return self.price_list.currency_code

    @property
    def sku_code(self) -> str:
        return self.sku.code

    @property
    def amount_float(self) -> float | None:
        return cents_to_float(self.amount_cents, self.currency_code)

    @property
    def formatted_amount(self) -> str:
        return format_money(self.amount_cents, self.currency_code)

    @property
    def compare_at_amount_float(self) -> float | None:
        return cents_to_float(self.compare_at_amount_cents, self.currency_code)

    @property
    def formatted_compare_at_amount(self) -> str:
        return format_money(self.compare_at_amount_cents, self.currency_code)

    def unit_amount_cents_for(self, quantity: int) -> int:
        """The unit price for `quantity`: the tier with the smallest `up_to` that covers it,
        else an open-ended tier (no `up_to`), else the base amount."""
        tiers = sorted(
            self.price_volume_tiers.all(),
            key=lambda tier: (tier.up_to is None, tier.up_to or 0),
        )
        for tier in tiers:
            if tier.up_to is None or quantity <= tier.up_to:
                return tier.price_amount_cents
        return self.amount_cents

    def __str__(self) -> str:
        return f"{self.sku.code} in {self.price_list.name}: {self.formatted_amount}"


class PriceVolumeTier(Resource):
    """A lower unit price for quantities up to `up_to` (open-ended when empty)."""

    price = models.ForeignKey(Price, on_delete=models.CASCADE, related_name="price_volume_tiers")
    name = models.CharField(max_length=255)
    up_to = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    price_amount_cents = models.BigIntegerField(validators=[MinValueValidator(0)])

    class Meta(Resource.Meta):
        ordering = ("price", "up_to")
        constraints = [
            models.UniqueConstraint(
                fields=["price", "up_to"], name="price_volume_tier_up_to_unique"
            ),
            models.UniqueConstraint(
                fields=["price"],
                condition=Q(up_to__isnull=True),
                name="price_volume_tier_one_open_ended",
            ),
            models.CheckConstraint(
                condition=Q(price_amount_cents__gte=0), name="price_volume_tier_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(up_to__isnull=True) | Q(up_to__gte=1),
                name="price_volume_tier_up_to_positive",
            ),
        ]

    @property
    def currency_code(self) -> str:
        return self.price.currency_code

    @property
    def price_amount_float(self) -> float | None:
        return cents_to_float(self.price_amount_cents, self.currency_code)

    @property
    def formatted_price_amount(self) -> str:
        return format_money(self.price_amount_cents, self.currency_code)

    def __str__(self) -> str:
        return self.name


REGEX_MAX_LENGTH = 5000


def validate_regex(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(
            "%(value)s is not a regular expression: %(error)s",
            code="invalid_regex",
            params={"value": value, "error": exc},
        ) from exc


class SkuList(Resource):
    """A set of SKUs that promotions and their rules target: the SKUs of its items (manual),
    or the SKUs whose code matches `sku_code_regex`."""

    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, blank=True, default="", editable=False)
    description = models.TextField(blank=True, default="")
    image_url = models.URLField(max_length=2048, blank=True, default="")
    manual = models.BooleanField(default=True)
    sku_code_regex = models.CharField(
        max_length=REGEX_MAX_LENGTH, blank=True, default="", validators=[validate_regex]
    )

    class Meta(Resource.Meta):
        verbose_name = "SKU list"
        constraints = [
            models.CheckConstraint(
                condition=Q(manual=True) | ~Q(sku_code_regex=""),
                name="sku_list_regex_unless_manual",
            ),
        ]

    def clean(self) -> None:
        if not self.manual and not self.sku_code_regex:
            raise ValidationError({"sku_code_regex": "A list that is not manual needs a regex."})

    def __str__(self) -> str:
        return self.name


class SkuListItem(Resource):
    """A SKU of a manual SKU list (`quantity`: how many of it the list asks for)."""

    sku_list = models.ForeignKey(SkuList, on_delete=models.CASCADE, related_name="sku_list_items")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="sku_list_items")
    position = models.PositiveIntegerField(default=0)
    quantity = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])

    class Meta:
        verbose_name = "SKU list item"
        ordering = ("position", "created_at", "id")
        constraints = [
            models.UniqueConstraint(fields=["sku_list", "sku"], name="sku_list_item_sku_unique"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="sku_list_item_quantity_positive"
            ),
        ]

    @property
    def sku_code(self) -> str:
        return self.sku.code

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku.code}"


class TaxCalculator(Resource):
    """How a market's taxes are computed. Only manual calculators (their tax rules) exist."""

    class Type(models.TextChoices):
        MANUAL = "manual_tax_calculators", "manual"

    type = models.CharField(
        max_length=40, choices=Type.choices, default=Type.MANUAL, editable=False
    )
    name = models.CharField(max_length=255)

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(type="manual_tax_calculators"), name="tax_calculator_type_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TaxRule(Resource):
    """A rate for the addresses its patterns match (the shipping address, else the billing
    one). The first matching rule of a calculator, oldest first, decides an order's taxes."""

    manual_tax_calculator = models.ForeignKey(
        TaxCalculator, on_delete=models.CASCADE, related_name="tax_rules"
    )
    name = models.CharField(max_length=255)
    tax_rate = models.DecimalField(
        max_digits=7,
        decimal_places=6,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
    )
    freight_taxable = models.BooleanField(default=False)
    payment_method_taxable = models.BooleanField(default=False)
    gift_card_taxable = models.BooleanField(default=False)
    adjustment_taxable = models.BooleanField(default=False)
    country_code_regex = models.CharField(
        max_length=REGEX_MAX_LENGTH, blank=True, default="", validators=[validate_regex]
    )
    not_country_code_regex = models.CharField(
        max_length=REGEX_MAX_LENGTH, blank=True, default="", validators=[validate_regex]
    )
    state_code_regex = models.CharField(
        max_length=REGEX_MAX_LENGTH, blank=True, default="", validators=[validate_regex]
    )
    not_state_code_regex = models.CharField(
        max_length=REGEX_MAX_LENGTH, blank=True, default="", validators=[validate_regex]
    )
    zip_code_regex = models.CharField(
        max_length=REGEX_MAX_LENGTH, blank=True, default="", validators=[validate_regex]
    )
    not_zip_code_regex = models.CharField(
        max_length=REGEX_MAX_LENGTH, blank=True, default="", validators=[validate_regex]
    )

    PATTERNS = (
        ("country_code", "country_code_regex", "not_country_code_regex"),
        ("state_code", "state_code_regex", "not_state_code_regex"),
        ("zip_code", "zip_code_regex", "not_zip_code_regex"),
    )

    class Meta(Resource.Meta):
        ordering = ("created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(tax_rate__gte=0) & Q(tax_rate__lte=1), name="tax_rule_rate_in_range"
            ),
        ]

    def matches(self, address: Address) -> bool:
        """Whether `address` is one this rule taxes: every pattern set matches in full, no
        negative pattern does (case-insensitive)."""
        for attribute, positive, negative in self.PATTERNS:
            value = getattr(address, attribute) or ""
            if (pattern := getattr(self, positive)) and not re.fullmatch(pattern, value, re.I):
                return False
            if (pattern := getattr(self, negative)) and re.fullmatch(pattern, value, re.I):
                return False
        return True

    def __str__(self) -> str:
        return f"{self.name} ({self.tax_rate:%})"


class TaxCategory(Resource):
    """A SKU's tax code for a calculator (kept for external tax calculators; the manual
    calculator's rates do not depend on it)."""

    code = models.CharField(max_length=255)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="tax_categories")
    tax_calculator = models.ForeignKey(
        TaxCalculator, on_delete=models.CASCADE, related_name="tax_categories"
    )

    class Meta(Resource.Meta):
        verbose_name_plural = "tax categories"
        constraints = [
            models.UniqueConstraint(
                fields=["tax_calculator", "sku"], name="tax_category_one_per_sku"
            ),
            models.CheckConstraint(condition=~Q(code=""), name="tax_category_code_not_empty"),
        ]

    @property
    def sku_code(self) -> str:
        return self.sku.code

    def __str__(self) -> str:
        return f"{self.sku.code}: {self.code}"
