"""The returns' admin (spec section 5): the list and its search and filters; the return page's
buttons, exactly those its status allows and the role permits, each moving the return through
the order workflow; refusals and bad input in merchant words with nothing changed; the roles;
opening a return from a fulfilled order's page, all of it or nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from fulfillment.models import Return, StockItem
from orders.models import Order, OrderEvent
from payments.gateways.test import TestGateway
from payments.models import Transaction
from tests.fulfillment.return_factories import (
    order_fulfilled,
    return_lines,
    return_with_lines,
    sku_lines,
)
from tests.orders.factories import order_in_status
from tests.orders.test_admin_order_page import login_as, queries_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_test_gateway():
    TestGateway.reset()
    yield
    TestGateway.reset()


@pytest.fixture
def boss(client: Client) -> Client:
    return login_as(client, None)


def return_page(client: Client, ret: Return) -> Any:
    response = client.get(reverse("admin:fulfillment_return_change", args=[ret.pk]))
    assert response.status_code == 200
    return response


def buttons(response: Any) -> set[str]:
    return {button.name for button in response.context["return_buttons"]}


def act(client: Client, ret: Return, action: str, **data: str) -> list[str]:
    url = reverse("admin:fulfillment_return_act", args=[ret.pk, action])
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def fresh(ret: Return) -> Return:
    return Return.objects.get(pk=ret.pk)  # a protected FSM field: no refresh_from_db


def refunds_of(order: Order) -> list[Transaction]:
    return list(Transaction.objects.filter(order=order, type="refunds", status="succeeded"))


def create_url(order: Order) -> str:
    return reverse("admin:fulfillment_return_create", args=[order.pk])


def quantities(order: Order, *units: int) -> dict[str, str]:
    return {f"quantity_{line.pk}": str(n) for line, n in zip(sku_lines(order), units, strict=True)}


# --- the list --------------------------------------------------------------------------


def test_the_list_shows_the_return_its_order_customer_units_and_estimated_refund(boss):
    order = order_fulfilled(amounts=(1000, 2500), quantity=2)
    ret = return_with_lines(order, quantity=1, to="requested")
    body = boss.get(reverse("admin:fulfillment_return_changelist")).content.decode()
    for text in (ret.number, f"#{order.number}", "requested", order.customer_email, "€35.00"):
        assert text in body
    assert reverse("admin:orders_order_change", args=[order.pk]) in body


@pytest.mark.parametrize("term", ["number", "order", "#order", "email"])
def test_the_list_is_searched_by_return_number_order_number_and_email(boss, term):
    order, other = order_fulfilled(), order_fulfilled()
    ret = return_with_lines(order)
    elsewhere = return_with_lines(other)
    q = {
        "number": ret.number,
        "order": str(order.number),
        "#order": f"#{order.number}",
        "email": order.customer_email,
    }[term]
    response = boss.get(reverse("admin:fulfillment_return_changelist"), {"q": q})
    shown = {r.pk for r in response.context["cl"].result_list}
    assert shown == {ret.pk}
    assert elsewhere.pk not in shown


def test_the_list_filters_by_status_and_market(boss):
    requested = return_with_lines(order_fulfilled(), to="requested")
    received = return_with_lines(order_fulfilled(), to="received")
    url = reverse("admin:fulfillment_return_changelist")

    def shown(**params: str) -> set[str]:
        return {r.pk for r in boss.get(url, params).context["cl"].result_list}

    assert shown(status__exact="received") == {received.pk}
    assert shown(order__market__id__exact=requested.order.market_id) == {requested.pk}


def test_the_list_runs_the_same_queries_for_one_return_or_many(boss):
    url = reverse("admin:fulfillment_return_changelist")
    return_with_lines(order_fulfilled())
    one = queries_of(boss, url)
    for _ in range(3):
        return_with_lines(order_fulfilled(amounts=(1000, 2000)), to="approved")
    assert queries_of(boss, url) == one


def test_the_return_page_runs_the_same_queries_for_one_line_or_many(boss):
    small = return_with_lines(order_fulfilled(), to="received")
    large = return_with_lines(order_fulfilled(amounts=(1000, 2000, 3000)), to="received")
    url = "admin:fulfillment_return_change"
    queries_of(boss, reverse(url, args=[small.pk]))  # the content types' cache, once
    assert queries_of(boss, reverse(url, args=[large.pk])) == queries_of(
        boss, reverse(url, args=[small.pk])
    )


# --- the buttons ---------------------------------------------------------------------------


def test_each_button_moves_the_return_through_the_workflow_to_refunded(boss):
    order = order_fulfilled(amounts=(1000, 2500), quantity=2)
    ret = return_with_lines(order, quantity=1)
    first = sku_lines(order)[0]
    item = StockItem.objects.get(sku=first.sku, stock_location=ret.stock_location)
    before = item.quantity
    steps = [
        ({"request", "cancel"}, "request", "requested"),
        ({"approve", "cancel"}, "approve", "approved"),
        ({"ship", "cancel"}, "ship", "shipped"),
        ({"receive", "reject"}, "receive", "received"),
        ({"restock", "refund"}, "restock", "received"),
        ({"refund"}, "refund", "refunded"),
    ]
    for offered, press, status in steps:
        assert buttons(return_page(boss, ret)) == offered
        [message] = act(boss, ret, press)
        assert fresh(ret).status == status, message
        if press != "refund":
            assert message == f"Return {ret.number} {ACTION_DONE[press]}."
    [refund] = refunds_of(order)
    assert refund.amount_cents == 1000 + 2500
    assert message == f"Return {ret.number} refunded: €35.00 (refund {refund.number})."
    item.refresh_from_db()
    assert item.quantity == before + 1
    assert all(line.restocked_at for line in return_lines(ret))
    assert buttons(return_page(boss, ret)) == set()
    order.refresh_from_db()
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED
    assert order.status == Order.Status.APPROVED
    triggers = list(
        OrderEvent.objects.filter(order=order, subject_type="returns")
        .order_by("id")
        .values_list("trigger", flat=True)
    )
    assert triggers == ["_create", "_request", "_approve", "_ship", "_receive", "_refund"]
    body = return_page(boss, ret).content.decode()
    assert refund.number in body
    assert "partially refunded" in body.replace("_", " ")


ACTION_DONE = {
    "request": "requested",
    "approve": "approved",
    "ship": "marked shipped",
    "receive": "marked received",
    "restock": "restocked",
    "cancel": "cancelled",
    "reject": "rejected",
}


@pytest.mark.parametrize(
    ("to", "press", "status"),
    [("approved", "cancel", "cancelled"), ("shipped", "reject", "rejected")],
)
def test_cancel_and_reject_end_the_return_without_refund_or_restock(boss, to, press, status):
    order = order_fulfilled()
    ret = return_with_lines(order, to=to)
    assert act(boss, ret, press) == [f"Return {ret.number} {ACTION_DONE[press]}."]
    assert fresh(ret).status == status
    assert buttons(return_page(boss, ret)) == set()
    assert refunds_of(order) == []


def test_the_refund_takes_an_amount_and_refuses_bad_ones_with_nothing_done(boss):
    order = order_fulfilled(amounts=(1000,), quantity=1)
    ret = return_with_lines(order, to="received")
    for amount, words in (
        ("abc", "Nothing done: 'abc' is not an amount"),
        ("1.234", "Nothing done: EUR amounts have 2 decimal places"),
        ("0", "Nothing done: The amount must be above zero"),
    ):
        [message] = act(boss, ret, "refund", amount=amount)
        assert message.startswith(words), message
    [message] = act(boss, ret, "refund", amount="100000")
    assert message.startswith("Cannot refund "), message
    assert fresh(ret).status == Return.Status.RECEIVED
    assert refunds_of(order) == []
    act(boss, ret, "refund", amount="4.00")
    assert fresh(ret).status == Return.Status.REFUNDED
    assert [r.amount_cents for r in refunds_of(order)] == [400]


def test_a_declined_refund_is_told_and_may_be_tried_again(boss, monkeypatch):
    from payments.gateways import GatewayResult

    order = order_fulfilled()
    ret = return_with_lines(order, to="received")
    monkeypatch.setattr(
        "orders.services.money.transaction_gateway_call",
        lambda *, txn: GatewayResult.failure("PAYMENT_DECLINED", "Card expired"),
    )
    assert act(boss, ret, "refund") == [
        "The payment gateway declined: Card expired. Nothing was given back; "
        "the return stays received."
    ]
    assert fresh(ret).status == Return.Status.RECEIVED
    assert "refund" in buttons(return_page(boss, ret))
    monkeypatch.undo()
    act(boss, ret, "refund")
    assert fresh(ret).status == Return.Status.REFUNDED


def test_the_refund_confirmation_asks_for_an_optional_amount(boss):
    ret = return_with_lines(order_fulfilled(amounts=(1000,), quantity=1), to="received")
    page = boss.get(reverse("admin:fulfillment_return_act", args=[ret.pk, "refund"]))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'name="amount"' in body
    assert "what the returned lines cost, €10.00" in body


def test_a_refused_button_says_why_in_merchant_words_and_changes_nothing(boss):
    """A button pressed on a stale page (or typed): the service refuses, nothing moves."""
    order = order_fulfilled()
    ret = return_with_lines(order)
    events = OrderEvent.objects.filter(order=order).count()
    assert act(boss, ret, "approve") == [f"Return {ret.number} can't be approved now: it is draft."]
    assert act(boss, ret, "refund") == [f"Return {ret.number} can't be refunded now: it is draft."]
    assert act(boss, ret, "restock") == [
        f"Return {ret.number} can't be restocked now: it is draft."
    ]
    assert fresh(ret).status == Return.Status.DRAFT
    assert OrderEvent.objects.filter(order=order).count() == events
    assert refunds_of(order) == []


def test_a_second_restock_is_refused_and_counts_nothing_twice(boss):
    order = order_fulfilled()
    ret = return_with_lines(order, to="received")
    [line] = sku_lines(order)
    act(boss, ret, "restock")
    item = StockItem.objects.get(sku=line.sku, stock_location=ret.stock_location)
    quantity = item.quantity
    [message] = act(boss, ret, "restock")
    assert message == f"Every line of return {ret.number} is restocked already."
    item.refresh_from_db()
    assert item.quantity == quantity


def test_an_unknown_action_is_404(boss):
    ret = return_with_lines(order_fulfilled())
    url = reverse("admin:fulfillment_return_act", args=[ret.pk, "explode"])
    assert boss.post(url).status_code == 404


# --- the roles -----------------------------------------------------------------------------


def test_warehouse_moves_returns_but_neither_sees_nor_posts_the_refund(client):
    order = order_fulfilled()
    ret = return_with_lines(order, to="shipped")
    warehouse = login_as(client, "Warehouse")
    assert buttons(return_page(warehouse, ret)) == {"receive", "reject"}
    act(warehouse, ret, "receive")
    assert buttons(return_page(warehouse, ret)) == {"restock"}
    url = reverse("admin:fulfillment_return_act", args=[ret.pk, "refund"])
    assert warehouse.get(url).status_code == 403
    assert warehouse.post(url).status_code == 403
    assert fresh(ret).status == Return.Status.RECEIVED
    assert refunds_of(order) == []


def test_customer_service_refunds_a_received_return(client):
    order = order_fulfilled()
    ret = return_with_lines(order, to="received")
    service = login_as(client, "Customer service")
    assert buttons(return_page(service, ret)) == {"restock", "refund"}
    act(service, ret, "refund")
    assert fresh(ret).status == Return.Status.REFUNDED


def test_read_only_sees_the_returns_but_cannot_act_or_create(client):
    order = order_fulfilled()
    ret = return_with_lines(order, to="requested")
    reader = login_as(client, "Read only")
    listing = reader.get(reverse("admin:fulfillment_return_changelist"))
    assert listing.status_code == 200
    assert ret.number in listing.content.decode()
    page = return_page(reader, ret)
    assert buttons(page) == set()
    body = page.content.decode()
    assert "data-action=" not in body
    assert 'name="_save"' not in body
    assert sku_lines(order)[0].sku_code in body  # the lines, read only
    for action in ("approve", "cancel", "refund"):
        url = reverse("admin:fulfillment_return_act", args=[ret.pk, action])
        assert reader.post(url).status_code == 403
    assert fresh(ret).status == Return.Status.REQUESTED
    assert reader.get(create_url(order)).status_code == 403
    assert reader.post(create_url(order), quantities(order, 1)).status_code == 403
    assert Return.objects.filter(order=order).count() == 1
    order_page = reader.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert "create_return" not in order_page.content.decode()
    assert ret.number in order_page.content.decode()


# --- the order page and the create form ----------------------------------------------------


def test_a_fulfilled_orders_page_lists_its_returns_and_offers_to_create_one(boss):
    order = order_fulfilled()
    ret = return_with_lines(order, to="approved")
    page = boss.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert page.context["can_create_return"]
    body = page.content.decode()
    assert create_url(order) in body
    assert reverse("admin:fulfillment_return_change", args=[ret.pk]) in body
    assert ret.number in body
    assert [r.pk for r in page.context["order_returns"]] == [ret.pk]


def test_an_order_not_fulfilled_offers_no_return(boss):
    order = order_in_status("approved")
    page = boss.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert not page.context["can_create_return"]
    assert create_url(order) not in page.content.decode()


def test_the_create_form_makes_a_draft_return_of_the_chosen_units(boss):
    order = order_fulfilled(amounts=(1000, 2500), quantity=2)
    form = boss.get(create_url(order))
    assert form.status_code == 200
    assert [row["returnable"] for row in form.context["rows"]] == [2, 2]
    response = boss.post(create_url(order), quantities(order, 2, 0))
    ret = Return.objects.get(order=order)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:fulfillment_return_change", args=[ret.pk])
    assert ret.status == Return.Status.DRAFT
    [line] = return_lines(ret)
    assert (line.line_item_id, line.quantity) == (sku_lines(order)[0].pk, 2)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Return {ret.number} created with 2 unit(s), €20.00."
    ]
    # what is claimed is no longer returnable
    assert [row["returnable"] for row in boss.get(create_url(order)).context["rows"]] == [0, 2]


@pytest.mark.parametrize(
    ("units", "field", "words"),
    [
        ((3, 0), 0, "Only 2 of "),
        ((1, 5), 1, "Only 2 of "),
        ((-1, 0), 0, "greater than or equal to 0"),
        ((0, 0), None, "Type how many units of at least one line come back."),
    ],
)
def test_the_create_form_refuses_bad_quantities_and_creates_nothing(boss, units, field, words):
    order = order_fulfilled(amounts=(1000, 2500), quantity=2)
    events = OrderEvent.objects.filter(order=order).count()
    response = boss.post(create_url(order), quantities(order, *units))
    assert response.status_code == 200
    form = response.context["form"]
    errors = (
        form.non_field_errors()
        if field is None
        else form.errors[form.field_name(sku_lines(order)[field])]
    )
    assert any(words in error for error in errors), errors
    assert not Return.objects.filter(order=order).exists()
    assert OrderEvent.objects.filter(order=order).count() == events


def test_every_refused_line_is_told_and_the_good_ones_are_not_kept(boss):
    order = order_fulfilled(amounts=(1000, 2500, 400), quantity=1)
    response = boss.post(create_url(order), quantities(order, 2, 1, 3))
    form = response.context["form"]
    first, _, third = sku_lines(order)
    assert form.errors.keys() == {form.field_name(first), form.field_name(third)}
    assert not Return.objects.filter(order=order).exists()


def test_an_order_not_fulfilled_is_refused_by_the_service(boss):
    order = order_in_status("approved")
    response = boss.post(create_url(order), quantities(order, 1))
    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    assert "only fulfilled orders can have returns" in error
    assert not Return.objects.filter(order=order).exists()


def test_warehouse_creates_a_return_from_the_order_page(client):
    order = order_fulfilled()
    warehouse = login_as(client, "Warehouse")
    page = warehouse.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert create_url(order) in page.content.decode()
    assert warehouse.post(create_url(order), quantities(order, 1)).status_code == 302
    assert Return.objects.get(order=order).skus_count == 1
