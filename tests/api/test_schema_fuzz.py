"""Schemathesis fuzzes every operation of our OpenAPI document in-process: no 5xx, and every
response conforms to the schema (status, content type, body)."""

from __future__ import annotations

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


@pytest.mark.django_db
def test_every_operation_answers_within_its_schema(api_schema, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}", "Accept": JSONAPI}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 50

    for operation in operations:

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
