"""Gift cards: their balance moves (each one logged) and the lookup of a code.

Every balance move is one guarded UPDATE (`F()` arithmetic with the bounds in its WHERE), so
two orders redeeming one card at once cannot overdraw it, whatever else holds which lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_fsm import can_proceed

from oms.errors import DomainError, TransitionNotAllowed
from oms.money import is_currency_code
from oms.webhooks.outbox import webhook_deliveries_record
from orders.errors import (
    GiftCardAlreadySold,
    GiftCardBalanceInvalid,
    GiftCardNotForOrder,
    GiftCardNotSellable,
    GiftCardUnknown,
    InvalidAttribute,
    attribute,
    relationship,
)
from orders.models import (
    GiftCard,
    GiftCardBalanceChange,
    LineItem,
    Order,
    new_gift_card_code,
)


def gift_card_by_code(code: str) -> GiftCard | None:
    """The card whose code is `code`, whatever its case (codes are unique in any case)."""
    code = (code or "").strip()
    if not code:
        return None
    return GiftCard.objects.filter(code__iexact=code).first()


def gift_card_usable_balance(*, gift_card: GiftCard, order: Order) -> int:
    """What `gift_card` can pay of `order` now: its balance when it is active, not expired,
    in the order's currency and (when restricted) market; else 0."""
    if gift_card.status != GiftCard.Status.ACTIVE:
        return 0
    if gift_card.expires_at is not None and gift_card.expires_at <= timezone.now():
        return 0
    if gift_card.currency_code != order.currency_code:
        return 0
    if gift_card.market_id is not None and gift_card.market_id != order.market_id:
        return 0
    return gift_card.balance_cents


def gift_card_balance_move(
    *,
    gift_card_id: str,
    amount_cents: int,
    kind: str,
    order: Order | None = None,
    require_active: bool = False,
) -> GiftCardBalanceChange | None:
    """Add `amount_cents` (negative: take) to the card's balance, never below 0 nor above its
    `balance_max_cents`, and log the move. `require_active`: only while the card is active.
    Returns the log row, or None when the guard refused (nothing changed)."""
    guard = Q(pk=gift_card_id, balance_cents__gte=-amount_cents)
    guard &= Q(balance_max_cents__isnull=True) | Q(
        balance_max_cents__gte=F("balance_cents") + amount_cents
    )
    if require_active:
        guard &= Q(status=GiftCard.Status.ACTIVE)
    # One transaction: the UPDATE keeps the row locked until the log row is written, so the
    # balance read back is this move's result, not one a concurrent move committed since
    # (no savepoint: inside a caller's transaction a failure fails it whole anyway).
    with transaction.atomic(savepoint=False):
        updated = GiftCard.objects.filter(guard).update(
            balance_cents=F("balance_cents") + amount_cents, updated_at=timezone.now()
        )
        if not updated:
            return None
        balance = GiftCard.objects.values_list("balance_cents", flat=True).get(pk=gift_card_id)
        return GiftCardBalanceChange.objects.create(
            gift_card_id=gift_card_id,
            order=order,
            kind=kind,
            amount_cents=amount_cents,
            balance_cents=balance,
        )


# --- the back office's gift cards (the API's `gift_cards`, the admin's page) -------------------

# The largest balance a card may hold: the largest integer a JSON client (JavaScript's
# numbers) reads exactly, far below the 64-bit column, so no recharge can overflow it.
GIFT_CARD_BALANCE_LIMIT = 2**53 - 1

# What the back office may set on a card after its creation (the code never changes: it is
# what the customer holds). `balance_cents` only while draft; afterwards `_balance_change_cents`.
GIFT_CARD_EDITABLE = frozenset(
    {
        "market",
        "currency_code",
        "balance_cents",
        "balance_max_cents",
        "single_use",
        "rechargeable",
        "distribute_discount",
        "image_url",
        "expires_at",
        "recipient_email",
        "reference",
        "reference_origin",
        "metadata",
    }
)

# trigger -> the card's FSM transition it runs
GIFT_CARD_TRANSITIONS = {
    "_purchase": "purchase",
    "_activate": "activate",
    "_deactivate": "deactivate",
}


def _gift_card_lock(gift_card_id: str) -> GiftCard:
    """Lock and re-read one card. Only the card is locked (never an order after it), and an
    order's redemption takes the card's row with its guarded UPDATE after the order lock:
    no cycle can form."""
    assert transaction.get_connection().in_atomic_block, "row locks need a transaction"
    return GiftCard.objects.select_for_update().get(pk=gift_card_id)


