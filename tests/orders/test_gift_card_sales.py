"""Selling a gift card in an order (spec 2.2: "purchased gift cards become active"): a cart's
`gift_cards` line, priced at the card's balance and counted in the subtotal; the card is
activated when the order is placed, switched off again when a placed order is cancelled
unused; one card, one sale."""

from __future__ import annotations

import pytest

from oms.errors import DomainError
from orders import services
from orders.errors import OrderNotPlaceable
from orders.models import GiftCard, LineItem, Order
from orders.services.gift_cards import (
    gift_card_balance_change,
    gift_card_create,
    gift_card_deactivate,
    gift_card_update,
)
from orders.services.line_items import line_item_gift_card_add
from tests import factories as catalog
from tests.orders.factories import STAFF, STOREFRONT, order_pending, order_ready

pytestmark = pytest.mark.django_db

S = GiftCard.Status
ITEM = "/data/relationships/item"


def card(status: str = S.DRAFT, *, balance_cents: int = 5000, **data) -> GiftCard:
    """A card made by the back office, brought to `status` by the model's transitions."""
    gift_card = gift_card_create(
        data={"currency_code": "EUR", "balance_cents": balance_cents, **data}
    )
    paths: dict[str, list[str]] = {
        S.DRAFT: [],
        S.INACTIVE: ["purchase"],
        S.ACTIVE: ["purchase", "activate"],
    }
    for transition in paths[status]:
        getattr(gift_card, transition)()
    gift_card.save(update_fields=["status"])
    return gift_card


def sell(order: Order, gift_card: GiftCard, **kwargs) -> LineItem:
    return line_item_gift_card_add(order=order, actor=STOREFRONT, gift_card=gift_card, **kwargs)


def status_of(gift_card: GiftCard) -> str:
    return GiftCard.objects.values_list("status", flat=True).get(pk=gift_card.pk)


def refusal(order: Order, gift_card: GiftCard, **kwargs) -> tuple[str, str | None]:
    with pytest.raises(DomainError) as exc:
        sell(order, gift_card, **kwargs)
    return exc.value.code, exc.value.pointer


# --- adding a card to a cart -------------------------------------------------------------------


def test_a_card_line_is_priced_at_the_balance_and_counts_in_the_subtotal():
    order = order_pending(amount_cents=1000)
    gift_card = card(balance_cents=5000)
    line = sell(order, gift_card)
    assert (line.item_type, line.item_id, line.name) == ("gift_cards", gift_card.pk, "Gift card")
    assert (line.quantity, line.unit_amount_cents, line.total_amount_cents) == (1, 5000, 5000)
    assert line.sku_id is None
    order.refresh_from_db()
    assert order.subtotal_amount_cents == 6000
    assert order.total_amount_with_taxes_cents == 6000
    assert status_of(gift_card) == S.DRAFT  # sold only when the order is placed


def test_a_refresh_does_not_reprice_a_card_line():
    order = order_pending(amount_cents=1000)
    line = sell(order, card(balance_cents=5000))
    services.order_refresh(order=order, actor=STAFF)
    line.refresh_from_db()
    assert line.unit_amount_cents == 5000
    order.refresh_from_db()
    assert order.subtotal_amount_cents == 6000


def test_a_card_alone_makes_a_draft_cart_pending():
    order = order_pending()
    order.line_items.filter(item_type="skus").delete()
    services.order_refresh(order=order, actor=STAFF)
    sell(order, card(S.INACTIVE, balance_cents=2000))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert order.subtotal_amount_cents == 2000


def test_a_card_line_can_be_removed_from_the_cart():
    order = order_pending(amount_cents=1000)
    line = sell(order, card())
    services.line_item_delete(line_item=line, actor=STOREFRONT)
    order.refresh_from_db()
    assert order.subtotal_amount_cents == 1000
    assert not order.line_items.filter(item_type="gift_cards").exists()


@pytest.mark.parametrize("quantity", [0, 2, True])
def test_a_card_is_sold_one_at_a_time(quantity):
    assert refusal(order_pending(), card(), quantity=quantity) == (
        "QUANTITY_INVALID",
        "/data/attributes/quantity",
    )


def test_a_card_already_active_cannot_be_sold():
    assert refusal(order_pending(), card(S.ACTIVE)) == ("GIFT_CARD_NOT_SELLABLE", ITEM)


def test_a_card_in_another_currency_cannot_be_sold():
    assert refusal(order_pending(), card(currency_code="USD")) == ("GIFT_CARD_NOT_FOR_ORDER", ITEM)


def test_a_card_of_another_market_cannot_be_sold():
    other = catalog.MarketFactory.create()
    assert str(other.price_list.currency_code) == "EUR"
    assert refusal(order_pending(), card(market=other)) == ("GIFT_CARD_NOT_FOR_ORDER", ITEM)


