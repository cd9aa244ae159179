"""Promotions, coupons and gift cards on an order (spec sections 2.2 and 6).

- `order_coupon_set` / `order_gift_card_set`: a storefront's `coupon_code` and
  `gift_card_code`, checked when set (a 422 with the reason, never a silent no-op);
- `order_promotions_sync`: the pipeline's promotions slot — the market's live promotions
  through `orders.discounts.discounts_compute`, stored as the lines' `discount_cents` and one
  promotion line per applied promotion;
- `order_gift_card_balance`: the pipeline's gift-card slot — what the card may pay;
- `order_redemptions_claim` / `order_redemptions_release`: at placement, the promotion and
  coupon uses counted and the gift card debited; at cancellation (or an aborted placement),
  given back. Each counter moves in one guarded UPDATE, so concurrent placements cannot go
  past a limit or overdraw a card; the order's `redemptions_claimed`, changed on the locked
  order, makes claim and release happen exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from django.db.models import F, Q, Sum
from django.utils import timezone
from django_fsm import can_proceed

from markets.models import SkuList, SkuListItem
from orders.discounts import CartLine, PromotionTerms, discounts_compute, rules_match
from orders.errors import (
    CouponAlreadyUsed,
    CouponExhausted,
    CouponExpired,
    CouponRuleNotMet,
    CouponUnknown,
    GiftCardNotUsable,
    GiftCardUnknown,
    OrderNotEditable,
    PromotionExhausted,
    attribute,
)
from orders.models import (
    PROMOTION_ITEM_TYPES,
    Coupon,
    GiftCard,
    GiftCardBalanceChange,
    LineItem,
    Order,
    Promotion,
    PromotionRule,
)
from orders.services.gift_cards import (
    gift_card_balance_move,
    gift_card_by_code,
    gift_card_status_published,
    gift_card_usable_balance,
)

ENGINE_TYPES = frozenset(Promotion.Type.values)


# --- what the engine is given -----------------------------------------------------------------


def _cart_lines(lines: Sequence[LineItem]) -> list[LineItem]:
    """The lines promotions look at and discount: everything but promotion lines."""
    return [line for line in lines if line.item_type not in PROMOTION_ITEM_TYPES]


def _as_cart_line(line: LineItem) -> CartLine:
    return CartLine(
        item_type=line.item_type,
        unit_amount_cents=line.unit_amount_cents,
        quantity=line.quantity,
        sku_code=line.sku_code,
    )


def _list_codes(
    sku_list: SkuList | None, items: dict[str, set[str]], cart_codes: set[str]
) -> frozenset[str] | None:
    """The cart's SKU codes a list holds (its items, or its regex when not manual)."""
    if sku_list is None:
        return None
    if sku_list.manual:
        return frozenset(items.get(sku_list.pk, set()))
    pattern = re.compile(sku_list.sku_code_regex)
    return frozenset(code for code in cart_codes if pattern.fullmatch(code))


def live_promotions(*, market_id: str, now: datetime) -> list[Promotion]:
    """The market's promotions that may apply now, with their rules (two queries)."""
    promotions = list(
        Promotion.objects.filter(
            market_id=market_id,
            disabled_at__isnull=True,
            starts_at__lte=now,
            expires_at__gt=now,
        )
        .filter(Q(total_usage_limit__isnull=True) | Q(total_usage_count__lt=F("total_usage_limit")))
        .select_related("sku_list")
    )
    if promotions:
        rules: dict[str, list[PromotionRule]] = {}
        for rule in PromotionRule.objects.filter(promotion__in=promotions).select_related(
            "sku_list"
        ):
            rules.setdefault(rule.promotion_id, []).append(rule)
        for promotion in promotions:
            promotion.live_rules = rules.get(promotion.pk, [])  # type: ignore[attr-defined]
    return promotions


