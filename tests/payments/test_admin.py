"""The payments admin: money moves only through actions that call the services."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from oms.money import format_money
from orders.models import OrderEvent
from orders.services.money import order_authorization_capture
from payments.gateways.test import TestGateway
from payments.models import Transaction
from tests.payments import factories
from tests.payments.checkouts import ACTOR, make_checkout

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:payments_transaction_changelist"


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456!")
    client.force_login(user)
    return client


def run_action(client, action, *transactions):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [txn.pk for txn in transactions]},
        follow=True,
    )


def test_transactions_list_and_detail_render(staff_client):
    authorization = make_checkout().authorize(1000)
    assert staff_client.get(reverse(CHANGELIST)).status_code == 200
    detail = staff_client.get(reverse("admin:payments_transaction_change", args=[authorization.pk]))
    assert detail.status_code == 200
    content = detail.content.decode()
    assert authorization.number in content
    # balances in major units of the currency, not cents
    assert "Left to capture" in content
    assert format_money(1000, authorization.currency_code) in content


def test_transactions_cannot_be_added_edited_or_deleted(staff_client):
    authorization = make_checkout().authorize(1000)
    assert staff_client.get(reverse("admin:payments_transaction_add")).status_code == 403
    response = staff_client.post(
        reverse("admin:payments_transaction_change", args=[authorization.pk]),
        {"amount_cents": "1"},
    )
    assert response.status_code == 403
    assert Transaction.objects.get(pk=authorization.pk).amount_cents == 1000


def test_capture_action_captures_through_the_service(staff_client):
    authorization = make_checkout().authorize(1000)
    response = run_action(staff_client, "capture_balance", authorization)
    assert response.status_code == 200
    capture = Transaction.objects.get(type="captures")
    assert (capture.amount_cents, capture.status) == (1000, "succeeded")
    assert OrderEvent.objects.filter(trigger="_capture", actor="user:boss").exists()
    again = run_action(staff_client, "capture_balance", authorization)
    assert "INSUFFICIENT_CAPTURE_BALANCE" in again.content.decode()
    assert len(TestGateway.calls_of("capture")) == 1


def test_refund_and_void_actions(staff_client):
    authorization = make_checkout().authorize(1000)
    capture = order_authorization_capture(
        authorization=authorization, amount_cents=400, actor=ACTOR
    )
    run_action(staff_client, "refund_balance", capture)
    run_action(staff_client, "void_balance", authorization)
    assert Transaction.objects.get(type="refunds").amount_cents == 400
    assert Transaction.objects.get(type="voids").amount_cents == 600


def test_failed_capture_is_reported(staff_client):
    authorization = make_checkout(token="tok_capture_declined").authorize(1000)
    response = run_action(staff_client, "capture_balance", authorization)
    assert "PAYMENT_DECLINED" in response.content.decode()


def test_viewer_without_change_permission_cannot_move_money(client):
    user = get_user_model().objects.create_user("viewer", "v@example.com", "pw-123456!")
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_transaction"))
    client.force_login(user)
    authorization = make_checkout().authorize(1000)
    run_action(client, "capture_balance", authorization)
    assert not Transaction.objects.filter(type="captures").exists()


def test_payment_method_and_gateway_pages(staff_client):
    method = factories.PaymentMethodFactory.create()
    for name, obj in (("paymentmethod", method), ("paymentgateway", method.payment_gateway)):
        assert staff_client.get(reverse(f"admin:payments_{name}_changelist")).status_code == 200
        page = staff_client.get(reverse(f"admin:payments_{name}_change", args=[obj.pk]))
        assert page.status_code == 200
    staff_client.post(
        reverse("admin:payments_paymentmethod_changelist"),
        {"action": "disable_methods", "_selected_action": [method.pk]},
    )
    method.refresh_from_db()
    assert method.disabled_at is not None
