"""Money: integer minor units plus an ISO 4217 currency. Never a float in storage or arithmetic.

Formatting and the exponent of each currency come from Babel (CLDR data), so JPY has no
decimals, KWD has three, and `formatted_*` follows the locale's conventions.
"""

from decimal import Decimal
from functools import cache, lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies
from django.conf import settings

# Codes CLDR knows that are not currencies a price list can use.
_NOT_TRADABLE = frozenset({"XXX", "XTS", "XAU", "XAG", "XPT", "XPD", "XDR", "XSU", "XUA"})


@cache
def currency_codes() -> frozenset[str]:
    return frozenset(code for code in list_currencies() if code not in _NOT_TRADABLE)


def is_currency_code(code: str) -> bool:
    return code in currency_codes()


def currency_exponent(currency_code: str) -> int:
    return int(get_currency_precision(currency_code))


def cents_to_decimal(amount_cents: int, currency_code: str) -> Decimal:
    return Decimal(amount_cents).scaleb(-currency_exponent(currency_code))


def cents_to_float(amount_cents: int | None, currency_code: str) -> float | None:
    """The `*_float` rendering of the API. Presentation only: never computed with."""
    if amount_cents is None:
        return None
    return float(cents_to_decimal(amount_cents, currency_code))


def format_money(amount_cents: int | None, currency_code: str, locale: str | None = None) -> str:
    """The `formatted_*` rendering, e.g. 123450 EUR in de_DE -> '1.234,50 €'."""
    if amount_cents is None:
        return ""
    return _formatted(amount_cents, currency_code, locale or settings.OMS_DEFAULT_LOCALE)


@lru_cache(maxsize=8192)
def _formatted(amount_cents: int, currency_code: str, locale: str) -> str:
    # Babel takes ~60 µs a call, and an order renders 14 amounts (most of them 0): a list of
    # 25 orders spent 20 ms here. A pure function of its arguments, so cached.
    return str(
        format_currency(cents_to_decimal(amount_cents, currency_code), currency_code, locale=locale)
    )
