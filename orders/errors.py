"""Stable error codes of the orders app (mapped once to JSON:API errors and admin messages).

Each refusal says what is wrong (`detail`), a stable `code` and, where one attribute or
relationship is the culprit, a JSON:API `pointer` such as `/data/attributes/customer_email`.
"""

from __future__ import annotations

from collections.abc import Sequence

from oms.errors import DomainError, TransitionNotAllowed


def attribute(name: str) -> str:
    return f"/data/attributes/{name}"


def relationship(name: str) -> str:
    return f"/data/relationships/{name}"


class OrderNotEditable(DomainError):
    """The order's contents cannot change in its current status."""

    code = "ORDER_NOT_EDITABLE"


class InvalidAttribute(DomainError):
    """An attribute the service does not accept, or a contradictory combination."""

    code = "VALIDATION_ERROR"


class CustomerEmailInvalid(DomainError):
    code = "CUSTOMER_EMAIL_INVALID"


class CustomerEmailMissing(DomainError):
    code = "CUSTOMER_EMAIL_MISSING"


class CustomerNotInMarketGroup(DomainError):
    code = "CUSTOMER_NOT_IN_MARKET_GROUP"


class AddressNotFound(DomainError):
    code = "ADDRESS_NOT_FOUND"


class AddressMissing(DomainError):
    code = "ADDRESS_MISSING"


class BillingAddressMissing(DomainError):
    code = "BILLING_ADDRESS_MISSING"


class BillingAddressIncomplete(DomainError):
    code = "BILLING_ADDRESS_INCOMPLETE"


class ShippingAddressMissing(DomainError):
    code = "SHIPPING_ADDRESS_MISSING"


class ShippingAddressIncomplete(DomainError):
    code = "SHIPPING_ADDRESS_INCOMPLETE"


class ShippingCountryNotAllowed(DomainError):
    code = "SHIPPING_COUNTRY_NOT_ALLOWED"


class SkuNotFound(DomainError):
    code = "SKU_NOT_FOUND"


class SkuNotPriced(DomainError):
    code = "SKU_NOT_PRICED"


class QuantityInvalid(DomainError):
    code = "QUANTITY_INVALID"


class UnitAmountNotAllowed(DomainError):
    """Only an integration may set `unit_amount_cents`."""

    code = "UNIT_AMOUNT_NOT_ALLOWED"


class LineItemsMissing(DomainError):
    code = "LINE_ITEMS_MISSING"


class LineItemNotPriced(DomainError):
    code = "LINE_ITEM_NOT_PRICED"


class OrderTotalNegative(DomainError):
    code = "ORDER_TOTAL_NEGATIVE"


class OrderTotalExceedsPlaceTotal(DomainError):
    code = "ORDER_TOTAL_EXCEEDS_PLACE_TOTAL"


class PlacementFailed(DomainError):
    """A background placement failed for a reason that is not a validation error."""

    code = "PLACEMENT_FAILED"


class OrderNotPlaceable(DomainError):
    """One or more checks of spec 2.2 failed. `errors` lists every failure (each with its own
    code and pointer); the exception's own code and pointer are the first one's."""

    def __init__(self, errors: Sequence[DomainError]):
        if not errors:
            raise ValueError("OrderNotPlaceable needs at least one error")
        first = errors[0]
        super().__init__(first.detail, code=first.code, pointer=first.pointer)
        self.errors = list(errors)


def transition_refused(*, number: int, status: str, trigger: str) -> TransitionNotAllowed:
    return TransitionNotAllowed(
        f"Order #{number} is {status}: {trigger} is not allowed.",
        pointer=attribute(trigger),
    )


def error_as_dict(error: DomainError) -> dict[str, str]:
    """How an error is recorded on the order (`placement_errors`)."""
    return {"code": error.code, "detail": error.detail, "pointer": error.pointer or ""}


class PaymentMethodMissing(DomainError):
    code = "PAYMENT_METHOD_MISSING"


class PaymentSourceMissing(DomainError):
    code = "PAYMENT_SOURCE_MISSING"


class PlacementInProgress(DomainError):
    """A second `_place` while the first is still authorizing."""

    code = "PLACEMENT_IN_PROGRESS"
    status = 409


