"""Two faces, one result: every action that changes an order's money, stock or shipments gives
the same order when a back-office integration sends it through the API and when staff press the
admin's button. Two identical orders are built; one is changed through the API, the other
through the admin, and both end with the same statuses, shipments, transactions and timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from fulfillment.models import Shipment
from oms.api.principal import Principal
from orders import services
from orders.models import Order, OrderEvent
from payments.gateways.test import TestGateway
from payments.models import Transaction
from tests import factories as catalog_factories
from tests.api.conftest import Api, doc
from tests.orders.factories import (
    STAFF,
    STOREFRONT,
    checkout_ready,
    line_add,
    order_pending,
    priced_sku,
)

pytestmark = pytest.mark.django_db

SHIPMENT_STEPS = ("_picking", "_packing", "_ready_to_ship", "_ship", "_deliver")


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


@pytest.fixture
def api() -> Api:
    return Api(Principal(application_id="app-admin", kind="integration", role="admin"))


@pytest.fixture
def office(client: Client) -> Client:
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456!")
    client.force_login(user)
    return client


# --- the two identical orders ------------------------------------------------------------------


def order_with_two_shipments(stage: str) -> Order:
    """A placed order of two SKUs in two shipping categories (two shipments), brought to
    `stage`: placed (authorized), approved, captured (approved and paid, fulfillment in
    progress), shipments_cancelled (captured, both shipments cancelled) or cancelled (after
    placement)."""
    market = catalog_factories.MarketFactory.create()
    order = order_pending(market=market, amount_cents=3000)
    line_add(order, priced_sku(market, 2000))
    order = services.order_update(
        order=order,
        actor=STOREFRONT,
        data={
            "billing_address": catalog_factories.AddressFactory.create(),
            "_shipping_address_same_as_billing": True,
        },
    )
    order = checkout_ready(order)
    order = services.order_place(order=order, actor=STOREFRONT)
    assert order.shipments.count() == 2
    if stage in ("approved", "captured", "shipments_cancelled"):
        order = services.order_approve(order=order, actor=STAFF)
    if stage == "cancelled":
        order = services.order_cancel(order=order, actor=STAFF)
    if stage in ("captured", "shipments_cancelled"):
        order = services.order_capture(order=order, actor=STAFF)
        assert order.fulfillment_status == Order.FulfillmentStatus.IN_PROGRESS
    if stage == "shipments_cancelled":
        for shipment in order.shipments.order_by("number"):
            services.order_shipment_trigger(shipment=shipment, trigger="_cancel", actor=STAFF)
        order.refresh_from_db()
    return order


def state_of(order: Order, *, since: int) -> dict[str, Any]:
    """Everything the two faces must agree on, without ids, numbers, timestamps or actors:
    the timeline written after event `since` in its order (the events of building the order
    as a set: placement makes its shipments upcoming in no particular order)."""
    order.refresh_from_db()
    names: dict[str, str] = {order.pk: "order"}
    shipments = list(Shipment.objects.filter(order=order).order_by("number"))
    transactions = list(Transaction.objects.filter(order=order).order_by("created_at", "number"))
    for index, shipment in enumerate(shipments):
        names[shipment.pk] = f"shipment {index}"
    for index, txn in enumerate(transactions):
        names[txn.pk] = f"{txn.type} {index}"
    return {
        "statuses": (order.status, order.payment_status, order.fulfillment_status),
        "archived": order.archived,
        "shipments": [shipment.status for shipment in shipments],
        "transactions": [(txn.type, txn.status, txn.amount_cents) for txn in transactions],
        "history": sorted(
            event_row(event, names)
            for event in OrderEvent.objects.filter(order=order, id__lte=since)
        ),
        "timeline": shipment_runs_sorted(
            [
                event_row(event, names)
                for event in OrderEvent.objects.filter(order=order, id__gt=since).order_by("id")
            ]
        ),
    }


def shipment_runs_sorted(rows: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The timeline with each run of one trigger on several shipments in shipment order: an
    order-level cancel (or a batch of shipments) goes through them in no particular order."""
    result: list[tuple[str, ...]] = []
    run: list[tuple[str, ...]] = []
    for row in [*rows, ("", "", "", "", "")]:
        if run and (not row[0].startswith("shipment ") or row[1] != run[0][1]):
            result.extend(sorted(run))
            run = []
        if row[0].startswith("shipment "):
            run.append(row)
        elif row[0]:
            result.append(row)
    return result


