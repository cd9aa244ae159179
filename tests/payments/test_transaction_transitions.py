"""The transaction state machine, every trigger from every state: pending → succeeded | failed,
nothing else; the services refuse to move a settled transaction."""

from __future__ import annotations

import pytest
from django_fsm import TransitionNotAllowed, can_proceed

from orders.services.money import order_transaction_forward, order_transaction_release
from payments import errors
from payments.models import Transaction
from tests.payments.checkouts import ACTOR, make_checkout

pytestmark = pytest.mark.django_db

S = Transaction.Status
TABLE = {
    (S.PENDING, "succeed"): S.SUCCEEDED,
    (S.PENDING, "fail"): S.FAILED,
}


@pytest.mark.parametrize("state", [S.PENDING, S.SUCCEEDED, S.FAILED])
@pytest.mark.parametrize("trigger", ["succeed", "fail"])
def test_every_trigger_from_every_state(state, trigger):
    transaction = Transaction(status=state)
    method = getattr(transaction, trigger)
    expected = TABLE.get((state, trigger))
    assert can_proceed(method) is (expected is not None)
    if expected is None:
        with pytest.raises(TransitionNotAllowed):
            method()
        assert transaction.status == state
    else:
        method()
        assert transaction.status == expected


@pytest.mark.parametrize("service", [order_transaction_forward, order_transaction_release])
@pytest.mark.parametrize("token", ["tok_success", "tok_declined"])
def test_a_settled_transaction_is_not_moved_again(service, token):
    authorization = make_checkout(token=token).authorize(1000)
    assert authorization.status in (S.SUCCEEDED, S.FAILED)
    with pytest.raises(errors.PaymentTransitionNotAllowed) as exc:
        service(transaction=authorization, actor=ACTOR)
    assert exc.value.code == "TRANSITION_NOT_ALLOWED"
    authorization.refresh_from_db()
    assert authorization.status == (S.SUCCEEDED if token == "tok_success" else S.FAILED)
