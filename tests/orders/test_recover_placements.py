"""`orders_recover_placements` (spec 2.2): an order left placing by a process that died is
resolved from what the gateway says became of its authorization, never authorizing twice."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from orders import services
from orders.invariants import invariant_violations
from orders.models import Order
from orders.services import money, placement
from payments.gateways import GatewayResult
from payments.gateways.test import TestGateway
from payments.models import Transaction
from payments.services import Settlement
from tests.orders.factories import STOREFRONT, order_in_status, order_ready

pytestmark = pytest.mark.django_db

stale_at_once = override_settings(OMS_PLACEMENT_STALE_SECONDS=0)


@pytest.fixture(autouse=True)
def _fresh_gateway() -> Iterator[None]:
    TestGateway.reset()
    yield
    TestGateway.reset()


def recover(*args: str) -> tuple[str, str, CommandError | None]:
    """Run the command; its output, its error output and the error it exited with (if any)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("orders_recover_placements", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def died_after_the_call(monkeypatch: pytest.MonkeyPatch, *, card_token: str) -> Order:
    """The gateway answered (and recorded its answer), then the process died before settling:
    the order is left placing with a pending authorization."""
    order = order_ready(amount_cents=2500, card_token=card_token)
    with monkeypatch.context() as patch:
        patch.setattr(money, "transaction_settle", lambda txn, result: Settlement(txn, False))
        services.order_place(order=order, actor=STOREFRONT)
    return placing_with_a_pending_authorization(order)


def died_before_the_call(monkeypatch: pytest.MonkeyPatch) -> Order:
    """The process died after reserving the authorization, before the gateway heard of it."""
    order = order_ready(amount_cents=2500)
    with monkeypatch.context() as patch:
        patch.setattr(money, "transaction_settle", lambda txn, result: Settlement(txn, False))
        patch.setattr(money, "transaction_gateway_call", lambda txn: GatewayResult(succeeded=True))
        services.order_place(order=order, actor=STOREFRONT)
    return placing_with_a_pending_authorization(order)


def placing_with_a_pending_authorization(order: Order) -> Order:
    order.refresh_from_db()
    assert order.status == Order.Status.PLACING
    [authorization] = Transaction.objects.filter(order=order)
    assert (authorization.type, authorization.status) == ("authorizations", "pending")
    return order


def authorizations(order: Order) -> list[tuple[str, int]]:
    return list(
        Transaction.objects.filter(order=order, type="authorizations").values_list(
            "status", "amount_cents"
        )
    )


def assert_aborted(order: Order, code: str) -> None:
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert [error["code"] for error in order.placement_errors] == [code]
    assert order.placed_at is None
    assert not order.stock_reservations.filter(status="pending").exists()
    assert order.events.filter(from_status="placing", to_status="pending").count() == 1


@stale_at_once
def test_an_authorization_the_gateway_recorded_places_the_order(monkeypatch):
    order = died_after_the_call(monkeypatch, card_token="tok_success")
    out, _, error = recover()
    assert error is None
    assert f"#{order.number} {order.pk}: placed: the gateway authorized" in out
    assert out.splitlines()[-1] == "1 stale placement(s): 1 placed, 0 aborted, 0 left"
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("placed", "authorized")
    assert order.placed_at is not None
    assert order.place_total_amount_cents == 2500
    assert order.events.filter(to_status="placed").count() == 1
    assert authorizations(order) == [("succeeded", 2500)]
    assert len(TestGateway.calls_of("authorize")) == 1, "asked, never authorized again"
    assert len(TestGateway.lookups) == 1
    assert invariant_violations(order_ids=[order.pk]) == []


@stale_at_once
def test_a_second_run_finds_nothing_to_do(monkeypatch):
    died_after_the_call(monkeypatch, card_token="tok_success")
    recover()
    out, _, error = recover()
    assert error is None
    assert out == "0 stale placement(s): 0 placed, 0 aborted, 0 left\n"
    assert len(TestGateway.calls_of("authorize")) == 1


@stale_at_once
def test_an_authorization_the_gateway_never_saw_returns_the_order_to_pending(monkeypatch):
    order = died_before_the_call(monkeypatch)
    out, _, error = recover()
    assert error is None
    assert f"#{order.number} {order.pk}: aborted: the gateway never saw" in out
    assert_aborted(order, "GATEWAY_UNREACHABLE")
    assert authorizations(order) == [("failed", 2500)]
    assert TestGateway.calls_of("authorize") == []
    assert order.payment_status != Order.PaymentStatus.AUTHORIZED
    assert invariant_violations(order_ids=[order.pk]) == []


@stale_at_once
def test_a_recorded_decline_returns_the_order_to_pending(monkeypatch):
    order = died_after_the_call(monkeypatch, card_token="tok_declined")
    out, _, error = recover()
    assert error is None
    assert f"#{order.number} {order.pk}: aborted: the gateway refused" in out
    assert_aborted(order, "PAYMENT_DECLINED")
    assert authorizations(order) == [("failed", 2500)]
    assert len(TestGateway.calls_of("authorize")) == 1
    assert invariant_violations(order_ids=[order.pk]) == []


@stale_at_once
@pytest.mark.parametrize("token", ["tok_lookup_timeout", "tok_lookup_unreachable"])
def test_a_gateway_that_cannot_tell_leaves_the_order_placing_and_fails(monkeypatch, token):
    order = died_after_the_call(monkeypatch, card_token=token)
    events = order.events.count()
    out, _, error = recover()
    assert error is not None
    assert (
        str(error)
        == "1 placement(s) left placing (the gateway could not tell, or the recovery failed): run it again later"
    )
    assert "\n" not in str(error)
    assert f"#{order.number} {order.pk}: left placing: the gateway cannot tell" in out
    assert out.splitlines()[-1] == "1 stale placement(s): 0 placed, 0 aborted, 1 left"
    order.refresh_from_db()
    assert order.status == Order.Status.PLACING
    assert order.events.count() == events
    assert authorizations(order) == [("pending", 2500)]
    assert order.stock_reservations.filter(status="pending").exists(), "still held"
    assert len(TestGateway.calls_of("authorize")) == 1


def test_a_placement_younger_than_the_deadline_is_left_alone(monkeypatch):
    order = died_after_the_call(monkeypatch, card_token="tok_success")
    out, _, error = recover()  # the default: 60 seconds
    assert error is None
    assert out == "0 stale placement(s): 0 placed, 0 aborted, 0 left\n"
    order.refresh_from_db()
    assert order.status == Order.Status.PLACING
    assert authorizations(order) == [("pending", 2500)]
    assert TestGateway.lookups == []


@stale_at_once
def test_a_dry_run_lists_the_order_and_changes_nothing(monkeypatch):
    order = died_after_the_call(monkeypatch, card_token="tok_success")
    events = order.events.count()
    out, _, error = recover("--dry-run")
    assert error is None
    assert f"#{order.number} {order.pk}: would be placed: the gateway authorized" in out
    assert out.splitlines()[-1] == (
        "1 stale placement(s) (dry run): 1 would be placed, 0 would be aborted, 0 left"
    )
    order.refresh_from_db()
    assert order.status == Order.Status.PLACING
    assert order.events.count() == events
    assert authorizations(order) == [("pending", 2500)]
    assert order.stock_reservations.filter(status="pending").exists()
    assert len(TestGateway.calls_of("authorize")) == 1


@stale_at_once
def test_a_placement_that_never_sent_an_authorization_is_aborted():
    order = order_in_status("placing")  # its background task never ran
    assert not Transaction.objects.filter(order=order).exists()
    out, _, error = recover()
    assert error is None
    assert f"#{order.number} {order.pk}: aborted: no authorization was sent" in out
    assert_aborted(order, "PLACEMENT_FAILED")
    assert not Transaction.objects.filter(order=order).exists()
    assert TestGateway.calls == []
    assert invariant_violations(order_ids=[order.pk]) == []


@stale_at_once
def test_a_free_placement_that_never_finished_is_placed():
    order = order_in_status("placing", amount_cents=0)
    assert order.total_amount_with_taxes_cents == 0
    out, _, error = recover()
    assert error is None
    assert f"#{order.number} {order.pk}: placed: no authorization was sent" in out
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    assert not Transaction.objects.filter(order=order).exists()
    assert invariant_violations(order_ids=[order.pk]) == []


@stale_at_once
def test_a_recorded_partial_authorization_is_given_back(monkeypatch):
    order = died_after_the_call(monkeypatch, card_token="tok_partial")
    out, _, error = recover()
    assert error is None
    assert f"#{order.number} {order.pk}: aborted: the gateway authorized" in out
    assert_aborted(order, "PAYMENT_PARTIALLY_AUTHORIZED")
    assert authorizations(order) == [("succeeded", 1250)]
    assert Transaction.objects.filter(order=order, type="voids", status="succeeded").count() == 1
    assert len(TestGateway.calls_of("authorize")) == 1
    assert invariant_violations(order_ids=[order.pk]) == []


@stale_at_once
def test_an_authorization_settled_before_the_process_died_decides_the_placement(monkeypatch):
    """The answer was settled, then the process died before it placed or went back to
    pending (between the two transactions): no gateway to ask, the answer is on record."""
    order = order_ready(amount_cents=2500)

    def bug(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # not an Exception: nothing is cleaned up, as after a kill

    with monkeypatch.context() as patch:
        patch.setattr(placement, "_placement_settled", bug)
        patch.setattr(placement, "_order_placing_failed", killed)
        with pytest.raises(KeyboardInterrupt):
            services.order_place(order=order, actor=STOREFRONT)
    order.refresh_from_db()
    assert order.status == Order.Status.PLACING
    assert authorizations(order) == [("succeeded", 2500)]
    out, _, error = recover()
    assert error is None
    assert f"#{order.number} {order.pk}: placed:" in out
    order.refresh_from_db()
    assert (order.status, order.payment_status) == ("placed", "authorized")
    assert len(TestGateway.calls_of("authorize")) == 1
    assert TestGateway.lookups == [], "the answer is on record"
    assert invariant_violations(order_ids=[order.pk]) == []


def test_one_placement_failing_unexpectedly_does_not_stop_the_others(monkeypatch):
    from orders.services import recovery

    first = order_in_status("placing")
    second = order_in_status("placing")
    real = recovery.placement_recover

    def flaky(*, stale, actor, dry_run):
        if stale.order.pk == first.pk:
            raise RuntimeError("disk full")
        return real(stale=stale, actor=actor, dry_run=dry_run)

    monkeypatch.setattr(recovery, "placement_recover", flaky)
    with override_settings(OMS_PLACEMENT_STALE_SECONDS=0), pytest.raises(CommandError):
        call_command("orders_recover_placements", stdout=StringIO())
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "placing"
    assert second.status == "pending"  # aborted: its attempt never sent an authorization
