"""Payment gateways and methods, payment sources, and the transactions that move money.

Money rule of this file: every amount is an integer of minor units and never negative; what an
authorization has captured or voided, and what a capture has refunded, is kept as a running
total on the parent row, so the database itself refuses to over-capture, over-void or
over-refund (`CheckConstraint`), whatever the Python above it does.
"""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django_fsm import FSMField, transition

from markets.models import validate_currency_code
from oms.models import Resource, UpperCodeField
from oms.money import cents_to_float, format_money


def new_gateway_shared_secret() -> str:
    return secrets.token_hex(32)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_not_card_number(value: str) -> None:
    """External payment tokens come from the gateway's SDK; a raw card number must never be
    stored here (PCI): 13 to 19 digits passing the Luhn check are refused."""
    digits = "".join(char for char in value if char not in " -")
    if digits.isdigit() and 13 <= len(digits) <= 19 and _luhn_valid(digits):
        raise ValidationError("Credit card numbers are rejected: send the gateway's token.")


# --- gateways ---------------------------------------------------------------------------------


class PaymentGateway(Resource):
    """Who moves the money for a payment method. One table for every kind; `type` picks the
    adapter in `payments.gateways` and which of the per-type settings below apply."""

    class Type(models.TextChoices):
        MANUAL = "manual", "manual"
        """Wire transfers and other offline payments: authorized at once, settled out of band."""
        EXTERNAL = "external", "external"
        """The merchant's own endpoints, called with a signed JSON payload."""
        TEST = "test", "test"
        """A simulated card gateway whose outcome depends on the card token (for trying every path)."""

    type = models.CharField(max_length=20, choices=Type.choices)
    name = models.CharField(max_length=255)
    force_payments = models.BooleanField(default=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)

    # external gateways
    authorize_url = models.URLField(max_length=2048, blank=True, default="")
    capture_url = models.URLField(max_length=2048, blank=True, default="")
    void_url = models.URLField(max_length=2048, blank=True, default="")
    refund_url = models.URLField(max_length=2048, blank=True, default="")
    token_url = models.URLField(max_length=2048, blank=True, default="")
    lookup_url = models.URLField(
        max_length=2048,
        blank=True,
        default="",
        help_text="Asked what became of an earlier call (by its idempotency key) whose answer "
        "was never recorded here. Empty: such a call cannot be looked up.",
    )
    shared_secret = models.CharField(
        max_length=128, default=new_gateway_shared_secret, editable=False
    )
    timeout_ms = models.PositiveIntegerField(
        default=5000,
        validators=[MinValueValidator(50), MaxValueValidator(30000)],
        help_text="How long an external endpoint may take before the call fails as a timeout.",
    )

    # test gateways
    test_latency_ms = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(2000)],
        help_text="Simulated network latency of the test gateway, per call.",
    )

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=["manual", "external", "test"]),
                name="payment_gateway_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(timeout_ms__gte=50, timeout_ms__lte=30000),
                name="payment_gateway_timeout_in_range",
            ),
        ]

    def clean(self) -> None:
        if self.type != self.Type.EXTERNAL:
            return
        if not any((self.authorize_url, self.capture_url, self.void_url, self.refund_url)):
            raise ValidationError(
                {"authorize_url": "An external gateway needs at least one endpoint URL."}
            )

    @property
    def is_enabled(self) -> bool:
        return self.disabled_at is None

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


# --- payment methods --------------------------------------------------------------------------


class PaymentSourceType(models.TextChoices):
    """The kinds of payment source this deployment can take, and the gateway type each needs."""

    WIRE_TRANSFERS = "wire_transfers", "wire transfer"
    """Paid by bank transfer; handled by a manual gateway."""
    EXTERNAL_PAYMENTS = "external_payments", "external payment"
    """A token from the merchant's own payment service; handled by an external gateway."""
    TEST_PAYMENTS = "test_payments", "test card"
    """A test card token; handled by the test gateway."""


GATEWAY_TYPE_FOR_SOURCE: dict[str, str] = {
    PaymentSourceType.WIRE_TRANSFERS: PaymentGateway.Type.MANUAL,
    PaymentSourceType.EXTERNAL_PAYMENTS: PaymentGateway.Type.EXTERNAL,
    PaymentSourceType.TEST_PAYMENTS: PaymentGateway.Type.TEST,
}