def event_row(event: OrderEvent, names: dict[str, str]) -> tuple[str, ...]:
    subject = names.get(event.subject_id, event.subject_type)
    return (subject, event.trigger, event.field, event.from_status, event.to_status)


def last_event_id(order: Order) -> int:
    return OrderEvent.objects.filter(order=order).latest("id").id


def twins(stage: str) -> tuple[Order, Order, dict[str, int]]:
    """Two identical orders at `stage`, and the last event of each before the action."""
    by_api, by_admin = order_with_two_shipments(stage), order_with_two_shipments(stage)
    marks = {order.pk: last_event_id(order) for order in (by_api, by_admin)}
    assert state_of(by_api, since=marks[by_api.pk]) == state_of(by_admin, since=marks[by_admin.pk])
    return by_api, by_admin, marks


def messages_of(response: Any, level: int | None = None) -> list[str]:
    return [
        str(message)
        for message in get_messages(response.wsgi_request)
        if level is None or message.level == level
    ]


# --- the API face: a back-office integration ---------------------------------------------------


def api_order(api: Api, order: Order, **attributes: Any) -> None:
    response = api.patch(f"/api/orders/{order.pk}", doc("orders", attributes, id=order.pk))
    assert response.status_code == 200, response.doc


def api_transaction(api: Api, txn: Transaction, **attributes: Any) -> None:
    resource = txn.type  # authorizations / captures
    response = api.patch(f"/api/{resource}/{txn.pk}", doc(resource, attributes, id=txn.pk))
    assert response.status_code == 200, response.doc


def api_shipments(api: Api, order: Order, trigger: str) -> None:
    for shipment in order.shipments.order_by("number"):
        response = api.patch(
            f"/api/shipments/{shipment.pk}", doc("shipments", {trigger: True}, id=shipment.pk)
        )
        assert response.status_code == 200, (trigger, response.doc)


# --- the admin face: staff in the browser ------------------------------------------------------


def admin_action(
    office: Client, changelist: str, action: str, rows: list[Any], **extra: Any
) -> Any:
    response = office.post(
        reverse(changelist),
        {"action": action, "_selected_action": [row.pk for row in rows], **extra},
        follow=True,
    )
    assert response.status_code == 200
    assert messages_of(response), "the admin said nothing"
    assert not messages_of(response, messages.ERROR), messages_of(response)
    return response


def admin_order(office: Client, order: Order, action: str) -> None:
    admin_action(office, "admin:orders_order_changelist", action, [order])


def admin_transaction(office: Client, txn: Transaction, action: str, **extra: Any) -> None:
    admin_action(office, "admin:payments_transaction_changelist", action, [txn], **extra)


def admin_shipments(office: Client, order: Order, trigger: str) -> None:
    shipments = list(order.shipments.order_by("number"))
    response = admin_action(
        office, "admin:fulfillment_shipment_changelist", f"shipments{trigger}", shipments
    )
    assert any("2 shipment(s)" in m for m in messages_of(response)), messages_of(response)


def authorization_of(order: Order) -> Transaction:
    return order.transactions.get(type=Transaction.Type.AUTHORIZATIONS)


def capture_of(order: Order) -> Transaction:
    return order.transactions.get(type=Transaction.Type.CAPTURES, status="succeeded")


# --- the actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    stage: str
    through_api: Callable[[Api, Order], None]
    through_admin: Callable[[Client, Order], None]