class PaymentInProgress(DomainError):
    """Another payment request of the order is still with its gateway, or money moved
    meanwhile: the trigger changed nothing and can be sent again."""

    code = "PAYMENT_IN_PROGRESS"
    status = 409


class OrderNotFulfillable(DomainError):
    code = "ORDER_NOT_FULFILLABLE"


class PaymentPartiallyAuthorized(DomainError):
    """The gateway authorized less than the order's total."""

    code = "PAYMENT_PARTIALLY_AUTHORIZED"


class OrderPaymentCaptured(DomainError):
    """Captured money is refunded, not left behind by a cancellation."""

    code = "ORDER_PAYMENT_CAPTURED"


class CustomerEmailTaken(DomainError):
    """Sign-up with an e-mail a customer already has (Commerce Layer: "has already been
    taken")."""

    code = "VALIDATION_ERROR"


class ResetPasswordTokenInvalid(DomainError):
    """A password reset token that is wrong, used already or expired."""

    code = "RESET_PASSWORD_TOKEN_INVALID"


class CustomerPaymentSourceNotFound(DomainError):
    """No payment source of the order's customer's wallet has that id."""

    code = "CUSTOMER_PAYMENT_SOURCE_NOT_FOUND"


class PaymentSourceNotReusable(DomainError):
    """A wallet entry whose payment source type cannot be charged again."""

    code = "PAYMENT_SOURCE_NOT_REUSABLE"


class OrderNotAbandoned(DomainError):
    """A cart cancelled as abandoned was touched (or moved on) since it was found idle."""

    code = "ORDER_NOT_ABANDONED"
    status = 409


# --- promotions, coupons, gift cards (issue 10) -----------------------------------------------


class PromotionCurrencyMismatch(DomainError):
    """A promotion's currency must be its market's (its price list's)."""

    code = "PROMOTION_CURRENCY_MISMATCH"


class PromotionDatesInvalid(DomainError):
    """`expires_at` must come after `starts_at`."""

    code = "PROMOTION_DATES_INVALID"


class PromotionRuleTaken(DomainError):
    """A promotion has at most one rule of each kind."""

    code = "PROMOTION_RULE_TAKEN"


class CouponRuleInvalid(DomainError):
    """A coupon belongs to a coupon-codes rule, not to another kind of rule."""

    code = "COUPON_RULE_INVALID"


class CouponCodeTaken(DomainError):
    """Another coupon has this code, whatever the case."""

    code = "COUPON_CODE_TAKEN"


class CouponUnknown(DomainError):
    code = "COUPON_UNKNOWN"


class CouponExpired(DomainError):
    code = "COUPON_EXPIRED"


class CouponExhausted(DomainError):
    code = "COUPON_USAGE_LIMIT_REACHED"


class CouponAlreadyUsed(DomainError):
    """A single-use-per-customer coupon this customer has used on another order."""

    code = "COUPON_ALREADY_USED"


class CouponRuleNotMet(DomainError):
    """The coupon is valid but its promotion's other rules do not match the cart."""

    code = "COUPON_RULE_NOT_MET"


class PromotionExhausted(DomainError):
    """A promotion reached its total usage limit while the order was being placed."""

    code = "PROMOTION_USAGE_LIMIT_REACHED"


class GiftCardUnknown(DomainError):
    code = "GIFT_CARD_UNKNOWN"


class GiftCardNotUsable(DomainError):
    """Not active, expired, for another market or currency, or empty."""

    code = "GIFT_CARD_NOT_USABLE"


class GiftCardBalanceInvalid(DomainError):
    """A balance change that would go below zero, over the maximum, or recharge a card that
    is not rechargeable."""

    code = "GIFT_CARD_BALANCE_INVALID"


# --- gift cards sold in an order (a `gift_cards` line item) ----------------------------------


class GiftCardNotSellable(DomainError):
    """Only a card not yet sold (draft or inactive) can be sold in an order."""

    code = "GIFT_CARD_NOT_SELLABLE"


class GiftCardNotForOrder(DomainError):
    """A card sold in an order is in the order's currency, of its market or of none."""

    code = "GIFT_CARD_NOT_FOR_ORDER"


class GiftCardAlreadySold(DomainError):
    """One card, one sale: it is already a line of an order (this one or another)."""

    code = "GIFT_CARD_ALREADY_SOLD"