class PaymentMethod(Resource):
    """A way to pay offered in a market for one currency: its source type, gateway and fee."""

    name = models.CharField(max_length=255, blank=True, default="")
    market = models.ForeignKey(
        "markets.Market",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payment_methods",
        help_text="Empty: offered in every market with this currency.",
    )
    payment_gateway = models.ForeignKey(
        PaymentGateway, on_delete=models.PROTECT, related_name="payment_methods"
    )
    payment_source_type = models.CharField(max_length=40, choices=PaymentSourceType.choices)
    currency_code = UpperCodeField(
        max_length=3,
        blank=True,
        validators=[validate_currency_code],
        help_text="Empty: the market's currency.",
    )
    moto = models.BooleanField(default=False)
    require_capture = models.BooleanField(default=True)
    auto_place = models.BooleanField(default=False)
    auto_capture = models.BooleanField(default=False)
    auto_capture_max_amount_cents = models.BigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0)]
    )
    price_amount_cents = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    min_order_amount_cents = models.BigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0)]
    )
    max_order_amount_cents = models.BigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0)]
    )
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(price_amount_cents__gte=0), name="payment_method_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(auto_capture_max_amount_cents__isnull=True)
                | Q(auto_capture_max_amount_cents__gte=0),
                name="payment_method_auto_capture_max_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(min_order_amount_cents__isnull=True) | Q(min_order_amount_cents__gte=0),
                name="payment_method_min_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(min_order_amount_cents__isnull=True)
                | Q(max_order_amount_cents__isnull=True)
                | Q(min_order_amount_cents__lte=F("max_order_amount_cents")),
                name="payment_method_min_not_above_max",
            ),
            models.CheckConstraint(
                condition=Q(currency_code=Upper("currency_code")) & ~Q(currency_code=""),
                name="payment_method_currency_upper",
            ),
            models.CheckConstraint(
                condition=Q(payment_source_type__in=PaymentSourceType.values),
                name="payment_method_source_type_valid",
            ),
        ]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        market = self.market if self.market_id is not None else None
        if not self.currency_code and market is not None:
            self.currency_code = market.currency_code  # inherited from the market
        if not self.currency_code:
            errors["currency_code"] = "A payment method without a market needs a currency."
        elif market is not None and self.currency_code != market.currency_code:
            errors["currency_code"] = (
                f"The market prices in {market.currency_code}, not {self.currency_code}."
            )
        if not self.name and self.payment_source_type:
            self.name = self.get_payment_source_type_display().title()
        if self.payment_gateway_id is not None and self.payment_source_type:
            wanted = GATEWAY_TYPE_FOR_SOURCE.get(self.payment_source_type)
            if wanted != self.payment_gateway.type:
                errors["payment_gateway"] = (
                    f"{self.payment_source_type} need a {wanted} gateway, "
                    f"not a {self.payment_gateway.type} one."
                )
        if (
            self.min_order_amount_cents is not None
            and self.max_order_amount_cents is not None
            and self.min_order_amount_cents > self.max_order_amount_cents
        ):
            errors["max_order_amount_cents"] = "The maximum is below the minimum."
        if errors:
            raise ValidationError(errors)

    @property
    def is_enabled(self) -> bool:
        return self.disabled_at is None

    def accepts_amount(self, amount_cents: int) -> bool:
        if self.min_order_amount_cents is not None and amount_cents < self.min_order_amount_cents:
            return False
        return self.max_order_amount_cents is None or amount_cents <= self.max_order_amount_cents

    def auto_captures(self, amount_cents: int) -> bool:
        """Capture right after authorization: only up to `auto_capture_max_amount_cents`."""
        if not self.auto_capture:
            return False
        limit = self.auto_capture_max_amount_cents
        return limit is None or amount_cents <= limit

    @property
    def price_amount_float(self) -> float | None:
        return cents_to_float(self.price_amount_cents, self.currency_code)

    @property
    def formatted_price_amount(self) -> str:
        return format_money(self.price_amount_cents, self.currency_code)

    def __str__(self) -> str:
        return f"{self.name or self.payment_source_type} ({self.currency_code})"


# --- payment sources --------------------------------------------------------------------------


class PaymentSource(Resource):
    """Abstract base: what an order pays with. Each kind lives in its own table."""

    source_type: str = ""

    # `order` is declared by each kind, for its own reverse name (order.wire_transfers, ...).
    payment_instrument = models.JSONField(default=dict, blank=True)

    class Meta(Resource.Meta):
        abstract = True

    @property
    def gateway_token(self) -> str:
        """What the gateway identifies this source by (a card token, a payment token)."""
        return ""


