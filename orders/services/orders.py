"""Carts: creating an order, changing its attributes, customer and addresses, recomputing its
totals, and the automatic draft ↔ pending moves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import can_proceed

from fulfillment.models import Shipment
from markets.errors import MarketDisabled
from markets.models import Address, Market, Price
from oms.actors import SYSTEM, Actor
from oms.sequences import sequence_next
from orders.errors import (
    AddressMissing,
    AddressNotFound,
    InvalidAttribute,
    OrderNotEditable,
    attribute,
    relationship,
    transition_refused,
)
from orders.events import order_note_added_event, order_status_changed_event
from orders.locks import order_atomic_joined, order_line_items_lock, order_lock
from orders.models import PURCHASABLE_ITEM_TYPES, Customer, LineItem, Order, OrderEvent
from orders.selectors import address_is_referenced, drafts_to_purge
from orders.services.addresses import address_clone
from orders.services.customers import customer_find_or_create
from orders.services.discounts import order_coupon_set, order_gift_card_set
from orders.services.pipeline import order_recompute
from orders.services.wallet import order_payment_source_from_wallet, order_wallet_entry_find
from payments.errors import PaymentMethodNotAvailable
from payments.models import PaymentMethod

ORDER_NUMBER_SEQUENCE = "order_number"

# Attributes that may change whatever the order's status.
FREE_ATTRIBUTES = frozenset(
    {
        "reference",
        "reference_origin",
        "metadata",
        "affiliate_code",
        "cart_url",
        "return_url",
        "terms_url",
        "privacy_url",
    }
)
# Attributes of the cart: they change only while the order is editable.
CART_ATTRIBUTES = frozenset(
    {"guest", "language_code", "autorefresh", "place_async", "shipping_country_code_lock"}
)
# Keys with their own semantics (customer and addresses), applied in this order.
CART_KEYS = frozenset(
    {
        "coupon_code",
        "gift_card_code",
        "customer_email",
        "customer",
        "payment_method",
        "shipping_address",
        "billing_address",
        "_shipping_address_clone_id",
        "_billing_address_clone_id",
        "_shipping_address_same_as_billing",
        "_billing_address_same_as_shipping",
    }
)
# The `_save_*` triggers: each sets a flag of the order, acted on when it is placed.
SAVE_ON_PLACEMENT_KEYS = {
    "_save_shipping_address_to_customer_address_book": (
        "save_shipping_address_to_customer_address_book"
    ),
    "_save_billing_address_to_customer_address_book": (
        "save_billing_address_to_customer_address_book"
    ),
    "_save_payment_source_to_customer_wallet": "save_payment_source_to_customer_wallet",
}
WALLET_KEYS = frozenset({"_customer_payment_source_id"})
ORDER_KEYS = (
    FREE_ATTRIBUTES | CART_ATTRIBUTES | CART_KEYS | frozenset(SAVE_ON_PLACEMENT_KEYS) | WALLET_KEYS
)


def order_create(
    *, market: Market, actor: Actor = SYSTEM, data: Mapping[str, Any] | None = None
) -> Order:
    """A new draft order in `market`, numbered from the order sequence, with the currency and
    tax mode of the market's price list; `data` takes the same keys as `order_update`."""
    if not market.is_enabled:
        raise MarketDisabled(
            f"The market {market.code} is disabled.", pointer=relationship("market")
        )
    with order_atomic_joined():
        order = Order(
            market=market,
            number=sequence_next(ORDER_NUMBER_SEQUENCE),
            currency_code=market.price_list.currency_code,
            tax_included=market.price_list.tax_included,
        )
        order.save()
        if data:
            _order_apply(order, data, integration=False, actor=actor)
    return order


def order_update(
    *, order: Order, actor: Actor, data: Mapping[str, Any], integration: bool = False
) -> Order:
    """Change an order's attributes, customer and addresses.

    - `customer_email` finds or creates the customer (an empty one detaches it);
    - `shipping_address` / `billing_address` take an Address; one that anything else uses
      (another order, an address book, the order's other slot) is cloned, never shared;
    - `_shipping_address_clone_id` / `_billing_address_clone_id` clone the address with that id;
    - `_shipping_address_same_as_billing` / `_billing_address_same_as_shipping` clone the
      order's other address (applied after the relationships and clone ids of the same call);
    - `_save_*_address_to_customer_address_book` and `_save_payment_source_to_customer_wallet`
      (true or false) say whether placing the order saves a clone of the address to the
      customer's address book, and its payment source to the customer's wallet;
    - `_customer_payment_source_id` pays with an entry of the customer's wallet: the order takes
      the entry's payment method and a new payment source charging the saved token.

    Cart attributes change only while the order is draft or pending (or editing, for an
    `integration`); reference, metadata and the URLs change at any time.
    """
    unknown = set(data) - ORDER_KEYS
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidAttribute(f"{name} cannot be set on an order.", pointer=attribute(name))
    with transaction.atomic():
        locked = order_lock(order.pk)
        _order_apply(locked, data, integration=integration, actor=actor)
    return locked


