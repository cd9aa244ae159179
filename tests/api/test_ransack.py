"""Ransack-style filters: every predicate, `_or_`, lists, key parsing, and the errors that make
a bad filter a 400 instead of a 500 or an ignored filter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from itertools import count

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import QueryDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from markets.models import Price, Sku
from oms.api.ransack import (
    FILTER_NOT_ALLOWED,
    INVALID_FILTER_VALUE,
    MAX_FILTERS,
    MAX_LIST_VALUES,
    RansackError,
    ransack_filter,
    ransack_params,
)
from tests.factories import (
    PriceFactory,
    PriceListFactory,
    ShippingCategoryFactory,
    SkuFactory,
)

pytestmark = pytest.mark.django_db

SKU_FIELDS = {
    "code": "code",
    "name": "name",
    "description": "description",
    "do_not_ship": "do_not_ship",
    "weight": "weight",
    "pieces_per_pack": "pieces_per_pack",
    "created_at": "created_at",
    "metadata": "metadata",
    "shipping_category_id": "shipping_category",
    "shipping_category_code": "shipping_category__code",
    "price_amount_cents": "prices__amount_cents",
}
TEE, EBOOK, MUG = "TSHIRT-RED", "EBOOK-1", "MUG-1"
ALL = {TEE, EBOOK, MUG}


@pytest.fixture
def catalog() -> dict[str, Sku]:
    apparel = ShippingCategoryFactory.create(code="apparel")
    return {
        TEE: SkuFactory.create(
            code=TEE, name="Red T-shirt", weight=Decimal(250), shipping_category=apparel
        ),
        EBOOK: SkuFactory.create(
            code=EBOOK,
            name="Django 100%_off",
            description="A book",
            do_not_ship=True,
            weight=None,
            unit_of_weight="",
        ),
        MUG: SkuFactory.create(
            code=MUG,
            name="Crème Brûlée Mug",
            description="Hot, hot",
            weight=Decimal("400.5"),
            pieces_per_pack=2,
        ),
    }


def codes(query: Mapping[str, str], fields: Mapping[str, str] = SKU_FIELDS) -> set[str]:
    return set(ransack_filter(Sku.objects.all(), query, fields).values_list("code", flat=True))


def refusal(query: Mapping[str, str], fields: Mapping[str, str] = SKU_FIELDS) -> RansackError:
    with pytest.raises(RansackError) as exc:
        ransack_filter(Sku.objects.all(), query, fields)
    return exc.value


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # eq / not_eq: case-sensitive equality; not_eq is SQL <>, so NULL never matches
        ({"code_eq": TEE}, {TEE}),
        ({"code_eq": "tshirt-red"}, set()),
        ({"code_not_eq": TEE}, {EBOOK, MUG}),
        ({"weight_not_eq": "250"}, {MUG}),
        ({"pieces_per_pack_eq": "2"}, {MUG}),
        # integers beyond the column's range, but within 64 bits, are fine everywhere
        ({"pieces_per_pack_eq": "-1"}, set()),
        ({"pieces_per_pack_gt": "-1"}, {MUG}),
        ({"pieces_per_pack_not_eq": "3000000000"}, {MUG}),
        ({"pieces_per_pack_in": "3000000000,2"}, {MUG}),
        ({"pieces_per_pack_not_in": "3000000000,-1"}, {MUG}),
        ({"pieces_per_pack_lt": "9223372036854775807"}, {MUG}),
        # lt / lteq / gt / gteq, values cast by the field
        ({"weight_lt": "400.5"}, {TEE}),
        ({"weight_lteq": "400.500"}, {TEE, MUG}),
        ({"weight_gt": "250"}, {MUG}),
        ({"weight_gteq": "250"}, {TEE, MUG}),
        ({"code_lt": "F"}, {EBOOK}),
        ({"created_at_gteq": "2000-01-01"}, ALL),
        ({"created_at_lt": "2000-01-01T00:00:00Z"}, set()),
        ({"created_at_gt": "2000-01-01T00:00:00.000+01:00"}, ALL),
        # in / not_in: comma lists, items stripped, empty items dropped; not_in skips NULL
        ({"code_in": f"{TEE},{MUG}"}, {TEE, MUG}),
        ({"code_in": f" {MUG} , ,{EBOOK} "}, {MUG, EBOOK}),
        ({"code_in": TEE}, {TEE}),
        ({"code_not_in": TEE}, {EBOOK, MUG}),
        ({"weight_in": "250,400.500"}, {TEE, MUG}),
        ({"weight_not_in": "250"}, {MUG}),
        # cont / start / end: case-insensitive (beyond ASCII too), the value taken literally
        ({"name_cont": "t-SH"}, {TEE}),
        ({"name_cont": "  red "}, {TEE}),
        ({"name_cont": "BRÛLÉE"}, {MUG}),
        ({"name_cont": "100%"}, {EBOOK}),
        ({"name_cont": "%"}, {EBOOK}),
        ({"name_cont": "_"}, {EBOOK}),
        ({"name_cont": "0%_o"}, {EBOOK}),
        ({"name_cont": "1_0"}, set()),
        ({"name_cont": "."}, set()),
        ({"description_cont": "hot, HOT"}, {MUG}),
        ({"name_start": "red"}, {TEE}),
        ({"name_start": "t-shirt"}, set()),
        ({"name_end": "mUG"}, {MUG}),
        ({"name_end": "red"}, set()),
        # matches: a LIKE pattern, anchored, case-insensitive; backslash escapes
        ({"name_matches": "red%"}, {TEE}),
        ({"name_matches": "%MUG"}, {MUG}),
        ({"name_matches": "red"}, set()),
        ({"name_matches": "%1_0%"}, {EBOOK}),
        ({"name_matches": r"django 100\%\_off"}, {EBOOK}),
        ({"name_matches": r"%1\_0%"}, set()),
        ({"name_matches": "%"}, ALL),
        ({"name_matches": "cr_me%"}, {MUG}),
        # present / blank on text, flipped by a false value
        ({"description_present": "1"}, {EBOOK, MUG}),
        ({"description_present": "false"}, {TEE}),
        ({"description_blank": "true"}, {TEE}),
        ({"description_blank": "0"}, {EBOOK, MUG}),
        # null / not_null, flipped by a false value
        ({"weight_null": "1"}, {EBOOK}),
        ({"weight_null": "0"}, {TEE, MUG}),
        ({"weight_not_null": "t"}, {TEE, MUG}),
        ({"weight_not_null": "F"}, {EBOOK}),
        # true / false on booleans; a false value is <> (Ransack's not_eq)
        ({"do_not_ship_true": "1"}, {EBOOK}),
        ({"do_not_ship_true": "0"}, {TEE, MUG}),
        ({"do_not_ship_false": "true"}, {TEE, MUG}),
        ({"do_not_ship_false": "FALSE"}, {EBOOK}),
        ({"do_not_ship_eq": "TRUE"}, {EBOOK}),
        ({"do_not_ship_eq": "0"}, {TEE, MUG}),
        ({"do_not_ship_not_eq": "f"}, {EBOOK}),
        # _or_ between attributes
        ({"name_or_code_start": "mug"}, {MUG}),
        ({"code_or_name_cont": "red"}, {TEE}),
        ({"name_or_code_cont": "1"}, {EBOOK, MUG}),
        ({"weight_or_pieces_per_pack_null": "1"}, {EBOOK, TEE}),
        # across relations
        ({"shipping_category_code_eq": "apparel"}, {TEE}),
        ({"shipping_category_code_not_eq": "apparel"}, {EBOOK, MUG}),
        # keys are ANDed
        ({"weight_gt": "0", "name_cont": "mug"}, {MUG}),
        ({"weight_gt": "0", "do_not_ship_true": "1"}, set()),
        # a blank value is no filter (Ransack); so is a list of nothing
        ({"code_eq": ""}, ALL),
        ({"weight_null": " "}, ALL),
        ({"code_in": ",, ,"}, ALL),
        ({}, ALL),
    ],
)
def test_predicate(catalog: dict[str, Sku], query: dict[str, str], expected: set[str]) -> None:
    assert codes(query) == expected


def test_foreign_key_attribute_filters_on_the_key_it_holds(catalog: dict[str, Sku]) -> None:
    category_id = catalog[TEE].shipping_category_id
    assert codes({"shipping_category_id_eq": category_id}) == {TEE}
    assert codes({"shipping_category_id_in": f"{category_id},nope"}) == {TEE}
    assert codes({"shipping_category_id_start": category_id[:6]}) == {TEE}


def test_filter_across_a_to_many_relation_returns_each_row_once(catalog: dict[str, Sku]) -> None:
    PriceFactory.create(sku=catalog[TEE], amount_cents=1000)
    PriceFactory.create(sku=catalog[TEE], amount_cents=2000)
    PriceFactory.create(sku=catalog[MUG], amount_cents=500)
    found = ransack_filter(Sku.objects.all(), {"price_amount_cents_gteq": "1000"}, SKU_FIELDS)
    assert list(found.values_list("code", flat=True)) == [TEE]
    assert codes({"price_amount_cents_not_eq": "1000"}) == {TEE, MUG}


def test_price_filters_cast_by_their_own_fields() -> None:
    sku = SkuFactory.create(code="TEE-XL")
    euro = PriceFactory.create(sku=sku, amount_cents=1999)
    PriceFactory.create(
        amount_cents=2500,
        price_list=PriceListFactory.create(currency_code="USD", tax_included=False),
    )
    fields = {
        "amount_cents": "amount_cents",
        "currency_code": "price_list__currency_code",
        "tax_included": "price_list__tax_included",
        "sku_code": "sku__code",
    }

    def ids(query: dict[str, str]) -> set[str]:
        return set(ransack_filter(Price.objects.all(), query, fields).values_list("id", flat=True))

    assert ids({"amount_cents_lt": "2000", "currency_code_eq": "eur"}) == {euro.id}
    assert ids({"tax_included_true": "1"}) == {euro.id}
    assert ids({"sku_code_cont": "-xl"}) == {euro.id}
    assert ids({"amount_cents_in": "1999,2500"}) == set(Price.objects.values_list("id", flat=True))


@pytest.mark.parametrize(
    ("fields", "query", "expected"),
    [
        # an attribute ending in `_in` is not the `in` predicate
        ({"logged_in": "code", "logged": "name"}, {"logged_in_eq": TEE}, {TEE}),
        ({"logged_in": "code", "logged": "name"}, {"logged_in": "Red T-shirt"}, {TEE}),
        # the longest predicate wins when its remainder is declared ...
        ({"is": "code", "is_not": "name"}, {"is_not_eq": MUG}, {TEE, EBOOK}),
        ({"is": "code", "is_not": "name"}, {"is_not_null": "1"}, ALL),
        # ... and a shorter one is tried when it is not
        ({"is_not": "code"}, {"is_not_eq": MUG}, {MUG}),
        ({"is_not": "code"}, {"is_not_not_eq": MUG}, {TEE, EBOOK}),
        ({"is_not": "weight"}, {"is_not_null": "1"}, {EBOOK}),
        ({"code_not": "code"}, {"code_not_in": MUG}, {MUG}),
        # `_or_` inside a declared name, and a whole declared name over a split
        (
            {"door_or_window": "name", "code": "code"},
            {"door_or_window_or_code_start": "mug"},
            {MUG},
        ),
        (
            {"name_or_code": "description", "name": "name", "code": "code"},
            {"name_or_code_cont": "book"},
            {EBOOK},
        ),
        # attributes named like predicates
        ({"end": "name"}, {"end_end": "mug"}, {MUG}),
        ({"in": "code"}, {"in_in": MUG}, {MUG}),
        ({"null": "weight"}, {"null_not_null": "0"}, {EBOOK}),
    ],
)
def test_key_parsing_with_underscored_attribute_names(
    catalog: dict[str, Sku], fields: dict[str, str], query: dict[str, str], expected: set[str]
) -> None:
    assert codes(query, fields) == expected


@pytest.mark.parametrize(
    ("query", "code", "says"),
    [
        # the key: unknown attribute or predicate, or a predicate the field cannot take
        ({"colour_eq": "red"}, FILTER_NOT_ALLOWED, "Not filterable: colour"),
        ({"colour_eq": ""}, FILTER_NOT_ALLOWED, "Not filterable: colour"),
        ({"name_or_colour_cont": "x"}, FILTER_NOT_ALLOWED, "Not filterable: colour"),
        ({"code_like": "x"}, FILTER_NOT_ALLOWED, "supported predicate"),
        ({"code_matches_any": "x"}, FILTER_NOT_ALLOWED, "supported predicate"),
        ({"code": "x"}, FILTER_NOT_ALLOWED, "supported predicate"),
        ({"eq": "x"}, FILTER_NOT_ALLOWED, "supported predicate"),
        ({"_eq": "x"}, FILTER_NOT_ALLOWED, "supported predicate"),
        ({"weight_cont": "1"}, FILTER_NOT_ALLOWED, "'cont' does not apply to weight (number)"),
        ({"created_at_start": "2026"}, FILTER_NOT_ALLOWED, "does not apply"),
        ({"code_true": "1"}, FILTER_NOT_ALLOWED, "'true' does not apply to code (text)"),
        ({"weight_present": "1"}, FILTER_NOT_ALLOWED, "does not apply"),
        ({"do_not_ship_gt": "0"}, FILTER_NOT_ALLOWED, "does not apply"),
        ({"metadata_eq": "{}"}, FILTER_NOT_ALLOWED, "does not apply"),
        ({"name_or_weight_cont": "1"}, FILTER_NOT_ALLOWED, "does not apply to weight"),
        ({"code_or_code_or_code_or_code_or_code_or_code_eq": "x"}, FILTER_NOT_ALLOWED, "at most"),
        # the value: not parseable for the field, or out of its range
        ({"pieces_per_pack_eq": "two"}, INVALID_FILTER_VALUE, "must be an integer"),
        ({"pieces_per_pack_eq": "1.5"}, INVALID_FILTER_VALUE, "must be an integer"),
        ({"pieces_per_pack_in": "1,two"}, INVALID_FILTER_VALUE, "'two'"),
        ({"pieces_per_pack_not_eq": "9" * 20}, INVALID_FILTER_VALUE, "out of range"),
        ({"weight_lt": "1e50"}, INVALID_FILTER_VALUE, "digits"),
        ({"weight_eq": "0.0001"}, INVALID_FILTER_VALUE, "decimal places"),
        ({"weight_eq": "NaN"}, INVALID_FILTER_VALUE, "decimal number"),
        ({"created_at_gteq": "2026-13-01"}, INVALID_FILTER_VALUE, "created_at"),
        ({"created_at_gteq": "yesterday"}, INVALID_FILTER_VALUE, "created_at"),
        ({"created_at_lt": "9999-12-31T23:59:59-14:00"}, INVALID_FILTER_VALUE, "created_at"),
        ({"created_at_gt": "0001-01-01T00:00:00+01:00"}, INVALID_FILTER_VALUE, "created_at"),
        ({"do_not_ship_eq": "yes"}, INVALID_FILTER_VALUE, "true or false"),
        ({"do_not_ship_true": "maybe"}, INVALID_FILTER_VALUE, "true or false"),
        ({"weight_null": "maybe"}, INVALID_FILTER_VALUE, "true or false"),
        ({"name_matches": "abc\\"}, INVALID_FILTER_VALUE, "LIKE pattern"),
        ({"code_eq": "a\x00b"}, INVALID_FILTER_VALUE, "NUL"),
        ({"code_eq": "\ud800"}, INVALID_FILTER_VALUE, "Unicode"),
        ({"code_cont": "x" * 5000}, INVALID_FILTER_VALUE, "at most"),
        (
            {"code_in": ",".join(str(n) for n in range(MAX_LIST_VALUES + 1))},
            INVALID_FILTER_VALUE,
            f"at most {MAX_LIST_VALUES}",
        ),
    ],
)
def test_bad_filter_is_refused_with_a_stable_code(
    catalog: dict[str, Sku], query: dict[str, str], code: str, says: str
) -> None:
    error = refusal(query)
    assert (error.code, error.parameter, error.status) == (
        code,
        f"filter[q][{next(iter(query))}]",
        400,
    )
    assert says in error.detail


def test_too_many_filters_are_refused() -> None:
    query = {f"code_{predicate}": "x" for predicate in ("eq", "not_eq", "cont", "start", "end")}
    query |= {f"name_{n}_eq": "x" for n in range(MAX_FILTERS)}
    error = refusal(query)
    assert (error.code, error.parameter) == (FILTER_NOT_ALLOWED, "filter[q]")


def test_a_list_at_the_cap_is_accepted(catalog: dict[str, Sku]) -> None:
    values = [TEE, *(f"X{n}" for n in range(MAX_LIST_VALUES - 1))]
    assert codes({"code_in": ",".join(values)}) == {TEE}


def test_naive_datetime_is_read_in_the_current_time_zone(catalog: dict[str, Sku]) -> None:
    created = catalog[TEE].created_at
    naive = created.replace(tzinfo=None).isoformat()
    assert TEE in codes({"created_at_gteq": naive})
    assert TEE in codes({"created_at_lteq": created.isoformat()})


@pytest.mark.parametrize(
    "fields",
    [{"code": "nope"}, {"code": "prices"}, {"code": "code__upper"}, {"code": "prices__nope"}],
)
def test_a_bad_field_declaration_is_a_server_mistake(fields: dict[str, str]) -> None:
    with pytest.raises(ImproperlyConfigured):
        ransack_filter(Sku.objects.all(), {"code_eq": "x"}, fields)


# Ransack parameters from the query string


def test_params_are_the_keys_inside_filter_q() -> None:
    query = QueryDict("filter[q][code_start]=X&filter[q][number_in]=1,2&page[size]=5&include=sku")
    assert ransack_params(query) == {"code_start": "X", "number_in": "1,2"}
    assert ransack_params({"sort": "-created_at"}) == {}


@pytest.mark.parametrize(
    "name", ["filter[code_start]", "filter", "filter[q]", "filter[q][a][]", "filter[q][]"]
)
def test_other_filter_params_are_refused_not_ignored(name: str) -> None:
    with pytest.raises(RansackError) as exc:
        ransack_params({name: "X"})
    assert (exc.value.code, exc.value.parameter) == (FILTER_NOT_ALLOWED, name)


def test_a_filter_given_twice_is_refused() -> None:
    with pytest.raises(RansackError) as exc:
        ransack_params(QueryDict("filter[q][code_eq]=A&filter[q][code_eq]=B"))
    assert (exc.value.code, exc.value.parameter) == (INVALID_FILTER_VALUE, "filter[q][code_eq]")


# Properties: the database agrees with Python, on SQLite and PostgreSQL alike

# ASCII, LIKE and regex metacharacters, and letters whose case folds the same everywhere
# (not sharp s, long s, dotless i or final sigma: Python and PostgreSQL fold those apart).
TEXT = st.text(
    alphabet=st.sampled_from("aAbBzZ09 -.%_\\*+?()[]{}^$|#~&'\"\néÉüÜøØñÑçÇ"),
    min_size=1,
    max_size=8,
)
NEEDLE = TEXT.filter(str.strip)  # a blank value is no filter at all
_codes = count()


def _like_literal(text: str) -> str:
    return re.sub(r"([\\%_])", r"\\\1", text)


def _matching_names(names: list[str], query: dict[str, str]) -> list[str]:
    with transaction.atomic():
        category = ShippingCategoryFactory.create()
        for name in names:
            SkuFactory.create(code=f"P-{next(_codes)}", name=name, shipping_category=category)
        found = sorted(
            ransack_filter(Sku.objects.all(), query, SKU_FIELDS).values_list("name", flat=True)
        )
        transaction.set_rollback(True)
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(TEXT, min_size=1, max_size=4),
    needle=NEEDLE,
    predicate=st.sampled_from(["cont", "start", "end"]),
)
def test_text_predicates_agree_with_python(names: list[str], needle: str, predicate: str) -> None:
    term = needle.strip().lower()
    expected = {
        "cont": lambda name: term in name.lower(),
        "start": lambda name: name.lower().startswith(term),
        "end": lambda name: name.lower().endswith(term),
    }[predicate]
    found = _matching_names(names, {f"name_{predicate}": needle})
    assert found == sorted(name for name in names if expected(name))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(TEXT, min_size=1, max_size=4), needle=NEEDLE)
def test_matches_with_escaped_literal_is_cont(names: list[str], needle: str) -> None:
    term = needle.strip()
    found = _matching_names(names, {"name_matches": f"%{_like_literal(term)}%"})
    assert found == sorted(name for name in names if term.lower() in name.lower())
