"""`/api/gift_cards` (spec section 6): the back office creates cards (a code of its own or a
generated one, unique in any case), sells, activates and deactivates them and changes their
balance with triggers sent with PATCH; the balance and usage logs come from the card's moves.
Storefronts have no access."""

from __future__ import annotations

import pytest

from orders.models import GiftCard
from orders.services.gift_cards import (
    gift_card_activate,
    gift_card_balance_move,
    gift_card_create,
    gift_card_purchase,
)
from tests.api.conftest import doc
from tests.orders.factories import order_row

pytestmark = pytest.mark.django_db


def active_card(**data) -> GiftCard:
    gift_card = gift_card_create(data={"currency_code": "EUR", "balance_cents": 1000, **data})
    gift_card_purchase(gift_card=gift_card)
    return gift_card_activate(gift_card=gift_card)


def patch(api, gift_card: GiftCard, attributes: dict, **relationships):
    return api.patch(
        f"/api/gift_cards/{gift_card.pk}",
        doc("gift_cards", attributes, gift_card.pk, **relationships),
    )


def test_create_without_a_code_generates_one(as_role):
    response = as_role("admin").post(
        "/api/gift_cards", doc("gift_cards", {"currency_code": "EUR", "balance_cents": 5000})
    )
    assert response.status_code == 201, response.doc
    attributes = response.doc["data"]["attributes"]
    assert len(attributes["code"]) == 36
    assert attributes["status"] == "draft"
    assert attributes["initial_balance_cents"] == attributes["balance_cents"] == 5000
    assert attributes["formatted_balance"] == "€50.00"
    assert attributes["balance_float"] == 50.0
    assert [entry["balance_change_cents"] for entry in attributes["balance_log"]] == [5000]
    assert attributes["usage_log"] == {}


def test_create_with_a_code_and_a_market(as_role, market):
    response = as_role("admin").post(
        "/api/gift_cards",
        doc("gift_cards", {"code": " MY-CARD-1 "}, market=("markets", market.pk)),
    )
    assert response.status_code == 201, response.doc
    data = response.doc["data"]
    assert data["attributes"]["code"] == "MY-CARD-1"
    assert data["attributes"]["currency_code"] == "EUR"  # the market's
    assert data["relationships"]["market"]["data"] == {"type": "markets", "id": market.pk}


def test_a_code_taken_in_another_case_is_422_with_a_pointer(as_role):
    gift_card_create(data={"code": "summer-gift", "currency_code": "EUR"})
    response = as_role("admin").post(
        "/api/gift_cards", doc("gift_cards", {"code": "SUMMER-GIFT", "currency_code": "EUR"})
    )
    assert response.status_code == 422, response.doc
    error = response.doc["errors"][0]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["source"]["pointer"] == "/data/attributes/code"
    assert GiftCard.objects.count() == 1


def test_a_currency_other_than_the_market_one_is_422(as_role, market):
    response = as_role("admin").post(
        "/api/gift_cards",
        doc("gift_cards", {"currency_code": "USD"}, market=("markets", market.pk)),
    )
    assert response.status_code == 422
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/attributes/currency_code"


def test_triggers_are_not_creatable_and_the_code_is_not_updatable(as_role):
    api = as_role("admin")
    response = api.post(
        "/api/gift_cards", doc("gift_cards", {"currency_code": "EUR", "_purchase": True})
    )
    assert response.status_code == 400
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/attributes/_purchase"
    gift_card = gift_card_create(data={"currency_code": "EUR"})
    response = patch(api, gift_card, {"code": "OTHER"})
    assert response.status_code == 400
    assert response.doc["errors"][0]["source"]["pointer"] == "/data/attributes/code"


def test_purchase_activate_deactivate_through_patch(as_role):
    api = as_role("admin")
    gift_card = gift_card_create(data={"currency_code": "EUR", "balance_cents": 1000})
    for trigger, status in (
        ("_purchase", "inactive"),
        ("_activate", "active"),
        ("_deactivate", "inactive"),
        ("_activate", "active"),
    ):
        response = patch(api, gift_card, {trigger: True})
        assert response.status_code == 200, response.doc
        assert response.doc["data"]["attributes"]["status"] == status


def test_a_refused_trigger_is_422_transition_not_allowed(as_role):
    gift_card = gift_card_create(data={"currency_code": "EUR"})
    response = patch(as_role("admin"), gift_card, {"_activate": True})
    assert response.status_code == 422
    error = response.doc["errors"][0]
    assert error["code"] == "TRANSITION_NOT_ALLOWED"
    assert error["source"]["pointer"] == "/data/attributes/_activate"


def test_balance_change_cents_moves_the_balance_and_logs_it(as_role):
    api = as_role("admin")
    gift_card = active_card()
    response = patch(api, gift_card, {"_balance_change_cents": -300})
    assert response.status_code == 200, response.doc
    attributes = response.doc["data"]["attributes"]
    assert attributes["balance_cents"] == 700
    assert attributes["initial_balance_cents"] == 1000
    assert [(e["balance_change_cents"], e["balance_cents"]) for e in attributes["balance_log"]] == [
        (1000, 1000),
        (-300, 700),
    ]
    response = patch(api, gift_card, {"_balance_change_cents": 800})
    assert response.doc["data"]["attributes"]["balance_cents"] == 1500