def _order_apply(order: Order, data: Mapping[str, Any], *, integration: bool, actor: Actor) -> None:
    """Apply `data` to a locked (or just created) order and save it."""
    touches_cart = bool(set(data) & (CART_ATTRIBUTES | CART_KEYS | WALLET_KEYS))
    if touches_cart or set(data) & set(SAVE_ON_PLACEMENT_KEYS):
        order_require_editable(order, integration=integration)
    simple = {name: data[name] for name in data if name in FREE_ATTRIBUTES | CART_ATTRIBUTES}
    for name, value in simple.items():
        setattr(order, name, value)
    _validate_fields(order, simple)
    if "customer_email" in data:
        email = str(data["customer_email"] or "")
        customer = customer_find_or_create(email=email) if email.strip() else None
        _order_customer_set(order, customer)
    if "customer" in data:
        customer_value = data["customer"]
        if customer_value is not None and not isinstance(customer_value, Customer):
            raise InvalidAttribute("customer must be a customer.", pointer=relationship("customer"))
        _order_customer_set(order, customer_value)
    if "payment_method" in data:
        _order_payment_method_set(order, data["payment_method"])
    wallet_entry = None
    if data.get("_customer_payment_source_id"):
        wallet_entry = order_wallet_entry_find(
            order=order, entry_id=str(data["_customer_payment_source_id"])
        )
        _order_payment_method_set(order, wallet_entry.payment_method)
    _order_addresses_apply(order, data)
    _order_save_flags_apply(order, data)
    # after the customer (a single-use coupon is checked against the order's customer)
    if "coupon_code" in data:
        order_coupon_set(order=order, code=data["coupon_code"])
    if "gift_card_code" in data:
        order_gift_card_set(order=order, code=data["gift_card_code"])
    # The fields are saved with the totals when the change recomputes them (one UPDATE),
    # else here. No savepoint: the error ends the caller's transaction (nothing here goes on
    # after it), and only an address another order took meanwhile can raise it.
    deferred = touches_cart and wallet_entry is None and order_recomputes(order)
    try:
        if not deferred:
            order.save()
        if wallet_entry is not None:
            order_payment_source_from_wallet(order=order, entry=wallet_entry)
        if touches_cart:
            order_contents_changed(
                order=order,
                actor=actor,
                trigger="update",
                also_save=ORDER_SAVED_FIELDS if deferred else (),
            )
    except IntegrityError as exc:
        if not _order_address_conflict(exc):
            raise
        raise InvalidAttribute(f"The order conflicts with another record: {exc}") from exc


# every stored field of an order but its id, as a full save writes them
ORDER_SAVED_FIELDS = tuple(
    field.name for field in Order._meta.concrete_fields if not field.primary_key
)


def _order_address_conflict(exc: IntegrityError) -> bool:
    """Whether the order's save lost an address to another order (its unique constraints, by
    name on PostgreSQL, by column on SQLite)."""
    message = str(exc)
    return any(
        name in message
        for name in (
            "order_shipping_address_unique",
            "order_billing_address_unique",
            "orders_order.shipping_address_id",
            "orders_order.billing_address_id",
        )
    )


def _order_payment_method_set(order: Order, method: Any) -> None:
    """A payment method of the order's market (or of every market), in its currency, enabled;
    whether it admits the amount is checked at placement, when the total is final."""
    if method is None:
        order.payment_method = None
        return
    if (
        not isinstance(method, PaymentMethod)
        or method.disabled_at is not None
        or method.market_id not in (None, order.market_id)
        or method.currency_code != order.currency_code
    ):
        raise PaymentMethodNotAvailable(
            "This payment method is not available for the order's market and currency.",
            pointer=relationship("payment_method"),
        )
    order.payment_method = method


def _validate_fields(order: Order, values: Mapping[str, Any]) -> None:
    if not values:
        return
    others = [field.name for field in Order._meta.fields if field.name not in values]
    try:
        order.clean_fields(exclude=others)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise InvalidAttribute("; ".join(messages), pointer=attribute(name)) from None
    language = str(values.get("language_code", "en"))
    if not (len(language) == 2 and language.isalpha()) and not (
        len(language) == 5 and language[2] == "-" and language.replace("-", "").isalpha()
    ):
        raise InvalidAttribute(
            f"{language!r} is not an ISO 639-1 language code.",
            pointer=attribute("language_code"),
        )


def _order_customer_set(order: Order, customer: Customer | None) -> None:
    order.customer = customer
    order.customer_email = customer.email if customer is not None else ""