CASES: dict[str, Case] = {
    "approve": Case(
        "placed",
        lambda api, order: api_order(api, order, _approve=True),
        lambda office, order: admin_order(office, order, "approve_orders"),
    ),
    "approve_and_capture": Case(
        "placed",
        lambda api, order: api_order(api, order, _approve_and_capture=True),
        lambda office, order: admin_order(office, order, "approve_and_capture_orders"),
    ),
    "capture_order": Case(
        "approved",
        lambda api, order: api_order(api, order, _capture=True),
        lambda office, order: admin_order(office, order, "capture_orders"),
    ),
    "capture_authorization_whole": Case(
        "approved",
        lambda api, order: api_transaction(api, authorization_of(order), _capture=True),
        lambda office, order: admin_transaction(office, authorization_of(order), "capture_balance"),
    ),
    "capture_authorization_partial": Case(
        "approved",
        lambda api, order: api_transaction(
            api, authorization_of(order), _capture=True, _capture_amount_cents=1200
        ),
        lambda office, order: admin_transaction(
            office, authorization_of(order), "capture_balance", amount="12.00"
        ),
    ),
    "void": Case(
        "placed",
        lambda api, order: api_transaction(api, authorization_of(order), _void=True),
        lambda office, order: admin_transaction(office, authorization_of(order), "void_balance"),
    ),
    "refund_order": Case(
        "captured",
        lambda api, order: api_order(api, order, _refund=True),
        lambda office, order: admin_order(office, order, "refund_orders"),
    ),
    "refund_capture_partial": Case(
        "captured",
        lambda api, order: api_transaction(
            api, capture_of(order), _refund=True, _refund_amount_cents=700
        ),
        lambda office, order: admin_transaction(
            office, capture_of(order), "refund_balance", amount="7.00"
        ),
    ),
    "cancel": Case(
        "placed",
        lambda api, order: api_order(api, order, _cancel=True),
        lambda office, order: admin_order(office, order, "cancel_orders"),
    ),
    "fulfill": Case(
        "shipments_cancelled",
        lambda api, order: api_order(api, order, _fulfill=True),
        lambda office, order: admin_order(office, order, "fulfill_orders"),
    ),
    "archive": Case(
        "cancelled",
        lambda api, order: api_order(api, order, _archive=True),
        lambda office, order: admin_order(office, order, "archive_orders"),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_the_api_and_the_admin_give_the_same_order(api, office, name):
    case = CASES[name]
    by_api, by_admin, marks = twins(case.stage)
    before = state_of(by_admin, since=marks[by_admin.pk])

    case.through_api(api, by_api)
    case.through_admin(office, by_admin)

    after = state_of(by_admin, since=marks[by_admin.pk])
    assert after == state_of(by_api, since=marks[by_api.pk])
    assert after["timeline"], after  # it did act
    assert after != before


@pytest.mark.parametrize("last", [*SHIPMENT_STEPS, "_on_hold", "_cancel"])
def test_shipment_triggers_give_the_same_order_through_both_faces(api, office, last):
    """Every shipment of a paid order walked up to `last` (`_on_hold` and `_cancel` right
    after picking): shipping every shipment makes the order fulfilled through both faces."""
    steps = (
        SHIPMENT_STEPS[: SHIPMENT_STEPS.index(last) + 1]
        if last in SHIPMENT_STEPS
        else ("_picking", last)
    )
    by_api, by_admin, marks = twins("captured")
    for trigger in steps:
        api_shipments(api, by_api, trigger)
        admin_shipments(office, by_admin, trigger)
        assert state_of(by_admin, since=marks[by_admin.pk]) == state_of(
            by_api, since=marks[by_api.pk]
        ), trigger
    if last in ("_ship", "_deliver"):
        assert by_admin.fulfillment_status == Order.FulfillmentStatus.FULFILLED


def test_capture_in_the_transactions_admin_lets_the_shipments_be_picked(api, office):
    """The defect: a capture from the Transactions admin left the order paid/unfulfilled, and
    its shipments could then never be picked."""
    by_api, by_admin, marks = twins("approved")
    api_transaction(api, authorization_of(by_api), _capture=True)
    admin_transaction(office, authorization_of(by_admin), "capture_balance")
    by_admin.refresh_from_db()
    assert (by_admin.payment_status, by_admin.fulfillment_status) == ("paid", "in_progress")
    api_shipments(api, by_api, "_picking")
    admin_shipments(office, by_admin, "_picking")
    assert state_of(by_admin, since=marks[by_admin.pk]) == state_of(by_api, since=marks[by_api.pk])


# --- refusals: an error message in plain words, nothing changed --------------------------------


def refused(office: Client, changelist: str, action: str, rows: list[Any], **extra: Any) -> str:
    response = office.post(
        reverse(changelist),
        {"action": action, "_selected_action": [row.pk for row in rows], **extra},
        follow=True,
    )
    assert response.status_code == 200
    assert not messages_of(response, messages.SUCCESS), messages_of(response)
    errors = messages_of(response, messages.ERROR)
    assert errors, messages_of(response)
    return " ".join(errors)


def unchanged(order: Order) -> Callable[[], None]:
    since = last_event_id(order)
    before = state_of(order, since=since)

    def check() -> None:
        assert state_of(order, since=since) == before

    return check


TRANSACTIONS = "admin:payments_transaction_changelist"
ORDERS = "admin:orders_order_changelist"
SHIPMENTS = "admin:fulfillment_shipment_changelist"


def test_capturing_twice_in_the_transactions_admin_is_refused(office):
    order = order_with_two_shipments("approved")
    admin_transaction(office, authorization_of(order), "capture_balance")
    check = unchanged(order)
    error = refused(office, TRANSACTIONS, "capture_balance", [authorization_of(order)])
    assert "INSUFFICIENT_CAPTURE_BALANCE" in error
    check()
    assert len(TestGateway.calls_of("capture")) == 1


def test_capturing_more_than_the_balance_is_refused(office):
    order = order_with_two_shipments("approved")
    check = unchanged(order)
    error = refused(
        office, TRANSACTIONS, "capture_balance", [authorization_of(order)], amount="50.01"
    )
    assert "INSUFFICIENT_CAPTURE_BALANCE" in error
    check()


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("abc", "is not an amount"),
        ("0", "above zero"),
        ("-5", "above zero"),
        ("12.505", "decimal places"),
        ("\u00b2", "is not an amount"),
        ("NaN", "above zero"),
    ],
)
def test_an_amount_that_is_not_a_positive_amount_of_the_currency_is_refused(office, amount, reason):
    order = order_with_two_shipments("approved")
    check = unchanged(order)
    error = refused(
        office, TRANSACTIONS, "capture_balance", [authorization_of(order)], amount=amount
    )
    assert reason in error
    check()
    assert not TestGateway.calls_of("capture")


