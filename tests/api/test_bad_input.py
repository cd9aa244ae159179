"""Bad input anywhere in a request is a clean 400 in Commerce Layer's error shape, changes
nothing, and costs no more than reading it: never a 500, never a worker held."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from oms.api import parsers
from oms.api.parsers import MAX_NESTING_DEPTH
from orders.models import Order

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
