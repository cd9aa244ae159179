"""Line items: SKU lines bought by the customer, and the charge lines (shipping costs,
payment-method fees) that the shipping and payment workflows set from their own amounts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction

from markets.models import Sku
from oms.actors import Actor
from orders.errors import (
    InvalidAttribute,
    OrderNotEditable,
    QuantityInvalid,
    SkuNotFound,
    SkuNotPriced,
    UnitAmountNotAllowed,
    attribute,
    relationship,
)
from orders.locks import line_item_lock, order_atomic_joined, order_line_items_lock, order_lock
from orders.models import GiftCard, LineItem, Order
from orders.selectors import prices_for_skus
from orders.services.gift_cards import gift_card_sale_check, gift_card_sale_lock
from orders.services.orders import order_contents_changed, order_require_editable

ChargeItemType = Literal["shipments", "payment_methods"]
# Charge lines follow the placement workflow too (shipments are built while placing).
CHARGE_STATUSES = Order.EDITABLE_STATUSES | {Order.Status.PLACING}


def _quantity_check(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise QuantityInvalid(
            "The quantity must be a whole number of at least 1.", pointer=attribute("quantity")
        )


def _unit_amount_check(unit_amount_cents: int | None, *, integration: bool) -> None:
    if unit_amount_cents is None:
        return
    if not integration:
        raise UnitAmountNotAllowed(
            "Only an integration may set unit_amount_cents.",
            pointer=attribute("unit_amount_cents"),
        )
    if (
        isinstance(unit_amount_cents, bool)
        or not isinstance(unit_amount_cents, int)
        or unit_amount_cents < 0
    ):
        raise InvalidAttribute(
            "unit_amount_cents must be a whole number of at least 0.",
            pointer=attribute("unit_amount_cents"),
        )


def _sku_resolve(*, sku: Sku | None, sku_code: str) -> tuple[Sku, str]:
    """The SKU and the pointer to blame if it cannot be sold."""
    if sku is not None:
        return sku, relationship("sku")
    code = sku_code.strip()
    found = Sku.objects.filter(code=code).first() if code else None
    if found is None:
        raise SkuNotFound(f"No SKU has the code {sku_code!r}.", pointer=attribute("sku_code"))
    return found, attribute("sku_code")


def _line_save(line: LineItem) -> None:
    """Validate a line's own fields (names, URLs, lengths), keep its total consistent, save."""
    line.total_amount_cents = line.unit_amount_cents * line.quantity
    try:
        line.full_clean(exclude=["order", "sku"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise InvalidAttribute("; ".join(messages), pointer=attribute(name)) from None
    line.save()


def line_item_create(
    *,
    order: Order,
    actor: Actor,
    sku: Sku | None = None,
    sku_code: str = "",
    quantity: int = 1,
    update_quantity: bool = False,
    unit_amount_cents: int | None = None,
    name: str = "",
    metadata: Mapping[str, Any] | None = None,
    reference: str = "",
    integration: bool = False,
) -> LineItem:
    """Add a SKU to the order, priced from the market's price list (volume tier by quantity).

    - `update_quantity` (`_update_quantity`) adds to an existing line of the same SKU;
    - `unit_amount_cents` may be given only by an `integration`; it then sticks to the line;
    - a sales channel adds lines only while the order is draft or pending.
    """
    _quantity_check(quantity)
    _unit_amount_check(unit_amount_cents, integration=integration)
    with order_atomic_joined():
        locked = order_lock(order.pk)
        order_require_editable(locked, integration=integration)
        resolved, pointer = _sku_resolve(sku=sku, sku_code=sku_code)
        lines = order_line_items_lock(locked)
        # every line's price at once: the recompute reprices the others from the same rows
        prices = prices_for_skus(
            price_list_id=locked.market.price_list_id,
            sku_ids={resolved.pk} | {existing.sku_id for existing in lines if existing.sku_id},
        )
        price = prices.get(resolved.pk)
        if price is None and unit_amount_cents is None:
            raise SkuNotPriced(
                f"The SKU {resolved.code} has no price in the market {locked.market.code}.",
                pointer=pointer,
            )
        line = None
        if update_quantity:
            line = next(
                (
                    existing
                    for existing in lines
                    if existing.item_type == LineItem.ItemType.SKUS
                    and existing.sku_id == resolved.pk
                ),
                None,
            )
        if line is None:
            line = LineItem(
                order=locked,
                item_type=LineItem.ItemType.SKUS,
                sku=resolved,
                sku_code=resolved.code,
                name=name or resolved.name,
                image_url=resolved.image_url,
                quantity=quantity,
                metadata=dict(metadata or {}),
                reference=reference,
            )
            lines.append(line)
        else:
            line.quantity += quantity
        if unit_amount_cents is not None:
            line.unit_amount_cents = unit_amount_cents
            line.unit_amount_manual = True
        elif not line.unit_amount_manual and price is not None:
            line.unit_amount_cents = price.unit_amount_cents_for(line.quantity)
        _line_save(line)
        order_contents_changed(
            order=locked, actor=actor, trigger="line_item_create", lines=lines, prices=prices
        )
    return line  # as the recompute left it: its totals are the ones it saved


def line_item_gift_card_add(
    *,
    order: Order,
    actor: Actor,
    gift_card: GiftCard,
    quantity: int = 1,
    metadata: Mapping[str, Any] | None = None,
    reference: str = "",
) -> LineItem:
    """Sell a gift card in a cart (spec 2.2: it becomes active when the order is placed): one
    line, quantity 1, priced at the card's balance (never repriced: the pipeline reprices
    SKU lines only). The card must be sellable to the order (`gift_card_sale_check`); it is
    locked after the order so two carts adding it at once cannot both sell it."""
    if quantity != 1 or isinstance(quantity, bool):
        raise QuantityInvalid(
            "A gift card is sold one at a time: the quantity must be 1.",
            pointer=attribute("quantity"),
        )
    with transaction.atomic():
        locked = order_lock(order.pk)
        order_require_editable(locked, integration=False)  # a cart, whoever adds it
        card = gift_card_sale_lock(gift_card_id=gift_card.pk)
        gift_card_sale_check(gift_card=card, order=locked)
        lines = order_line_items_lock(locked)
        line = LineItem(
            order=locked,
            item_type=LineItem.ItemType.GIFT_CARDS,
            item_id=card.pk,
            name="Gift card",
            image_url=card.image_url,
            quantity=1,
            unit_amount_cents=card.balance_cents,
            unit_amount_manual=True,
            metadata=dict(metadata or {}),
            reference=reference,
        )
        _line_save(line)
        lines.append(line)
        order_contents_changed(order=locked, actor=actor, trigger="line_item_create", lines=lines)
    line.refresh_from_db()
    return line


def _purchasable_line_lock(
    order: Order, line_item: LineItem, *, removing: bool = False
) -> LineItem:
    """The locked SKU line to change; `removing`: a gift card's line too (it cannot change,
    but the customer may take it out of the cart)."""
    line = line_item_lock(order=order, line_item_id=line_item.pk)
    if removing and line.item_type == LineItem.ItemType.GIFT_CARDS:
        if order.status not in Order.CART_STATUSES:  # sold: the placement activated it
            raise OrderNotEditable(
                f"Order #{order.number} is {order.status}: its gift cards are sold.",
                pointer=relationship("order"),
            )
        return line
    if line.item_type != LineItem.ItemType.SKUS:
        raise InvalidAttribute(
            f"A {line.get_item_type_display()} line follows its {line.item_type} and cannot be "
            "changed directly.",
            pointer=attribute("item_type"),
        )
    return line


def line_item_update(
    *,
    line_item: LineItem,
    actor: Actor,
    quantity: int | None = None,
    unit_amount_cents: int | None = None,
    name: str | None = None,
    integration: bool = False,
) -> LineItem:
    """Change a SKU line's quantity (repriced by volume tier), name, or (integration only) its
    unit price."""
    if quantity is not None:
        _quantity_check(quantity)
    _unit_amount_check(unit_amount_cents, integration=integration)
    with transaction.atomic():
        locked = order_lock(line_item.order_id)
        order_require_editable(locked, integration=integration)
        line = _purchasable_line_lock(locked, line_item)
        if quantity is not None:
            line.quantity = quantity
        if name is not None:
            line.name = name
        if unit_amount_cents is not None:
            line.unit_amount_cents = unit_amount_cents
            line.unit_amount_manual = True
        elif quantity is not None and not line.unit_amount_manual:
            price = prices_for_skus(
                price_list_id=locked.market.price_list_id, sku_ids={line.sku_id or ""}
            ).get(line.sku_id or "")
            if price is not None:
                line.unit_amount_cents = price.unit_amount_cents_for(line.quantity)
        _line_save(line)
        order_contents_changed(order=locked, actor=actor, trigger="line_item_update")
    line.refresh_from_db()
    return line


def line_item_delete(*, line_item: LineItem, actor: Actor, integration: bool = False) -> None:
    """Remove a SKU or gift card line; removing the last one moves a pending order back to draft."""
    with transaction.atomic():
        locked = order_lock(line_item.order_id)
        order_require_editable(locked, integration=integration)
        line = _purchasable_line_lock(locked, line_item, removing=True)
        line.delete()
        order_contents_changed(order=locked, actor=actor, trigger="line_item_delete")


def _charge_require_status(order: Order) -> None:
    if order.status not in CHARGE_STATUSES:
        raise OrderNotEditable(
            f"Order #{order.number} is {order.status}: its charges cannot change.",
            pointer=relationship("order"),
        )


def line_item_charge_set(
    *,
    order: Order,
    actor: Actor,
    item_type: ChargeItemType,
    item_id: str,
    name: str,
    amount_cents: int,
) -> LineItem:
    """Create or update the one line of a shipment (its shipping cost) or of a payment method
    (its fee), given its amount. Called by the shipping and payment workflows."""
    if item_type not in ("shipments", "payment_methods"):
        raise InvalidAttribute(
            f"{item_type} lines are not charges.", pointer=attribute("item_type")
        )
    if not item_id:
        raise InvalidAttribute("A charge line needs the id of its item.", pointer=attribute("item"))
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents < 0:
        raise InvalidAttribute(
            "A charge must be a whole number of at least 0.",
            pointer=attribute("unit_amount_cents"),
        )
    with transaction.atomic():
        locked = order_lock(order.pk)
        _charge_require_status(locked)
        lines = order_line_items_lock(locked)
        line = next(
            (
                existing
                for existing in lines
                if existing.item_type == item_type and existing.item_id == item_id
            ),
            None,
        )
        if line is None:
            line = LineItem(order=locked, item_type=item_type, item_id=item_id, quantity=1)
            lines.append(line)
        line.name = name
        line.unit_amount_cents = amount_cents
        line.unit_amount_manual = True
        _line_save(line)
        order_contents_changed(order=locked, actor=actor, trigger="line_item_charge", lines=lines)
    return line


def line_item_charge_remove(
    *, order: Order, actor: Actor, item_type: ChargeItemType, item_id: str
) -> None:
    """Remove the line of a shipment or payment method (no-op when there is none)."""
    with transaction.atomic():
        locked = order_lock(order.pk)
        _charge_require_status(locked)
        deleted, _ = LineItem.objects.filter(
            order_id=locked.pk, item_type=item_type, item_id=item_id
        ).delete()
        if deleted:
            order_contents_changed(order=locked, actor=actor, trigger="line_item_charge")
