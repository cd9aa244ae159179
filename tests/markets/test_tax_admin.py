"""The tax pages of the admin: a calculator with its rules, the rules, the tax categories, and
a market's calculator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from markets import services
from markets.models import TaxCalculator, TaxCategory, TaxRule
from tests import factories
from tests.orders.test_admin_order_page import login_as

pytestmark = pytest.mark.django_db

RULES_FORMSET = {"tax_rules-TOTAL_FORMS": "1", "tax_rules-INITIAL_FORMS": "0"}


def rule_form(**values: str) -> dict[str, str]:
    form = {
        "name": "EU VAT",
        "metadata": "{}",
        **RULES_FORMSET,
        "tax_rules-0-name": "Italy",
        "tax_rules-0-tax_rate": "0.22",
        "tax_rules-0-country_code_regex": "IT",
        "tax_rules-0-freight_taxable": "on",
        "tax_rules-0-metadata": "{}",
    }
    return {**form, **{f"tax_rules-0-{key}": value for key, value in values.items()}}


@pytest.fixture
def boss(client):
    return login_as(client, None)


def test_the_tax_pages_render(boss):
    tax_calculator = services.tax_calculator_create(data={"name": "EU VAT"})
    services.tax_rule_create(
        data={"name": "Italy", "tax_rate": 0.22, "manual_tax_calculator": tax_calculator}
    )
    services.tax_category_create(
        data={
            "code": "31000",
            "sku": factories.SkuFactory.create(code="MUG"),
            "tax_calculator": tax_calculator,
        }
    )
    rule = TaxRule.objects.get()
    for url in (
        reverse("admin:markets_taxcalculator_changelist"),
        reverse("admin:markets_taxcalculator_change", args=[tax_calculator.pk]),
        reverse("admin:markets_taxcalculator_add"),
        reverse("admin:markets_taxrule_changelist"),
        reverse("admin:markets_taxrule_change", args=[rule.pk]),
        reverse("admin:markets_taxcategory_changelist"),
        reverse("admin:markets_taxcategory_add"),
    ):
        response = boss.get(url)
        assert response.status_code == 200, url
    page = boss.get(reverse("admin:markets_taxcalculator_change", args=[tax_calculator.pk]))
    assert "Italy" in page.content.decode()
    assert "0.22 is 22%" in page.content.decode()
    sidebar = boss.get(reverse("admin:index")).content.decode()
    assert reverse("admin:markets_taxcalculator_changelist") in sidebar
    assert reverse("admin:markets_taxcategory_changelist") in sidebar


def test_a_calculator_is_added_with_its_rules(boss):
    response = boss.post(reverse("admin:markets_taxcalculator_add"), rule_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    rule = TaxRule.objects.get()
    assert rule.manual_tax_calculator == TaxCalculator.objects.get(name="EU VAT")
    assert rule.tax_rate == Decimal("0.22")
    assert rule.freight_taxable


@pytest.mark.parametrize(
    ("values", "field"),
    [({"tax_rate": "1.5"}, "tax_rate"), ({"zip_code_regex": "[0-9"}, "zip_code_regex")],
)
def test_a_bad_rule_is_refused_and_nothing_is_written(boss, values, field):
    response = boss.post(reverse("admin:markets_taxcalculator_add"), rule_form(**values))
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors[0][field]
    assert not TaxCalculator.objects.exists()


def test_a_second_category_for_a_sku_is_refused(boss):
    tax_calculator = services.tax_calculator_create(data={"name": "EU VAT"})
    sku = factories.SkuFactory.create()
    services.tax_category_create(data={"code": "1", "sku": sku, "tax_calculator": tax_calculator})
    response = boss.post(
        reverse("admin:markets_taxcategory_add"),
        {"code": "2", "sku": sku.pk, "tax_calculator": tax_calculator.pk, "metadata": "{}"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert TaxCategory.objects.count() == 1


def test_a_market_chooses_its_tax_calculator(boss):
    tax_calculator = services.tax_calculator_create(data={"name": "EU VAT"})
    market = factories.MarketFactory.create(tax_calculator=tax_calculator)
    page = boss.get(reverse("admin:markets_market_change", args=[market.pk]))
    assert 'name="tax_calculator"' in page.content.decode()
    listing = boss.get(reverse("admin:markets_market_changelist"))
    assert "EU VAT" in listing.content.decode()


def test_read_only_sees_the_tax_pages_but_cannot_add(client):
    reader = login_as(client, "Read only")
    assert reader.get(reverse("admin:markets_taxcalculator_changelist")).status_code == 200
    assert reader.get(reverse("admin:markets_taxcategory_changelist")).status_code == 200
    assert reader.get(reverse("admin:markets_taxcalculator_add")).status_code == 403
