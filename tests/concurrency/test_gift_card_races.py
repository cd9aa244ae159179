"""Gift card balances under real concurrency (PostgreSQL, threads): the guarded UPDATE of
`gift_card_balance_move` lets exactly as many debits through as the balance covers, never
overdraws, and logs each one with the balance after it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from oms.errors import DomainError
from orders.models import GiftCard, GiftCardBalanceChange
from orders.services.gift_cards import (
    gift_card_activate,
    gift_card_balance_change,
    gift_card_balance_move,
    gift_card_create,
    gift_card_purchase,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10


def active_card(balance_cents: int) -> GiftCard:
    gift_card = gift_card_create(data={"currency_code": "EUR", "balance_cents": balance_cents})
    gift_card_purchase(gift_card=gift_card)
    return gift_card_activate(gift_card=gift_card)


def test_ten_debits_of_300_on_1000_let_exactly_three_through():
    gift_card = active_card(1000)
    start = threading.Barrier(THREADS)

    def debit(_: int) -> bool:
        try:
            start.wait()
            change = gift_card_balance_move(
                gift_card_id=gift_card.pk,
                amount_cents=-300,
                kind=GiftCardBalanceChange.Kind.DEBIT,
                require_active=True,
            )
            return change is not None
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(debit, range(THREADS)))

    assert outcomes.count(True) == 3
    assert GiftCard.objects.get(pk=gift_card.pk).balance_cents == 100
    debits = GiftCardBalanceChange.objects.filter(
        gift_card=gift_card, kind=GiftCardBalanceChange.Kind.DEBIT
    )
    assert debits.count() == 3
    assert sorted(debits.values_list("balance_cents", flat=True)) == [100, 400, 700]


def test_concurrent_merchant_changes_never_overdraw_and_log_every_move():
    gift_card = active_card(1000)
    start = threading.Barrier(THREADS)

    def take(_: int) -> str:
        try:
            start.wait()
            gift_card_balance_change(gift_card=gift_card, amount_cents=-300)
        except DomainError as exc:
            return exc.code
        finally:
            connection.close()
        return "ok"

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(take, range(THREADS)))

    assert outcomes.count("ok") == 3
    assert set(outcomes) == {"ok", "GIFT_CARD_BALANCE_INVALID"}
    assert GiftCard.objects.get(pk=gift_card.pk).balance_cents == 100
    changes = GiftCardBalanceChange.objects.filter(gift_card=gift_card).order_by("created_at", "id")
    assert list(changes.values_list("amount_cents", "balance_cents")) == [
        (1000, 1000),
        (-300, 700),
        (-300, 400),
        (-300, 100),
    ]