def _tail(code: str) -> str:
    """How a card is named in messages: the end of its code, never the whole code."""
    return f"…{code[-4:]}"


def gift_card_code_taken(code: str) -> InvalidAttribute:
    return InvalidAttribute(
        f"code - a gift card with the code {code!r} already exists (codes are unique in any case).",
        pointer=attribute("code"),
    )


def _code_free(code: str, *, exclude_id: str | None = None) -> bool:
    taken = GiftCard.objects.filter(code__iexact=code)
    if exclude_id is not None:
        taken = taken.exclude(pk=exclude_id)
    return not taken.exists()


def gift_card_check(*, gift_card: GiftCard, balance_cents: int) -> None:
    """The rules of a card's attributes, on the (unsaved) values of `gift_card` with
    `balance_cents` as its balance: a valid currency, the market's when it has one, and a
    balance between 0 and its maximum. Fills the currency from the market when it is empty."""
    currency = (gift_card.currency_code or "").strip().upper()
    market = gift_card.market
    if market is not None:
        market_currency = str(market.price_list.currency_code)
        if not currency:
            currency = market_currency
        elif currency != market_currency:
            raise InvalidAttribute(
                f"currency_code - {currency} is not the currency of market {market.code} "
                f"({market_currency}).",
                pointer=attribute("currency_code"),
            )
    if not currency:
        raise InvalidAttribute(
            "currency_code - can't be blank (or give the card a market).",
            pointer=attribute("currency_code"),
        )
    if not is_currency_code(currency):
        raise InvalidAttribute(
            f"currency_code - {currency} is not an ISO 4217 currency code.",
            pointer=attribute("currency_code"),
        )
    gift_card.currency_code = currency
    maximum = gift_card.balance_max_cents
    if maximum is not None and not 0 <= maximum <= GIFT_CARD_BALANCE_LIMIT:
        raise InvalidAttribute(
            f"balance_max_cents - must be between 0 and {GIFT_CARD_BALANCE_LIMIT}.",
            pointer=attribute("balance_max_cents"),
        )
    if not 0 <= balance_cents <= GIFT_CARD_BALANCE_LIMIT:
        raise GiftCardBalanceInvalid(
            f"balance_cents - must be between 0 and {GIFT_CARD_BALANCE_LIMIT}.",
            pointer=attribute("balance_cents"),
        )
    if maximum is not None and balance_cents > maximum:
        raise GiftCardBalanceInvalid(
            f"balance_cents - {balance_cents} is above the card's balance_max_cents ({maximum}).",
            pointer=attribute("balance_cents"),
        )


def _gift_card_save(gift_card: GiftCard, *, update_fields: list[str] | None = None) -> None:
    """Model validation, then save; a code lost to a race is the same 422 as a taken one.
    The balance columns are the services' (checked by `gift_card_check`), not the form's."""
    gift_card.full_clean(exclude=["status", "balance_cents", "initial_balance_cents"])
    try:
        with transaction.atomic():
            gift_card.save(update_fields=update_fields)
    except IntegrityError as exc:
        if not _code_free(gift_card.code, exclude_id=gift_card.pk):
            raise gift_card_code_taken(gift_card.code) from exc
        raise ValidationError(f"The gift card conflicts with an existing one: {exc}") from exc


def gift_card_create(*, data: Mapping[str, Any]) -> GiftCard:
    """A new card, draft. `code`: trimmed, generated when empty, unique in any case. Its
    starting balance is its `initial_balance_cents`, logged as the first move."""
    values = dict(data)
    unknown = set(values) - GIFT_CARD_EDITABLE - {"code"}
    if unknown:
        raise InvalidAttribute(
            f"{', '.join(sorted(unknown))} cannot be set on a gift card.",
            pointer=attribute(sorted(unknown)[0]),
        )
    code = str(values.pop("code", "") or "").strip() or new_gift_card_code()
    balance = values.pop("balance_cents", None) or 0
    gift_card = GiftCard(code=code, **values)
    gift_card_check(gift_card=gift_card, balance_cents=balance)
    if not _code_free(code):
        raise gift_card_code_taken(code)
    gift_card.balance_cents = gift_card.initial_balance_cents = balance
    with transaction.atomic():
        _gift_card_save(gift_card)
        if balance > 0:
            GiftCardBalanceChange.objects.create(
                gift_card=gift_card,
                kind=GiftCardBalanceChange.Kind.CHANGE,
                amount_cents=balance,
                balance_cents=balance,
            )
    return gift_card


