"""Check constraints a model proves in Python (`Resource.CHECKED_IN_CLEAN`): validation does
not ask the database for them, refuses what they refuse with a clear error, and the database
still enforces them."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext

from oms.models import Resource
from orders.models import Order
from payments.models import TestPayment
from payments.services import test_payment_create
from tests.api.conftest import doc
from tests.api.test_checkout_api import shop  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_every_constraint_said_to_be_checked_in_clean_is_a_check_constraint_of_its_model():
    said = {
        model: model.CHECKED_IN_CLEAN
        for model in apps.get_models()
        if issubclass(model, Resource) and model.CHECKED_IN_CLEAN
    }
    assert TestPayment in said
    for model, names in said.items():
        checks = {c.name for c in model._meta.constraints if isinstance(c, models.CheckConstraint)}
        assert names <= checks, (model, names - checks)


def test_a_test_payment_without_a_token_is_refused_in_python_and_by_the_database(
    as_role,
    shop,  # noqa: F811
):
    api = as_role("sales_channel")
    order_id = api.post("/api/orders", doc("orders", {})).doc["data"]["id"]
    with pytest.raises(ValidationError) as refused:
        test_payment_create(order=Order.objects.get(pk=order_id), token="")
    assert list(refused.value.message_dict) == ["token"]
    assert not TestPayment.objects.exists()

    with CaptureQueriesContext(connection) as captured:
        created = api.post(
            "/api/test_payments",
            doc("test_payments", {"token": "tok_x"}, order=("orders", order_id)),
        )
    assert created.status_code == 201, created.doc
    assert not [q for q in captured.captured_queries if "_check" in q["sql"]]
    with pytest.raises(IntegrityError), transaction.atomic():
        TestPayment.objects.filter(pk=created.doc["data"]["id"]).update(token="")