def test_a_card_of_the_orders_market_can_be_sold():
    order = order_pending()
    line = sell(order, card(market=order.market))
    assert line.item_type == "gift_cards"


def test_one_card_one_sale():
    gift_card = card()
    first = order_pending()
    sell(first, gift_card)
    assert refusal(first, gift_card) == ("GIFT_CARD_ALREADY_SOLD", ITEM)
    assert refusal(order_pending(), gift_card) == ("GIFT_CARD_ALREADY_SOLD", ITEM)


def test_a_cancelled_carts_card_can_be_sold_again():
    gift_card = card()
    cart = order_pending()
    sell(cart, gift_card)
    services.order_cancel(order=cart, actor=STAFF)
    assert sell(order_pending(), gift_card).item_id == gift_card.pk
    assert status_of(gift_card) == S.DRAFT


def test_a_card_cannot_be_added_to_a_placed_order():
    order = services.order_place(order=order_ready(), actor=STOREFRONT)
    assert refusal(order, card()) == ("ORDER_NOT_EDITABLE", "/data/relationships/order")


# --- placement ---------------------------------------------------------------------------------


def test_placement_activates_the_cards_sold():
    order = order_ready(amount_cents=1000)
    drafted, bought = card(balance_cents=2000), card(S.INACTIVE, balance_cents=3000)
    sell(order, drafted)
    sell(order, bought)
    placed = services.order_place(order=Order.objects.get(pk=order.pk), actor=STOREFRONT)
    assert placed.status == Order.Status.PLACED
    assert placed.place_total_amount_cents == 6000
    assert (status_of(drafted), status_of(bought)) == (S.ACTIVE, S.ACTIVE)


def test_a_card_of_a_placed_order_is_not_sold_again():
    gift_card = card()
    order = order_ready()
    sell(order, gift_card)
    services.order_place(order=Order.objects.get(pk=order.pk), actor=STOREFRONT)
    assert refusal(order_pending(), gift_card) == ("GIFT_CARD_NOT_SELLABLE", ITEM)
    # even switched off by the back office, it is that order's card
    gift_card_deactivate(gift_card=gift_card)
    assert refusal(order_pending(), gift_card) == ("GIFT_CARD_ALREADY_SOLD", ITEM)


def test_placement_refuses_a_card_activated_meanwhile():
    gift_card = card()
    order = order_ready()
    sell(order, gift_card)
    gift_card.purchase()
    gift_card.activate()
    gift_card.save(update_fields=["status"])
    with pytest.raises(OrderNotPlaceable) as exc:
        services.order_place(order=Order.objects.get(pk=order.pk), actor=STOREFRONT)
    assert {e.code: e.pointer for e in exc.value.errors} == {
        "GIFT_CARD_NOT_SELLABLE": "/data/relationships/line_items"
    }
    assert Order.objects.get(pk=order.pk).status == Order.Status.PENDING


def test_placement_refuses_a_card_whose_balance_changed_since_it_was_added():
    gift_card = card(balance_cents=5000)
    order = order_ready()
    sell(order, gift_card)
    gift_card_update(gift_card=gift_card, data={"balance_cents": 7000})
    with pytest.raises(OrderNotPlaceable) as exc:
        services.order_place(order=Order.objects.get(pk=order.pk), actor=STOREFRONT)
    assert exc.value.code == "GIFT_CARD_NOT_SELLABLE"
    assert status_of(gift_card) == S.DRAFT


# --- cancellation ------------------------------------------------------------------------------


def test_cancelling_a_placed_order_deactivates_its_unused_cards():
    gift_card = card()
    order = order_ready()
    sell(order, gift_card)
    order = services.order_place(order=Order.objects.get(pk=order.pk), actor=STOREFRONT)
    assert status_of(gift_card) == S.ACTIVE
    cancelled = services.order_cancel(order=order, actor=STAFF)
    assert cancelled.status == Order.Status.CANCELLED
    assert status_of(gift_card) == S.INACTIVE
    # the sale happened: the card is not sold again
    assert refusal(order_pending(), gift_card) == ("GIFT_CARD_ALREADY_SOLD", ITEM)


def test_cancelling_keeps_a_card_that_was_used_active():
    gift_card = card(balance_cents=5000)
    order = order_ready()
    sell(order, gift_card)
    order = services.order_place(order=Order.objects.get(pk=order.pk), actor=STOREFRONT)
    gift_card_balance_change(gift_card=gift_card, amount_cents=-1000)
    services.order_cancel(order=order, actor=STAFF)
    assert status_of(gift_card) == S.ACTIVE