def promotion_terms(promotions: Sequence[Promotion], cart_codes: set[str]) -> list[PromotionTerms]:
    """The engine's view of `promotions` (from `live_promotions`): SKU lists resolved to the
    cart's codes in one query for all of them."""
    lists = {p.sku_list_id for p in promotions if p.sku_list_id}
    for promotion in promotions:
        lists |= {r.sku_list_id for r in promotion.live_rules if r.sku_list_id}  # type: ignore[attr-defined]
    items: dict[str, set[str]] = {}
    if lists:
        for list_id, code in SkuListItem.objects.filter(sku_list_id__in=lists).values_list(
            "sku_list_id", "sku__code"
        ):
            items.setdefault(list_id, set()).add(code)
    terms: list[PromotionTerms] = []
    for order, promotion in enumerate(promotions):
        by_type = {rule.type: rule for rule in promotion.live_rules}  # type: ignore[attr-defined]
        amount_rule = by_type.get(PromotionRule.Type.ORDER_AMOUNT)
        sku_rule = by_type.get(PromotionRule.Type.SKU_LIST)
        terms.append(
            PromotionTerms(
                id=promotion.pk,
                type=promotion.type,
                name=promotion.name,
                priority=promotion.priority,
                exclusive=promotion.exclusive,
                order=order,
                percentage=promotion.percentage,
                fixed_amount_cents=promotion.fixed_amount_cents,
                x=promotion.x,
                y=promotion.y,
                cheapest_free=promotion.cheapest_free,
                target_codes=_list_codes(promotion.sku_list, items, cart_codes),
                min_amount_cents=amount_rule.order_amount_cents if amount_rule else None,
                min_amount_use_subtotal=bool(amount_rule and amount_rule.use_subtotal),
                rule_codes=_list_codes(sku_rule.sku_list, items, cart_codes) if sku_rule else None,
                rule_min_quantity=sku_rule.min_quantity if sku_rule else None,
                rule_all_skus=bool(sku_rule and sku_rule.all_skus),
                needs_coupon=PromotionRule.Type.COUPON_CODES in by_type,
            )
        )
    return terms


def _coupon_promotion_id(order: Order, now: datetime) -> str | None:
    """The promotion the order's coupon unlocks: on a cart, while the coupon itself is usable
    (the cart shows what it would pay now). On an order being placed, whatever the coupon's
    counters said when read: the claim's guarded UPDATE, under the counter's row lock, is the
    one decision (read here, a use taken by an order whose cancellation commits before the
    claim would place at full price with the coupon on it and no use counted). Once counted,
    its last use may be this order's own."""
    if order.coupon_id is None:
        return None
    coupons = Coupon.objects.filter(pk=order.coupon_id)
    if not order.redemptions_claimed and order.status != Order.Status.PLACING:
        coupons = coupons.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).filter(
            Q(usage_limit__isnull=True) | Q(usage_count__lt=F("usage_limit"))
        )
    return coupons.values_list("promotion_rule__promotion_id", flat=True).first()


# --- the pipeline's slots -----------------------------------------------------------------------


