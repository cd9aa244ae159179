"""Bad input anywhere in a request is a clean 400 in Commerce Layer's error shape, changes
nothing, and costs no more than reading it: never a 500, never a worker held."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import get_resolver

from oms.api import parsers
from oms.api.parsers import MAX_NESTING_DEPTH
from oms.api.serializers import MetadataField
from oms.api.views import ResourceViewSet
from orders.models import Order
from tests import factories
from tests.api.conftest import doc
from tests.orders.factories import order_pending

pytestmark = pytest.mark.django_db


def test_a_filter_key_given_twice_is_400(as_role):
    response = as_role("admin").get("/api/orders?filter[q][number_eq]=1&filter[q][number_eq]=2")
    assert response.status_code == 400
    [error] = response.doc["errors"]
    assert error["code"] == "INVALID_FILTER_VALUE"
    assert error["status"] == "400"
    assert error["source"] == {"parameter": "filter[q][number_eq]"}


# --- the body ----------------------------------------------------------------------------------


def test_a_lone_surrogate_in_metadata_is_400_and_creates_nothing(as_role, market):
    body = (
        '{"data": {"type": "orders", "attributes": {"metadata": {"note": "a\\ud800b"}}, '
        f'"relationships": {{"market": {{"data": {{"type": "markets", "id": "{market.id}"}}}}}}}}}}'
    )
    response = as_role("admin").post("/api/orders", body)
    assert response.status_code == 400, response.doc
    [error] = response.doc["errors"]
    assert error["code"] == "INVALID_FIELD_VALUE"
    assert error["source"] == {"pointer": "/data/attributes/metadata/note"}
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ('{"customer_email": "\\udc00@example.com"}', "/data/attributes/customer_email"),
        ('{"metadata": {"\\ud83d": 1}}', "/data/attributes/metadata"),
        ('{"metadata": {"list": ["ok", "\\ud800\\ud800"]}}', "/data/attributes/metadata/list/1"),
    ],
)
def test_lone_surrogates_anywhere_in_the_body_are_400(as_role, market, attributes, pointer):
    body = (
        f'{{"data": {{"type": "orders", "attributes": {attributes}, '
        f'"relationships": {{"market": {{"data": {{"type": "markets", "id": "{market.id}"}}}}}}}}}}'
    )
    response = as_role("admin").post("/api/orders", body)
    assert response.status_code == 400, response.doc
    assert response.doc["errors"][0]["source"] == {"pointer": pointer}
    assert not Order.objects.exists()


def test_an_escaped_surrogate_pair_is_text_like_any_other(as_role, market):
    body = (
        '{"data": {"type": "orders", "attributes": {"metadata": {"mood": "\\ud83d\\ude00"}}, '
        f'"relationships": {{"market": {{"data": {{"type": "markets", "id": "{market.id}"}}}}}}}}}}'
    )
    response = as_role("admin").post("/api/orders", body)
    assert response.status_code == 201, response.doc
    assert response.doc["data"]["attributes"]["metadata"] == {"mood": "\U0001f600"}


@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 1_000, 10_000, 200_000])
def test_a_body_nested_too_deep_is_refused_before_it_is_decoded(as_role, depth, monkeypatch):
    decoded: list[str] = []

    def loads(text: str, **kwargs: object) -> object:
        decoded.append(text)
        return {}

    monkeypatch.setattr(parsers, "json", SimpleNamespace(loads=loads))
    response = as_role("admin").post("/api/orders", "[" * depth + "]" * depth)
    assert response.status_code == 400
    [error] = response.doc["errors"]
    assert error["code"] == "BAD_REQUEST"
    assert error["source"] == {"pointer": "/"}
    assert "nests deeper" in error["detail"]
    assert decoded == []  # refused by the scan, not by the recursive decoder running out


def test_metadata_nested_a_thousand_deep_is_400(as_role, market):
    metadata = '{"a": ' * 1_000 + "1" + "}" * 1_000
    body = (
        f'{{"data": {{"type": "orders", "attributes": {{"metadata": {metadata}}}, '
        f'"relationships": {{"market": {{"data": {{"type": "markets", "id": "{market.id}"}}}}}}}}}}'
    )
    response = as_role("admin").post("/api/orders", body)
    assert response.status_code == 400
    assert not Order.objects.exists()


def test_brackets_inside_strings_do_not_count_as_nesting(as_role, market):
    note = "[{" * 100 + '\\"' + "}]" * 100
    body = (
        f'{{"data": {{"type": "orders", "attributes": {{"metadata": {{"note": "{note}"}}}}, '
        f'"relationships": {{"market": {{"data": {{"type": "markets", "id": "{market.id}"}}}}}}}}}}'
    )
    response = as_role("admin").post("/api/orders", body)
    assert response.status_code == 201, response.doc
    assert response.doc["data"]["attributes"]["metadata"]["note"].startswith("[{[{")


# --- metadata ----------------------------------------------------------------------------------


def nested(depth: int) -> dict[str, object]:
    value: dict[str, object] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


BAD_METADATA = [
    pytest.param(["a", "b"], id="a list"),
    pytest.param("note", id="a string"),
    pytest.param(7, id="a number"),
    pytest.param(True, id="a boolean"),
    pytest.param(nested(MetadataField.MAX_DEPTH + 1), id="too deep"),
    pytest.param({"list": [[[[[[[[[[1]]]]]]]]]]}, id="too deep in lists"),
    pytest.param({"blob": "x" * MetadataField.MAX_LENGTH}, id="too long"),
]


@pytest.fixture
def records(market):
    """One record of several resources that take metadata, by resource type."""
    order = order_pending(market=market)
    return {
        "shipping_categories": factories.ShippingCategoryFactory.create(),
        "skus": factories.SkuFactory.create(),
        "markets": market,
        "orders": order,
        "line_items": order.line_items.get(),
    }


@pytest.mark.parametrize(
    "resource", ["shipping_categories", "skus", "markets", "orders", "line_items"]
)
@pytest.mark.parametrize("metadata", BAD_METADATA)
def test_bad_metadata_is_422_and_changes_nothing(as_role, records, resource, metadata):
    record = records[resource]
    before = record.metadata
    response = as_role("admin").patch(
        f"/api/{resource}/{record.pk}", doc(resource, {"metadata": metadata}, id=record.pk)
    )
    assert response.status_code == 422, response.doc
    [error] = response.doc["errors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["source"] == {"pointer": "/data/attributes/metadata"}
    record.refresh_from_db()
    assert record.metadata == before


def test_metadata_at_the_limits_is_stored(as_role, records):
    category = records["shipping_categories"]
    metadata = {**nested(MetadataField.MAX_DEPTH), "blob": "é" * (MetadataField.MAX_LENGTH - 100)}
    response = as_role("admin").patch(
        f"/api/shipping_categories/{category.pk}",
        doc("shipping_categories", {"metadata": metadata}, id=category.pk),
    )
    assert response.status_code == 200, response.doc
    category.refresh_from_db()
    assert category.metadata == metadata


def test_bad_metadata_on_create_creates_nothing(as_role, market):
    response = as_role("admin").post(
        "/api/orders", doc("orders", {"metadata": [1, 2]}, market=("markets", market.id))
    )
    assert response.status_code == 422, response.doc
    assert response.doc["errors"][0]["source"] == {"pointer": "/data/attributes/metadata"}
    assert not Order.objects.exists()


def test_every_resource_takes_metadata_through_the_one_checked_field():
    assert get_resolver().url_patterns  # loading the urls registers every resource view
    assert len(ResourceViewSet.registry) > 20
    for resource, view in ResourceViewSet.registry.items():
        field = view.serializer_class().fields.get("metadata")
        if field is not None and not field.read_only:
            assert isinstance(field, MetadataField), resource
