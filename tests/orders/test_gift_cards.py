"""Gift cards (spec section 6): the state machine of their triggers, and every balance change
guarded (never below 0, never above the maximum, a recharge only when rechargeable) and
logged with the balance after it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from oms.errors import DomainError, TransitionNotAllowed
from oms.webhooks.models import Webhook, WebhookDelivery
from orders.models import GiftCard, GiftCardBalanceChange
from orders.services.gift_cards import (
    gift_card_activate,
    gift_card_balance_change,
    gift_card_balance_move,
    gift_card_create,
    gift_card_deactivate,
    gift_card_delete,
    gift_card_purchase,
    gift_card_update,
)
from tests import factories
from tests.orders.factories import order_row

pytestmark = pytest.mark.django_db

S = GiftCard.Status
TRIGGERS: dict[str, Callable[..., GiftCard]] = {
    "_purchase": gift_card_purchase,
    "_activate": gift_card_activate,
    "_deactivate": gift_card_deactivate,
}
# (trigger, from status) -> the status after it; every pair not here is refused
ALLOWED = {
    ("_purchase", S.DRAFT): S.INACTIVE,
    ("_activate", S.INACTIVE): S.ACTIVE,
    ("_deactivate", S.ACTIVE): S.INACTIVE,
}
# how a card reaches each status
PATHS: dict[str, list[str]] = {
    S.DRAFT: [],
    S.INACTIVE: ["purchase"],
    S.ACTIVE: ["purchase", "activate"],
    S.REDEEMED: ["purchase", "activate", "redeem"],
}


def card(status: str = S.DRAFT, **data) -> GiftCard:
    """A card created through the service, brought to `status` through the model's own
    transitions (redeemed is reached only by an order's use)."""
    gift_card = gift_card_create(data={"currency_code": "EUR", "balance_cents": 1000, **data})
    for transition in PATHS[status]:
        getattr(gift_card, transition)()
    gift_card.save(update_fields=["status"])
    return gift_card


def log_of(gift_card: GiftCard) -> list[tuple[str, int, int]]:
    return list(
        GiftCardBalanceChange.objects.filter(gift_card=gift_card)
        .order_by("created_at", "id")
        .values_list("kind", "amount_cents", "balance_cents")
    )


@pytest.mark.parametrize("trigger", list(TRIGGERS))
@pytest.mark.parametrize("status", list(S.values))
def test_transition_table(trigger, status):
    gift_card = card(status)
    expected = ALLOWED.get((trigger, status))
    if expected is None:
        with pytest.raises(TransitionNotAllowed) as refused:
            TRIGGERS[trigger](gift_card=gift_card)
        assert refused.value.code == "TRANSITION_NOT_ALLOWED"
        assert refused.value.pointer == f"/data/attributes/{trigger}"
        assert GiftCard.objects.get(pk=gift_card.pk).status == status
    else:
        assert TRIGGERS[trigger](gift_card=gift_card).status == expected
        assert GiftCard.objects.get(pk=gift_card.pk).status == expected


def test_a_refusal_names_the_card_by_the_end_of_its_code_only():
    gift_card = card(S.ACTIVE, code="SECRET-CODE-1234")
    with pytest.raises(TransitionNotAllowed) as refused:
        gift_card_purchase(gift_card=gift_card)
    assert "…1234" in refused.value.detail
    assert "SECRET" not in refused.value.detail


# --- creation ---------------------------------------------------------------------------------


def test_create_generates_a_code_and_logs_the_starting_balance():
    gift_card = gift_card_create(data={"currency_code": "eur", "balance_cents": 5000})
    assert len(gift_card.code) == 36
    assert gift_card.status == S.DRAFT
    assert gift_card.currency_code == "EUR"
    assert (gift_card.initial_balance_cents, gift_card.balance_cents) == (5000, 5000)
    assert log_of(gift_card) == [("change", 5000, 5000)]


def test_create_trims_the_code_and_logs_nothing_for_an_empty_card():
    gift_card = gift_card_create(data={"code": "  GIFT-1  ", "currency_code": "USD"})
    assert gift_card.code == "GIFT-1"
    assert log_of(gift_card) == []


def test_codes_are_unique_in_any_case():
    gift_card_create(data={"code": "gift-abc", "currency_code": "EUR"})
    with pytest.raises(DomainError) as refused:
        gift_card_create(data={"code": "GIFT-ABC", "currency_code": "EUR"})
    assert refused.value.pointer == "/data/attributes/code"
    assert GiftCard.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "pointer"),
    [
        ({}, "currency_code"),
        ({"currency_code": "EURO"}, "currency_code"),
        ({"currency_code": "ZZZ"}, "currency_code"),
        ({"currency_code": "EUR", "balance_cents": -1}, "balance_cents"),
        ({"currency_code": "EUR", "balance_cents": 101, "balance_max_cents": 100}, "balance_cents"),
        ({"currency_code": "EUR", "balance_max_cents": -5}, "balance_max_cents"),
    ],
)
def test_create_refuses_bad_attributes_with_a_pointer(data, pointer):
    with pytest.raises(DomainError) as refused:
        gift_card_create(data=data)
    assert refused.value.pointer == f"/data/attributes/{pointer}"
    assert not GiftCard.objects.exists()


