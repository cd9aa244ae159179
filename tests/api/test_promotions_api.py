"""Promotions, their rules, coupons and SKU lists through the API (spec section 6): each kind
at its own endpoint, all kinds at `promotions`, back office only."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Promotion, PromotionRule
from tests import factories
from tests.api.conftest import doc
from tests.orders.promotion_factories import (
    coupon_make,
    promotion_make,
    rule_make,
    sku_list_make,
)

pytestmark = pytest.mark.django_db

STARTS, EXPIRES = "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"


def promotion_doc(kind: str, market: Any, **attributes: Any) -> dict[str, Any]:
    body = {"name": "Spring sale", "starts_at": STARTS, "expires_at": EXPIRES, **attributes}
    return doc(kind, body, market=("markets", market.pk))


def error_of(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.doc
    error: dict[str, Any] = response.doc["errors"][0]
    return error


@pytest.mark.parametrize(
    ("kind", "attributes", "expected"),
    [
        ("percentage_discount_promotions", {"percentage": 15}, {"percentage": 15}),
        (
            "fixed_amount_promotions",
            {"fixed_amount_cents": 1250},
            {
                "fixed_amount_cents": 1250,
                "fixed_amount_float": 12.5,
                "formatted_fixed_amount": "€12.50",
            },
        ),
        ("free_shipping_promotions", {}, {}),
        ("fixed_price_promotions", {"fixed_amount_cents": 990}, {"fixed_amount_cents": 990}),
        (
            "buy_x_pay_y_promotions",
            {"x": 3, "y": 2, "cheapest_free": True},
            {"x": 3, "y": 2, "cheapest_free": True},
        ),
    ],
)
def test_an_integration_creates_each_kind_with_its_own_attributes(
    as_role, market, kind, attributes, expected
):
    response = as_role("admin").post(f"/api/{kind}", promotion_doc(kind, market, **attributes))
    assert response.status_code == 201, response.doc
    data = response.doc["data"]
    assert data["type"] == kind
    attrs = data["attributes"]
    assert attrs["type"] == kind
    assert attrs["currency_code"] == "EUR"  # the market's, when not given
    assert attrs["total_usage_count"] == 0
    assert attrs["coupons_count"] == 0
    assert attrs["status"] in ("active", "expired", "pending")
    assert attrs["disabled_at"] is None
    for name, value in expected.items():
        if name == "formatted_fixed_amount":
            assert "12.50" in attrs[name]
        else:
            assert attrs[name] == value
    assert Promotion.objects.get(pk=data["id"]).type == kind
    assert data["relationships"]["market"]["data"] == {"type": "markets", "id": market.pk}


def test_a_promotion_needs_its_market(as_role):
    body = doc(
        "percentage_discount_promotions",
        {"name": "x", "starts_at": STARTS, "expires_at": EXPIRES, "percentage": 10},
    )
    response = as_role("admin").post("/api/percentage_discount_promotions", body)
    assert error_of(response)["source"]["pointer"] == "/data/relationships/market"


@pytest.mark.parametrize("percentage", [0, 101, None])
def test_a_percentage_out_of_1_to_100_is_refused(as_role, market, percentage):
    attributes = {} if percentage is None else {"percentage": percentage}
    response = as_role("admin").post(
        "/api/percentage_discount_promotions",
        promotion_doc("percentage_discount_promotions", market, **attributes),
    )
    error = error_of(response)
    assert error["source"]["pointer"] == "/data/attributes/percentage"
    assert not Promotion.objects.exists()


def test_expires_before_starts_is_refused(as_role, market):
    response = as_role("admin").post(
        "/api/free_shipping_promotions",
        promotion_doc("free_shipping_promotions", market, expires_at="2025-01-01T00:00:00Z"),
    )
    error = error_of(response)
    assert error["code"] == "PROMOTION_DATES_INVALID"
    assert error["source"]["pointer"] == "/data/attributes/expires_at"


def test_another_currency_than_the_markets_is_refused(as_role, market):
    response = as_role("admin").post(
        "/api/fixed_amount_promotions",
        promotion_doc(
            "fixed_amount_promotions", market, fixed_amount_cents=100, currency_code="USD"
        ),
    )
    error = error_of(response)
    assert error["code"] == "PROMOTION_CURRENCY_MISMATCH"
    assert error["source"]["pointer"] == "/data/attributes/currency_code"


@pytest.mark.parametrize(("x", "y"), [(2, 2), (1, 3), (None, 1)])
def test_buy_x_pay_y_needs_x_greater_than_y(as_role, market, x, y):
    attributes = {"y": y} if x is None else {"x": x, "y": y}
    response = as_role("admin").post(
        "/api/buy_x_pay_y_promotions",
        promotion_doc("buy_x_pay_y_promotions", market, **attributes),
    )
    assert error_of(response)["source"]["pointer"] in ("/data/attributes/x", "/data/attributes/y")


def test_fixed_amount_cents_is_required(as_role, market):
    response = as_role("admin").post(
        "/api/fixed_price_promotions", promotion_doc("fixed_price_promotions", market)
    )
    assert error_of(response)["source"]["pointer"] == "/data/attributes/fixed_amount_cents"


def test_a_kinds_attributes_are_not_another_kinds(as_role, market):
    response = as_role("admin").post(
        "/api/free_shipping_promotions",
        promotion_doc("free_shipping_promotions", market, percentage=10),
    )
    error = error_of(response, 400)
    assert error["code"] == "PARAM_NOT_ALLOWED"
    assert error["source"]["pointer"] == "/data/attributes/percentage"


def test_usage_count_is_read_only(as_role, market):
    promotion = promotion_make(market)
    response = as_role("admin").patch(
        f"/api/percentage_discount_promotions/{promotion.pk}",
        doc("percentage_discount_promotions", {"total_usage_count": 5}, promotion.pk),
    )
    assert error_of(response, 400)["source"]["pointer"] == "/data/attributes/total_usage_count"


def test_disable_and_enable_triggers(as_role, market):
    promotion = promotion_make(market, Promotion.Type.FIXED_AMOUNT)
    api = as_role("admin")
    path = f"/api/fixed_amount_promotions/{promotion.pk}"
    response = api.patch(path, doc("fixed_amount_promotions", {"_disable": True}, promotion.pk))
    assert response.status_code == 200, response.doc
    attributes = response.doc["data"]["attributes"]
    assert attributes["disabled_at"] is not None
    assert attributes["status"] == "disabled"
    assert attributes["active"] is False
    response = api.patch(path, doc("fixed_amount_promotions", {"_enable": True}, promotion.pk))
    attributes = response.doc["data"]["attributes"]
    assert attributes["disabled_at"] is None
    assert attributes["status"] == "active"
    assert attributes["active"] is True


def test_a_promotion_created_disabled(as_role, market):
    response = as_role("admin").post(
        "/api/free_shipping_promotions",
        promotion_doc("free_shipping_promotions", market, _disable=True),
    )
    assert response.status_code == 201, response.doc
    assert response.doc["data"]["attributes"]["status"] == "disabled"


def test_an_update_changes_the_attributes_and_keeps_the_checks(as_role, market):
    promotion = promotion_make(market)
    api = as_role("admin")
    path = f"/api/percentage_discount_promotions/{promotion.pk}"
    response = api.patch(
        path,
        doc("percentage_discount_promotions", {"percentage": 25, "priority": 3}, promotion.pk),
    )
    assert response.status_code == 200, response.doc
    assert response.doc["data"]["attributes"]["percentage"] == 25
    assert response.doc["data"]["attributes"]["priority"] == 3
    response = api.patch(
        path, doc("percentage_discount_promotions", {"percentage": 0}, promotion.pk)
    )
    assert error_of(response)["source"]["pointer"] == "/data/attributes/percentage"


def test_the_promotions_list_shows_every_kind(as_role, market):
    made = {promotion_make(market, kind).pk: kind for kind in Promotion.Type.values}
    response = as_role("read_only").get("/api/promotions?page[size]=25")
    assert response.status_code == 200, response.doc
    listed = {r["id"]: r for r in response.doc["data"]}
    assert set(listed) == set(made)
    for pk, kind in made.items():
        assert listed[pk]["type"] == "promotions"
        assert listed[pk]["attributes"]["type"] == kind
    response = as_role("admin").get("/api/promotions?filter[q][type_eq]=buy_x_pay_y_promotions")
    assert [r["attributes"]["type"] for r in response.doc["data"]] == ["buy_x_pay_y_promotions"]


def test_a_kinds_endpoint_lists_only_that_kind(as_role, market):
    percentage = promotion_make(market)
    other = promotion_make(market, Promotion.Type.FREE_SHIPPING)
    api = as_role("admin")
    response = api.get("/api/percentage_discount_promotions")
    assert [r["id"] for r in response.doc["data"]] == [percentage.pk]
    assert api.get(f"/api/percentage_discount_promotions/{other.pk}").status_code == 404


def test_the_base_lists_are_read_only(as_role, market):
    response = as_role("admin").post("/api/promotions", promotion_doc("promotions", market))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/api/promotions",
        "/api/percentage_discount_promotions",
        "/api/promotion_rules",
        "/api/coupon_codes_promotion_rules",
        "/api/coupons",
        "/api/sku_lists",
        "/api/sku_list_items",
    ],
)
def test_a_sales_channel_is_refused(as_role, market, path):
    promotion = promotion_make(market)
    coupon = coupon_make(rule_make(promotion), "SPRING")
    sales_channel = as_role("sales_channel")
    assert error_of(sales_channel.get(path), 401)["code"] == "UNAUTHORIZED"
    assert sales_channel.get(f"/api/promotions/{promotion.pk}").status_code == 401
    assert sales_channel.get(f"/api/coupons/{coupon.pk}").status_code == 401


def test_a_read_only_integration_reads_but_does_not_write(as_role, market):
    promotion = promotion_make(market)
    reader = as_role("read_only")
    assert reader.get(f"/api/percentage_discount_promotions/{promotion.pk}").status_code == 200
    response = reader.post(
        "/api/percentage_discount_promotions",
        promotion_doc("percentage_discount_promotions", market, percentage=5),
    )
    assert response.status_code == 401


# --- rules -----------------------------------------------------------------------------------


def test_a_rule_names_its_promotion_by_its_kind(as_role, market):
    promotion = promotion_make(market, Promotion.Type.FIXED_AMOUNT)
    response = as_role("admin").post(
        "/api/order_amount_promotion_rules?include=promotion",
        doc(
            "order_amount_promotion_rules",
            {"order_amount_cents": 5000, "use_subtotal": True},
            promotion=("fixed_amount_promotions", promotion.pk),
        ),
    )
    assert response.status_code == 201, response.doc
    data = response.doc["data"]
    assert data["attributes"]["order_amount_cents"] == 5000
    assert data["attributes"]["order_amount_float"] == 50.0
    assert data["attributes"]["use_subtotal"] is True
    assert data["attributes"]["type"] == "order_amount_promotion_rules"
    linkage = {"type": "fixed_amount_promotions", "id": promotion.pk}
    assert data["relationships"]["promotion"]["data"] == linkage
    included = response.doc["included"]
    assert [(r["type"], r["id"]) for r in included] == [("fixed_amount_promotions", promotion.pk)]
    assert included[0]["attributes"]["fixed_amount_cents"] == 500


def test_a_rule_linkage_of_another_kind_of_promotion_is_refused(as_role, market):
    promotion = promotion_make(market, Promotion.Type.FIXED_AMOUNT)
    api = as_role("admin")
    response = api.post(
        "/api/coupon_codes_promotion_rules",
        doc(
            "coupon_codes_promotion_rules",
            promotion=("percentage_discount_promotions", promotion.pk),
        ),
    )
    assert error_of(response)["source"]["pointer"] == "/data/relationships/promotion"
    response = api.post(
        "/api/coupon_codes_promotion_rules",
        doc("coupon_codes_promotion_rules", promotion=("skus", promotion.pk)),
    )
    assert error_of(response, 409)["source"]["pointer"] == "/data/relationships/promotion"
    response = api.post("/api/coupon_codes_promotion_rules", doc("coupon_codes_promotion_rules"))
    assert error_of(response)["source"]["pointer"] == "/data/relationships/promotion"


def test_an_order_amount_rule_needs_its_amount(as_role, market):
    promotion = promotion_make(market)
    response = as_role("admin").post(
        "/api/order_amount_promotion_rules",
        doc("order_amount_promotion_rules", promotion=("promotions", promotion.pk)),
    )
    assert error_of(response)["source"]["pointer"] == "/data/attributes/order_amount_cents"


def test_a_sku_list_rule_needs_its_list(as_role, market):
    promotion = promotion_make(market)
    api = as_role("admin")
    response = api.post(
        "/api/sku_list_promotion_rules",
        doc(
            "sku_list_promotion_rules", {"min_quantity": 2}, promotion=("promotions", promotion.pk)
        ),
    )
    assert error_of(response)["source"]["pointer"] == "/data/relationships/sku_list"
    sku_list = sku_list_make(factories.SkuFactory.create())
    response = api.post(
        "/api/sku_list_promotion_rules?include=sku_list",
        doc(
            "sku_list_promotion_rules",
            {"min_quantity": 2, "all_skus": True},
            promotion=("percentage_discount_promotions", promotion.pk),
            sku_list=("sku_lists", sku_list.pk),
        ),
    )
    assert response.status_code == 201, response.doc
    assert response.doc["included"][0]["id"] == sku_list.pk


def test_a_second_rule_of_a_kind_is_refused(as_role, market):
    promotion = promotion_make(market)
    rule_make(promotion)
    response = as_role("admin").post(
        "/api/coupon_codes_promotion_rules",
        doc("coupon_codes_promotion_rules", promotion=("promotions", promotion.pk)),
    )
    error = error_of(response)
    assert error["code"] == "PROMOTION_RULE_TAKEN"
    assert error["source"]["pointer"] == "/data/relationships/promotion"


def test_the_rules_list_shows_every_kind(as_role, market):
    promotion = promotion_make(market)
    rule_make(promotion)
    rule_make(promotion, PromotionRule.Type.ORDER_AMOUNT, order_amount_cents=100)
    response = as_role("admin").get("/api/promotion_rules?include=promotion")
    assert response.status_code == 200, response.doc
    assert {r["attributes"]["type"] for r in response.doc["data"]} == {
        "coupon_codes_promotion_rules",
        "order_amount_promotion_rules",
    }
    assert {r["type"] for r in response.doc["data"]} == {"promotion_rules"}
    assert [(r["type"], r["id"]) for r in response.doc["included"]] == [
        ("percentage_discount_promotions", promotion.pk)
    ]


def test_a_promotion_includes_its_rules_and_coupons(as_role, market):
    promotion = promotion_make(market)
    coupons = rule_make(promotion)
    amount = rule_make(promotion, PromotionRule.Type.ORDER_AMOUNT, order_amount_cents=100)
    spring, summer = coupon_make(coupons, "SPRING"), coupon_make(coupons, "SUMMER")
    response = as_role("admin").get(
        f"/api/percentage_discount_promotions/{promotion.pk}"
        "?include=promotion_rules,coupons,coupon_codes_promotion_rule,order_amount_promotion_rule"
    )
    assert response.status_code == 200, response.doc
    data = response.doc["data"]
    assert data["attributes"]["coupons_count"] == 2
    relationships = data["relationships"]
    assert relationships["coupon_codes_promotion_rule"]["data"] == {
        "type": "coupon_codes_promotion_rules",
        "id": coupons.pk,
    }
    assert relationships["order_amount_promotion_rule"]["data"] == {
        "type": "order_amount_promotion_rules",
        "id": amount.pk,
    }
    assert {r["id"] for r in relationships["coupons"]["data"]} == {spring.pk, summer.pk}
    included = {(r["type"], r["id"]) for r in response.doc["included"]}
    assert included == {
        ("promotion_rules", coupons.pk),
        ("promotion_rules", amount.pk),
        ("coupon_codes_promotion_rules", coupons.pk),
        ("order_amount_promotion_rules", amount.pk),
        ("coupons", spring.pk),
        ("coupons", summer.pk),
    }


def test_a_promotions_rule_and_coupons_have_related_endpoints(as_role, market):
    promotion = promotion_make(market)
    coupons = rule_make(promotion)
    spring = coupon_make(coupons, "SPRING")
    api = as_role("admin")
    base = f"/api/percentage_discount_promotions/{promotion.pk}"
    response = api.get(f"{base}/coupon_codes_promotion_rule")
    assert response.status_code == 200, response.doc
    assert response.doc["data"]["type"] == "coupon_codes_promotion_rules"
    assert api.get(f"{base}/order_amount_promotion_rule").doc["data"] is None
    response = api.get(f"{base}/coupons")
    assert [r["id"] for r in response.doc["data"]] == [spring.pk]
    response = api.get(f"/api/coupon_codes_promotion_rules/{coupons.pk}/promotion")
    assert response.doc["data"]["type"] == "percentage_discount_promotions"
    response = api.get(f"/api/coupon_codes_promotion_rules/{coupons.pk}/coupons")
    assert [r["id"] for r in response.doc["data"]] == [spring.pk]


# --- coupons ---------------------------------------------------------------------------------


def test_a_coupon_is_created_on_a_coupon_codes_rule(as_role, market):
    rule = rule_make(promotion_make(market))
    response = as_role("admin").post(
        "/api/coupons?include=promotion_rule",
        doc(
            "coupons",
            {"code": "  SPRING-10 ", "usage_limit": 100, "customer_single_use": True},
            promotion_rule=("coupon_codes_promotion_rules", rule.pk),
        ),
    )
    assert response.status_code == 201, response.doc
    attributes = response.doc["data"]["attributes"]
    assert attributes["code"] == "SPRING-10"  # trimmed
    assert attributes["usage_count"] == 0
    assert attributes["usage_limit"] == 100
    assert response.doc["included"][0]["type"] == "coupon_codes_promotion_rules"


def test_a_coupon_code_taken_in_another_case_is_refused(as_role, market):
    rule = rule_make(promotion_make(market))
    coupon_make(rule, "SPRING")
    response = as_role("admin").post(
        "/api/coupons",
        doc(
            "coupons", {"code": "spring"}, promotion_rule=("coupon_codes_promotion_rules", rule.pk)
        ),
    )
    error = error_of(response)
    assert error["code"] == "COUPON_CODE_TAKEN"
    assert error["source"]["pointer"] == "/data/attributes/code"


def test_a_coupon_on_another_kind_of_rule_is_refused(as_role, market):
    rule = rule_make(promotion_make(market), PromotionRule.Type.ORDER_AMOUNT, order_amount_cents=1)
    response = as_role("admin").post(
        "/api/coupons",
        doc("coupons", {"code": "X1"}, promotion_rule=("coupon_codes_promotion_rules", rule.pk)),
    )
    error = error_of(response)
    assert error["code"] == "COUPON_RULE_INVALID"
    assert error["source"]["pointer"] == "/data/relationships/promotion_rule"


def test_a_coupon_update_keeps_its_code_unique(as_role, market):
    rule = rule_make(promotion_make(market))
    coupon_make(rule, "SPRING")
    summer = coupon_make(rule, "SUMMER")
    api = as_role("admin")
    response = api.patch(f"/api/coupons/{summer.pk}", doc("coupons", {"code": "Spring"}, summer.pk))
    assert error_of(response)["code"] == "COUPON_CODE_TAKEN"
    response = api.patch(f"/api/coupons/{summer.pk}", doc("coupons", {"code": "summer"}, summer.pk))
    assert response.status_code == 200, response.doc
    assert response.doc["data"]["attributes"]["code"] == "summer"


def test_a_coupon_is_found_by_its_code(as_role, market):
    rule = rule_make(promotion_make(market))
    spring = coupon_make(rule, "SPRING")
    coupon_make(rule, "SUMMER")
    response = as_role("admin").get("/api/coupons?filter[q][code_eq]=SPRING")
    assert [r["id"] for r in response.doc["data"]] == [spring.pk]


# --- SKU lists -------------------------------------------------------------------------------


def test_a_sku_list_with_items_by_sku_code(as_role, market):
    sku = factories.SkuFactory.create(code="TSHIRT-M")
    api = as_role("admin")
    response = api.post("/api/sku_lists", doc("sku_lists", {"name": "Summer Picks!"}))
    assert response.status_code == 201, response.doc
    sku_list = response.doc["data"]
    assert sku_list["attributes"]["slug"] == "summer-picks"
    assert sku_list["attributes"]["manual"] is True
    response = api.post(
        "/api/sku_list_items",
        doc(
            "sku_list_items",
            {"sku_code": "TSHIRT-M", "quantity": 2},
            sku_list=("sku_lists", sku_list["id"]),
        ),
    )
    assert response.status_code == 201, response.doc
    assert response.doc["data"]["attributes"]["sku_code"] == "TSHIRT-M"
    assert response.doc["data"]["relationships"]["sku"]["data"] == {"type": "skus", "id": sku.pk}
    response = api.post(
        "/api/sku_list_items",
        doc("sku_list_items", {"sku_code": "tshirt-m"}, sku_list=("sku_lists", sku_list["id"])),
    )
    assert error_of(response)["source"]["pointer"] == "/data/attributes/sku_code"
    response = api.post(
        "/api/sku_list_items",
        doc(
            "sku_list_items",
            sku_list=("sku_lists", sku_list["id"]),
            sku=("skus", sku.pk),
        ),
    )
    error = error_of(response)
    assert error["code"] == "SKU_LIST_ITEM_SKU_TAKEN"
    assert error["source"]["pointer"] == "/data/relationships/sku"
    response = api.get(f"/api/sku_lists/{sku_list['id']}?include=sku_list_items,skus")
    included = {(r["type"], r["id"]) for r in response.doc["included"]}
    assert ("skus", sku.pk) in included
    assert [r["id"] for r in api.get(f"/api/sku_lists/{sku_list['id']}/skus").doc["data"]] == [
        sku.pk
    ]


def test_a_sku_list_that_is_not_manual_needs_a_regex(as_role):
    api = as_role("admin")
    response = api.post("/api/sku_lists", doc("sku_lists", {"name": "Shirts", "manual": False}))
    assert error_of(response)["source"]["pointer"] == "/data/attributes/sku_code_regex"
    shirt = factories.SkuFactory.create(code="SHIRT-1")
    factories.SkuFactory.create(code="HAT-1")
    response = api.post(
        "/api/sku_lists",
        doc("sku_lists", {"name": "Shirts", "manual": False, "sku_code_regex": "^SHIRT"}),
    )
    assert response.status_code == 201, response.doc
    skus = api.get(f"/api/sku_lists/{response.doc['data']['id']}/skus").doc["data"]
    assert [r["id"] for r in skus] == [shirt.pk]


def test_a_percentage_promotion_targets_a_sku_list(as_role, market):
    sku_list = sku_list_make(factories.SkuFactory.create())
    response = as_role("admin").post(
        "/api/percentage_discount_promotions?include=sku_list",
        {
            "data": {
                **promotion_doc("percentage_discount_promotions", market, percentage=20)["data"],
                "relationships": {
                    "market": {"data": {"type": "markets", "id": market.pk}},
                    "sku_list": {"data": {"type": "sku_lists", "id": sku_list.pk}},
                },
            }
        },
    )
    assert response.status_code == 201, response.doc
    assert response.doc["included"][0]["id"] == sku_list.pk


# --- query counts ----------------------------------------------------------------------------

LISTS = [
    "/api/promotions",
    "/api/percentage_discount_promotions?include=promotion_rules,coupons,market",
    "/api/percentage_discount_promotions?include=coupon_codes_promotion_rule,order_amount_promotion_rule",
    "/api/promotion_rules?include=promotion",
    "/api/order_amount_promotion_rules?include=promotion",
    "/api/coupon_codes_promotion_rules?include=coupons,promotion",
    "/api/coupons?include=promotion_rule.promotion",
    "/api/sku_lists?include=sku_list_items.sku,skus",
    "/api/sku_list_items?include=sku,sku_list",
]


def grow(market: Any, count: int) -> None:
    for _ in range(count):
        sku = factories.SkuFactory.create()
        promotion = promotion_make(market, sku_list=sku_list_make(sku, name=f"list {sku.code}"))
        rule = rule_make(promotion)
        rule_make(promotion, PromotionRule.Type.ORDER_AMOUNT, order_amount_cents=100)
        coupon_make(rule, f"C-{sku.code}")
        coupon_make(rule, f"D-{sku.code}")


def queries_for(api: Any, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"{path}{'&' if '?' in path else '?'}page[size]=25")
    assert response.status_code == 200, response.doc
    return len(captured)


@pytest.mark.parametrize("path", LISTS)
def test_list_query_count_does_not_grow_with_the_page(as_role, market, path):
    api = as_role("admin")
    grow(market, 1)
    small = queries_for(api, path)
    grow(market, 10)
    large = queries_for(api, path)
    assert large == small, f"{path}: {small} queries for 1 record, {large} for 11"
    assert small <= 10
