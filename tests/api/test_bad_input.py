"""Bad input anywhere in a request is a clean 400 in Commerce Layer's error shape, changes
nothing, and costs no more than reading it: never a 500, never a worker held."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_filter_key_given_twice_is_400(as_role):
    response = as_role("admin").get("/api/orders?filter[q][number_eq]=1&filter[q][number_eq]=2")
    assert response.status_code == 400
    [error] = response.doc["errors"]
    assert error["code"] == "INVALID_FILTER_VALUE"
    assert error["status"] == "400"
    assert error["source"] == {"parameter": "filter[q][number_eq]"}
