"""A placement whose process is killed mid-authorization, on PostgreSQL with a real child
process: the order is left placing with a pending authorization, and
`orders_recover_placements` puts it back to pending without authorizing again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from orders.invariants import invariant_violations
from orders.models import Order
from payments.gateways.test import TestGateway
from payments.models import PaymentGateway, Transaction
from payments.selectors import order_payment_totals
from tests.orders.factories import order_ready

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 15  # for the child to reserve its authorization; its gateway call takes 20


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


def child_database_url() -> str:
    """The test database, for the child process (it is not this process's connection)."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


def place_in_a_child(order: Order) -> subprocess.Popen[bytes]:
    code = (
        "from oms.actors import Actor; from orders import services; "
        "from orders.models import Order; "
        f"services.order_place(order=Order.objects.get(pk={order.pk!r}), "
        "actor=Actor(kind='system', id='child', name='child'))"
    )
    env = {**os.environ, "DATABASE_URL": child_database_url(), "DEBUG": "1"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_a_placement_killed_mid_authorization_is_recovered_to_pending():
    order = order_ready(amount_cents=2500)
    assert order.payment_method is not None
    PaymentGateway.objects.filter(pk=order.payment_method.payment_gateway_id).update(
        test_latency_ms=20_000, timeout_ms=30_000
    )
    child = place_in_a_child(order)
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not Transaction.objects.filter(
            order=order, type="authorizations", status="pending"
        ).exists():
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never reserved its authorization"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=5)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=5)
    order.refresh_from_db()
    assert order.status == Order.Status.PLACING
    assert order.stock_reservations.filter(status="pending").exists()

    out = StringIO()
    with override_settings(OMS_PLACEMENT_STALE_SECONDS=0):
        call_command("orders_recover_placements", stdout=out)
    # the test gateway's record of the call died with the child: it never saw it here
    assert f"#{order.number} {order.pk}: aborted: the gateway never saw" in out.getvalue()
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert [error["code"] for error in order.placement_errors] == ["GATEWAY_UNREACHABLE"]
    assert not order.stock_reservations.filter(status="pending").exists()
    assert list(
        Transaction.objects.filter(order=order).values_list("type", "status", "amount_cents")
    ) == [("authorizations", "failed", 2500)]
    assert order.payment_status != Order.PaymentStatus.AUTHORIZED
    assert order_payment_totals(order_id=order.pk).live_authorizations == 0, "no live hold"
    assert TestGateway.calls == [], "this process never asked the gateway to authorize"
    assert invariant_violations(order_ids=[order.pk]) == []