def test_an_amount_for_several_transactions_is_refused(office):
    orders = [order_with_two_shipments("approved") for _ in range(2)]
    checks = [unchanged(order) for order in orders]
    authorizations = [authorization_of(order) for order in orders]
    error = refused(office, TRANSACTIONS, "capture_balance", authorizations, amount="1.00")
    assert "select only one" in error
    for check in checks:
        check()


def test_refunding_more_than_a_capture_is_refused(office):
    order = order_with_two_shipments("captured")
    check = unchanged(order)
    error = refused(office, TRANSACTIONS, "refund_balance", [capture_of(order)], amount="99.99")
    assert "INSUFFICIENT_REFUND_BALANCE" in error
    check()


def test_shipping_an_unpicked_shipment_is_refused(office):
    order = order_with_two_shipments("captured")
    check = unchanged(order)
    error = refused(office, SHIPMENTS, "shipments_ship", list(order.shipments.all()))
    assert "_ship is not allowed" in error
    check()


def test_picking_before_the_payment_is_captured_is_refused(office):
    """Fulfillment starts with the money (spec 2.4, 5): an approved, authorized order's
    shipments wait."""
    order = order_with_two_shipments("approved")
    check = unchanged(order)
    error = refused(office, SHIPMENTS, "shipments_picking", list(order.shipments.all()))
    assert "in progress" in error
    check()


@pytest.mark.parametrize(
    ("stage", "action", "words"),
    [
        # In the merchant's words, not the trigger's name (issue 9).
        ("placed", "refund_orders", "can't be refunded now: it is placed"),
        ("placed", "fulfill_orders", "can't be marked fulfilled now: it is placed"),
        ("captured", "fulfill_orders", "shipments to send"),
        ("cancelled", "approve_orders", "can't be approved now: it is cancelled"),
        ("cancelled", "capture_orders", "can't be captured now: it is cancelled"),
        ("cancelled", "approve_and_capture_orders", "can't be approved and captured now"),
    ],
)
def test_an_order_action_its_status_does_not_allow_is_refused(office, stage, action, words):
    order = order_with_two_shipments(stage)
    check = unchanged(order)
    error = refused(office, ORDERS, action, [order])
    assert words in error
    assert f"Order #{order.number}" in error
    check()


def test_a_void_with_an_amount_is_refused(office):
    order = order_with_two_shipments("placed")
    check = unchanged(order)
    error = refused(office, TRANSACTIONS, "void_balance", [authorization_of(order)], amount="0.01")
    assert "whole balance" in error
    check()