def _address_for_slot(order: Order, address: Address, slot: str) -> Address:
    """The address itself if only this slot of this order uses it, else a clone."""
    other_slot = "billing_address" if slot == "shipping_address" else "shipping_address"
    in_other_slot = getattr(order, f"{other_slot}_id") == address.pk  # maybe not saved yet
    if in_other_slot or address_is_referenced(address, order=order, slot=slot):
        return address_clone(address)
    return address


def _order_addresses_apply(order: Order, data: Mapping[str, Any]) -> None:
    both = ("_shipping_address_same_as_billing", "_billing_address_same_as_shipping")
    if all(data.get(name) for name in both):
        raise InvalidAttribute(
            "The shipping address cannot be the same as the billing address and vice versa "
            "at once.",
            pointer=attribute(both[0]),
        )
    for slot in ("shipping_address", "billing_address"):
        if slot in data:
            value = data[slot]
            if value is not None and not isinstance(value, Address):
                raise InvalidAttribute(f"{slot} must be an address.", pointer=relationship(slot))
            setattr(order, slot, None if value is None else _address_for_slot(order, value, slot))
    for slot in ("shipping_address", "billing_address"):
        key = f"_{slot}_clone_id"
        if data.get(key):
            source = Address.objects.filter(pk=str(data[key])).first()
            if source is None:
                raise AddressNotFound(
                    f"No address has the id {data[key]!r}.", pointer=attribute(key)
                )
            setattr(order, slot, address_clone(source))
    for target, source_slot in (
        ("shipping_address", "billing_address"),
        ("billing_address", "shipping_address"),
    ):
        key = f"_{target}_same_as_{source_slot.removesuffix('_address')}"
        if data.get(key):
            source_address = getattr(order, source_slot)
            if source_address is None:
                raise AddressMissing(
                    f"The order has no {source_slot.replace('_', ' ')} to copy.",
                    pointer=relationship(source_slot),
                )
            setattr(order, target, address_clone(source_address))


def _order_save_flags_apply(order: Order, data: Mapping[str, Any]) -> None:
    """The `_save_*` triggers: what placing the order will save for its customer. Checked
    now (a customer to save for), done at placement (`orders.services.placement`)."""
    for key, flag in SAVE_ON_PLACEMENT_KEYS.items():
        if key not in data or data[key] is None:
            continue
        value = bool(data[key])
        if value and order.customer_id is None:
            raise InvalidAttribute(
                "The order has no customer to save for: set its customer_email first.",
                pointer=attribute(key),
            )
        setattr(order, flag, value)


def order_require_editable(order: Order, *, integration: bool) -> None:
    """Sales channels change an order's contents only while it is a cart (draft/pending);
    integrations also while it is being edited after placement."""
    allowed = Order.EDITABLE_STATUSES if integration else Order.CART_STATUSES
    if order.status not in allowed:
        raise OrderNotEditable(
            f"Order #{order.number} is {order.status}: its contents cannot change.",
            pointer=relationship("order"),
        )


# --- totals and the automatic status moves --------------------------------------------------


def order_status_sync(
    *, order: Order, actor: Actor, trigger: str, lines: Sequence[LineItem] | None = None
) -> None:
    """draft ↔ pending, automatically (spec 2.1): pending once the order has a customer and a
    purchasable line item, back to draft when it loses either. `lines`: all the order's lines
    as the recompute just saved them (else whether one is purchasable is read, once)."""
    from_status = _order_status_move(order, lines)
    if from_status is None:
        return
    order.save(update_fields=["status", "updated_at"])
    _order_status_moved_event(order, actor=actor, trigger=trigger, from_status=from_status)


def _order_status_move(order: Order, lines: Sequence[LineItem] | None) -> str | None:
    """draft ↔ pending on `order` in memory, when due; the status it moved from, or None."""
    from_status = order.status
    if from_status not in (Order.Status.DRAFT, Order.Status.PENDING):
        return None
    # the transition's guard and `can_proceed` ask the same question: answered once (and
    # not at all with no customer, which settles it)
    if lines is not None:
        order.__dict__["_purchasable_known"] = any(
            line.item_type in PURCHASABLE_ITEM_TYPES for line in lines
        )
    elif order.customer_id is not None:
        order.__dict__["_purchasable_known"] = order.has_purchasable_line_items()
    try:
        if from_status == Order.Status.DRAFT and can_proceed(order.become_pending):
            order.become_pending()
        elif from_status == Order.Status.PENDING and can_proceed(order.become_draft):
            order.become_draft()
        else:
            return None
    finally:
        order.__dict__.pop("_purchasable_known", None)
    return from_status


