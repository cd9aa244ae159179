"""Schemathesis fuzzes every operation of our OpenAPI document in-process: no 5xx, and every
response conforms to the schema (status, content type, body)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from oms.oauth.services import application_create, token_issue
from tests import factories

JSONAPI = "application/vnd.api+json"
EXAMPLES_PER_OPERATION = 8
# The operations are fuzzed in shards, separate tests that the test workers share out (one
# test of every operation kept one worker busy for minutes while the others had finished).
SHARDS = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema():
    from oms.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def keep_test_connection():
    """In-process WSGI calls would close the test's database connection at the end of each
    request; Django's own test client avoids that the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(db) -> str:
    factories.OrganizationFactory.create()
    market = factories.MarketFactory.create(code="eu")
    price = factories.PriceFactory.create(price_list=market.price_list)
    factories.PriceVolumeTierFactory.create(price=price)
    erp = application_create(name="fuzz", kind="integration", role="admin").application
    return token_issue(application=erp).access_token


def shard_of(operations: list[Any], shard: int) -> list[Any]:
    """Every SHARDS-th operation from `shard` on, in the schema's order."""
    ordered = sorted(operations, key=lambda operation: (operation.path, operation.method))
    return ordered[shard::SHARDS]


@pytest.mark.django_db
@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_operation_answers_within_its_schema(api_schema, admin_token, shard):
    headers = {"Authorization": f"Bearer {admin_token}", "Accept": JSONAPI}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50

    for operation in shard_of(operations, shard):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)

        fuzz()


@pytest.mark.django_db
@pytest.mark.parametrize("shard", range(SHARDS))
def test_operations_on_existing_records_answer_within_their_schema(api_schema, admin_token, shard):
    """Random ids only ever meet 404s: read and update real records of the catalog and of
    fulfillment too (their related endpoints, triggers and validation)."""
    from markets.models import Market
    from tests.api.test_fulfillment_api import build_world

    market = Market.objects.get(code="eu")
    world = build_world(market)
    records = {resource: record for resource, record in world.items() if hasattr(record, "pk")}
    records.update({"markets": market, "skus": world["sku"]})
    records.update(tax_records(world["sku"]))
    from orders.services.gift_cards import gift_card_create

    records["gift_cards"] = gift_card_create(data={"market": market, "balance_cents": 1000})
    records.update(promotion_records(market, world["sku"]))
    records.update(return_records())
    headers = {"Authorization": f"Bearer {admin_token}", "Accept": JSONAPI}
    operations = [
        operation
        for operation in (result.ok() for result in api_schema.get_all_operations())
        if "{id}" in operation.path
        and operation.method.upper() != "DELETE"
        and operation.path.split("/")[2] in records
    ]
    assert len(operations) > 50

    for operation in shard_of(operations, shard):
        fuzz_record(operation, records[operation.path.split("/")[2]].pk, headers)


def tax_records(sku: Any) -> dict[str, Any]:
    """A manual tax calculator (also listed as a tax calculator) with a rule and a category."""
    from markets import services

    calculator = services.tax_calculator_create(data={"name": "fuzz"})
    rule = services.tax_rule_create(
        data={"name": "fuzz", "tax_rate": 0.22, "manual_tax_calculator": calculator}
    )
    category = services.tax_category_create(
        data={"code": "fuzz", "sku": sku, "tax_calculator": calculator}
    )
    return {
        "tax_calculators": calculator,
        "manual_tax_calculators": calculator,
        "tax_rules": rule,
        "tax_categories": category,
    }


def fuzz_record(operation: Any, record_id: str, headers: dict[str, str]) -> None:
    """Fuzz one operation on the record `record_id` (the path's id and the document's)."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        case.path_parameters = {**(case.path_parameters or {}), "id": record_id}
        data = case.body.get("data") if isinstance(case.body, dict) else None
        if isinstance(data, dict):
            data["id"] = record_id
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    fuzz()


def promotion_records(market: Any, sku: Any) -> dict[str, Any]:
    """A promotion of each kind on a SKU list, with a rule of each kind and a coupon."""
    from orders.models import Promotion, PromotionRule
    from tests.orders.promotion_factories import (
        coupon_make,
        promotion_make,
        rule_make,
        sku_list_make,
    )

    sku_list = sku_list_make(sku, name="fuzz")
    kinds: dict[str, Any] = {kind: promotion_make(market, kind) for kind in Promotion.Type.values}
    promotion = kinds[Promotion.Type.PERCENTAGE_DISCOUNT]
    coupons = rule_make(promotion)
    rules: dict[str, Any] = {
        PromotionRule.Type.COUPON_CODES: coupons,
        PromotionRule.Type.ORDER_AMOUNT: rule_make(
            promotion, PromotionRule.Type.ORDER_AMOUNT, order_amount_cents=100
        ),
        PromotionRule.Type.SKU_LIST: rule_make(
            promotion, PromotionRule.Type.SKU_LIST, sku_list=sku_list
        ),
    }
    return {
        **kinds,
        **rules,
        "promotions": promotion,
        "promotion_rules": coupons,
        "coupons": coupon_make(coupons, "FUZZ"),
        "sku_lists": sku_list,
        "sku_list_items": sku_list.sku_list_items.get(),
    }


def return_records() -> dict[str, Any]:
    """A draft return of a fulfilled order (in a market of its own) and its line."""
    from tests.fulfillment.return_factories import order_fulfilled, return_lines, return_with_lines

    ret = return_with_lines(order_fulfilled())
    return {"returns": ret, "return_line_items": return_lines(ret)[0]}