def order_promotions_sync(
    *, order: Order, lines: list[LineItem]
) -> tuple[list[LineItem], set[str]]:
    """On a locked cart (or an order being placed): apply the market's live promotions.
    Sets each line's `discount_cents` in memory and keeps exactly one promotion line per
    applied promotion (their amounts saved here). Returns the order's lines, promotion lines
    included, and the pks of the lines whose discount changed (for the totals writer)."""
    now = timezone.now()
    cart = _cart_lines(lines)
    promotions = live_promotions(market_id=order.market_id, now=now)
    owned = [line for line in lines if line.item_type in ENGINE_TYPES and line.item_id]
    if not promotions and not owned and not any(line.discount_breakdown for line in cart):
        return lines, set()  # nothing applies and nothing was applied
    codes = {line.sku_code for line in cart if line.sku_code}
    coupon_promotion_id = _coupon_promotion_id(order, now)
    result = discounts_compute(
        [_as_cart_line(line) for line in cart],
        promotion_terms(promotions, codes),
        coupon_promotion_id=coupon_promotion_id,
    )
    changed: set[str] = set()
    for line, discount, parts in zip(cart, result.line_discounts, result.breakdowns, strict=True):
        breakdown = {promotion_id: {"cents": cents} for promotion_id, cents in parts.items()}
        if line.discount_cents != discount or line.discount_breakdown != breakdown:
            line.discount_cents, line.discount_breakdown = discount, breakdown
            changed.add(line.pk)
    wanted = {item.promotion_id: item for item in result.applied}
    kept: list[LineItem] = []
    for line in lines:
        if line.item_type not in ENGINE_TYPES or not line.item_id:
            kept.append(line)
            continue
        item = wanted.pop(line.item_id, None)
        if item is None or item.type != line.item_type:
            line.delete()
            if item is not None:
                wanted[item.promotion_id] = item
            continue
        coupon_code = order.coupon_code if item.promotion_id == coupon_promotion_id else ""
        if (line.unit_amount_cents, line.name, line.coupon_code) != (
            item.amount_cents,
            item.name,
            coupon_code,
        ):
            line.name, line.unit_amount_cents = item.name, item.amount_cents
            line.total_amount_cents, line.coupon_code = item.amount_cents, coupon_code
            line.save(
                update_fields=[
                    "name",
                    "unit_amount_cents",
                    "total_amount_cents",
                    "coupon_code",
                    "updated_at",
                ]
            )
        kept.append(line)
    for item in wanted.values():
        kept.append(
            LineItem.objects.create(
                order=order,
                item_type=item.type,
                item_id=item.promotion_id,
                name=item.name,
                quantity=1,
                unit_amount_cents=item.amount_cents,
                total_amount_cents=item.amount_cents,
                unit_amount_manual=True,
                coupon_code=order.coupon_code if item.promotion_id == coupon_promotion_id else "",
            )
        )
    return kept, changed


def order_gift_card_balance(order: Order) -> int:
    """What the order's gift card may pay: its usable balance while the order is a cart (or
    being placed); once placed, what the placement debited from it."""
    if order.gift_card_id is None:
        return 0
    if order.redemptions_claimed:
        return _gift_card_debited(order)
    if order.status not in Order.CART_STATUSES and order.status != Order.Status.PLACING:
        return 0  # placed without using it
    gift_card = GiftCard.objects.get(pk=order.gift_card_id)
    return gift_card_usable_balance(gift_card=gift_card, order=order)


def _gift_card_debited(order: Order) -> int:
    moved = GiftCardBalanceChange.objects.filter(
        order_id=order.pk, gift_card_id=order.gift_card_id
    ).aggregate(total=Sum("amount_cents"))["total"]
    return -(moved or 0)


# --- the storefront's codes -------------------------------------------------------------------


def order_coupon_set(*, order: Order, code: str | None) -> None:
    """`coupon_code` on a locked cart: the coupon of that code in the order's market, usable
    by this customer and matching the cart; an empty code takes the coupon off."""
    pointer = attribute("coupon_code")
    _require_cart(order, pointer)
    code = (code or "").strip()
    if not code:
        order.coupon, order.coupon_code = None, ""
        return
    coupon = (
        Coupon.objects.filter(
            code__iexact=code, promotion_rule__promotion__market_id=order.market_id
        )
        .select_related("promotion_rule__promotion")
        .first()
    )
    if coupon is None:
        raise CouponUnknown(f"There is no coupon {code} in this market.", pointer=pointer)
    promotion = coupon.promotion_rule.promotion
    now = timezone.now()
    if coupon.expires_at is not None and coupon.expires_at <= now:
        raise CouponExpired(f"The coupon {code} has expired.", pointer=pointer)
    status = promotion.status_at(now)
    if status == Promotion.Status.INACTIVE or coupon.usage_reached:
        raise CouponExhausted(f"The coupon {code} has been used up.", pointer=pointer)
    if status != Promotion.Status.ACTIVE:
        raise CouponExpired(f"The promotion of the coupon {code} is {status}.", pointer=pointer)
    if coupon.customer_single_use and _coupon_used_by(coupon, order):
        raise CouponAlreadyUsed(
            f"The coupon {code} has been used by this customer already.", pointer=pointer
        )
    lines = _cart_lines(list(order.line_items.all()))
    promotion.live_rules = list(promotion.promotion_rules.select_related("sku_list"))  # type: ignore[attr-defined]
    codes = {line.sku_code for line in lines if line.sku_code}
    [terms] = promotion_terms([promotion], codes)
    if not rules_match(
        terms, [_as_cart_line(line) for line in lines], coupon_promotion_id=promotion.pk
    ):
        raise CouponRuleNotMet(
            f"The cart does not meet the conditions of the coupon {code}.", pointer=pointer
        )
    order.coupon, order.coupon_code = coupon, coupon.code


