"""The order page's buttons: which transitions are allowed now *and* permitted to this user,
and the one order-level workflow each runs (the function the API's trigger runs).

A button links to a confirmation page (`OrderAdmin.action_view`); its POST calls the service,
and a refusal is shown in the merchant's words (`oms.errors.admin_message`). The permission is
checked again on the POST: a role without it gets a 403, whatever it typed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from fulfillment.models import Shipment
from oms.actors import Actor
from oms.money import currency_exponent, format_money
from orders import services
from orders.models import Order
from payments.models import Transaction

Target = Literal["order", "authorization", "capture", "shipment"]


class InputRefused(Exception):
    """What the staff typed cannot be sent (an amount, a tracking number): nothing was done."""


@dataclass(frozen=True)
class OrderAction:
    name: str
    label: str
    permissions: tuple[str, ...]
    question: str  # the confirmation, with {number} and {target}
    target: Target = "order"
    amount: bool = False  # asks for an optional amount (empty: the whole balance)
    tracking: bool = False  # asks for a tracking number
    danger: bool = False
    done: str = ""


ACTIONS: dict[str, OrderAction] = {
    action.name: action
    for action in (
        OrderAction(
            "approve",
            "Approve",
            ("orders.approve_order",),
            "Approve order #{number}? Its stock is taken from the shelves.",
            done="approved",
        ),
        OrderAction(
            "approve_and_capture",
            "Approve and capture",
            ("orders.approve_order", "orders.capture_order"),
            "Approve order #{number} and capture its whole payment?",
            done="approved and captured",
        ),
        OrderAction(
            "capture",
            "Capture",
            ("orders.capture_order",),
            "Capture payment {target} of order #{number}?",
            target="authorization",
            amount=True,
            done="captured",
        ),
        OrderAction(
            "void",
            "Void",
            ("orders.capture_order",),
            "Void what is left of payment {target} of order #{number}? The customer's card "
            "is released.",
            target="authorization",
            danger=True,
            done="voided",
        ),
        OrderAction(
            "refund",
            "Refund",
            ("orders.refund_order",),
            "Refund capture {target} of order #{number}? The money goes back to the customer.",
            target="capture",
            amount=True,
            danger=True,
            done="refunded",
        ),
        OrderAction(
            "cancel",
            "Cancel order",
            ("orders.cancel_order",),
            "Cancel order #{number}? Its payment is voided and its stock released.",
            danger=True,
            done="cancelled",
        ),
        OrderAction(
            "fulfill",
            "Mark fulfilled",
            ("fulfillment.change_shipment",),
            "Mark order #{number} fulfilled?",
            done="marked fulfilled",
        ),
        OrderAction(
            "archive",
            "Archive",
            ("orders.archive_order",),
            "Archive order #{number}? It leaves the order list.",
            done="archived",
        ),
        OrderAction(
            "unarchive",
            "Unarchive",
            ("orders.archive_order",),
            "Bring order #{number} back to the order list?",
            done="unarchived",
        ),
        OrderAction(
            "ship",
            "Ship",
            ("fulfillment.change_shipment",),
            "Ship shipment {target} of order #{number}?",
            target="shipment",
            tracking=True,
            done="shipped",
        ),
    )
}

OPEN_SHIPMENT = (
    Shipment.Status.UPCOMING,
    Shipment.Status.PICKING,
    Shipment.Status.PACKING,
    Shipment.Status.READY_TO_SHIP,
)
CLOSED_SHIPMENT = (Shipment.Status.SHIPPED, Shipment.Status.DELIVERED, Shipment.Status.CANCELLED)
MONEY_STATUSES = (Order.Status.PLACED, Order.Status.APPROVED)


@dataclass(frozen=True)
class Button:
    action: OrderAction
    target_id: str = ""
    target_label: str = ""


def allowed_now(
    order: Order, transactions: Sequence[Transaction], shipments: Sequence[Shipment]
) -> list[Button]:
    """The transitions the order's state allows now, from rows already read (no query). The
    service re-checks each on the locked rows: this only decides which buttons to show."""
    buttons: list[Button] = []
    in_flight = any(t.status == Transaction.Status.PENDING for t in transactions)
    authorizations = [t for t in transactions if t.capture_balance_cents > 0]
    captures = [t for t in transactions if t.refund_balance_cents > 0]
    status = order.status
    if status == Order.Status.PLACED and not in_flight:
        buttons.append(Button(ACTIONS["approve"]))
        if authorizations:
            buttons.append(Button(ACTIONS["approve_and_capture"]))
    if status in MONEY_STATUSES and not in_flight:
        for txn in authorizations:
            left = format_money(txn.capture_balance_cents, txn.currency_code)
            label = f"{txn.number} ({left} left)"
            buttons.append(Button(ACTIONS["capture"], txn.pk, label))
            buttons.append(Button(ACTIONS["void"], txn.pk, label))
        for txn in captures:
            left = format_money(txn.refund_balance_cents, txn.currency_code)
            buttons.append(Button(ACTIONS["refund"], txn.pk, f"{txn.number} ({left} refundable)"))
    if (status == Order.Status.PENDING) or (
        status == Order.Status.PLACED and not captures and not in_flight
    ):
        buttons.append(Button(ACTIONS["cancel"]))
    if order.fulfillment_status == Order.FulfillmentStatus.IN_PROGRESS:
        for shipment in shipments:
            if shipment.status in OPEN_SHIPMENT:
                buttons.append(Button(ACTIONS["ship"], shipment.pk, shipment.number))
    if (
        status == Order.Status.APPROVED
        and order.fulfillment_status == Order.FulfillmentStatus.IN_PROGRESS
        and shipments
        and all(s.status in CLOSED_SHIPMENT for s in shipments)
    ):
        buttons.append(Button(ACTIONS["fulfill"]))
    if status in Order.ARCHIVABLE_STATUSES:
        buttons.append(Button(ACTIONS["unarchive" if order.archived else "archive"]))
    return buttons


def permitted(buttons: list[Button], user: Any) -> list[Button]:
    return [b for b in buttons if user.has_perms(b.action.permissions)]


def amount_cents_of(raw: str, currency_code: str) -> int | None:
    """An amount typed in major units ("12.50"); empty is the whole balance."""
    raw = raw.strip().replace(",", ".")
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise InputRefused(f"{raw!r} is not an amount: type it like 12.50.") from None
    if not amount.is_finite() or amount <= 0:
        raise InputRefused("The amount must be above zero (leave it empty for the whole balance).")
    exponent = currency_exponent(currency_code)
    cents = amount.scaleb(exponent)
    if cents != cents.to_integral_value():
        raise InputRefused(
            f"{currency_code} amounts have {exponent} decimal places: {raw} has more."
        )
    return int(cents)


TRACKING_MAX = 255


def tracking_number_of(raw: str) -> str:
    raw = raw.strip()
    if len(raw) > TRACKING_MAX:
        raise InputRefused(f"A tracking number has at most {TRACKING_MAX} characters.")
    return raw


Runner = Callable[..., Any]


def run(
    action: OrderAction,
    *,
    order: Order,
    target: Transaction | Shipment | None,
    actor: Actor,
    amount_cents: int | None,
    tracking_number: str,
) -> Any:
    """The one order-level workflow of each button: the same function the API's trigger runs."""
    name = action.name
    if name == "capture":
        assert isinstance(target, Transaction)
        return services.order_authorization_capture(
            authorization=target, amount_cents=amount_cents, actor=actor
        )
    if name == "void":
        assert isinstance(target, Transaction)
        return services.order_authorization_void(authorization=target, actor=actor)
    if name == "refund":
        assert isinstance(target, Transaction)
        return services.order_capture_refund(capture=target, amount_cents=amount_cents, actor=actor)
    if name == "ship":
        assert isinstance(target, Shipment)
        return services.order_shipment_ship(
            shipment=target, tracking_number=tracking_number, actor=actor
        )
    order_services: dict[str, Runner] = {
        "approve": services.order_approve,
        "approve_and_capture": services.order_approve_and_capture,
        "cancel": services.order_cancel,
        "fulfill": services.order_fulfill,
        "archive": services.order_archive,
        "unarchive": services.order_unarchive,
    }
    return order_services[name](order=order, actor=actor)