def test_a_market_card_takes_the_market_currency_and_refuses_another():
    market = factories.MarketFactory.create()  # EUR
    assert gift_card_create(data={"market": market}).currency_code == "EUR"
    with pytest.raises(DomainError) as refused:
        gift_card_create(data={"market": market, "currency_code": "USD"})
    assert refused.value.pointer == "/data/attributes/currency_code"


# --- updates ----------------------------------------------------------------------------------


def test_a_draft_card_balance_is_set_directly_and_logged():
    gift_card = card(S.DRAFT)
    updated = gift_card_update(gift_card=gift_card, data={"balance_cents": 2500})
    assert (updated.balance_cents, updated.initial_balance_cents) == (2500, 2500)
    assert log_of(gift_card) == [("change", 1000, 1000), ("change", 1500, 2500)]


@pytest.mark.parametrize("status", [S.INACTIVE, S.ACTIVE])
def test_a_sold_card_balance_changes_only_through_balance_change(status):
    gift_card = card(status)
    with pytest.raises(DomainError) as refused:
        gift_card_update(gift_card=gift_card, data={"balance_cents": 2500})
    assert refused.value.code == "GIFT_CARD_BALANCE_INVALID"
    assert refused.value.pointer == "/data/attributes/balance_cents"
    assert GiftCard.objects.get(pk=gift_card.pk).balance_cents == 1000


def test_update_changes_the_editable_attributes():
    gift_card = card(S.ACTIVE)
    updated = gift_card_update(
        gift_card=gift_card,
        data={"recipient_email": "ann@example.com", "single_use": True, "balance_cents": 1000},
    )
    assert updated.recipient_email == "ann@example.com"
    assert updated.single_use is True
    assert log_of(gift_card) == [("change", 1000, 1000)]


def test_a_maximum_below_the_balance_is_refused():
    gift_card = card(S.ACTIVE)
    with pytest.raises(DomainError) as refused:
        gift_card_update(gift_card=gift_card, data={"balance_max_cents": 999})
    assert refused.value.pointer == "/data/attributes/balance_cents"


def test_a_draft_card_can_lower_its_balance_and_maximum_together():
    gift_card = card(S.DRAFT)
    updated = gift_card_update(
        gift_card=gift_card, data={"balance_cents": 300, "balance_max_cents": 500}
    )
    assert (updated.balance_cents, updated.balance_max_cents) == (300, 500)


def test_the_currency_of_a_sold_card_cannot_change():
    gift_card = card(S.INACTIVE)
    with pytest.raises(DomainError) as refused:
        gift_card_update(gift_card=gift_card, data={"currency_code": "USD"})
    assert refused.value.pointer == "/data/attributes/currency_code"
    assert gift_card_update(
        gift_card=card(S.DRAFT), data={"currency_code": "usd"}
    ).currency_code == ("USD")


