"""Placing an order (spec 2.2): `_place`, synchronously or in the background (`place_async`).

The workflow, all under the order's row lock and in one transaction (all or nothing):

    recompute totals (reprice) → check everything (422s with pointers) → reserve stock
    → build shipments → recompute (shipping costs may have changed) → authorize payment
    → placed: placed_at, place_total, customer count, event, `orders.place` after commit

The hook points `_reserve_stock`, `_build_shipments` and `_authorize_payment` do nothing yet:
the fulfillment and payments apps plug in there (look for `# integrates`). A hook refuses by
raising a DomainError; the transaction then rolls back, so nothing is reserved or built.

Authorization runs last so that no local failure can follow a successful gateway call. A
gateway call should not hold the order's row lock longer than it must (spec section 4): when
payments land, slow gateways should go through `place_async`, whose `placing` state marks the
order as taken while the call runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from django.db import transaction
from django.utils import timezone

from markets.errors import MarketDisabled
from oms.actors import Actor
from oms.errors import DomainError
from orders.errors import (
    BillingAddressIncomplete,
    BillingAddressMissing,
    CustomerNotInMarketGroup,
    LineItemNotPriced,
    LineItemsMissing,
    OrderNotPlaceable,
    PlacementFailed,
    ShippingAddressIncomplete,
    ShippingAddressMissing,
    ShippingCountryNotAllowed,
    error_as_dict,
    relationship,
    transition_refused,
)
from orders.events import order_change_event, order_topic_publish_on_commit
from orders.locks import order_line_items_lock, order_lock
from orders.models import LineItem, Order
from orders.services.addresses import address_missing_fields
from orders.services.customers import customer_order_placed, email_validate
from orders.services.orders import order_reload_after_hooks, order_totals_write

logger = logging.getLogger(__name__)


# --- hook points -----------------------------------------------------------------------------


def _reserve_stock(order: Order) -> None:
    """Turn the order's draft stock reservations into pending ones, or create them, for every
    tracked SKU (not `do_not_track`); if one line cannot be reserved, refuse (OUT_OF_STOCK).
    """
    # integrates fulfillment: stock reservations (spec 2.2, section 5).


def _build_shipments(order: Order) -> None:
    """Split the order into shipments by the market's inventory strategy, check each has a
    shipping method available for the address zone, move them to `upcoming`, and set their
    cost lines with `line_item_charge_set(item_type="shipments", ...)`."""
    # integrates fulfillment: shipments (spec 2.2, section 5).


def _authorize_payment(order: Order) -> None:
    """Check the payment method (available in the market for the currency and amount) and the
    payment source, then authorize `order.total_amount_with_taxes_cents` (nothing when it is
    0). A declined authorization refuses the placement."""
    # integrates payments: authorization (spec 2.2, section 4).


# --- checks ----------------------------------------------------------------------------------


def _needs_shipping(lines: Sequence[LineItem]) -> bool:
    """Whether anything bought must be shipped: SKUs not `do_not_ship`, and bundles."""
    for line in lines:
        if line.item_type == LineItem.ItemType.SKUS and line.sku is not None:
            if not line.sku.do_not_ship:
                return True
        elif line.item_type == LineItem.ItemType.BUNDLES:
            return True
    return False


def order_place_errors(
    *, order: Order, lines: Sequence[LineItem], unpriced: Sequence[LineItem]
) -> list[DomainError]:
    """Every reason why the order cannot be placed (spec 2.2, without payments, stock and
    shipping), each with its stable code and pointer. Empty when it can."""
    errors: list[DomainError] = []
    market = order.market
    if not market.is_enabled:
        errors.append(
            MarketDisabled(f"The market {market.code} is disabled.", pointer=relationship("market"))
        )
    if not any(line.purchasable for line in lines):
        errors.append(
            LineItemsMissing("The order has nothing to buy.", pointer=relationship("line_items"))
        )
    errors.extend(
        LineItemNotPriced(
            f"{line.sku_code} has no price in the market {market.code}.",
            pointer=relationship("line_items"),
        )
        for line in unpriced
    )
    try:
        email_validate(order.customer_email)
    except DomainError as exc:
        errors.append(exc)
    if market.customer_group_id is not None and (
        order.customer is None or order.customer.customer_group_id != market.customer_group_id
    ):
        errors.append(
            CustomerNotInMarketGroup(
                f"The market {market.code} sells only to its customer group.",
                pointer=relationship("customer"),
            )
        )
    if order.total_amount_with_taxes_cents > 0:
        if order.billing_address is None:
            errors.append(
                BillingAddressMissing(
                    "A billing address is required.", pointer=relationship("billing_address")
                )
            )
        elif missing := address_missing_fields(order.billing_address):
            errors.append(
                BillingAddressIncomplete(
                    f"The billing address lacks {', '.join(missing)}.",
                    pointer=relationship("billing_address"),
                )
            )
    if _needs_shipping(lines):
        shipping = order.shipping_address
        if shipping is None:
            errors.append(
                ShippingAddressMissing(
                    "A shipping address is required.", pointer=relationship("shipping_address")
                )
            )
        elif missing := address_missing_fields(shipping):
            errors.append(
                ShippingAddressIncomplete(
                    f"The shipping address lacks {', '.join(missing)}.",
                    pointer=relationship("shipping_address"),
                )
            )
        elif (
            order.shipping_country_code_lock
            and shipping.country_code != order.shipping_country_code_lock
        ):
            errors.append(
                ShippingCountryNotAllowed(
                    f"The order ships only to {order.shipping_country_code_lock}.",
                    pointer=relationship("shipping_address"),
                )
            )
    return errors


def _checked_lines(order: Order) -> list[LineItem]:
    """Lock the lines, reprice and recompute, and refuse if anything is missing."""
    lines = order_line_items_lock(order)
    unpriced = order_totals_write(order=order, lines=lines, reprice=True)
    errors = order_place_errors(order=order, lines=lines, unpriced=unpriced)
    if errors:
        raise OrderNotPlaceable(errors)
    return lines


# --- the workflow ----------------------------------------------------------------------------


def _order_place_locked(order: Order, *, actor: Actor, trigger: str) -> None:
    """Place a locked pending or placing order, or raise (and the caller's transaction rolls
    back whatever the hooks did)."""
    lines = _checked_lines(order)
    total_checked = order.total_amount_with_taxes_cents
    _reserve_stock(order)
    _build_shipments(order)
    lines = order_line_items_lock(order)
    order_totals_write(order=order, lines=lines, reprice=False)
    if order.total_amount_with_taxes_cents != total_checked:
        # Shipping costs changed the total: what depends on it (the billing address) again.
        errors = order_place_errors(order=order, lines=lines, unpriced=[])
        if errors:
            raise OrderNotPlaceable(errors)
    _authorize_payment(order)
    order_reload_after_hooks(order)

    now = timezone.now()
    from_status = order.status
    order.place()
    order.placed_at = now
    order.place_total_amount_cents = order.total_amount_with_taxes_cents
    order.placement_errors = []
    changes: list[tuple[str, str, str]] = []
    if (
        order.total_amount_with_taxes_cents == 0
        and order.payment_status != Order.PaymentStatus.FREE
    ):
        changes.append(("payment_status", order.payment_status, Order.PaymentStatus.FREE))
        order.payment_status = Order.PaymentStatus.FREE
        order.payment_updated_at = now
    if (
        not _needs_shipping(lines)
        and order.fulfillment_status != Order.FulfillmentStatus.NOT_REQUIRED
    ):
        changes.append(
            ("fulfillment_status", order.fulfillment_status, Order.FulfillmentStatus.NOT_REQUIRED)
        )
        order.fulfillment_status = Order.FulfillmentStatus.NOT_REQUIRED
        order.fulfillment_updated_at = now
    order.save(
        update_fields=[
            "status",
            "placed_at",
            "place_total_amount_cents",
            "placement_errors",
            *(field for field, _, _ in changes),
            *(f"{field.removesuffix('_status')}_updated_at" for field, _, _ in changes),
            "updated_at",
        ]
    )
    if order.customer_id is not None:
        customer_order_placed(customer_id=order.customer_id)
    order_change_event(
        order=order, actor=actor, trigger=trigger, from_status=from_status, to_status=order.status
    )
    for field, before, after in changes:
        order_change_event(
            order=order,
            actor=actor,
            trigger=trigger,
            field=field,
            from_status=before,
            to_status=after,
        )
    order_topic_publish_on_commit(order=order, topic="orders.place")


def order_place(*, order: Order, actor: Actor) -> Order:
    """`_place`: place a pending order (spec 2.2), or start placing it in the background when
    its `place_async` is set. Idempotent: placing a placed order changes nothing."""
    with transaction.atomic():
        locked = order_lock(order.pk)
        if locked.status == Order.Status.PLACED:
            return locked
        if locked.status != Order.Status.PENDING:
            raise transition_refused(number=locked.number, status=locked.status, trigger="_place")
        if locked.place_async:
            _order_placing_start(locked, actor=actor)
        else:
            _order_place_locked(locked, actor=actor, trigger="_place")
    return locked


def order_place_async(*, order: Order, actor: Actor) -> Order:
    """`_place` with `place_async`: check now (so a storefront gets its 422s at once), move
    pending → placing, and place in a background task after commit. Idempotent on a placed
    order."""
    with transaction.atomic():
        locked = order_lock(order.pk)
        if locked.status == Order.Status.PLACED:
            return locked
        if locked.status != Order.Status.PENDING:
            raise transition_refused(
                number=locked.number, status=locked.status, trigger="place_async"
            )
        _order_placing_start(locked, actor=actor)
    return locked


def _order_placing_start(order: Order, *, actor: Actor) -> None:
    _checked_lines(order)
    from_status = order.status
    order.start_placing()
    order.placement_errors = []
    order.save(update_fields=["status", "placement_errors", "updated_at"])
    order_change_event(
        order=order, actor=actor, trigger="_place", from_status=from_status, to_status=order.status
    )
    transaction.on_commit(partial(_order_placement_enqueue, order_id=order.pk, actor=actor))


def _order_placement_enqueue(*, order_id: str, actor: Actor) -> None:
    from orders.tasks import order_place_task  # tasks import the services, not the reverse

    order_place_task.enqueue(
        order_id=order_id, actor={"kind": actor.kind, "id": actor.id, "name": actor.name}
    )


def order_place_complete(*, order_id: str, actor: Actor) -> Order:
    """The background half of `place_async`: placing → placed, or back to pending with the
    reasons recorded in `placement_errors`. Safe to run twice: only a placing order moves."""
    try:
        with transaction.atomic():
            locked = order_lock(order_id)
            if locked.status != Order.Status.PLACING:
                return locked
            _order_place_locked(locked, actor=actor, trigger="_place")
            return locked
    except OrderNotPlaceable as exc:
        return _order_placing_failed(order_id=order_id, actor=actor, errors=exc.errors)
    except DomainError as exc:
        return _order_placing_failed(order_id=order_id, actor=actor, errors=[exc])
    except Exception:
        logger.exception("placing order %s failed", order_id)
        _order_placing_failed(
            order_id=order_id,
            actor=actor,
            errors=[PlacementFailed("The placement failed unexpectedly; place it again.")],
        )
        raise


def _order_placing_failed(*, order_id: str, actor: Actor, errors: Sequence[DomainError]) -> Order:
    with transaction.atomic():
        locked = order_lock(order_id)
        if locked.status != Order.Status.PLACING:
            return locked
        from_status = locked.status
        locked.abort_placing()
        locked.placement_errors = [error_as_dict(error) for error in errors]
        locked.save(update_fields=["status", "placement_errors", "updated_at"])
        order_change_event(
            order=locked,
            actor=actor,
            trigger="_place",
            from_status=from_status,
            to_status=locked.status,
            message="; ".join(f"{error.code}: {error.detail}" for error in errors),
        )
    return locked