def _coupon_used_by(coupon: Coupon, order: Order) -> bool:
    """Whether the order's customer has a placed (not cancelled) order with the coupon."""
    if not order.customer_email:
        return False
    return (
        Order.objects.filter(
            coupon_id=coupon.pk,
            customer_email__iexact=order.customer_email,
            redemptions_claimed=True,
        )
        .exclude(pk=order.pk)
        .exists()
    )


def order_gift_card_set(*, order: Order, code: str | None) -> None:
    """`gift_card_code` on a locked cart: a usable card of the order's currency and market;
    an empty code takes the card off."""
    pointer = attribute("gift_card_code")
    _require_cart(order, pointer)
    code = (code or "").strip()
    if not code:
        order.gift_card, order.gift_card_code = None, ""
        return
    gift_card = gift_card_by_code(code)
    # One answer whether the code exists or not, so that trying codes tells nothing about
    # which exist (the back office reads a card's state on the card itself).
    if gift_card is None or gift_card_usable_balance(gift_card=gift_card, order=order) <= 0:
        raise GiftCardUnknown("No gift card with this code can pay this order.", pointer=pointer)
    order.gift_card, order.gift_card_code = gift_card, gift_card.code


def _require_cart(order: Order, pointer: str) -> None:
    """Codes are entered on a cart: once placed, an order keeps the coupon and the card its
    placement counted and debited (cancelling gives them back)."""
    if order.status not in Order.CART_STATUSES:
        raise OrderNotEditable(
            f"Order #{order.number} is {order.status}: codes are entered on a cart.",
            pointer=pointer,
        )


# --- placement and cancellation ---------------------------------------------------------------


def _applied_promotion_ids(lines: Sequence[LineItem]) -> list[str]:
    # pk order: concurrent placements take the counters' row locks in one order (no deadlock)
    return sorted(
        {line.item_id for line in lines if line.item_type in ENGINE_TYPES and line.item_id}
    )


def order_redemptions_claim(*, order: Order, lines: Sequence[LineItem]) -> bool:
    """On the locked order being placed, its totals final: count a use of every applied
    promotion and of the coupon that unlocked one, and debit the gift card. A limit reached
    (by a concurrent placement) or a balance gone is a 422 and the caller's transaction rolls
    everything back. Sets `redemptions_claimed` when it took anything and says so (the caller
    saves it)."""
    promotion_ids = _applied_promotion_ids(lines)
    for promotion_id in promotion_ids:
        counted = (
            Promotion.objects.filter(pk=promotion_id)
            .filter(
                Q(total_usage_limit__isnull=True) | Q(total_usage_count__lt=F("total_usage_limit"))
            )
            .update(total_usage_count=F("total_usage_count") + 1)
        )
        if not counted:
            raise PromotionExhausted(
                "A promotion of the order reached its usage limit meanwhile; refresh the order "
                "to see its new total.",
                pointer=attribute("discount_amount_cents"),
            )
    if order.coupon_id is not None:
        _coupon_claim(order, promotion_ids)
    amount = -order.gift_card_amount_cents
    if not promotion_ids and not (order.gift_card_id is not None and amount > 0):
        return False
    if order.gift_card_id is not None and amount > 0:
        moved = gift_card_balance_move(
            gift_card_id=order.gift_card_id,
            amount_cents=-amount,
            kind=GiftCardBalanceChange.Kind.DEBIT,
            order=order,
            require_active=True,
        )
        if moved is None:
            raise GiftCardNotUsable(
                "The gift card's balance changed meanwhile; refresh the order to see its new "
                "total.",
                pointer=attribute("gift_card_code"),
            )
        _gift_card_single_use_move(order.gift_card_id, "redeem")
    order.redemptions_claimed = True
    return True


