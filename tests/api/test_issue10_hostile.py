"""Hostile probes of issue 10 (promotions, coupons, gift cards, taxes) through the API: a
storefront of market A, a logged-in customer, another market's storefront and a read-only
integration try to read or change what is not theirs, or to bend the totals and the counters.
Each test asserts the behaviour a careful engineer expects."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from oms.api.principal import Principal
from orders import services
from orders.models import Coupon, GiftCard, Order, Promotion
from orders.services.gift_cards import gift_card_activate, gift_card_create, gift_card_purchase
from tests.api.conftest import Api, doc
from tests.api.test_checkout_api import shop  # noqa: F401  (fixture)
from tests.orders.factories import STAFF, market_in, order_in_status, order_ready
from tests.orders.promotion_factories import coupon_make, promotion_make, rule_make

pytestmark = pytest.mark.django_db


# --- helpers -----------------------------------------------------------------------------------


def storefront(market: Any, customer_id: str | None = None) -> Api:
    return Api(
        Principal("app-sc", "sales_channel", market_ids=(market.pk,), customer_id=customer_id)
    )


def read_only() -> Api:
    return Api(Principal("app-read-only", "integration", role="read_only"))


def admin() -> Api:
    return Api(Principal("app-admin", "integration", role="admin"))


def coupon_in(market: Any, code: str, **coupon_fields: Any) -> Coupon:
    promotion = promotion_make(market, Promotion.Type.PERCENTAGE_DISCOUNT, percentage=10)
    return coupon_make(rule_make(promotion), code, **coupon_fields)


def active_card(**data: Any) -> GiftCard:
    gift_card = gift_card_create(data={"currency_code": "EUR", "balance_cents": 1000, **data})
    gift_card_purchase(gift_card=gift_card)
    return gift_card_activate(gift_card=gift_card)


def set_attrs(api: Api, order: Order, attributes: dict[str, Any]) -> Any:
    return api.patch(f"/api/orders/{order.pk}", doc("orders", attributes, order.pk))


def assert_error(response: Any, statuses: tuple[int, ...], pointer: str | None = None) -> None:
    assert response.status_code in statuses, (response.status_code, response.doc)
    assert response.doc, response.content
    assert response.doc.get("errors"), response.doc
    if pointer is not None:
        assert response.doc["errors"][0].get("source", {}).get("pointer") == pointer, response.doc


def no_500(response: Any) -> None:
    assert response.status_code < 500, (response.status_code, response.content[:500])


def all_strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in all_strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in all_strings(value)]
    return [node] if isinstance(node, str) else []


# --- (a)/(c) storefronts: the back-office resources --------------------------------------------

BACK_OFFICE_PATHS = (
    "/api/promotions",
    "/api/percentage_discount_promotions",
    "/api/fixed_amount_promotions",
    "/api/promotion_rules",
    "/api/coupon_codes_promotion_rules",
    "/api/coupons",
    "/api/gift_cards",
    "/api/sku_lists",
    "/api/sku_list_items",
    "/api/tax_calculators",
    "/api/manual_tax_calculators",
    "/api/tax_rules",
    "/api/tax_categories",
)


@pytest.mark.parametrize("path", BACK_OFFICE_PATHS)
def test_a_storefront_lists_no_back_office_resource(market, path):
    coupon_in(market, "SPRING10")
    active_card()
    response = storefront(market).get(path)
    assert_error(response, (401, 403, 404))


def test_a_storefront_reads_no_coupon_promotion_or_card_by_id(market):
    coupon = coupon_in(market, "SPRING10")
    gift_card = active_card()
    api = storefront(market)
    promotion_id = coupon.promotion_rule.promotion_id
    for path in (
        f"/api/coupons/{coupon.pk}",
        f"/api/promotions/{promotion_id}",
        f"/api/percentage_discount_promotions/{promotion_id}",
        f"/api/percentage_discount_promotions/{promotion_id}/coupons",
        f"/api/percentage_discount_promotions/{promotion_id}/relationships/coupons",
        f"/api/coupon_codes_promotion_rules/{coupon.promotion_rule_id}/coupons",
        f"/api/gift_cards/{gift_card.pk}",
        f"/api/markets/{market.pk}/promotions",
    ):
        response = api.get(path)
        no_500(response)
        assert response.status_code in (401, 403, 404), (path, response.status_code, response.doc)
        assert "SPRING10" not in response.content.decode(), path
        assert gift_card.code not in response.content.decode(), path


def test_a_customer_token_changes_no_gift_card_balance(market):
    gift_card = active_card(rechargeable=True)
    for api in (storefront(market), read_only()):
        response = api.patch(
            f"/api/gift_cards/{gift_card.pk}",
            doc("gift_cards", {"_balance_change_cents": 100000}, gift_card.pk),
        )
        assert_error(response, (401, 403, 404))
    gift_card = GiftCard.objects.get(pk=gift_card.pk)
    assert gift_card.balance_cents == 1000


def test_a_storefront_creates_no_coupon_or_card(market):
    coupon = coupon_in(market, "SPRING10")
    api = storefront(market)
    response = api.post(
        "/api/coupons",
        doc(
            "coupons",
            {"code": "FREEBIE"},
            promotion_rule=("coupon_codes_promotion_rules", coupon.promotion_rule_id),
        ),
    )
    assert_error(response, (401, 403, 404))
    response = api.post(
        "/api/gift_cards", doc("gift_cards", {"currency_code": "EUR", "balance_cents": 99999})
    )
    assert_error(response, (401, 403, 404))
    assert not Coupon.objects.filter(code="FREEBIE").exists()
    assert not GiftCard.objects.filter(balance_cents=99999).exists()


def test_a_storefront_sees_no_tax_calculator_of_its_market(market):
    response = admin().post(
        "/api/manual_tax_calculators", doc("manual_tax_calculators", {"name": "EU VAT"})
    )
    assert response.status_code == 201, response.doc
    calculator_id = response.doc["data"]["id"]
    response = admin().patch(
        f"/api/markets/{market.pk}",
        doc(
            "markets",
            {},
            market.pk,
            tax_calculator=("manual_tax_calculators", calculator_id),
        ),
    )
    assert response.status_code == 200, response.doc
    api = storefront(market)
    for path in (
        f"/api/markets/{market.pk}/tax_calculator",
        f"/api/markets/{market.pk}/relationships/tax_calculator",
        f"/api/manual_tax_calculators/{calculator_id}",
        f"/api/manual_tax_calculators/{calculator_id}/tax_rules",
    ):
        response = api.get(path)
        no_500(response)
        assert response.status_code in (401, 403, 404), (path, response.status_code)
    response = api.get(f"/api/markets/{market.pk}?include=tax_calculator")
    no_500(response)
    assert not any(
        r.get("type") in ("manual_tax_calculators", "tax_calculators")
        for r in (response.doc or {}).get("included", [])
    ), response.doc


def test_an_order_include_leaks_no_promotion_coupon_or_card(market, shop):  # noqa: F811
    coupon = coupon_in(market, "SPRING10")
    gift_card = active_card(balance_cents=700)
    order = order_ready(market=market, amount_cents=2500)
    api = storefront(market)
    assert set_attrs(api, order, {"coupon_code": "spring10"}).status_code == 200
    assert set_attrs(api, order, {"gift_card_code": gift_card.code}).status_code == 200
    other_card = active_card(balance_cents=123456)
    coupon_in(market, "STAFFONLY50")
    for include in (
        "line_items",
        "line_items.item",
        "market",
        "market.tax_calculator",
        "line_items.sku",
    ):
        response = api.get(f"/api/orders/{order.pk}?include={include}")
        no_500(response)
        included = (response.doc or {}).get("included", [])
        types = {r["type"] for r in included}
        assert not types & {
            "coupons",
            "gift_cards",
            "promotions",
            "percentage_discount_promotions",
            "coupon_codes_promotion_rules",
            "manual_tax_calculators",
        }, (include, types)
        text = response.content.decode()
        assert other_card.code not in text
        assert "STAFFONLY50" not in text
        assert "123456" not in text
    assert coupon.code == "SPRING10"


# --- (c) another market's storefront, (b) another customer ------------------------------------


def test_another_markets_storefront_cannot_touch_the_cart(market, other_market):
    coupon = coupon_in(other_market, "USONLY")
    order = order_ready(market=market, amount_cents=2500)
    api = storefront(other_market)
    response = set_attrs(api, order, {"coupon_code": coupon.code})
    assert_error(response, (401, 403, 404))
    order.refresh_from_db()
    assert order.coupon_id is None


def test_a_coupon_of_another_market_is_unknown(market, other_market):
    coupon_in(other_market, "USONLY")
    order = order_ready(market=market, amount_cents=2500)
    response = set_attrs(storefront(market), order, {"coupon_code": "USONLY"})
    assert_error(response, (422,), "/data/attributes/coupon_code")
    assert response.doc["errors"][0]["code"] == "COUPON_UNKNOWN"
    order.refresh_from_db()
    assert (order.coupon_id, order.coupon_code) == (None, "")


def test_a_coupon_of_another_market_is_refused_at_create(market, other_market):
    coupon_in(other_market, "USONLY")
    before = Order.objects.count()
    response = storefront(market).post(
        "/api/orders",
        doc("orders", {"coupon_code": "USONLY"}, market=("markets", market.pk)),
    )
    assert_error(response, (422,), "/data/attributes/coupon_code")
    assert Order.objects.count() == before


def test_a_gift_card_of_another_currency_is_refused(market):
    usd = market_in("USD")
    card = active_card(currency_code="USD", balance_cents=5000)
    order = order_ready(market=market, amount_cents=2500)
    response = set_attrs(storefront(market), order, {"gift_card_code": card.code})
    assert_error(response, (422,), "/data/attributes/gift_card_code")
    order.refresh_from_db()
    assert order.gift_card_id is None
    assert usd.pk


def test_a_gift_card_of_another_market_is_refused(market, other_market):
    card = active_card(market=other_market, balance_cents=5000)
    order = order_ready(market=market, amount_cents=2500)
    response = set_attrs(storefront(market), order, {"gift_card_code": card.code})
    assert_error(response, (422,), "/data/attributes/gift_card_code")
    order.refresh_from_db()
    assert order.gift_card_id is None


def test_a_customer_cannot_put_a_gift_card_on_someone_elses_cart(market):
    card = active_card(balance_cents=5000)
    ada = services.customer_find_or_create(email="ada@example.com")
    bob = services.customer_find_or_create(email="bob@example.com")
    order = order_ready(market=market, amount_cents=2500, customer_email=ada.email)
    response = set_attrs(storefront(market, bob.pk), order, {"gift_card_code": card.code})
    assert_error(response, (401, 403, 404))
    order.refresh_from_db()
    assert order.gift_card_id is None


def test_a_customer_reads_no_one_elses_coupon_through_the_order(market):
    coupon_in(market, "SPRING10")
    ada = services.customer_find_or_create(email="ada@example.com")
    bob = services.customer_find_or_create(email="bob@example.com")
    order = order_ready(market=market, amount_cents=2500, customer_email=ada.email)
    assert set_attrs(storefront(market, ada.pk), order, {"coupon_code": "SPRING10"}).status_code
    response = storefront(market, bob.pk).get(f"/api/orders/{order.pk}?include=line_items")
    assert_error(response, (401, 403, 404))
    assert "SPRING10" not in response.content.decode()


def test_a_read_only_integration_sets_no_coupon_or_card(market):
    coupon_in(market, "SPRING10")
    card = active_card(balance_cents=5000)
    order = order_ready(market=market, amount_cents=2500)
    for attributes in ({"coupon_code": "SPRING10"}, {"gift_card_code": card.code}):
        response = set_attrs(read_only(), order, attributes)
        assert_error(response, (401, 403))
    order.refresh_from_db()
    assert (order.coupon_id, order.gift_card_id) == (None, None)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "X" * 10000,
        "X" * 256,
        "\uff33\uff30\uff32\uff29\uff2e\uff27\uff11\uff10",  # full-width SPRING10
        "SPRING10\x00",
        "' OR 1=1 --",
        "%",
        "_",
        "SPRING%",
        "🎁" * 10,
        123,
        12.5,
        True,
        ["SPRING10"],
        {"code": "SPRING10"},
    ],
)
@pytest.mark.parametrize("name", ["coupon_code", "gift_card_code"])
def test_odd_codes_are_a_422_with_a_pointer(market, name, value):
    coupon_in(market, "SPRING10")
    active_card(code="SPRING10-CARD")
    order = order_ready(market=market, amount_cents=2500)
    response = set_attrs(storefront(market), order, {name: value})
    no_500(response)
    assert_error(response, (400, 422), f"/data/attributes/{name}")
    order.refresh_from_db()
    assert (order.coupon_id, order.gift_card_id, order.coupon_code, order.gift_card_code) == (
        None,
        None,
        "",
        "",
    )


@pytest.mark.parametrize("name", ["coupon_code", "gift_card_code"])
def test_null_takes_the_code_off(market, name):
    coupon_in(market, "SPRING10")
    card = active_card(balance_cents=500)
    order = order_ready(market=market, amount_cents=2500)
    api = storefront(market)
    value = "SPRING10" if name == "coupon_code" else card.code
    assert set_attrs(api, order, {name: value}).status_code == 200
    response = set_attrs(api, order, {name: None})
    assert response.status_code == 200, response.doc
    order.refresh_from_db()
    assert getattr(order, name) == ""
    assert (order.coupon_id if name == "coupon_code" else order.gift_card_id) is None


def test_a_coupon_code_with_spaces_around_is_the_coupon(market):
    coupon = coupon_in(market, "SPRING10")
    order = order_ready(market=market, amount_cents=2500)
    response = set_attrs(storefront(market), order, {"coupon_code": "  spring10  "})
    assert response.status_code == 200, response.doc
    order.refresh_from_db()
    assert order.coupon_id == coupon.pk
    assert response.doc["data"]["attributes"]["coupon_code"] == "SPRING10"


# --- brute force of gift card codes -------------------------------------------------------------


def test_a_gift_card_code_cannot_be_brute_forced(market):
    active_card(code="GC-00042", balance_cents=5000)
    order = order_ready(market=market, amount_cents=2500)
    api = storefront(market)
    statuses = [
        set_attrs(api, order, {"gift_card_code": f"GC-{n:05d}"}).status_code for n in range(60)
    ]
    assert 429 in statuses[:50], "no limit on wrong gift-card codes"


def test_a_card_that_cannot_pay_answers_like_an_unknown_one(market, other_market):
    """The answer to a card of another market or currency, spent or inactive must not tell a
    prober that the code exists (else codes are enumerable)."""
    spent = active_card(balance_cents=0, code="SPENT-CARD")
    other = active_card(market=other_market, code="OTHER-CARD")
    order = order_ready(market=market, amount_cents=2500)
    api = storefront(market)
    unknown = set_attrs(api, order, {"gift_card_code": "NO-SUCH-CARD"}).doc["errors"][0]
    for card in (spent, other):
        error = set_attrs(api, order, {"gift_card_code": card.code}).doc["errors"][0]
        assert (error["code"], error["detail"]) == (unknown["code"], unknown["detail"])


# --- placed orders, cancellations, usage --------------------------------------------------------


def test_no_coupon_or_card_on_a_placed_order(market):
    coupon_in(market, "SPRING10")
    card = active_card(balance_cents=5000)
    order = order_in_status(Order.Status.PLACED, market=market, amount_cents=2500)
    api = storefront(market)
    for attributes in ({"coupon_code": "SPRING10"}, {"gift_card_code": card.code}):
        response = set_attrs(api, order, attributes)
        assert_error(response, (422,))
    order.refresh_from_db()
    assert (order.coupon_id, order.gift_card_id) == (None, None)
    card = GiftCard.objects.get(pk=card.pk)
    assert card.balance_cents == 5000


def _placed_with(market: Any, code: str, email: str, card: GiftCard | None = None) -> Order:
    order = order_ready(market=market, amount_cents=2500, customer_email=email)
    data: dict[str, Any] = {"coupon_code": code}
    if card is not None:
        data["gift_card_code"] = card.code
    order = services.order_update(order=order, actor=STAFF, data=data)
    return services.order_place(order=order, actor=STAFF)


def test_a_single_use_coupon_holds_for_a_guest_in_another_case(market):
    coupon = coupon_in(market, "ONCE", customer_single_use=True)
    _placed_with(market, "ONCE", "guest@example.com")
    order = order_ready(market=market, amount_cents=2500, customer_email="GUEST@Example.COM")
    response = set_attrs(storefront(market), order, {"coupon_code": "ONCE"})
    assert_error(response, (422,), "/data/attributes/coupon_code")
    assert response.doc["errors"][0]["code"] == "COUPON_ALREADY_USED"
    coupon.refresh_from_db()
    assert coupon.usage_count == 1


def test_cancelling_twice_gives_the_uses_and_the_card_back_once(market):
    coupon = coupon_in(market, "SPRING10", usage_limit=5)
    card = active_card(balance_cents=1000)
    order = _placed_with(market, "SPRING10", "ada@example.com", card)
    coupon.refresh_from_db()
    card = GiftCard.objects.get(pk=card.pk)
    assert coupon.usage_count == 1
    assert card.balance_cents == 0
    api = admin()
    response = api.patch(f"/api/orders/{order.pk}", doc("orders", {"_cancel": True}, order.pk))
    assert response.status_code == 200, response.doc
    response = api.patch(f"/api/orders/{order.pk}", doc("orders", {"_cancel": True}, order.pk))
    no_500(response)
    assert_error(response, (422,))
    coupon.refresh_from_db()
    card = GiftCard.objects.get(pk=card.pk)
    promotion = Promotion.objects.get(pk=coupon.promotion_rule.promotion_id)
    assert (coupon.usage_count, promotion.total_usage_count, card.balance_cents) == (0, 0, 1000)


def test_cancelling_a_cart_gives_nothing_back(market):
    coupon = coupon_in(market, "SPRING10", usage_limit=5)
    card = active_card(balance_cents=1000)
    _placed_with(market, "SPRING10", "ada@example.com")
    cart = order_ready(market=market, amount_cents=2500)
    api = storefront(market)
    assert set_attrs(api, cart, {"coupon_code": "SPRING10"}).status_code == 200
    assert set_attrs(api, cart, {"gift_card_code": card.code}).status_code == 200
    for who in (api, admin()):
        response = who.patch(f"/api/orders/{cart.pk}", doc("orders", {"_cancel": True}, cart.pk))
        no_500(response)
    coupon.refresh_from_db()
    card = GiftCard.objects.get(pk=card.pk)
    promotion = Promotion.objects.get(pk=coupon.promotion_rule.promotion_id)
    assert (coupon.usage_count, promotion.total_usage_count, card.balance_cents) == (1, 1, 1000)


def test_a_storefront_cannot_cancel_a_placed_order_to_free_a_coupon(market):
    coupon = coupon_in(market, "SPRING10", usage_limit=1)
    order = _placed_with(market, "SPRING10", "ada@example.com")
    response = storefront(market).patch(
        f"/api/orders/{order.pk}", doc("orders", {"_cancel": True}, order.pk)
    )
    assert_error(response, (401, 403, 422))
    coupon.refresh_from_db()
    assert coupon.usage_count == 1


# --- taxes and totals -----------------------------------------------------------------------------


def test_a_storefront_updates_the_taxes_of_its_cart(market):
    order = order_ready(market=market, amount_cents=2500)
    response = set_attrs(storefront(market), order, {"_update_taxes": True})
    assert response.status_code == 200, response.doc


def test_a_storefront_cannot_update_the_taxes_of_another_markets_cart(market, other_market):
    order = order_ready(market=market, amount_cents=2500)
    response = set_attrs(storefront(other_market), order, {"_update_taxes": True})
    assert_error(response, (401, 403, 404))


def test_totals_never_go_negative_with_a_big_fixed_amount_and_a_card(market):
    promotion = promotion_make(market, Promotion.Type.FIXED_AMOUNT, fixed_amount_cents=100000)
    coupon_make(rule_make(promotion), "HUGE")
    card = active_card(balance_cents=5000)
    order = order_ready(market=market, amount_cents=2500)
    api = storefront(market)
    assert set_attrs(api, order, {"coupon_code": "HUGE"}).status_code == 200
    response = set_attrs(api, order, {"gift_card_code": card.code})
    no_500(response)
    order.refresh_from_db()
    attrs = api.get(f"/api/orders/{order.pk}").doc["data"]["attributes"]
    for name, value in attrs.items():
        if name.endswith("_cents") and name not in (
            "discount_amount_cents",
            "gift_card_amount_cents",
        ):
            assert value is None or value >= 0, (name, value)
    assert attrs["total_amount_with_taxes_cents"] >= 0
    assert -attrs["gift_card_amount_cents"] <= max(attrs["subtotal_amount_cents"], 0)
    order = services.order_place(order=order, actor=STAFF)
    card = GiftCard.objects.get(pk=card.pk)
    assert card.balance_cents == 5000 + attrs["gift_card_amount_cents"]
    assert card.balance_cents >= 0


def test_a_disabled_promotions_coupon_is_refused(market):
    coupon = coupon_in(market, "GONE")
    Promotion.objects.filter(pk=coupon.promotion_rule.promotion_id).update(
        disabled_at=timezone.now()
    )
    order = order_ready(market=market, amount_cents=2500)
    response = set_attrs(storefront(market), order, {"coupon_code": "GONE"})
    assert_error(response, (422,), "/data/attributes/coupon_code")


def test_an_inactive_gift_card_cannot_be_sold_into_another_cart(market):
    card = gift_card_create(data={"currency_code": "EUR", "balance_cents": 5000})
    order = order_ready(market=market, amount_cents=2500)
    response = set_attrs(storefront(market), order, {"gift_card_code": card.code})
    assert_error(response, (422,), "/data/attributes/gift_card_code")
    assert all_strings(response.doc)


def test_a_storefront_sees_its_markets_tax_calculator_id_but_cannot_follow_it(market):
    """The linkage (an opaque id) renders as every relationship does; the calculator itself,
    its rules and the relationship endpoint are back office only."""
    response = admin().post(
        "/api/manual_tax_calculators", doc("manual_tax_calculators", {"name": "EU VAT"})
    )
    calculator_id = response.doc["data"]["id"]
    admin().patch(
        f"/api/markets/{market.pk}",
        doc("markets", {}, market.pk, tax_calculator=("manual_tax_calculators", calculator_id)),
    )
    api = storefront(market)
    response = api.get(f"/api/markets/{market.pk}")
    assert response.status_code == 200, response.doc
    for path in (
        f"/api/markets/{market.pk}/tax_calculator",
        f"/api/markets/{market.pk}/relationships/tax_calculator",
        f"/api/markets/{market.pk}?include=tax_calculator",
        f"/api/manual_tax_calculators/{calculator_id}",
    ):
        assert api.get(path).status_code in (401, 403), path


def _promotion_line(order: Order) -> Any:
    return order.line_items.get(item_type="percentage_discount_promotions")


def test_a_storefront_cannot_delete_or_edit_a_promotion_line(market):
    promotion_make(market, Promotion.Type.PERCENTAGE_DISCOUNT, percentage=10)
    order = order_ready(market=market, amount_cents=2500)
    line = _promotion_line(order)
    api = storefront(market)
    response = api.patch(
        f"/api/line_items/{line.pk}",
        doc("line_items", {"quantity": 5, "unit_amount_cents": 0}, line.pk),
    )
    no_500(response)
    assert response.status_code in (403, 404, 422), response.doc
    response = api.delete(f"/api/line_items/{line.pk}")
    no_500(response)
    order.refresh_from_db()
    line = _promotion_line(order)
    assert (line.quantity, line.total_amount_cents) == (1, -250)
    assert order.discount_amount_cents == -250


def test_a_storefront_cannot_sell_another_markets_gift_card(market, other_market):
    card = gift_card_create(data={"market": other_market, "balance_cents": 5000})
    order = order_ready(market=market, amount_cents=2500)
    response = storefront(market).post(
        "/api/line_items",
        doc(
            "line_items",
            {"item_type": "gift_cards"},
            order=("orders", order.pk),
            item=("gift_cards", card.pk),
        ),
    )
    no_500(response)
    assert_error(response, (404, 422))
    assert not order.line_items.filter(item_type="gift_cards").exists()


def test_a_sold_gift_cards_code_shows_only_through_its_own_cart(market):
    card = gift_card_create(data={"currency_code": "EUR", "balance_cents": 5000})
    order = order_ready(market=market, amount_cents=2500)
    api = storefront(market)
    response = api.post(
        "/api/line_items",
        doc(
            "line_items",
            {"item_type": "gift_cards"},
            order=("orders", order.pk),
            item=("gift_cards", card.pk),
        ),
    )
    assert response.status_code == 201, response.doc
    other = order_ready(market=market, amount_cents=2500)
    response = storefront(market).get(f"/api/orders/{other.pk}?include=line_items.item")
    no_500(response)
    assert card.code not in response.content.decode()


def _editing(order: Order) -> Order:
    return services.order_start_editing(order=order, actor=STAFF)


def test_an_editing_order_keeps_its_placed_coupon_or_gives_both_back(market):
    first = coupon_in(market, "FIRST", usage_limit=5)
    second = coupon_in(market, "SECOND", usage_limit=5)
    order = _editing(_placed_with(market, "FIRST", "ada@example.com"))
    response = set_attrs(admin(), order, {"coupon_code": "SECOND"})
    no_500(response)
    if response.status_code == 200:
        order = services.order_stop_editing(order=Order.objects.get(pk=order.pk), actor=STAFF)
        services.order_cancel(order=order, actor=STAFF)
        first.refresh_from_db()
        second.refresh_from_db()
        assert (first.usage_count, second.usage_count) == (0, 0)
    else:
        assert_error(response, (422,), "/data/attributes/coupon_code")


def test_an_editing_order_keeps_its_placed_gift_card_or_gives_it_back(market):
    first = active_card(balance_cents=1000, code="FIRST-CARD")
    second = active_card(balance_cents=1000, code="SECOND-CARD")
    promotion_make(market, Promotion.Type.PERCENTAGE_DISCOUNT, percentage=10)
    order = order_ready(market=market, amount_cents=2500, customer_email="ada@example.com")
    order = services.order_update(order=order, actor=STAFF, data={"gift_card_code": "FIRST-CARD"})
    order = _editing(services.order_place(order=order, actor=STAFF))
    assert GiftCard.objects.get(pk=first.pk).balance_cents == 0
    response = set_attrs(admin(), order, {"gift_card_code": "SECOND-CARD"})
    no_500(response)
    if response.status_code == 200:
        order = Order.objects.get(pk=order.pk)
        assert order.gift_card_amount_cents == -1000  # what the placement took stays taken
        services.order_cancel(order=order, actor=STAFF)
        balances = [GiftCard.objects.get(pk=c.pk).balance_cents for c in (first, second)]
        assert balances == [1000, 1000]
    else:
        assert_error(response, (422,), "/data/attributes/gift_card_code")