def gift_card_update(*, gift_card: GiftCard, data: Mapping[str, Any]) -> GiftCard:
    """Change what the back office may change (`GIFT_CARD_EDITABLE`), on the locked card.
    The balance itself only while the card is draft (it is then also the initial balance);
    the currency only while draft too (the same cents in another currency are another
    value). A balance that moves is logged like every other move."""
    values = dict(data)
    unknown = set(values) - GIFT_CARD_EDITABLE
    if unknown:
        raise InvalidAttribute(
            f"{', '.join(sorted(unknown))} cannot be changed on a gift card.",
            pointer=attribute(sorted(unknown)[0]),
        )
    with transaction.atomic():
        locked = _gift_card_lock(gift_card.pk)
        draft = locked.status == GiftCard.Status.DRAFT
        target = values.pop("balance_cents", locked.balance_cents)
        if target is None:
            target = locked.balance_cents
        if target != locked.balance_cents and not draft:
            raise GiftCardBalanceInvalid(
                f"Gift card {_tail(locked.code)} is {locked.status}: its balance changes "
                "through _balance_change_cents.",
                pointer=attribute("balance_cents"),
            )
        currency = values.get("currency_code")
        if (
            currency is not None
            and str(currency).strip().upper() != locked.currency_code
            and not draft
        ):
            raise InvalidAttribute(
                f"currency_code - gift card {_tail(locked.code)} is {locked.status}: its "
                "currency can no longer change.",
                pointer=attribute("currency_code"),
            )
        for field, value in values.items():
            setattr(locked, field, value)
        gift_card_check(gift_card=locked, balance_cents=target)
        delta = target - locked.balance_cents
        fields = [*dict.fromkeys([*values, "currency_code", "updated_at"])]
        if draft and delta:
            fields.append("initial_balance_cents")
            locked.initial_balance_cents = target
        # the balance moves before a lower maximum is saved, after a higher one
        if delta < 0:
            _move_logged(locked, delta)
        _gift_card_save(locked, update_fields=fields)
        if delta > 0:
            _move_logged(locked, delta)
    return GiftCard.objects.get(pk=gift_card.pk)


def _move_logged(locked: GiftCard, amount_cents: int) -> GiftCardBalanceChange:
    """A merchant's move of the locked card's balance, checked before: the guard cannot
    refuse it (if it does, the rows changed under the lock: a bug, loudly)."""
    change = gift_card_balance_move(
        gift_card_id=locked.pk, amount_cents=amount_cents, kind=GiftCardBalanceChange.Kind.CHANGE
    )
    if change is None:
        raise GiftCardBalanceInvalid(
            f"Gift card {_tail(locked.code)}'s balance changed meanwhile: try again.",
            pointer=attribute("_balance_change_cents"),
        )
    locked.balance_cents = change.balance_cents
    return change


def gift_card_transition_refused(*, gift_card: GiftCard, trigger: str) -> TransitionNotAllowed:
    return TransitionNotAllowed(
        f"Gift card {_tail(gift_card.code)} is {gift_card.status}: {trigger} is not allowed.",
        pointer=attribute(trigger),
    )


def _gift_card_transition(*, gift_card: GiftCard, trigger: str) -> GiftCard:
    with transaction.atomic():
        locked = _gift_card_lock(gift_card.pk)
        transition = getattr(locked, GIFT_CARD_TRANSITIONS[trigger])
        if not can_proceed(transition):
            raise gift_card_transition_refused(gift_card=locked, trigger=trigger)
        transition()
        locked.save(update_fields=["status", "updated_at"])
        gift_card_status_published(gift_card_ids=[locked.pk], action=GIFT_CARD_TRANSITIONS[trigger])
    return locked


def gift_card_status_published(*, gift_card_ids: Sequence[str], action: str) -> None:
    """The `gift_cards.<action>` webhooks of cards whose status just moved (purchase, activate,
    deactivate, redeem), recorded in the change's transaction (the outbox)."""
    webhook_deliveries_record(
        events=[(f"gift_cards.{action}", "gift_cards", pk) for pk in gift_card_ids]
    )


def gift_card_purchase(*, gift_card: GiftCard) -> GiftCard:
    """`_purchase`: a draft card is sold; inactive until it is activated."""
    return _gift_card_transition(gift_card=gift_card, trigger="_purchase")


def gift_card_activate(*, gift_card: GiftCard) -> GiftCard:
    """`_activate`: an inactive card pays orders from its balance."""
    return _gift_card_transition(gift_card=gift_card, trigger="_activate")