def _order_status_moved_event(
    order: Order, *, actor: Actor, trigger: str, from_status: str
) -> None:
    order_status_changed_event(
        order=order,
        actor=actor,
        trigger=trigger,
        from_status=from_status,
        to_status=order.status,
        message="automatic",
    )


def order_recomputes(order: Order) -> bool:
    """Whether a change of the order's contents runs the recompute pipeline: an autorefresh
    cart's (repriced too), an order being edited (its lines keep their prices)."""
    return (order.status in Order.CART_STATUSES and order.autorefresh) or (
        order.status == Order.Status.EDITING
    )


def order_contents_changed(
    *,
    order: Order,
    actor: Actor,
    trigger: str,
    lines: Sequence[LineItem] | None = None,
    prices: Mapping[str, Price] | None = None,
    shipments: Sequence[Shipment] | None = None,
    also_save: Sequence[str] = (),
) -> None:
    """After lines, customer or addresses of a locked order changed: run the recompute
    pipeline (see `order_recomputes`) and move draft ↔ pending, the move saved with the
    totals. `prices`: the lines' prices by SKU id, when the caller read them in this
    transaction already; `shipments`: the cart's shipments, when its plan stands;
    `also_save`: fields the caller changed and left for the recompute to save (only when it
    runs)."""
    if not order_recomputes(order):
        assert not also_save, "only a recompute saves the caller's fields"
        order_status_sync(order=order, actor=actor, trigger=trigger)
        return
    lines = list(order_line_items_lock(order) if lines is None else lines)
    # the move is decided before the recompute (which adds and removes only charges and
    # promotions, never a purchasable line) so that the totals' UPDATE carries it
    from_status = _order_status_move(order, lines)
    order_recompute(
        order=order,
        actor=actor,
        reprice=order.status in Order.CART_STATUSES,
        lines=lines,
        prices=prices,
        shipments=shipments,
        also_save=[*also_save, *(["status"] if from_status is not None else [])],
    )
    if from_status is not None:
        _order_status_moved_event(order, actor=actor, trigger=trigger, from_status=from_status)


def order_refresh(*, order: Order, actor: Actor = SYSTEM, trigger: str = "_refresh") -> Order:
    """`_refresh`: reprice the lines and recompute every total of a cart (or of an order being
    edited, without repricing)."""
    with transaction.atomic():
        locked = order_lock(order.pk)
        if locked.status not in Order.EDITABLE_STATUSES:
            raise transition_refused(number=locked.number, status=locked.status, trigger=trigger)
        order_recompute(order=locked, actor=actor, reprice=locked.status in Order.CART_STATUSES)
        order_status_sync(order=locked, actor=actor, trigger=trigger)
    return locked


def order_update_taxes(*, order: Order, actor: Actor = SYSTEM) -> Order:
    """`_update_taxes`: the taxes again, from the market's tax rules for the order's address
    as they are now — the whole recompute pipeline, as `_refresh` runs it."""
    return order_refresh(order=order, actor=actor, trigger="_update_taxes")


DRAFT_RETENTION = timedelta(days=60)


def order_drafts_purge(*, older_than: timedelta = DRAFT_RETENTION) -> int:
    """Delete draft orders without a customer not updated for `older_than` (spec 2.1: two
    months). Returns how many went. Placed orders are never deleted: only drafts match."""
    cutoff = timezone.now() - older_than
    stale = drafts_to_purge(cutoff=cutoff).values_list("pk", flat=True)
    return sum(order_draft_purge(order_id=pk, cutoff=cutoff) for pk in list(stale.iterator()))


def order_draft_purge(*, order_id: str, cutoff: datetime) -> bool:
    """Delete one draft without a customer not updated since `cutoff`; False (and nothing
    done) when it no longer is one."""
    with transaction.atomic():
        # Re-checked under the lock: a cart touched since the query is kept.
        locked = Order.objects.select_for_update(of=("self",)).filter(pk=order_id).first()
        if (
            locked is None
            or locked.status != Order.Status.DRAFT
            or locked.customer_id is not None
            or locked.updated_at >= cutoff
        ):
            return False
        locked.delete()
        return True


NOTE_MAX_LENGTH = 500


def order_note_add(*, order: Order, actor: Actor, message: str) -> OrderEvent:
    """A staff note on the order's timeline (`_note`), in any status: what a colleague needs
    to know ("customer called, ship together"). Nothing else of the order changes."""
    message = message.strip()
    if not message:
        raise InvalidAttribute("A note needs some text.", pointer=attribute("_note"))
    if len(message) > NOTE_MAX_LENGTH:
        raise InvalidAttribute(
            f"A note has at most {NOTE_MAX_LENGTH} characters ({len(message)} given).",
            pointer=attribute("_note"),
        )
    with transaction.atomic():
        locked = order_lock(order.pk)
        return order_note_added_event(order=locked, actor=actor, message=message)
