"""Gift cards: their balance moves (each one logged) and the lookup of a code.

Every balance move is one guarded UPDATE (`F()` arithmetic with the bounds in its WHERE), so
two orders redeeming one card at once cannot overdraw it, whatever else holds which lock.
"""

from __future__ import annotations

from django.db.models import F, Q
from django.utils import timezone

from orders.models import GiftCard, GiftCardBalanceChange, Order


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