def gift_card_deactivate(*, gift_card: GiftCard) -> GiftCard:
    """`_deactivate`: an active card stops paying (its balance stays)."""
    return _gift_card_transition(gift_card=gift_card, trigger="_deactivate")


def gift_card_balance_change(*, gift_card: GiftCard, amount_cents: int) -> GiftCard:
    """`_balance_change_cents`: positive recharges (only a rechargeable card), negative takes;
    the balance never goes below 0 nor above the card's `balance_max_cents`. Logged. A
    redeemed card's balance is closed. 0 changes nothing."""
    pointer = attribute("_balance_change_cents")
    with transaction.atomic():
        locked = _gift_card_lock(gift_card.pk)
        if amount_cents == 0:
            return locked
        name = f"Gift card {_tail(locked.code)}"
        if locked.status == GiftCard.Status.REDEEMED:
            raise GiftCardBalanceInvalid(
                f"{name} is redeemed: its balance is closed.", pointer=pointer
            )
        if amount_cents > 0 and not locked.rechargeable:
            raise GiftCardBalanceInvalid(
                f"{name} is not rechargeable: its balance can only go down.", pointer=pointer
            )
        after = locked.balance_cents + amount_cents
        if after < 0:
            raise GiftCardBalanceInvalid(
                f"{name} has a balance of {locked.balance_cents}: it cannot go down by "
                f"{-amount_cents}.",
                pointer=pointer,
            )
        maximum = locked.balance_max_cents
        limit = (
            GIFT_CARD_BALANCE_LIMIT if maximum is None else min(maximum, GIFT_CARD_BALANCE_LIMIT)
        )
        if after > limit:
            raise GiftCardBalanceInvalid(
                f"{name}'s balance would be {after}, above its maximum of {limit}.",
                pointer=pointer,
            )
        _move_logged(locked, amount_cents)
    return GiftCard.objects.get(pk=gift_card.pk)


def gift_card_delete(*, gift_card: GiftCard) -> None:
    """Delete a card no order has used: the moves that paid (or credited) an order are that
    order's record and stay with the card."""
    with transaction.atomic():
        locked = _gift_card_lock(gift_card.pk)
        if locked.balance_changes.filter(order__isnull=False).exists():
            raise InvalidAttribute(
                f"Gift card {_tail(locked.code)} has paid orders: it cannot be deleted "
                "(deactivate it instead).",
                pointer="/data",
            )
        locked.delete()


# --- gift cards sold in an order (its `gift_cards` line items, spec 2.2) ---------------------

# A card not yet sold: made by the back office (draft), or bought and switched off (inactive).
GIFT_CARD_SELLABLE_STATUSES = frozenset({GiftCard.Status.DRAFT, GiftCard.Status.INACTIVE})


def gift_card_sale_lines(gift_card_id: str) -> QuerySet[LineItem]:
    """The lines that sell the card: in every order but a cart cancelled before it was
    placed (that sale never happened). A card once sold by a placed order is never sold again,
    even after that order's cancellation deactivated it."""
    return LineItem.objects.filter(
        item_type=LineItem.ItemType.GIFT_CARDS, item_id=gift_card_id
    ).exclude(order__status=Order.Status.CANCELLED, order__placed_at__isnull=True)


def gift_card_sale_check(
    *, gift_card: GiftCard, order: Order, line_item: LineItem | None = None, pointer: str = ""
) -> None:
    """Whether `gift_card` may be sold in `order`: not yet sold (draft or inactive), in the
    order's currency, of its market or of none, and in no line of an order but `line_item`
    (the order's own line, when placing it). Raises the refusal, pointed at `pointer` (the
    line's `item` by default)."""
    pointer = pointer or relationship("item")
    name = f"Gift card {_tail(gift_card.code)}"
    if gift_card.status not in GIFT_CARD_SELLABLE_STATUSES:
        raise GiftCardNotSellable(
            f"{name} is {gift_card.status}: only a draft or inactive card can be sold.",
            pointer=pointer,
        )
    if gift_card.currency_code != order.currency_code:
        raise GiftCardNotForOrder(
            f"{name} is in {gift_card.currency_code}, the order in {order.currency_code}.",
            pointer=pointer,
        )
    if gift_card.market_id is not None and gift_card.market_id != order.market_id:
        raise GiftCardNotForOrder(f"{name} belongs to another market.", pointer=pointer)
    taken = gift_card_sale_lines(gift_card.pk)
    if line_item is not None:
        taken = taken.exclude(pk=line_item.pk)
    holder = taken.values_list("order_id", flat=True).first()
    if holder is not None:
        where = "this order" if holder == order.pk else "another order"
        raise GiftCardAlreadySold(f"{name} is already sold in {where}.", pointer=pointer)


