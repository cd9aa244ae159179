"""Placing an order (spec 2.2): `_place`, synchronously or in the background (`place_async`).

Placement moves money, so it runs in three steps, never calling a gateway inside a held lock:

1. prepare (one transaction, order locked): reprice and check everything (422s with pointers),
   reserve stock (all or nothing), plan the shipments and check their shipping methods, price
   the charges, check the payment method and source; then pending → placing. A concurrent
   `_place` now sees `placing` and cannot authorize a second time.
2. authorize the recomputed total through payments (its own short transactions, no lock held
   during the gateway call); nothing when the total is 0.
3. finish (one transaction, order locked): authorized (or free) → placed: placed_at,
   place_total, shipments upcoming, customer count, events, `orders.place` after commit.
   Declined → back to pending, the reservations released, the reason recorded, a 422.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from django.db import transaction
from django.utils import timezone

from fulfillment.errors import InventoryModelMissing
from fulfillment.models import Shipment
from fulfillment.services import (
    shipment_upcoming,
    shipments_build,
    shipments_check_shipping_methods,
    stock_release,
    stock_reserve_for_placement,
)
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
    PaymentMethodMissing,
    PaymentPartiallyAuthorized,
    PaymentSourceMissing,
    PlacementFailed,
    PlacementInProgress,
    ShippingAddressIncomplete,
    ShippingAddressMissing,
    ShippingCountryNotAllowed,
    attribute,
    error_as_dict,
    relationship,
    transition_refused,
)
from orders.events import order_change_event, order_topic_publish_on_commit
from orders.locks import order_line_items_lock, order_lock
from orders.models import LineItem, Order, OrderEvent
from orders.services.addresses import address_missing_fields
from orders.services.checkout import (
    order_charges_sync,
    order_fulfillment_status_sync,
    payment_source_of,
    tracked_stock_lines,
)
from orders.services.customers import customer_order_placed, email_validate
from orders.services.orders import order_reload_after_hooks, order_totals_write
from payments.errors import PaymentFailed, PaymentMethodNotAvailable, PaymentSourceMismatch
from payments.models import Transaction
from payments.selectors import payment_methods_available
from payments.services import authorization_void as payment_authorization_void
from payments.services import payment_authorize

logger = logging.getLogger(__name__)


# --- what placement asks of fulfillment and payments ------------------------------------------


def _reserve_stock(order: Order, lines: Sequence[LineItem], actor: Actor) -> None:
    """Pending reservations for every tracked SKU line, all or nothing (OUT_OF_STOCK)."""
    stock_reserve_for_placement(order=order, lines=tracked_stock_lines(lines), actor=actor)


def _plan_shipments(order: Order, lines: Sequence[LineItem], actor: Actor) -> None:
    """Shipments planned on the reserved stock, each with an available shipping method."""
    if not _needs_shipping(lines):
        return
    if order.market.inventory_model_id is None:
        raise InventoryModelMissing(
            f"The market {order.market.code} has no inventory model to ship from.",
            pointer=relationship("market"),
        )
    shipments_build(order=order, actor=actor)
    shipments_check_shipping_methods(order=order)


def _check_payment(order: Order) -> None:
    """A payment method available for the market, currency and amount, and a payment source of
    its type (spec 2.2), unless there is nothing to pay."""
    if order.total_amount_with_taxes_cents == 0:
        return
    method = order.payment_method
    if method is None:
        raise PaymentMethodMissing(
            "Choose a payment method.", pointer=relationship("payment_method")
        )
    available = payment_methods_available(
        market=order.market,
        currency_code=order.currency_code,
        amount_cents=order.total_amount_with_taxes_cents,
    ).filter(pk=method.pk)
    if not available.exists():
        raise PaymentMethodNotAvailable(
            "The payment method is not available for this order's market, currency or amount.",
            pointer=relationship("payment_method"),
        )
    source = payment_source_of(order)
    if source is None:
        raise PaymentSourceMissing(
            "Add a payment source to the order.", pointer=relationship("payment_source")
        )
    if source.source_type != method.payment_source_type:
        # Refused here, before anything is reserved, rather than by the authorization.
        raise PaymentSourceMismatch(
            f"The payment method takes {method.payment_source_type}, not {source.source_type}.",
            pointer=relationship("payment_source"),
        )


def _placement_attempt(order_id: str) -> int:
    """This placement attempt: the event of its pending → placing. A background task is
    delivered at least once; keyed on the attempt, a second run replays the first
    authorization instead of asking the gateway again (the order's `updated_at` would not do:
    payments writes the payment status, and with it `updated_at`, when it settles)."""
    return (
        OrderEvent.objects.filter(
            order_id=order_id,
            subject_type="orders",
            field="status",
            to_status=Order.Status.PLACING,
        )
        .latest("id")
        .pk
    )


def _authorize_payment(order: Order, actor: Actor) -> Transaction | None:
    """Authorize the order's total; None when there is nothing to pay."""
    if order.total_amount_with_taxes_cents == 0 or order.payment_method is None:
        return None
    source = payment_source_of(order)
    assert source is not None  # checked in prepare
    return payment_authorize(
        order=order,
        payment_method=order.payment_method,
        payment_source=source,
        amount_cents=order.total_amount_with_taxes_cents,
        actor=actor,
        idempotency_key=f"place:{order.pk}:{_placement_attempt(order.pk)}",
    )


