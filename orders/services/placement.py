"""Placing an order (spec 2.2): `_place`, synchronously or in the background (`place_async`).

Placement moves money, so it runs in two locked transactions around the gateway call, never
calling a gateway inside a held lock (both are `atomic(durable=True)`):

1. prepare (order locked once): reprice and check everything (422s with pointers), reserve
   stock and lay out the shipments from ONE stock plan (all or nothing), run the recompute
   pipeline, check the shipping and payment methods and the source; pending → placing. A
   concurrent `_place` (or `_pending`) now sees `placing` and cannot start a second
   authorization.
2. authorize the recomputed total (reserve the pending authorization in the same transaction as
   step 1's commit would allow — its own short one — then the gateway call with no lock held).
3. settle (order locked once): the authorization's answer, and in the same transaction
   placing → placed (placed_at, place_total, shipments upcoming, customer count, events,
   `orders.place` after commit) or placing → pending with the stock released and the reason
   recorded. A partial authorization is given back afterwards.

An attempt interrupted between 2 and 3 (a worker killed mid-call) leaves the order placing with
a pending authorization: `orders_recover_placements` asks the gateway what became of the
attempt's idempotency key and completes or undoes it, never authorizing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import NamedTuple

from django.db import transaction
from django.tasks import task
from django.utils import timezone

from fulfillment.errors import InventoryModelMissing
from fulfillment.services import (
    shipments_check_shipping_methods,
    shipments_upcoming,
    stock_and_shipments_plan,
    stock_release,
)
from markets.errors import MarketDisabled
from oms.actors import Actor, actor_as_dict, actor_from_dict
from oms.errors import DomainError
from oms.tasks import task_enqueue, task_retry
from orders.errors import (
    BillingAddressIncomplete,
    BillingAddressMissing,
    CustomerNotInMarketGroup,
    GiftCardNotUsable,
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
from orders.events import order_status_changed_event, order_topic_publish_on_commit
from orders.locks import order_line_items_lock, order_lock
from orders.models import LineItem, Order, OrderEvent
from orders.services.addresses import address_missing_fields
from orders.services.checkout import PaymentSourceModel, payment_source_of, tracked_stock_lines
from orders.services.customers import (
    customer_address_save_copy,
    customer_order_placed,
    email_validate,
)
from orders.services.discounts import order_redemptions_claim, order_redemptions_release
from orders.services.gift_cards import gift_cards_sold_activate, gift_cards_sold_errors
from orders.services.money import (
    Deferring,
    order_authorization_give_back,
    order_payment_authorize,
    order_transaction_event,
    transaction_topics_publish,
)
from orders.services.pipeline import line_items_reprice, order_recompute
from orders.services.statuses import StatusesWrite, lines_need_shipping, order_statuses_write
from orders.services.wallet import order_wallet_save
from orders.statuses import FulfillmentFacts, active_shipment_statuses
from payments.errors import (
    GATEWAY_UNREACHABLE,
    GatewayLookupFailed,
    PaymentFailed,
    PaymentMethodNotAvailable,
    PaymentSourceMismatch,
)
from payments.gateways import GatewayResult
from payments.models import Transaction
from payments.selectors import payment_methods_available
from payments.services import transaction_gateway_lookup, transaction_settle

logger = logging.getLogger(__name__)


# --- what placement asks of fulfillment and payments ------------------------------------------


def _check_payment(order: Order) -> PaymentSourceModel | None:
    """A payment method available for the market, currency and amount, and a payment source of
    its type (spec 2.2), unless there is nothing to pay. Returns the source."""
    if order.total_amount_with_taxes_cents == 0:
        return None
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
    return source


def placement_attempt(order_id: str) -> int:
    """This placement attempt: the event of its pending → placing. A background task is
    delivered at least once; keyed on the attempt, a second run replays the first
    authorization instead of asking the gateway again."""
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


def placement_idempotency_key(order_id: str, attempt: int) -> str:
    """The authorization's idempotency key of one placement attempt (the recovery looks the
    attempt up at the gateway by the transaction it made)."""
    return f"place:{order_id}:{attempt}"


# --- checks ----------------------------------------------------------------------------------


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
    if lines_need_shipping(lines):
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


# --- the workflow ----------------------------------------------------------------------------


class Prepared(NamedTuple):
    """What step 1 leaves for the others: the attempt (the id of the placing event), the
    payment source, whether anything bought is shipped, and the gift cards the order sells."""

    attempt: int
    source: PaymentSourceModel | None
    needs_shipping: bool
    gift_card_ids: tuple[str, ...] = ()


def _placement_prepare(order: Order, *, actor: Actor) -> Prepared:
    """Step 1, on the locked pending order: check, reserve and plan, price; pending → placing."""
    lines = order_line_items_lock(order)
    loaded_units = {line.pk: line.unit_amount_cents for line in lines}
    unpriced = line_items_reprice(order, lines)
    errors = order_place_errors(order=order, lines=lines, unpriced=unpriced)
    errors.extend(gift_cards_sold_errors(order=order, lines=lines))
    if errors:
        raise OrderNotPlaceable(errors)
    gift_card_ids = tuple(
        line.item_id for line in lines if line.item_type == LineItem.ItemType.GIFT_CARDS
    )
    needs_shipping = lines_need_shipping(lines)
    if needs_shipping and order.market.inventory_model_id is None:
        raise InventoryModelMissing(
            f"The market {order.market.code} has no inventory model to ship from.",
            pointer=relationship("market"),
        )
    shipments = stock_and_shipments_plan(order=order, lines=tracked_stock_lines(lines), actor=actor)
    # pending → placing now, stored with the totals (any refusal below rolls both back)
    from_status = order.status
    shown_gift_card = order.gift_card_amount_cents  # what the cart said the card pays
    order.start_placing()
    order.placement_errors = []
    lines, _ = order_recompute(
        order=order,
        actor=actor,
        reprice=False,
        lines=lines,
        shipments=shipments,
        loaded_units=loaded_units,
        also_save=["status", "placement_errors"],
    )
    errors = order_place_errors(order=order, lines=lines, unpriced=[])
    if errors:  # shipping costs changed the total: the billing address may now be needed
        raise OrderNotPlaceable(errors)
    if needs_shipping:
        shipments_check_shipping_methods(order=order, shipments=shipments)
    source = _check_payment(order)
    # the uses of its promotions and coupon counted, its gift card debited: a limit reached or
    # a balance gone meanwhile refuses the placement (everything above rolls back with it)
    if order.gift_card_amount_cents > shown_gift_card:
        raise GiftCardNotUsable(
            "The gift card pays less than the cart showed (its balance changed meanwhile); "
            "refresh the order to see its new total.",
            pointer=attribute("gift_card_code"),
        )
    if order_redemptions_claim(order=order, lines=lines):
        order.save(update_fields=["redemptions_claimed"])
    event = order_status_changed_event(
        order=order, actor=actor, trigger="_place", from_status=from_status, to_status=order.status
    )
    return Prepared(event.pk, source, needs_shipping, gift_card_ids)


def _placement_finish(
    *,
    order_id: str,
    actor: Actor,
    attempt: int | None = None,
    placing: Order | None = None,
    source: PaymentSourceModel | None = None,
    needs_shipping: bool | None = None,
    gift_card_ids: Sequence[str] | None = None,
) -> Order:
    """Steps 2 and 3 for a placing order: authorize with no lock held, then place or go back
    to pending in the same transaction as the authorization's settle.

    However it fails, the order does not stay placing: it goes back to pending with the reason
    recorded and its reservations released, and an authorization it got is voided."""
    order = placing or Order.objects.select_related("payment_method", "market").get(pk=order_id)
    if order.status != Order.Status.PLACING:
        return order
    if order.total_amount_with_taxes_cents == 0 or order.payment_method is None:
        with transaction.atomic(durable=True):
            locked = order_lock(order_id)
            if locked.status == Order.Status.PLACING:
                _order_placed(locked, actor=actor, trigger="_place", gift_card_ids=gift_card_ids)
        return locked
    source = source or payment_source_of(order)
    assert source is not None  # checked in prepare
    attempt = attempt if attempt is not None else placement_attempt(order_id)
    outcome: list[DomainError] = []

    seen: list[Order] = []

    def settled(locked: Order, authorizations: list[Transaction]) -> StatusesWrite:
        [authorization] = authorizations
        seen.append(locked)
        errors, known = _placement_settled(
            locked,
            authorization,
            actor=actor,
            needs_shipping=needs_shipping,
            gift_card_ids=gift_card_ids,
        )
        outcome.extend(errors)
        return known

    try:
        authorization = order_payment_authorize(
            order=order,
            payment_method=order.payment_method,
            payment_source=source,
            amount_cents=order.total_amount_with_taxes_cents,
            actor=actor,
            idempotency_key=placement_idempotency_key(order_id, attempt),
            trigger="_place",
            settled=Deferring(settled),
        )
    except Exception as exc:
        # refused by payments before the gateway was asked (a method disabled meanwhile), or
        # a bug before or after it: the order goes back to pending and whatever the gateway
        # authorized (recorded by the money run) is given back
        _order_placing_failed(order_id=order_id, actor=actor, errors=[_placement_error(exc)])
        for held in Transaction.objects.filter(
            order_id=order_id,
            type=Transaction.Type.AUTHORIZATIONS,
            status=Transaction.Status.SUCCEEDED,
            idempotency_key=placement_idempotency_key(order_id, attempt),
        ):
            order_authorization_give_back(authorization=held, actor=actor)
        raise
    # the order as the settle left it (re-read only when the settle did not run)
    placed = (
        seen[-1] if seen else Order.objects.select_related("market__price_list").get(pk=order_id)
    )
    if authorization.succeeded and placed.status != Order.Status.PLACED:
        # given back: a partial authorization, or an attempt the recovery resolved meanwhile
        order_authorization_give_back(authorization=authorization, actor=actor)
    if outcome:
        raise outcome[0]
    if authorization.succeeded and placed.status == Order.Status.PLACED:
        # committed, no lock held: the gateway may be asked for a reusable token
        order_wallet_save(order=placed, source=source)
    return placed


def _placement_error(exc: Exception) -> DomainError:
    """What a failed placement records: the refusal itself, or a generic error for a bug."""
    if isinstance(exc, DomainError):
        return exc
    logger.error("placing failed unexpectedly", exc_info=exc)
    return PlacementFailed("The placement failed unexpectedly; place it again.")


def _placement_settled(
    locked: Order,
    authorization: Transaction,
    *,
    actor: Actor,
    needs_shipping: bool | None = None,
    gift_card_ids: Sequence[str] | None = None,
) -> tuple[list[DomainError], StatusesWrite]:
    """Step 3 on the locked order, its authorization settled: placing → placed, or back to
    pending with the reasons. Returns the reasons (none: placed, or nothing to do — resolved
    meanwhile, or the authorization still with the gateway) and what the statuses writer that
    follows must record and save (this step records nothing itself)."""
    if locked.status != Order.Status.PLACING or authorization.status == Transaction.Status.PENDING:
        return [], StatusesWrite()  # resolved meanwhile (by the recovery), or still pending
    outcome: list[DomainError] = []
    if not authorization.succeeded:
        error = PaymentFailed(authorization)
        error.pointer = relationship("payment_source")
        outcome.append(error)
    elif authorization.amount_cents < locked.total_amount_with_taxes_cents:
        # spec 2.2: the authorization must cover the recomputed total; a partial one is
        # given back (after the commit, with no lock held) and the order stays pending
        outcome.append(
            PaymentPartiallyAuthorized(
                f"The gateway authorized {authorization.amount_cents} of "
                f"{locked.total_amount_with_taxes_cents}.",
                pointer=relationship("payment_source"),
            )
        )
    if outcome:
        return outcome, _order_placing_abort(
            locked, actor=actor, errors=outcome, write_statuses=False
        )
    known = _order_placed(
        locked,
        actor=actor,
        trigger="_place",
        write_statuses=False,
        needs_shipping=needs_shipping,
        gift_card_ids=gift_card_ids,
    )
    return outcome, known


NEVER_SEEN = GatewayResult.failure(
    GATEWAY_UNREACHABLE, "The gateway has no record of the authorization: it never saw the call."
)


def order_placement_resolve(
    *, authorization: Transaction, result: GatewayResult | None, actor: Actor
) -> Order:
    """Finish a placement whose process died with its authorization pending, from what the
    gateway says became of it (`transaction_gateway_lookup`; None: it never saw the call).
    Settles the authorization and places the order, or aborts the placement, in one
    transaction with the order locked — as the settle of `_placement_finish` does; a partial
    authorization is given back afterwards. Never asks the gateway to authorize."""
    with transaction.atomic(durable=True):
        locked = order_lock(authorization.order_id)
        settlement = transaction_settle(txn=authorization, result=result or NEVER_SEEN)
        if settlement.settled:
            order_transaction_event(order=locked, txn=settlement.transaction, actor=actor)
            transaction_topics_publish(transactions=[settlement.transaction])
        if locked.status == Order.Status.PLACING and settlement.transaction.idempotency_key == (
            placement_idempotency_key(locked.pk, placement_attempt(locked.pk))
        ):  # (an authorization of an earlier attempt does not decide this one)
            _, known = _placement_settled(locked, settlement.transaction, actor=actor)
        else:
            known = StatusesWrite()
        order_statuses_write(order=locked, actor=actor, trigger="_place", known=known)
    resolved = Order.objects.select_related("market__price_list", "payment_method").get(
        pk=locked.pk
    )
    if settlement.transaction.succeeded and resolved.status != Order.Status.PLACED:
        order_authorization_give_back(authorization=settlement.transaction, actor=actor)
    elif settlement.transaction.succeeded:
        order_wallet_save(order=resolved, source=settlement.transaction.payment_source)
    return resolved


def order_placement_abandon(*, order_id: str, actor: Actor) -> Order:
    """Finish a placement whose process died before it reserved an authorization: a free
    order (nothing to authorize) is placed, any other goes back to pending with its stock
    released. Does nothing once the attempt has an authorization (see
    `order_placement_resolve`)."""
    with transaction.atomic(durable=True):
        locked = order_lock(order_id)
        if locked.status != Order.Status.PLACING:
            return locked
        key = placement_idempotency_key(locked.pk, placement_attempt(locked.pk))
        if Transaction.objects.filter(order_id=locked.pk, idempotency_key=key).exists():
            return locked
        if locked.total_amount_with_taxes_cents == 0 or locked.payment_method is None:
            _order_placed(locked, actor=actor, trigger="_place")
        else:
            _order_placing_abort(
                locked,
                actor=actor,
                errors=[PlacementFailed("The placement was interrupted; place it again.")],
            )
    return locked


def _placement_pending_authorization(order_id: str, attempt: int) -> Transaction | None:
    return Transaction.objects.filter(
        order_id=order_id,
        type=Transaction.Type.AUTHORIZATIONS,
        status=Transaction.Status.PENDING,
        idempotency_key=placement_idempotency_key(order_id, attempt),
    ).first()


def _order_address_book_save(order: Order) -> None:
    """`_save_*_address_to_customer_address_book`, on the locked order being placed: a clone
    of each address asked for goes into the customer's address book (unless the book has the
    same address already, as when the order cloned it from there)."""
    assert order.customer_id is not None
    for flag, address in (
        (order.save_shipping_address_to_customer_address_book, order.shipping_address),
        (order.save_billing_address_to_customer_address_book, order.billing_address),
    ):
        if flag and address is not None:
            customer_address_save_copy(customer_id=order.customer_id, address=address)


PLACED_FIELDS = ("status", "placed_at", "place_total_amount_cents", "placement_errors")


def _order_placed(
    order: Order,
    *,
    actor: Actor,
    trigger: str,
    write_statuses: bool = True,
    needs_shipping: bool | None = None,
    gift_card_ids: Sequence[str] | None = None,
) -> StatusesWrite:
    """Step 3 on the locked, authorized order: placing → placed and what goes with it, saved
    with the derived statuses in one statement (`write_statuses=False`: by the caller's
    statuses writer, with what this returns). `needs_shipping`, when the caller knows it,
    spares the writer a read; `gift_card_ids` (the cards the order sells, from step 1) too."""
    shipments, shipment_events = shipments_upcoming(order=order, actor=actor)
    from_status = order.status
    order.place()
    order.placed_at = timezone.now()
    order.place_total_amount_cents = order.total_amount_with_taxes_cents
    order.placement_errors = []
    gift_cards_sold_activate(order=order, gift_card_ids=gift_card_ids)  # spec 2.2
    if order.customer_id is not None:
        customer_order_placed(customer_id=order.customer_id)
        _order_address_book_save(order)
    event = order_status_changed_event(
        order=order,
        actor=actor,
        trigger=trigger,
        from_status=from_status,
        to_status=order.status,
        save=False,
    )
    facts = None
    if needs_shipping is not None:
        statuses = active_shipment_statuses(shipment.status for shipment in shipments)
        facts = FulfillmentFacts(needs_shipping=needs_shipping, shipment_statuses=statuses)
    known = StatusesWrite(facts=facts, unsaved=PLACED_FIELDS, events=(*shipment_events, event))
    # free (a total of 0), not_required (nothing to ship), in_progress (auto-captured) follow
    if write_statuses:
        order_statuses_write(order=order, actor=actor, trigger=trigger, known=known)
    order_topic_publish_on_commit(order=order, topic="orders.place")
    return known


def _placement_start(
    order_id: str, *, actor: Actor, trigger: str, in_background: bool = False
) -> tuple[Order, Prepared | None]:
    """Step 1 in its own transaction. Returns the order and what the attempt this call started
    prepared (None: it was placed already). `in_background`: the task that finishes it is
    enqueued as part of this transaction (`place_async`)."""
    with transaction.atomic(durable=True):
        locked = order_lock(order_id)
        if locked.status == Order.Status.PLACED:
            return locked, None
        if locked.status == Order.Status.PLACING:
            raise PlacementInProgress(
                f"Order #{locked.number} is being placed.", pointer=attribute(trigger)
            )
        if locked.status != Order.Status.PENDING:
            raise transition_refused(number=locked.number, status=locked.status, trigger=trigger)
        prepared = _placement_prepare(locked, actor=actor)
        if in_background:
            task_enqueue(order_place_task, order_id=order_id, actor=actor_as_dict(actor))
    return locked, prepared


def order_place(*, order: Order, actor: Actor) -> Order:
    """`_place`: place a pending order (spec 2.2), or start placing it in the background when
    its `place_async` is set. Idempotent: placing a placed order changes nothing, and a
    second `_place` while the first runs is refused (409) without authorizing again."""
    if order.place_async:
        return order_place_async(order=order, actor=actor)
    placing, prepared = _placement_start(order.pk, actor=actor, trigger="_place")
    if prepared is None:
        return placing
    return _placement_finish(
        order_id=order.pk,
        actor=actor,
        attempt=prepared.attempt,
        placing=placing,
        source=prepared.source,
        needs_shipping=prepared.needs_shipping,
        gift_card_ids=prepared.gift_card_ids,
    )


def order_place_async(*, order: Order, actor: Actor) -> Order:
    """`_place` with `place_async`: check and reserve now (so a storefront gets its 422s at
    once), move pending → placing, and authorize and place in a background task, enqueued with
    the move (so a crash cannot leave a placing order without its task)."""
    placing, _ = _placement_start(order.pk, actor=actor, trigger="_place", in_background=True)
    return placing


def order_place_complete(*, order_id: str, actor: Actor) -> Order:
    """The background half of `place_async`: placing → placed, or back to pending with the
    reasons recorded in `placement_errors`. Safe to run twice: only a placing order moves,
    and a second run replays the first one's authorization. A refusal is an outcome (the
    order is returned); anything else, once recorded, is raised for the task runner."""
    order = Order.objects.get(pk=order_id)
    if order.status == Order.Status.PLACING:
        pending = _placement_pending_authorization(order_id, placement_attempt(order_id))
        if pending is not None:
            # Delivered again: the worker that sent this authorization died before its
            # answer was settled. Ask the gateway what became of it (never authorize again);
            # settle only a definite answer, and leave the rest to `orders_recover_placements`.
            try:
                result = transaction_gateway_lookup(txn=pending)
            except GatewayLookupFailed:
                logger.warning("placement of %s: the gateway cannot tell yet", order.number)
                return order
            if result is None:
                return order
            return order_placement_resolve(authorization=pending, result=result, actor=actor)
    try:
        return _placement_finish(order_id=order_id, actor=actor)
    except DomainError:
        return Order.objects.get(pk=order_id)  # recorded by _order_placing_failed


def _order_placing_abort(
    locked: Order, *, actor: Actor, errors: Sequence[DomainError], write_statuses: bool = True
) -> StatusesWrite:
    """On the locked placing order: placing → pending, the reservations released and the
    reasons recorded (its shipments stay planned, as drafts), saved with the derived statuses
    (`write_statuses=False`: by the caller's statuses writer, with what this returns)."""
    stock_release(order=locked, actor=actor)
    order_redemptions_release(order=locked)
    from_status = locked.status
    locked.abort_placing()
    locked.placement_errors = [error_as_dict(error) for error in errors]
    event = order_status_changed_event(
        order=locked,
        actor=actor,
        trigger="_place",
        from_status=from_status,
        to_status=locked.status,
        message="; ".join(f"{error.code}: {error.detail}" for error in errors),
        save=False,
    )
    known = StatusesWrite(
        unsaved=("status", "placement_errors", "redemptions_claimed"), events=(event,)
    )
    if write_statuses:
        order_statuses_write(order=locked, actor=actor, trigger="_place", known=known)
    return known


def _order_placing_failed(*, order_id: str, actor: Actor, errors: Sequence[DomainError]) -> Order:
    """placing → pending in its own transaction (a failure before the gateway was asked)."""
    with transaction.atomic(durable=True):
        locked = order_lock(order_id)
        if locked.status == Order.Status.PLACING:
            _order_placing_abort(locked, actor=actor, errors=errors)
    return locked


@task()
def order_place_task(order_id: str, actor: dict[str, str], attempt: int = 1) -> str:
    """The background half of `place_async`; returns the order's status afterwards. A crash
    (not a refusal: that is an outcome) is tried again after a backoff; running it twice is
    safe (see `order_place_complete`)."""
    try:
        return str(order_place_complete(order_id=order_id, actor=actor_from_dict(actor)).status)
    except Exception:
        task_retry(order_place_task, attempt=attempt, order_id=order_id, actor=actor)
        raise