def _coupon_claim(order: Order, promotion_ids: Sequence[str]) -> None:
    coupon = Coupon.objects.select_related("promotion_rule").get(pk=order.coupon_id)
    pointer = attribute("coupon_code")
    now = timezone.now()
    if coupon.promotion_rule.promotion_id not in promotion_ids:
        # Not applied at placement: because it was used up or expired since it was entered
        # (the customer saw its discount: refused, not silently charged more), or because the
        # cart no longer meets its promotion's rules (then it is simply not used).
        if coupon.usage_reached:
            raise CouponExhausted(f"The coupon {coupon.code} has been used up.", pointer=pointer)
        if coupon.expires_at is not None and coupon.expires_at <= now:
            raise CouponExpired(f"The coupon {coupon.code} has expired.", pointer=pointer)
        return
    counted = (
        Coupon.objects.filter(pk=coupon.pk)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(Q(usage_limit__isnull=True) | Q(usage_count__lt=F("usage_limit")))
        .update(usage_count=F("usage_count") + 1)
    )
    if not counted:
        if coupon.expires_at is not None and coupon.expires_at <= now:
            raise CouponExpired(f"The coupon {coupon.code} has expired.", pointer=pointer)
        raise CouponExhausted(f"The coupon {coupon.code} has been used up.", pointer=pointer)
    # Checked after the counter's row lock: a concurrent placement of the same customer with
    # this coupon has committed (and is seen) or rolled back by now.
    if coupon.customer_single_use and _coupon_used_by(coupon, order):
        raise CouponAlreadyUsed(
            f"The coupon {coupon.code} has been used by this customer already.", pointer=pointer
        )


def _gift_card_single_use_move(gift_card_id: str, transition: str) -> None:
    """A single-use card redeemed by the order it paid, or active again when that order gives
    its balance back: the card's own transition, on its row locked after the order's (the
    only card of the order: no order of locks to keep among cards)."""
    card = GiftCard.objects.select_for_update().get(pk=gift_card_id)
    move = getattr(card, transition)
    if not card.single_use or not can_proceed(move):
        return
    move()
    card.save(update_fields=["status", "updated_at"])
    action = "redeem" if transition == "redeem" else "activate"
    gift_card_status_published(gift_card_ids=[card.pk], action=action)


def order_redemptions_release(*, order: Order) -> None:
    """On the locked order being cancelled (or its placement aborted): give back what
    `order_redemptions_claim` took, once. Sets `redemptions_claimed` (the caller saves it)."""
    if not order.redemptions_claimed:
        return
    lines = list(order.line_items.filter(item_type__in=sorted(ENGINE_TYPES)))
    promotion_ids = _applied_promotion_ids(lines)
    for promotion_id in promotion_ids:
        Promotion.objects.filter(pk=promotion_id, total_usage_count__gt=0).update(
            total_usage_count=F("total_usage_count") - 1
        )
    if order.coupon_id is not None:
        Coupon.objects.filter(
            pk=order.coupon_id,
            usage_count__gt=0,
            promotion_rule__promotion_id__in=promotion_ids,
        ).update(usage_count=F("usage_count") - 1)
    if order.gift_card_id is not None and (debited := _gift_card_debited(order)) > 0:
        _gift_card_single_use_move(order.gift_card_id, "unredeem")
        gift_card_balance_move(
            gift_card_id=order.gift_card_id,
            amount_cents=debited,
            kind=GiftCardBalanceChange.Kind.CREDIT,
            order=order,
        )
    order.redemptions_claimed = False