def _authorization_give_back(authorization: Transaction, actor: Actor) -> None:
    """Void what an authorization of a placement that then failed still holds, so that the
    customer's card is not left with a hold for an order that was not placed."""
    try:
        payment_authorization_void(authorization=authorization, actor=actor)
    except DomainError:
        logger.exception("could not void %s of a failed placement", authorization.number)


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


def _placement_prepare(order: Order, *, actor: Actor) -> None:
    """Step 1, on the locked pending order: check, reserve, plan, price; pending → placing."""
    lines = _checked_lines(order)
    _reserve_stock(order, lines, actor)
    _plan_shipments(order, lines, actor)
    lines = order_charges_sync(order=order, lines=list(order_line_items_lock(order)), actor=actor)
    order_totals_write(order=order, lines=lines, reprice=False)
    errors = order_place_errors(order=order, lines=lines, unpriced=[])
    if errors:  # shipping costs changed the total: the billing address may now be needed
        raise OrderNotPlaceable(errors)
    _check_payment(order)
    order_reload_after_hooks(order)
    from_status = order.status
    order.start_placing()
    order.placement_errors = []
    order.save(update_fields=["status", "placement_errors", "updated_at"])
    order_change_event(
        order=order, actor=actor, trigger="_place", from_status=from_status, to_status=order.status
    )


def _placement_finish(*, order_id: str, actor: Actor) -> Order:
    """Steps 2 and 3 for a placing order: authorize with no lock held, then place or give back.

    However it fails, the order does not stay placing: it goes back to pending with the reason
    recorded and its reservations released, and an authorization it got is voided."""
    order = Order.objects.select_related("payment_method", "market").get(pk=order_id)
    if order.status != Order.Status.PLACING:
        return order
    try:
        authorization = _authorize_payment(order, actor)
    except Exception as exc:
        # refused by payments before the gateway was asked (a method disabled meanwhile), or
        # a bug: nothing was authorized
        _order_placing_failed(order_id=order_id, actor=actor, errors=[_placement_error(exc)])
        raise
    if authorization is not None and not authorization.succeeded:
        error = PaymentFailed(authorization)
        error.pointer = relationship("payment_source")
        _order_placing_failed(order_id=order_id, actor=actor, errors=[error])
        raise error
    if (
        authorization is not None
        and authorization.amount_cents < order.total_amount_with_taxes_cents
    ):
        # spec 2.2: the authorization must cover the recomputed total; a partial one is given
        # back and the order stays pending
        _authorization_give_back(authorization, actor)
        partial = PaymentPartiallyAuthorized(
            f"The gateway authorized {authorization.amount_cents} of "
            f"{order.total_amount_with_taxes_cents}.",
            pointer=relationship("payment_source"),
        )
        _order_placing_failed(order_id=order_id, actor=actor, errors=[partial])
        raise partial
    try:
        with transaction.atomic():
            locked = order_lock(order_id)
            if locked.status != Order.Status.PLACING:
                return locked
            _order_placed(locked, actor=actor, trigger="_place")
    except Exception as exc:
        if authorization is not None:
            _authorization_give_back(authorization, actor)
        _order_placing_failed(order_id=order_id, actor=actor, errors=[_placement_error(exc)])
        raise
    return locked