@pytest.mark.parametrize(
    ("card", "change"),
    [({}, -1001), ({"rechargeable": False}, 1), ({"balance_max_cents": 1200}, 201)],
    ids=["below zero", "not rechargeable", "above the maximum"],
)
def test_a_refused_balance_change_is_422_with_its_pointer(as_role, card, change):
    gift_card = active_card(**card)
    response = patch(as_role("admin"), gift_card, {"_balance_change_cents": change})
    assert response.status_code == 422, response.doc
    error = response.doc["errors"][0]
    assert error["code"] == "GIFT_CARD_BALANCE_INVALID"
    assert error["source"]["pointer"] == "/data/attributes/_balance_change_cents"
    assert GiftCard.objects.get(pk=gift_card.pk).balance_cents == 1000


def test_balance_cents_is_editable_only_while_draft(as_role):
    api = as_role("admin")
    draft = gift_card_create(data={"currency_code": "EUR", "balance_cents": 1000})
    response = patch(api, draft, {"balance_cents": 2000})
    assert response.status_code == 200
    assert response.doc["data"]["attributes"]["initial_balance_cents"] == 2000
    response = patch(api, active_card(), {"balance_cents": 2000})
    assert response.status_code == 422
    error = response.doc["errors"][0]
    assert error["code"] == "GIFT_CARD_BALANCE_INVALID"
    assert error["source"]["pointer"] == "/data/attributes/balance_cents"


def test_usage_log_and_balance_log_show_the_orders(as_role):
    gift_card = active_card()
    order = order_row()
    gift_card_balance_move(gift_card_id=gift_card.pk, amount_cents=-400, kind="debit", order=order)
    gift_card_balance_move(gift_card_id=gift_card.pk, amount_cents=400, kind="credit", order=order)
    response = as_role("admin").get(f"/api/gift_cards/{gift_card.pk}")
    attributes = response.doc["data"]["attributes"]
    assert attributes["balance_log"][1]["order_id"] == order.pk
    assert attributes["balance_log"][1]["order_number"] == str(order.number)
    assert "order_id" not in attributes["balance_log"][0]
    usage = attributes["usage_log"][order.pk]
    assert [(u["action"], u["amount_cents"], u["balance_cents"]) for u in usage] == [
        ("use", -400, 600),
        ("credit", 400, 1000),
    ]
    assert usage[0]["order_number"] == str(order.number)


def test_filters_and_sorts(as_role, market):
    api = as_role("admin")
    small = gift_card_create(data={"currency_code": "EUR", "balance_cents": 100})
    big = gift_card_create(
        data={"market": market, "balance_cents": 9000, "recipient_email": "ann@example.com"}
    )
    usd = gift_card_create(data={"code": "USD-CARD", "currency_code": "USD"})
    gift_card_purchase(gift_card=usd)

    def ids(query: str) -> list[str]:
        response = api.get(f"/api/gift_cards?{query}")
        assert response.status_code == 200, response.doc
        return [record["id"] for record in response.doc["data"]]

    assert ids("filter[q][code_eq]=USD-CARD") == [usd.pk]
    assert ids("filter[q][status_eq]=inactive") == [usd.pk]
    assert set(ids("filter[q][currency_code_eq]=EUR")) == {small.pk, big.pk}
    assert ids(f"filter[q][market_id_eq]={market.pk}") == [big.pk]
    assert ids("filter[q][recipient_email_cont]=ann") == [big.pk]
    assert ids("filter[q][balance_cents_gteq]=5000") == [big.pk]
    assert ids("filter[q][expires_at_null]=true&sort=-balance_cents") == [big.pk, small.pk, usd.pk]
    assert api.get("/api/gift_cards?sort=code").status_code == 400  # not sortable


def test_delete_a_card_no_order_used(as_role):
    gift_card = gift_card_create(data={"currency_code": "EUR"})
    assert as_role("admin").delete(f"/api/gift_cards/{gift_card.pk}").status_code == 204
    assert not GiftCard.objects.exists()


@pytest.mark.parametrize("role", ["sales_channel", "anonymous"])
def test_storefronts_have_no_access(as_role, role):
    gift_card = active_card()
    api = as_role(role)
    for response in (
        api.get("/api/gift_cards"),
        api.get(f"/api/gift_cards/{gift_card.pk}"),
        api.post("/api/gift_cards", doc("gift_cards", {"currency_code": "EUR"})),
        patch(api, gift_card, {"_balance_change_cents": 100}),
        api.delete(f"/api/gift_cards/{gift_card.pk}"),
    ):
        assert response.status_code == 401, response.doc
    assert GiftCard.objects.get(pk=gift_card.pk).balance_cents == 1000


def test_read_only_integration_reads_but_does_not_write(as_role):
    gift_card = active_card()
    api = as_role("read_only")
    assert api.get("/api/gift_cards").status_code == 200
    assert api.get(f"/api/gift_cards/{gift_card.pk}").status_code == 200
    assert patch(api, gift_card, {"_deactivate": True}).status_code == 401


def test_the_list_costs_the_same_queries_whatever_it_holds(as_role, django_assert_num_queries):
    api = as_role("admin")
    order = order_row()

    def add_cards(count: int) -> None:
        for _ in range(count):
            gift_card = active_card()
            gift_card_balance_move(
                gift_card_id=gift_card.pk, amount_cents=-100, kind="debit", order=order
            )

    add_cards(1)
    with django_assert_num_queries(2):  # the page (the last: not counted), its balance moves
        assert len(api.get("/api/gift_cards?include=market").doc["data"]) == 1
    add_cards(9)
    with django_assert_num_queries(3):  # a full page, so the list is counted too
        response = api.get("/api/gift_cards?include=market")
    assert len(response.doc["data"]) == 10
    add_cards(15)
    with django_assert_num_queries(3):
        assert len(api.get("/api/gift_cards?include=market&page[size]=25").doc["data"]) == 25
    with django_assert_num_queries(2):  # the card, its balance moves
        api.get(f"/api/gift_cards/{response.doc['data'][0]['id']}")