class WireTransfer(PaymentSource):
    """Paid by bank transfer: the merchant sees the money arrive and settles it by hand."""

    source_type = PaymentSourceType.WIRE_TRANSFERS

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="wire_transfers"
    )

    def __str__(self) -> str:
        return f"wire transfer {self.pk}"


class ExternalPayment(PaymentSource):
    """A token issued by the merchant's own payment service, sent back to its endpoints."""

    source_type = PaymentSourceType.EXTERNAL_PAYMENTS

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="external_payments"
    )
    payment_source_token = models.CharField(max_length=512, validators=[validate_not_card_number])
    options = models.JSONField(default=dict, blank=True)

    class Meta(PaymentSource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=~Q(payment_source_token=""), name="external_payment_token_not_empty"
            )
        ]

    @property
    def gateway_token(self) -> str:
        return self.payment_source_token

    def __str__(self) -> str:
        return f"external payment {self.pk}"


class TestPayment(PaymentSource):
    """A test card for the test gateway: its `token` decides the outcome (see
    `payments.gateways.test.TestGateway`)."""

    __test__ = False  # not a pytest test class, whatever its name
    source_type = PaymentSourceType.TEST_PAYMENTS

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="test_payments"
    )
    token = models.CharField(max_length=100, default="tok_success")

    # proved by the field's own validation (`token` is not blank)
    CHECKED_IN_CLEAN = frozenset({"test_payment_token_not_empty"})

    class Meta(PaymentSource.Meta):
        constraints = [
            models.CheckConstraint(condition=~Q(token=""), name="test_payment_token_not_empty")
        ]

    @property
    def gateway_token(self) -> str:
        return self.token

    def __str__(self) -> str:
        return f"test card {self.token}"


PaymentSourceModel = WireTransfer | ExternalPayment | TestPayment


# --- transactions -----------------------------------------------------------------------------


