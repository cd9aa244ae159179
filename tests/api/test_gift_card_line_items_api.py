"""Selling a gift card through the API: `POST /api/line_items` with `item_type: gift_cards` and
the polymorphic `item` relationship naming the card; placing the order activates it."""

from __future__ import annotations

import pytest

from markets.models import Market
from orders.models import GiftCard
from orders.services.gift_cards import gift_card_create
from tests.api.conftest import doc
from tests.api.test_checkout_api import shop, storefront_checkout  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

S = GiftCard.Status
ITEM = "/data/relationships/item"


def card(*, active: bool = False, **data) -> GiftCard:
    gift_card = gift_card_create(data={"currency_code": "EUR", "balance_cents": 5000, **data})
    if active:
        gift_card.purchase()
        gift_card.activate()
        gift_card.save(update_fields=["status"])
    return gift_card


def cart(api) -> str:
    market = Market.objects.get(code="eu")  # the `market` fixture, the sales channel's
    response = api.post("/api/orders", doc("orders", {}, market=("markets", market.pk)))
    assert response.status_code == 201, response.doc
    return response.doc["data"]["id"]


def add_card(api, order_id: str, gift_card_id: str, attributes=None, item_type="gift_cards"):
    return api.post(
        "/api/line_items",
        doc(
            "line_items",
            {"item_type": "gift_cards", **(attributes or {})},
            order=("orders", order_id),
            item=(item_type, gift_card_id),
        ),
    )


def error(response) -> tuple[int, str, str]:
    [first] = response.doc["errors"][:1]
    return response.status_code, first["code"], first.get("source", {}).get("pointer", "")


def test_a_storefront_sells_a_card_in_its_cart(as_role):
    storefront, office = as_role("sales_channel"), as_role("admin")
    gift_card = card()
    order_id = cart(storefront)
    response = add_card(storefront, order_id, gift_card.pk)
    assert response.status_code == 201, response.doc
    data = response.doc["data"]
    attributes = data["attributes"]
    assert (attributes["item_type"], attributes["item_id"], attributes["name"]) == (
        "gift_cards",
        gift_card.pk,
        "Gift card",
    )
    assert (attributes["quantity"], attributes["unit_amount_cents"]) == (1, 5000)
    assert attributes["total_amount_cents"] == 5000
    order = storefront.get(f"/api/orders/{order_id}").doc["data"]["attributes"]
    assert order["subtotal_amount_cents"] == 5000
    # the polymorphic item: its linkage when included, the card at its related endpoint
    line = office.get(f"/api/line_items/{data['id']}?include=item").doc
    assert line["data"]["relationships"]["item"]["data"] == {
        "type": "gift_cards",
        "id": gift_card.pk,
    }
    related = office.get(f"/api/line_items/{data['id']}/item")
    assert related.status_code == 200, related.doc
    assert (related.doc["data"]["type"], related.doc["data"]["id"]) == ("gift_cards", gift_card.pk)


def test_the_item_type_follows_a_gift_card_item(as_role):
    storefront = as_role("sales_channel")
    response = storefront.post(
        "/api/line_items",
        doc("line_items", {}, order=("orders", cart(storefront)), item=("gift_cards", card().pk)),
    )
    assert response.status_code == 201, response.doc
    assert response.doc["data"]["attributes"]["item_type"] == "gift_cards"


def test_an_integration_sells_a_card_too(as_role):
    office = as_role("admin")
    response = add_card(office, cart(office), card().pk)
    assert response.status_code == 201, response.doc


def test_an_active_card_is_refused(as_role):
    storefront = as_role("sales_channel")
    response = add_card(storefront, cart(storefront), card(active=True).pk)
    assert error(response) == (422, "GIFT_CARD_NOT_SELLABLE", ITEM)


def test_a_card_in_another_currency_is_refused(as_role):
    storefront = as_role("sales_channel")
    response = add_card(storefront, cart(storefront), card(currency_code="USD").pk)
    assert error(response) == (422, "GIFT_CARD_NOT_FOR_ORDER", ITEM)


def test_a_card_already_in_a_cart_is_refused(as_role):
    storefront = as_role("sales_channel")
    gift_card = card()
    assert add_card(storefront, cart(storefront), gift_card.pk).status_code == 201
    response = add_card(storefront, cart(storefront), gift_card.pk)
    assert error(response) == (422, "GIFT_CARD_ALREADY_SOLD", ITEM)


def test_a_card_is_sold_one_at_a_time(as_role):
    storefront = as_role("sales_channel")
    response = add_card(storefront, cart(storefront), card().pk, {"quantity": 2})
    assert error(response) == (422, "QUANTITY_INVALID", "/data/attributes/quantity")


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"_update_quantity": True}, "/data/attributes/_update_quantity"),
        ({"unit_amount_cents": 100}, "/data/attributes/unit_amount_cents"),
        ({"sku_code": "TEE"}, "/data/attributes/sku_code"),
    ],
)
def test_what_does_not_apply_to_a_card_line_is_refused(as_role, attributes, pointer):
    office = as_role("admin")
    response = add_card(office, cart(office), card().pk, attributes)
    assert error(response) == (422, "VALIDATION_ERROR", pointer)


def test_a_gift_cards_line_needs_a_gift_card(as_role):
    storefront = as_role("sales_channel")
    response = storefront.post(
        "/api/line_items",
        doc("line_items", {"item_type": "gift_cards"}, order=("orders", cart(storefront))),
    )
    assert error(response) == (422, "VALIDATION_ERROR", ITEM)


def test_an_unknown_card_is_refused(as_role):
    storefront = as_role("sales_channel")
    response = add_card(storefront, cart(storefront), "nope")
    assert response.status_code == 422, response.doc


def test_an_item_of_another_type_is_a_conflict(as_role):
    storefront = as_role("sales_channel")
    response = add_card(storefront, cart(storefront), card().pk, item_type="shipments")
    assert response.status_code == 409, response.doc


def test_other_item_types_cannot_be_created(as_role):
    storefront = as_role("sales_channel")
    response = storefront.post(
        "/api/line_items",
        doc("line_items", {"item_type": "shipments"}, order=("orders", cart(storefront))),
    )
    assert error(response) == (422, "VALIDATION_ERROR", "/data/attributes/item_type")


def test_placing_the_order_activates_the_card(as_role, shop):  # noqa: F811
    storefront = as_role("sales_channel")
    gift_card = card(market=shop["market"])
    order_id, _ = storefront_checkout(storefront, shop)
    assert add_card(storefront, order_id, gift_card.pk).status_code == 201
    response = storefront.patch(
        f"/api/orders/{order_id}", doc("orders", {"_place": True}, id=order_id)
    )
    assert response.status_code == 200, response.doc
    attributes = response.doc["data"]["attributes"]
    assert attributes["status"] == "placed"
    # 2 x 25.00 + 12.00 + 7.00 shipping + the 50.00 card
    assert attributes["place_total_amount_cents"] == 11900
    assert GiftCard.objects.values_list("status", flat=True).get(pk=gift_card.pk) == S.ACTIVE