def gift_cards_sold_errors(*, order: Order, lines: Sequence[LineItem]) -> list[DomainError]:
    """Placement's check of the cards the order's `lines` sell (step 1, on the locked order):
    each still sellable to it, and still worth what its line charges (a draft card's balance
    may have changed since it was added). Empty when every card can be sold."""
    sold = [line for line in lines if line.item_type == LineItem.ItemType.GIFT_CARDS]
    if not sold:
        return []
    pointer = relationship("line_items")
    cards = GiftCard.objects.in_bulk({line.item_id for line in sold})
    errors: list[DomainError] = []
    for line in sold:
        card = cards.get(line.item_id)
        if card is None:
            errors.append(
                GiftCardUnknown(f"{line.name}: the card no longer exists.", pointer=pointer)
            )
            continue
        try:
            gift_card_sale_check(gift_card=card, order=order, line_item=line, pointer=pointer)
        except DomainError as exc:
            errors.append(exc)
            continue
        if card.balance_cents != line.unit_amount_cents:
            errors.append(
                GiftCardNotSellable(
                    f"Gift card {_tail(card.code)} is now worth {card.balance_cents}, its line "
                    f"{line.unit_amount_cents}: remove the line and add the card again.",
                    pointer=pointer,
                )
            )
    return errors


def gift_card_sale_lock(*, gift_card_id: str) -> GiftCard:
    """Lock the card a cart is about to sell (under the order's lock: order, then card, as
    every lock of a card), so two carts adding it at once are told apart by the line check."""
    return _gift_card_lock(gift_card_id)


def _sold_ids(order: Order, gift_card_ids: Sequence[str] | None) -> list[str]:
    ids = (
        LineItem.objects.filter(
            order_id=order.pk, item_type=LineItem.ItemType.GIFT_CARDS
        ).values_list("item_id", flat=True)
        if gift_card_ids is None
        else gift_card_ids
    )
    return sorted({card_id for card_id in ids if card_id})


def gift_cards_sold_activate(
    *, order: Order, gift_card_ids: Sequence[str] | None = None
) -> list[GiftCard]:
    """At placement, on the locked order: each card its lines sell is bought and activated
    (draft → inactive → active, or inactive → active). `gift_card_ids`: the cards, when the
    caller read the lines already (None: read here). The cards are locked in primary-key
    order after the order, as every other lock of a card, so two placements cannot deadlock.
    A card already active or redeemed (the back office moved it after placement checked it)
    is left as it is: the order is paid by now, and refusing here would strand its payment.
    Returns the cards activated."""
    ids = _sold_ids(order, gift_card_ids)
    if not ids:
        return []
    assert transaction.get_connection().in_atomic_block, "row locks need a transaction"
    activated: list[GiftCard] = []
    for card in GiftCard.objects.select_for_update().filter(pk__in=ids).order_by("pk"):
        if card.status == GiftCard.Status.DRAFT:
            card.purchase()
        if card.status == GiftCard.Status.INACTIVE:
            card.activate()
            card.save(update_fields=["status", "updated_at"])
            activated.append(card)
    gift_card_status_published(gift_card_ids=[card.pk for card in activated], action="activate")
    return activated


def gift_cards_sold_deactivate(*, order: Order) -> list[GiftCard]:
    """At the cancellation of a placed order, on the locked order: the cards it sold are
    switched off again (active → inactive) when they were not used — still active, with the
    balance they were sold with (the line's unit price). A card that paid something keeps
    working: its money is the customer's to refund by hand. Returns the cards deactivated."""
    sold = dict(
        LineItem.objects.filter(
            order_id=order.pk, item_type=LineItem.ItemType.GIFT_CARDS
        ).values_list("item_id", "unit_amount_cents")
    )
    if not sold:
        return []
    assert transaction.get_connection().in_atomic_block, "row locks need a transaction"
    deactivated: list[GiftCard] = []
    for card in GiftCard.objects.select_for_update().filter(pk__in=sorted(sold)).order_by("pk"):
        if card.status == GiftCard.Status.ACTIVE and card.balance_cents == sold[card.pk]:
            card.deactivate()
            card.save(update_fields=["status", "updated_at"])
            deactivated.append(card)
    gift_card_status_published(gift_card_ids=[card.pk for card in deactivated], action="deactivate")
    return deactivated