class Transaction(Resource):
    """One money movement asked of a gateway: an authorization, a capture (of an
    authorization), a void (of an authorization's uncaptured rest) or a refund (of a capture).

    A row is written *before* the gateway is called, as `pending`, so that the amount it moves is
    reserved on its parent (a concurrent request sees the reduced balance); the gateway's answer
    then makes it `succeeded` or `failed` (a failure gives the reserved amount back).
    """

    class Type(models.TextChoices):
        AUTHORIZATIONS = "authorizations", "authorization"
        """Money held on the customer's payment source, not yet taken."""
        CAPTURES = "captures", "capture"
        """Money taken from an authorization."""
        VOIDS = "voids", "void"
        """The uncaptured rest of an authorization released to the customer."""
        REFUNDS = "refunds", "refund"
        """Money given back from a capture."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        """The gateway is being asked: the amount is reserved, nothing has moved yet."""
        SUCCEEDED = "succeeded", "succeeded"
        """The gateway moved the money."""
        FAILED = "failed", "failed"
        """The gateway refused or could not be reached: nothing moved, the reservation is released."""

    type = models.CharField(max_length=20, choices=Type.choices, editable=False)
    number = models.CharField(max_length=40, unique=True, editable=False)
    status = FSMField(max_length=20, choices=Status.choices, default=Status.PENDING)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="transactions")
    payment_gateway = models.ForeignKey(
        PaymentGateway, on_delete=models.PROTECT, related_name="transactions"
    )
    payment_method = models.ForeignKey(
        PaymentMethod, on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    payment_method_type = models.CharField(max_length=40, blank=True, default="")
    # The payment source: exactly one of these (a real foreign key each, so the database
    # keeps them honest; a new kind of source adds a column here).
    wire_transfer = models.ForeignKey(
        WireTransfer, on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    external_payment = models.ForeignKey(
        ExternalPayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transactions",
    )
    test_payment = models.ForeignKey(
        TestPayment, on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    reference_authorization = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="authorization_children",
        help_text="The authorization a capture or void acts on.",
    )
    reference_capture = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="capture_children",
        help_text="The capture a refund gives money back from.",
    )
    currency_code = models.CharField(max_length=3)
    amount_cents = models.BigIntegerField()
    # Running totals of the children that are succeeded or still in flight, so the database
    # can hold the invariants (an in-flight child that fails gives its amount back).
    capture_amount_cents = models.BigIntegerField(default=0, editable=False)
    void_amount_cents = models.BigIntegerField(default=0, editable=False)
    refund_amount_cents = models.BigIntegerField(default=0, editable=False)
    message = models.CharField(max_length=500, blank=True, default="")
    error_code = models.CharField(max_length=64, blank=True, default="")
    error_detail = models.CharField(max_length=1000, blank=True, default="")
    token = models.CharField(max_length=255, blank=True, default="")
    gateway_transaction_id = models.CharField(max_length=255, blank=True, default="")
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, editable=False)

    class Meta(Resource.Meta):
        ordering = ("created_at", "id")
        indexes = [models.Index(fields=["order", "type", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=["authorizations", "captures", "voids", "refunds"]),
                name="transaction_type_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "succeeded", "failed"]),
                name="transaction_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(amount_cents__gte=0)
                & Q(capture_amount_cents__gte=0)
                & Q(void_amount_cents__gte=0)
                & Q(refund_amount_cents__gte=0),
                name="transaction_amounts_not_negative",
            ),
            # captured <= authorized, and voided <= authorized - captured
            models.CheckConstraint(
                condition=Q(capture_amount_cents__lte=F("amount_cents") - F("void_amount_cents")),
                name="authorization_captured_and_voided_within_amount",
            ),
            # refunded <= captured
            models.CheckConstraint(
                condition=Q(refund_amount_cents__lte=F("amount_cents")),
                name="capture_refunded_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(type="authorizations") | Q(capture_amount_cents=0, void_amount_cents=0),
                name="transaction_only_authorizations_capture_or_void",
            ),
            models.CheckConstraint(
                condition=Q(type="captures") | Q(refund_amount_cents=0),
                name="transaction_only_captures_refund",
            ),
            models.CheckConstraint(
                condition=(
                    Q(type__in=["captures", "voids"])
                    & Q(reference_authorization__isnull=False)
                    & Q(reference_capture__isnull=True)
                )
                | (
                    Q(type="refunds")
                    & Q(reference_authorization__isnull=True)
                    & Q(reference_capture__isnull=False)
                )
                | (
                    Q(type="authorizations")
                    & Q(reference_authorization__isnull=True)
                    & Q(reference_capture__isnull=True)
                ),
                name="transaction_reference_matches_type",
            ),
            models.CheckConstraint(
                condition=(
                    Q(wire_transfer__isnull=False)
                    & Q(external_payment__isnull=True)
                    & Q(test_payment__isnull=True)
                )
                | (
                    Q(wire_transfer__isnull=True)
                    & Q(external_payment__isnull=False)
                    & Q(test_payment__isnull=True)
                )
                | (
                    Q(wire_transfer__isnull=True)
                    & Q(external_payment__isnull=True)
                    & Q(test_payment__isnull=False)
                ),
                name="transaction_exactly_one_payment_source",
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="transaction_idempotency_key_unique",
            ),
        ]

    # --- transitions (the services call these on locked rows) --------------------------------

    @transition(field=status, source=Status.PENDING, target=Status.SUCCEEDED)
    def succeed(self) -> None:
        pass

    @transition(field=status, source=Status.PENDING, target=Status.FAILED)
    def fail(self) -> None:
        pass

    # --- reads --------------------------------------------------------------------------------

    @property
    def succeeded(self) -> bool:
        return self.status == self.Status.SUCCEEDED

    @property
    def payment_source(self) -> PaymentSourceModel:
        source = self.wire_transfer or self.external_payment or self.test_payment
        assert source is not None, "a transaction always has a payment source"
        return source

    @property
    def capture_balance_cents(self) -> int:
        """What can still be captured: neither captured (or being captured) nor voided."""
        if self.type != self.Type.AUTHORIZATIONS or not self.succeeded:
            return 0
        return self.amount_cents - self.capture_amount_cents - self.void_amount_cents

    @property
    def void_balance_cents(self) -> int:
        """What a void would release: the uncaptured, unvoided rest."""
        return self.capture_balance_cents

    @property
    def refund_balance_cents(self) -> int:
        if self.type != self.Type.CAPTURES or not self.succeeded:
            return 0
        return self.amount_cents - self.refund_amount_cents

    @property
    def amount_float(self) -> float | None:
        return cents_to_float(self.amount_cents, self.currency_code)

    @property
    def formatted_amount(self) -> str:
        return format_money(self.amount_cents, self.currency_code)

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.number} ({self.status})"
