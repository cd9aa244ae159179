"""Structured logs (issue 12): with DEBUG off every log line is one JSON object; a request's
lines, and the state changes it makes, carry its request id (the proxy's X-Request-ID when
there is one), and a state change names the order by number."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from orders.models import Order
from tests.orders.factories import order_in_status
from tests.orders.test_admin_order_page import login_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines() -> Iterator[StringIO]:
    """The root logger writing through the production (JSON) formatter into a buffer."""
    logging_config: dict[str, Any] = django_settings.LOGGING
    config: dict[str, Any] = logging_config["formatters"]["json"]
    factory = config["()"]
    kwargs = {k: v for k, v in config.items() if k != "()"}
    buffer = StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(factory(**kwargs))
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(level)


def records(buffer: StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_production_logs_are_json_by_default():
    logging_config: dict[str, Any] = django_settings.LOGGING
    assert logging_config["handlers"]["console"]["formatter"] in ("json", "console")
    assert "django_structlog.middlewares.RequestMiddleware" in django_settings.MIDDLEWARE


@pytest.mark.django_db(transaction=True)  # real commits: the lines are logged at commit
def test_a_state_change_is_logged_with_the_order_number_and_the_request_id(client, json_lines):
    order = order_in_status("placed")
    office = login_as(client, None)
    response = office.post(
        reverse("admin:orders_order_act", args=[order.pk, "approve"]),
        {"target": ""},
        HTTP_X_REQUEST_ID="req-4242",
    )
    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).status == Order.Status.APPROVED
    lines = records(json_lines)
    changes = [line for line in lines if line["event"] == "state_changed"]
    approved = [c for c in changes if c["to_status"] == "approved"]
    assert approved, lines
    assert approved[0]["order_number"] == order.number
    assert approved[0]["trigger"] == "_approve"
    assert approved[0]["request_id"] == "req-4242"
    assert approved[0]["level"] == "info"
    assert "timestamp" in approved[0]
    finished = [line for line in lines if line["event"] == "request_finished"]
    assert finished
    assert finished[0]["request_id"] == "req-4242"
    assert finished[0]["code"] == 302