# --- balance changes --------------------------------------------------------------------------


def test_a_recharge_adds_and_a_negative_change_takes_each_logged():
    gift_card = card(S.ACTIVE)
    gift_card_balance_change(gift_card=gift_card, amount_cents=500)
    after = gift_card_balance_change(gift_card=gift_card, amount_cents=-1200)
    assert after.balance_cents == 300
    assert log_of(gift_card) == [
        ("change", 1000, 1000),
        ("change", 500, 1500),
        ("change", -1200, 300),
    ]


def test_a_recharge_is_refused_when_not_rechargeable():
    gift_card = card(S.ACTIVE, rechargeable=False)
    with pytest.raises(DomainError) as refused:
        gift_card_balance_change(gift_card=gift_card, amount_cents=1)
    assert refused.value.code == "GIFT_CARD_BALANCE_INVALID"
    assert refused.value.pointer == "/data/attributes/_balance_change_cents"
    # taking is still allowed
    assert gift_card_balance_change(gift_card=gift_card, amount_cents=-1).balance_cents == 999


def test_the_balance_never_goes_below_zero():
    gift_card = card(S.ACTIVE)
    with pytest.raises(DomainError) as refused:
        gift_card_balance_change(gift_card=gift_card, amount_cents=-1001)
    assert refused.value.code == "GIFT_CARD_BALANCE_INVALID"
    assert gift_card_balance_change(gift_card=gift_card, amount_cents=-1000).balance_cents == 0
    assert log_of(gift_card)[-1] == ("change", -1000, 0)


def test_the_balance_never_goes_above_its_maximum():
    gift_card = card(S.ACTIVE, balance_max_cents=1500)
    with pytest.raises(DomainError) as refused:
        gift_card_balance_change(gift_card=gift_card, amount_cents=501)
    assert refused.value.code == "GIFT_CARD_BALANCE_INVALID"
    assert gift_card_balance_change(gift_card=gift_card, amount_cents=500).balance_cents == 1500
    assert len(log_of(gift_card)) == 2


def test_a_redeemed_card_balance_is_closed():
    gift_card = card(S.REDEEMED)
    with pytest.raises(DomainError):
        gift_card_balance_change(gift_card=gift_card, amount_cents=-1)


def test_the_guarded_move_refuses_what_would_overdraw_and_logs_the_balance_after():
    gift_card = card(S.ACTIVE)
    assert (
        gift_card_balance_move(gift_card_id=gift_card.pk, amount_cents=-1001, kind="debit") is None
    )
    change = gift_card_balance_move(gift_card_id=gift_card.pk, amount_cents=-400, kind="debit")
    assert change is not None
    assert change.balance_cents == 600
    assert GiftCard.objects.get(pk=gift_card.pk).balance_cents == 600


# --- deletion ---------------------------------------------------------------------------------


def test_a_card_no_order_used_can_be_deleted_one_that_paid_cannot():
    unused = card(S.ACTIVE)
    gift_card_delete(gift_card=unused)
    assert not GiftCard.objects.filter(pk=unused.pk).exists()
    used = card(S.ACTIVE)
    order = order_row()
    gift_card_balance_move(gift_card_id=used.pk, amount_cents=-100, kind="debit", order=order)
    with pytest.raises(DomainError):
        gift_card_delete(gift_card=used)
    assert GiftCard.objects.filter(pk=used.pk).exists()


def test_each_status_change_records_its_webhook_delivery():
    hooks = {
        topic: Webhook.objects.create(topic=topic, callback_url=f"https://erp.example.com/{topic}")
        for topic in ("gift_cards.purchase", "gift_cards.activate", "gift_cards.deactivate")
    }
    gift_card = card()
    gift_card = gift_card_purchase(gift_card=gift_card)
    gift_card = gift_card_activate(gift_card=gift_card)
    gift_card_deactivate(gift_card=gift_card)
    for hook in hooks.values():
        assert list(
            WebhookDelivery.objects.filter(webhook=hook).values_list("resource_type", "resource_id")
        ) == [("gift_cards", gift_card.pk)]
