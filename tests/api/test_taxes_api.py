"""Tax calculators, tax rules and tax categories through the API (back office only), and a
market's tax calculator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from markets import services
from markets.models import Market, TaxCalculator, TaxCategory, TaxRule
from tests import factories
from tests.api.conftest import doc

pytestmark = pytest.mark.django_db


def calculator(name: str = "EU VAT") -> TaxCalculator:
    return services.tax_calculator_create(data={"name": name})


def rule(tax_calculator: TaxCalculator, **values: object) -> TaxRule:
    return services.tax_rule_create(
        data={"name": "VAT", "tax_rate": 0.22, "manual_tax_calculator": tax_calculator, **values}
    )


def rule_doc(calculator_id: str, **attributes: object) -> dict[str, object]:
    return doc(
        "tax_rules",
        {"name": "VAT", **attributes},
        manual_tax_calculator=("manual_tax_calculators", calculator_id),
    )


def error_of(response: object, status: int = 422) -> dict[str, object]:
    assert response.status_code == status, response.doc  # type: ignore[attr-defined]
    error: dict[str, object] = response.doc["errors"][0]  # type: ignore[attr-defined]
    return error


def test_a_manual_calculator_with_rules_and_categories(as_role):
    api = as_role("admin")
    response = api.post(
        "/api/manual_tax_calculators",
        doc("manual_tax_calculators", {"name": "EU VAT", "reference": "erp-1"}),
    )
    assert response.status_code == 201, response.doc
    created = response.doc["data"]
    assert created["type"] == "manual_tax_calculators"
    assert created["attributes"]["type"] == "manual_tax_calculators"
    assert created["attributes"]["name"] == "EU VAT"
    calculator_id = created["id"]

    italy = api.post(
        "/api/tax_rules",
        rule_doc(
            calculator_id,
            name="Italy",
            tax_rate=0.22,
            country_code_regex="IT",
            freight_taxable=True,
        ),
    )
    assert italy.status_code == 201, italy.doc
    attributes = italy.doc["data"]["attributes"]
    assert attributes["tax_rate"] == 0.22
    assert attributes["freight_taxable"] is True
    assert attributes["payment_method_taxable"] is False
    assert attributes["breakdown"] is None
    assert TaxRule.objects.get(pk=italy.doc["data"]["id"]).tax_rate == Decimal("0.22")
    linkage = italy.doc["data"]["relationships"]["manual_tax_calculator"]["data"]
    assert linkage == {"type": "manual_tax_calculators", "id": calculator_id}

    germany = api.post("/api/tax_rules", rule_doc(calculator_id, name="DE", tax_rate="0.19"))
    assert germany.status_code == 201, germany.doc
    assert TaxRule.objects.get(pk=germany.doc["data"]["id"]).tax_rate == Decimal("0.19")
    updated = api.patch(
        f"/api/tax_rules/{germany.doc['data']['id']}",
        doc("tax_rules", {"tax_rate": 0.07}, id=germany.doc["data"]["id"]),
    )
    assert updated.status_code == 200, updated.doc
    assert updated.doc["data"]["attributes"]["tax_rate"] == 0.07

    sku = factories.SkuFactory.create(code="TSHIRT")
    category = api.post(
        "/api/tax_categories",
        doc(
            "tax_categories",
            {"code": "31000", "sku_code": "TSHIRT"},
            tax_calculator=("manual_tax_calculators", calculator_id),
        ),
    )
    assert category.status_code == 201, category.doc
    assert category.doc["data"]["attributes"]["sku_code"] == "TSHIRT"
    assert TaxCategory.objects.get().sku == sku

    listing = api.get(f"/api/manual_tax_calculators/{calculator_id}?include=tax_rules")
    assert listing.status_code == 200, listing.doc
    included = {(r["type"], r["attributes"]["name"]) for r in listing.doc["included"]}
    assert included == {("tax_rules", "Italy"), ("tax_rules", "DE")}
    rules = api.get(f"/api/manual_tax_calculators/{calculator_id}/tax_rules")
    assert [r["attributes"]["name"] for r in rules.doc["data"]] == ["Italy", "DE"]
    filtered = api.get("/api/tax_rules?filter[q][tax_rate_gteq]=0.2")
    assert [r["attributes"]["name"] for r in filtered.doc["data"]] == ["Italy"]
    by_sku = api.get("/api/tax_categories?filter[q][sku_code_eq]=TSHIRT&include=tax_calculator")
    assert by_sku.doc["included"][0]["id"] == calculator_id


def test_a_tax_rule_without_a_rate_is_zero_percent(as_role):
    tax_calculator = calculator()
    response = as_role("admin").post("/api/tax_rules", rule_doc(tax_calculator.pk))
    assert response.status_code == 201, response.doc
    assert response.doc["data"]["attributes"]["tax_rate"] == 0.0


@pytest.mark.parametrize("rate", [1.5, -0.1, "a lot", "NaN", True, 0.1234567])
def test_a_rate_outside_0_to_1_is_422_with_a_pointer(as_role, rate):
    tax_calculator = calculator()
    response = as_role("admin").post("/api/tax_rules", rule_doc(tax_calculator.pk, tax_rate=rate))
    error = error_of(response)
    assert error["code"] == "TAX_RATE_INVALID"
    assert error["source"] == {"pointer": "/data/attributes/tax_rate"}
    assert not TaxRule.objects.exists()


def test_an_update_to_a_bad_rate_changes_nothing(as_role):
    existing = rule(calculator())
    response = as_role("admin").patch(
        f"/api/tax_rules/{existing.pk}", doc("tax_rules", {"tax_rate": 1.01}, id=existing.pk)
    )
    assert error_of(response)["code"] == "TAX_RATE_INVALID"
    existing.refresh_from_db()
    assert existing.tax_rate == Decimal("0.22")


@pytest.mark.parametrize(
    ("attribute", "pattern", "code"),
    [
        ("country_code_regex", "IT|(FR", "REGEX_INVALID"),
        ("not_zip_code_regex", "[0-9", "REGEX_INVALID"),
        ("state_code_regex", "A(?i)B", "REGEX_INVALID"),  # a global flag not at the start
        ("zip_code_regex", "1" * 5001, "REGEX_TOO_LONG"),
    ],
)
def test_a_bad_regex_is_422_with_a_pointer(as_role, attribute, pattern, code):
    tax_calculator = calculator()
    response = as_role("admin").post(
        "/api/tax_rules", rule_doc(tax_calculator.pk, **{attribute: pattern})
    )
    error = error_of(response)
    assert error["code"] == code
    assert error["source"] == {"pointer": f"/data/attributes/{attribute}"}
    assert not TaxRule.objects.exists()


def test_a_regex_of_5000_characters_is_stored(as_role):
    tax_calculator = calculator()
    pattern = "1" * 5000
    response = as_role("admin").post(
        "/api/tax_rules", rule_doc(tax_calculator.pk, zip_code_regex=pattern)
    )
    assert response.status_code == 201, response.doc
    assert TaxRule.objects.get().zip_code_regex == pattern


def test_a_tax_rule_needs_its_calculator(as_role):
    response = as_role("admin").post("/api/tax_rules", doc("tax_rules", {"name": "VAT"}))
    error = error_of(response)
    assert error["source"] == {"pointer": "/data/relationships/manual_tax_calculator"}


def test_a_second_category_for_the_same_sku_and_calculator_is_422(as_role):
    tax_calculator = calculator()
    sku = factories.SkuFactory.create(code="MUG")
    api = as_role("admin")
    body = doc(
        "tax_categories",
        {"code": "31000"},
        sku=("skus", sku.pk),
        tax_calculator=("manual_tax_calculators", tax_calculator.pk),
    )
    assert api.post("/api/tax_categories", body).status_code == 201
    error = error_of(api.post("/api/tax_categories", body))
    assert error["code"] == "TAX_CATEGORY_TAKEN"
    assert error["source"] == {"pointer": "/data/relationships/sku"}
    # another calculator may have its own category for the SKU
    other = calculator("US sales tax")
    body["data"]["relationships"]["tax_calculator"]["data"]["id"] = other.pk
    assert api.post("/api/tax_categories", body).status_code == 201
    assert TaxCategory.objects.count() == 2


def test_moving_a_category_onto_a_taken_sku_is_422(as_role):
    tax_calculator = calculator()
    mug, cup = factories.SkuFactory.create(code="MUG"), factories.SkuFactory.create(code="CUP")
    services.tax_category_create(data={"code": "1", "sku": mug, "tax_calculator": tax_calculator})
    cups = services.tax_category_create(
        data={"code": "2", "sku": cup, "tax_calculator": tax_calculator}
    )
    response = as_role("admin").patch(
        f"/api/tax_categories/{cups.pk}", doc("tax_categories", {"sku_code": "MUG"}, id=cups.pk)
    )
    assert error_of(response)["code"] == "TAX_CATEGORY_TAKEN"
    cups.refresh_from_db()
    assert cups.sku == cup


def test_a_category_needs_a_sku_and_a_known_sku_code(as_role):
    tax_calculator = calculator()
    api = as_role("admin")
    linked = ("manual_tax_calculators", tax_calculator.pk)
    missing = api.post(
        "/api/tax_categories", doc("tax_categories", {"code": "1"}, tax_calculator=linked)
    )
    error = error_of(missing)
    assert error["code"] == "SKU_MISSING"
    assert error["source"] == {"pointer": "/data/relationships/sku"}
    unknown = api.post(
        "/api/tax_categories",
        doc("tax_categories", {"code": "1", "sku_code": "NOPE"}, tax_calculator=linked),
    )
    assert error_of(unknown)["source"] == {"pointer": "/data/attributes/sku_code"}


def test_a_category_keeps_its_calculator(as_role):
    category = services.tax_category_create(
        data={"code": "1", "sku": factories.SkuFactory.create(), "tax_calculator": calculator()}
    )
    other = calculator("other")
    response = as_role("admin").patch(
        f"/api/tax_categories/{category.pk}",
        doc(
            "tax_categories",
            id=category.pk,
            tax_calculator=("manual_tax_calculators", other.pk),
        ),
    )
    assert error_of(response, 400)["code"] == "PARAM_NOT_ALLOWED"


def test_a_market_is_linked_to_its_calculator(as_role, market):
    tax_calculator = calculator()
    api = as_role("admin")
    response = api.patch(
        f"/api/markets/{market.pk}",
        doc("markets", id=market.pk, tax_calculator=("manual_tax_calculators", tax_calculator.pk)),
    )
    assert response.status_code == 200, response.doc
    assert Market.objects.get(pk=market.pk).tax_calculator == tax_calculator

    shown = api.get(f"/api/markets/{market.pk}?include=tax_calculator")
    assert shown.doc["data"]["relationships"]["tax_calculator"]["data"] == {
        "type": "manual_tax_calculators",
        "id": tax_calculator.pk,
    }
    assert [(r["type"], r["id"]) for r in shown.doc["included"]] == [
        ("manual_tax_calculators", tax_calculator.pk)
    ]
    related = api.get(f"/api/markets/{market.pk}/tax_calculator")
    assert related.doc["data"]["id"] == tax_calculator.pk
    markets = api.get(f"/api/manual_tax_calculators/{tax_calculator.pk}/markets")
    assert [m["id"] for m in markets.doc["data"]] == [market.pk]
    by_calculator = api.get(f"/api/markets?filter[q][tax_calculator_id_eq]={tax_calculator.pk}")
    assert [m["id"] for m in by_calculator.doc["data"]] == [market.pk]

    cleared = api.patch(
        f"/api/markets/{market.pk}", doc("markets", id=market.pk, tax_calculator=None)
    )
    assert cleared.status_code == 200, cleared.doc
    assert Market.objects.get(pk=market.pk).tax_calculator is None


def test_a_calculator_used_by_a_market_is_not_deleted(as_role, market):
    tax_calculator = calculator()
    market.tax_calculator = tax_calculator
    services.market_save(market=market)
    response = as_role("admin").delete(f"/api/manual_tax_calculators/{tax_calculator.pk}")
    assert response.status_code == 422, response.doc
    assert TaxCalculator.objects.filter(pk=tax_calculator.pk).exists()


def test_the_tax_calculators_list_shows_the_manual_ones_read_only(as_role):
    tax_calculator = calculator()
    api = as_role("admin")
    listing = api.get("/api/tax_calculators")
    assert listing.status_code == 200, listing.doc
    assert [(r["type"], r["id"], r["attributes"]["type"]) for r in listing.doc["data"]] == [
        ("tax_calculators", tax_calculator.pk, "manual_tax_calculators")
    ]
    assert api.get(f"/api/tax_calculators/{tax_calculator.pk}").status_code == 200
    refused = api.post("/api/tax_calculators", doc("tax_calculators", {"name": "x"}))
    assert refused.status_code == 401
    assert TaxCalculator.objects.count() == 1


@pytest.mark.parametrize(
    "path", ["tax_calculators", "manual_tax_calculators", "tax_rules", "tax_categories"]
)
def test_a_sales_channel_cannot_read_taxes(as_role, path):
    rule(calculator())
    response = as_role("sales_channel").get(f"/api/{path}")
    assert error_of(response, 401)["code"] == "UNAUTHORIZED"


def test_a_sales_channel_sees_its_market_but_not_its_tax_calculator(as_role, market):
    market.tax_calculator = calculator()
    services.market_save(market=market)
    api = as_role("sales_channel")
    assert api.get(f"/api/markets/{market.pk}").status_code == 200
    assert api.get(f"/api/markets/{market.pk}?include=tax_calculator").status_code == 401
    assert api.get(f"/api/markets/{market.pk}/tax_calculator").status_code == 401
    created = as_role("sales_channel").post(
        "/api/manual_tax_calculators", doc("manual_tax_calculators", {"name": "x"})
    )
    assert created.status_code == 401


def test_read_only_integration_reads_but_does_not_write(as_role):
    tax_calculator = calculator()
    api = as_role("read_only")
    assert api.get("/api/manual_tax_calculators").status_code == 200
    response = api.post("/api/tax_rules", rule_doc(tax_calculator.pk))
    assert response.status_code == 401
    assert not TaxRule.objects.exists()


LISTS = [
    "/api/tax_calculators?include=markets",
    "/api/manual_tax_calculators?include=tax_rules,markets",
    "/api/tax_rules?include=manual_tax_calculator",
    "/api/tax_categories?include=sku,tax_calculator",
    "/api/markets?include=tax_calculator",
]


def grow(market: Market, count: int) -> None:
    for index in range(count):
        tax_calculator = calculator(f"calculator {TaxCalculator.objects.count()}")
        rule(tax_calculator, name=f"rule {index}")
        services.tax_category_create(
            data={
                "code": f"{index}",
                "sku": factories.SkuFactory.create(),
                "tax_calculator": tax_calculator,
            }
        )
        factories.MarketFactory.create(price_list=market.price_list, tax_calculator=tax_calculator)


@pytest.mark.parametrize("path", LISTS)
def test_list_query_count_does_not_grow_with_the_page(as_role, market, path):
    api = as_role("admin")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = api.get(f"{path}&page[size]=25")
        assert response.status_code == 200, response.doc
        return len(captured)

    grow(market, 1)
    small = queries()
    grow(market, 15)
    assert queries() == small
    assert small <= 8
