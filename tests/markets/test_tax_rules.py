"""Which addresses a tax rule taxes: every pattern it sets matches the whole code, no negative
pattern does, letter case aside; and the services that keep its rate and patterns valid."""

from __future__ import annotations

from decimal import Decimal

import pytest

from markets import services
from markets.errors import RegexInvalid, TaxRateInvalid
from markets.models import Address, TaxRule


def address(country: str = "IT", state: str = "", zip_code: str = "") -> Address:
    return Address(country_code=country, state_code=state, zip_code=zip_code)


def rule(**patterns: str) -> TaxRule:
    return TaxRule(name="rule", tax_rate=Decimal("0.22"), **patterns)


def test_a_rule_without_patterns_taxes_every_address():
    assert rule().matches(address("IT"))
    assert rule().matches(address("US", "CA", "90210"))


@pytest.mark.parametrize(
    ("patterns", "where", "taxed"),
    [
        ({"country_code_regex": "IT|FR"}, address("IT"), True),
        ({"country_code_regex": "IT|FR"}, address("FR"), True),
        ({"country_code_regex": "IT|FR"}, address("DE"), False),
        ({"not_country_code_regex": "IT|FR"}, address("DE"), True),
        ({"not_country_code_regex": "IT|FR"}, address("IT"), False),
        ({"state_code_regex": "A[KLRZ]|CA"}, address("US", "CA"), True),
        ({"state_code_regex": "A[KLRZ]|CA"}, address("US", "NY"), False),
        ({"not_state_code_regex": "A[KLRZ]"}, address("US", "AK"), False),
        ({"not_state_code_regex": "A[KLRZ]"}, address("US", "NY"), True),
        ({"zip_code_regex": r"9\d{4}"}, address("US", "CA", "90210"), True),
        ({"zip_code_regex": r"9\d{4}"}, address("US", "NY", "10001"), False),
        ({"not_zip_code_regex": "JE[1-5].*"}, address("GB", "", "JE2 3AB"), False),
        ({"not_zip_code_regex": "JE[1-5].*"}, address("GB", "", "SW1A 1AA"), True),
    ],
)
def test_positive_and_negative_patterns(patterns, where, taxed):
    assert rule(**patterns).matches(where) is taxed


def test_patterns_ignore_letter_case():
    assert rule(country_code_regex="it").matches(address("IT"))
    assert rule(zip_code_regex="je1 .*").matches(address("GB", "", "JE1 1AA"))
    assert not rule(not_country_code_regex="it").matches(address("IT"))


def test_a_pattern_must_match_the_whole_code():
    assert not rule(country_code_regex="I").matches(address("IT"))
    assert not rule(zip_code_regex="JE1").matches(address("GB", "", "JE1 1AA"))
    assert not rule(state_code_regex="C").matches(address("US", "CA"))
    # a negative pattern, too, excludes only what it matches in full
    assert rule(not_country_code_regex="I").matches(address("IT"))


def test_every_set_pattern_must_agree():
    italy_but_not_rome = rule(country_code_regex="IT", not_zip_code_regex="001.*")
    assert italy_but_not_rome.matches(address("IT", "", "20121"))
    assert not italy_but_not_rome.matches(address("IT", "", "00184"))
    assert not italy_but_not_rome.matches(address("FR", "", "20121"))


def test_an_empty_code_meets_a_positive_pattern_as_empty_text():
    assert not rule(state_code_regex="CA").matches(address("US", ""))
    assert rule(not_state_code_regex="CA").matches(address("US", ""))


@pytest.mark.parametrize(
    ("sent", "stored"),
    [(0.22, Decimal("0.22")), ("0.19", Decimal("0.19")), (0, Decimal(0)), (1, Decimal(1))],
)
def test_a_rate_is_stored_exactly_as_sent(sent, stored):
    assert services.tax_rate_parse(sent) == stored
    assert str(services.tax_rate_parse(sent)) == str(stored)


@pytest.mark.parametrize("sent", [1.5, -0.1, "x", None, float("inf"), 0.0000001])
def test_a_rate_out_of_range_is_refused(sent):
    with pytest.raises(TaxRateInvalid) as refused:
        services.tax_rate_parse(sent)
    assert refused.value.pointer == "/data/attributes/tax_rate"


def test_a_pattern_that_does_not_compile_is_refused():
    with pytest.raises(RegexInvalid) as refused:
        services.tax_rule_patterns_check({"zip_code_regex": "(", "country_code_regex": "IT"})
    assert refused.value.code == "REGEX_INVALID"
    assert refused.value.pointer == "/data/attributes/zip_code_regex"
