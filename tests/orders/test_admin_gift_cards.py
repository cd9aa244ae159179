"""The gift cards' admin page: the list masks codes, the form creates through the service, the
actions sell, activate, deactivate and change balances (refusals as messages), the balance
log is read only on the card's page, and a read-only role runs no action."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from orders.models import GiftCard, GiftCardBalanceChange
from orders.services.gift_cards import gift_card_activate, gift_card_create, gift_card_purchase
from tests import factories
from tests.orders.test_admin_order_page import login_as

pytestmark = pytest.mark.django_db

LIST = "admin:orders_giftcard_changelist"


@pytest.fixture
def boss(client):
    return login_as(client, None)


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def act(client, action: str, *cards: GiftCard, **extra):
    return client.post(
        reverse(LIST),
        {"action": action, "_selected_action": [card.pk for card in cards], **extra},
        follow=True,
    )


def active_card(**data) -> GiftCard:
    gift_card = gift_card_create(data={"currency_code": "EUR", "balance_cents": 1000, **data})
    gift_card_purchase(gift_card=gift_card)
    return gift_card_activate(gift_card=gift_card)


def test_the_list_masks_codes_but_for_their_end(boss):
    gift_card_create(
        data={"code": "SECRET-CODE-9876", "currency_code": "EUR", "balance_cents": 2500}
    )
    response = boss.get(reverse(LIST))
    assert response.status_code == 200
    html = response.content.decode()
    assert "9876" in html
    assert "SECRET-CODE" not in html
    assert "€25.00" in html


def test_create_through_the_form_generates_a_code_and_logs_the_balance(boss):
    market = factories.MarketFactory.create()
    response = boss.post(
        reverse("admin:orders_giftcard_add"),
        {
            "new_code": "",
            "market": market.pk,
            "currency_code": "",
            "balance": "50.00",
            "balance_max": "",
            "rechargeable": "on",
            "distribute_discount": "on",
            "metadata": "{}",
            "reference": "",
            "reference_origin": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    gift_card = GiftCard.objects.get()
    assert len(gift_card.code) == 36
    assert gift_card.currency_code == "EUR"
    assert (gift_card.balance_cents, gift_card.initial_balance_cents) == (5000, 5000)
    assert list(gift_card.balance_changes.values_list("amount_cents", flat=True)) == [5000]


def test_the_form_refuses_a_code_taken_in_another_case(boss):
    gift_card_create(data={"code": "winter", "currency_code": "EUR"})
    response = boss.post(
        reverse("admin:orders_giftcard_add"),
        {"new_code": "WINTER", "currency_code": "EUR", "balance": "1", "metadata": "{}"},
    )
    assert response.status_code == 200  # the form again, with its error
    assert "already exists" in response.content.decode()
    assert GiftCard.objects.count() == 1


def test_actions_move_the_status_and_refusals_are_messages(boss):
    draft = gift_card_create(data={"currency_code": "EUR"})
    act(boss, "purchase_gift_cards", draft)
    assert GiftCard.objects.get(pk=draft.pk).status == "inactive"
    response = act(boss, "activate_gift_cards", draft)
    assert "1 gift card(s) activated." in texts(response)
    response = act(boss, "purchase_gift_cards", draft)
    assert texts(response) == [
        f"Gift card …{draft.code[-4:]} can't be purchased now: it is active."
    ]
    act(boss, "deactivate_gift_cards", draft)
    assert GiftCard.objects.get(pk=draft.pk).status == "inactive"


def test_the_balance_change_action_adds_and_takes_in_major_units(boss):
    gift_card = active_card()
    act(boss, "change_balance", gift_card, balance_change="-2.50")
    assert GiftCard.objects.get(pk=gift_card.pk).balance_cents == 750
    act(boss, "change_balance", gift_card, balance_change="10")
    assert GiftCard.objects.get(pk=gift_card.pk).balance_cents == 1750
    response = act(boss, "change_balance", gift_card, balance_change="-100")
    assert any("cannot go down" in text for text in texts(response))
    response = act(boss, "change_balance", gift_card, balance_change="abc")
    assert any(text.startswith("Nothing done") for text in texts(response))
    assert GiftCard.objects.get(pk=gift_card.pk).balance_cents == 1750
    kinds = GiftCardBalanceChange.objects.filter(gift_card=gift_card).values_list(
        "amount_cents", "balance_cents"
    )
    assert list(kinds) == [(1000, 1000), (-250, 750), (1000, 1750)]


def test_a_non_rechargeable_card_refuses_a_recharge(boss):
    gift_card = active_card(rechargeable=False)
    response = act(boss, "change_balance", gift_card, balance_change="1.00")
    assert any("not rechargeable" in text for text in texts(response))
    assert GiftCard.objects.get(pk=gift_card.pk).balance_cents == 1000


def test_the_card_page_shows_the_balance_log_read_only(boss):
    gift_card = active_card()
    response = boss.get(reverse("admin:orders_giftcard_change", args=[gift_card.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Balance log" in html
    assert "€10.00" in html
    form = response.context["adminform"].form
    assert "status" not in form.fields
    assert form.fields["balance"].disabled  # sold: through the action only


def test_editing_a_sold_card_keeps_its_balance(boss):
    gift_card = active_card()
    response = boss.post(
        reverse("admin:orders_giftcard_change", args=[gift_card.pk]),
        {
            "currency_code": "EUR",
            "balance": "99.00",  # disabled: ignored
            "balance_max": "",
            "recipient_email": "ann@example.com",
            "rechargeable": "on",
            "distribute_discount": "on",
            "metadata": "{}",
            "balance_changes-TOTAL_FORMS": "1",
            "balance_changes-INITIAL_FORMS": "1",
            "balance_changes-MIN_NUM_FORMS": "0",
            "balance_changes-MAX_NUM_FORMS": "1000",
            "balance_changes-0-id": gift_card.balance_changes.get().pk,
            "balance_changes-0-gift_card": gift_card.pk,
        },
        follow=True,
    )
    assert response.status_code == 200
    saved = GiftCard.objects.get(pk=gift_card.pk)
    assert saved.recipient_email == "ann@example.com"
    assert saved.balance_cents == 1000


def test_read_only_sees_only_the_end_of_codes_and_runs_no_action(client):
    gift_card = active_card(code="HIDDEN-CODE-4321")
    reader = login_as(client, "Read only")
    listing = reader.get(reverse(LIST))
    assert listing.status_code == 200
    assert "change_balance" not in listing.content.decode()
    page = reader.get(reverse("admin:orders_giftcard_change", args=[gift_card.pk]))
    assert page.status_code == 200
    assert "HIDDEN-CODE" not in page.content.decode()
    reader.post(
        reverse(LIST),
        {"action": "deactivate_gift_cards", "_selected_action": [gift_card.pk]},
    )
    assert GiftCard.objects.get(pk=gift_card.pk).status == "active"
