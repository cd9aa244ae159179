from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms.money import (
    cents_to_decimal,
    cents_to_float,
    currency_exponent,
    format_money,
    is_currency_code,
)


@pytest.mark.parametrize(("currency", "exponent"), [("EUR", 2), ("USD", 2), ("JPY", 0), ("KWD", 3)])
def test_exponent_comes_from_the_currency(currency, exponent):
    assert currency_exponent(currency) == exponent


def test_minor_units_scale_by_the_currency_exponent():
    assert cents_to_decimal(123450, "EUR") == Decimal("1234.50")
    assert cents_to_decimal(1234, "JPY") == Decimal(1234)
    assert cents_to_decimal(1234, "KWD") == Decimal("1.234")


def test_formatting_follows_the_locale():
    assert format_money(123450, "EUR", "it_IT") == "1.234,50\xa0€"
    assert format_money(123450, "USD", "en_US") == "$1,234.50"
    assert format_money(1234, "JPY", "ja_JP") == "￥1,234"
    assert format_money(None, "EUR") == ""


def test_unknown_currency_is_refused():
    assert is_currency_code("EUR")
    assert not is_currency_code("XYZ")
    assert not is_currency_code("eur")


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["EUR", "JPY", "KWD"]))
def test_minor_units_round_trip_exactly(amount_cents, currency):
    value = cents_to_decimal(amount_cents, currency)
    assert int(value.scaleb(currency_exponent(currency))) == amount_cents
    assert cents_to_float(amount_cents, currency) == float(value)