def _placement_error(exc: Exception) -> DomainError:
    """What a failed placement records: the refusal itself, or a generic error for a bug."""
    if isinstance(exc, DomainError):
        return exc
    logger.error("placing failed unexpectedly", exc_info=exc)
    return PlacementFailed("The placement failed unexpectedly; place it again.")


def _order_placed(order: Order, *, actor: Actor, trigger: str) -> None:
    """Step 3 on the locked, authorized order: placing → placed and what goes with it."""
    lines = list(order_line_items_lock(order))
    order_reload_after_hooks(order)
    for shipment in order.shipments.exclude(status=Shipment.Status.CANCELLED).order_by("pk"):
        shipment_upcoming(shipment=shipment, actor=actor)
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
    # A payment method that auto-captures has made the order paid already: fulfillment can
    # start (spec 2.4).
    order_fulfillment_status_sync(order=order, actor=actor, trigger=trigger)
    order_topic_publish_on_commit(order=order, topic="orders.place")


def _placement_start(order_id: str, *, actor: Actor, trigger: str) -> tuple[Order, bool]:
    """Step 1 in its own transaction. Returns the order and whether this call started the
    placement (False: it was placed already)."""
    with transaction.atomic():
        locked = order_lock(order_id)
        if locked.status == Order.Status.PLACED:
            return locked, False
        if locked.status == Order.Status.PLACING:
            raise PlacementInProgress(
                f"Order #{locked.number} is being placed.", pointer=attribute(trigger)
            )
        if locked.status != Order.Status.PENDING:
            raise transition_refused(number=locked.number, status=locked.status, trigger=trigger)
        _placement_prepare(locked, actor=actor)
    return locked, True


def order_place(*, order: Order, actor: Actor) -> Order:
    """`_place`: place a pending order (spec 2.2), or start placing it in the background when
    its `place_async` is set. Idempotent: placing a placed order changes nothing, and a
    second `_place` while the first runs is refused (409) without authorizing again."""
    if Order.objects.filter(pk=order.pk, place_async=True).exists():
        return order_place_async(order=order, actor=actor)
    placing, started = _placement_start(order.pk, actor=actor, trigger="_place")
    if not started:
        return placing
    return _placement_finish(order_id=order.pk, actor=actor)


def order_place_async(*, order: Order, actor: Actor) -> Order:
    """`_place` with `place_async`: check and reserve now (so a storefront gets its 422s at
    once), move pending → placing, and authorize and place in a background task after commit."""
    placing, started = _placement_start(order.pk, actor=actor, trigger="_place")
    if started:
        transaction.on_commit(partial(_order_placement_enqueue, order_id=order.pk, actor=actor))
    return placing


def _order_placement_enqueue(*, order_id: str, actor: Actor) -> None:
    from orders.tasks import order_place_task  # tasks import the services, not the reverse

    order_place_task.enqueue(
        order_id=order_id, actor={"kind": actor.kind, "id": actor.id, "name": actor.name}
    )


def order_place_complete(*, order_id: str, actor: Actor) -> Order:
    """The background half of `place_async`: placing → placed, or back to pending with the
    reasons recorded in `placement_errors`. Safe to run twice: only a placing order moves,
    and a second run replays the first one's authorization. A refusal is an outcome (the
    order is returned); anything else, once recorded, is raised for the task runner."""
    try:
        return _placement_finish(order_id=order_id, actor=actor)
    except DomainError:
        return Order.objects.get(pk=order_id)  # recorded by _order_placing_failed


def _order_placing_failed(*, order_id: str, actor: Actor, errors: Sequence[DomainError]) -> Order:
    """placing → pending: the reservations are released and the reasons recorded."""
    with transaction.atomic():
        locked = order_lock(order_id)
        if locked.status != Order.Status.PLACING:
            return locked
        stock_release(order=locked, actor=actor)
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
