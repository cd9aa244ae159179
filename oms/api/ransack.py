"""Ransack-style list filters, as Commerce Layer writes them: `filter[q][{attribute}_{predicate}]`.

`ransack_params` picks the filters out of the query string; `ransack_filter` turns them into a
`Q` over the attributes a resource declares filterable, or raises `RansackError` (a 400 with a
stable code and `source.parameter`). A filter is never silently ignored and bad input is never a
500. The rules, following Ransack where it has one:

- A key is `{attribute}_{predicate}`, or several attributes joined by `_or_`
  (`name_or_code_start=X` is `name ILIKE 'X%' OR code ILIKE 'X%'`). Keys are ANDed.
  Attribute names contain underscores, so the predicate is the longest known suffix whose
  remainder names declared attributes (`x_not_eq` is `x` + `not_eq` when `x` is declared, else
  `x_not` + `eq`); a whole declared name wins over an `_or_` split of it.
- eq, not_eq, lt, lteq, gt, gteq compare with the value cast by the model field (`to_python`):
  ints, decimals within the column's digits, ISO dates and datetimes (a naive one is in the
  current time zone), booleans as Ransack spells them (1/0, t/f, true/false). not_eq is SQL
  `<>` like Ransack's, so it never matches NULL.
- in, not_in take a comma list; items are stripped and empty items dropped; only these split on
  commas. not_in is SQL `NOT IN`, so it never matches NULL either.
- cont, start, end are case-insensitive and take the value literally (`%`, `_` and `\\` included);
  matches takes a LIKE pattern (`%` any run, `_` one character, `\\` escapes the next character),
  also case-insensitive as Ransack's ILIKE on PostgreSQL. All four become one bound `iregex`
  parameter built with `re.escape`, so SQLite (Python's `re`) and PostgreSQL (`~*`) agree,
  case folding beyond ASCII included, where SQLite's LIKE would not. They apply to text only.
- null, not_null, present (not NULL and not ''), blank (NULL or '') and true, false (boolean
  fields) take a boolean value; a false value flips them as in Ransack (`null=0` is NOT NULL,
  `true=0` is `<> true`). present and blank apply to text only.
- Values are stripped of surrounding whitespace and a blank one means "no filter", as Ransack
  does by default; the key is still checked, so an unknown attribute with no value is an error.
- A filter that crosses a to-many relation makes the queryset `distinct()`.
- Size is capped: MAX_FILTERS keys, MAX_LIST_VALUES list items, MAX_OR_ATTRIBUTES per key,
  MAX_VALUE_LENGTH characters per value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.core.validators import DecimalValidator
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    DurationField,
    Field,
    FloatField,
    ForeignKey,
    IntegerField,
    JSONField,
    Model,
    Q,
    QuerySet,
    TextField,
    TimeField,
)
from django.db.models.constants import LOOKUP_SEP
from django.db.models.lookups import BuiltinLookup, FieldGetDbPrepValueMixin, In
from django.utils import timezone

FILTER_NOT_ALLOWED = "FILTER_NOT_ALLOWED"
INVALID_FILTER_VALUE = "INVALID_FILTER_VALUE"

MAX_FILTERS = 20
MAX_LIST_VALUES = 100
MAX_OR_ATTRIBUTES = 5
MAX_VALUE_LENGTH = 4096

_TITLES = {FILTER_NOT_ALLOWED: "Filter not allowed", INVALID_FILTER_VALUE: "Invalid filter value"}

PREDICATES = (
    "eq",
    "not_eq",
    "lt",
    "lteq",
    "gt",
    "gteq",
    "in",
    "not_in",
    "cont",
    "start",
    "end",
    "matches",
    "null",
    "not_null",
    "present",
    "blank",
    "true",
    "false",
)
_PREDICATES_LONGEST_FIRST = sorted(PREDICATES, key=len, reverse=True)
_OR = "_or_"
_TRUE_VALUES = frozenset({"1", "t", "true"})
_FALSE_VALUES = frozenset({"0", "f", "false"})
_INT64 = (-(2**63), 2**63 - 1)
_PARAMETER = re.compile(r"filter\[q\]\[([^\[\]]+)\]")


class RansackError(Exception):
    """A filter the API refuses: a 400 whose `source.parameter` is `parameter`."""

    status = 400

    def __init__(self, detail: str, *, parameter: str, code: str = FILTER_NOT_ALLOWED) -> None:
        super().__init__(detail)
        self.detail = detail
        self.parameter = parameter
        self.code = code

    @property
    def title(self) -> str:
        return _TITLES.get(self.code, "Bad request")


class NotEqual(FieldGetDbPrepValueMixin, BuiltinLookup):
    """SQL `<>`, which never matches NULL, as Ransack's not_eq (`exclude()` would match it)."""

    lookup_name = "ransack_not_eq"

    def get_rhs_op(self, connection: BaseDatabaseWrapper, rhs: str) -> str:
        return f"<> {rhs}"


class NotIn(In):
    """SQL `NOT IN`, which never matches NULL, as Ransack's not_in. Callers pass a non-empty list:
    `In` turns an empty one into "no rows", which is the wrong answer for NOT IN."""

    lookup_name = "ransack_not_in"

    def get_rhs_op(self, connection: BaseDatabaseWrapper, rhs: str) -> str:
        return f"NOT IN {rhs}"


Field.register_lookup(NotEqual)
Field.register_lookup(NotIn)


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    TEMPORAL = "date/time"
    BOOLEAN = "boolean"
    JSON = "JSON"
    OTHER = "value"


_EVERY_KIND = frozenset({"eq", "not_eq", "in", "not_in", "null", "not_null"})
_ORDERING = frozenset({"lt", "lteq", "gt", "gteq"})
_ALLOWED: dict[Kind, frozenset[str]] = {
    Kind.TEXT: _EVERY_KIND | _ORDERING | {"cont", "start", "end", "matches", "present", "blank"},
    Kind.NUMBER: _EVERY_KIND | _ORDERING,
    Kind.TEMPORAL: _EVERY_KIND | _ORDERING,
    Kind.BOOLEAN: _EVERY_KIND | {"true", "false"},
    Kind.JSON: frozenset({"null", "not_null"}),
    Kind.OTHER: _EVERY_KIND,
}
_COMPARISONS = {
    "eq": "exact",
    "not_eq": NotEqual.lookup_name,
    "lt": "lt",
    "lteq": "lte",
    "gt": "gt",
    "gteq": "gte",
    "in": "in",
    "not_in": NotIn.lookup_name,
}


def _kind(field: Field[Any, Any]) -> Kind:
    if isinstance(field, CharField | TextField):
        return Kind.TEXT
    if isinstance(field, BooleanField):
        return Kind.BOOLEAN
    if isinstance(field, IntegerField | FloatField | DecimalField):
        return Kind.NUMBER
    if isinstance(field, DateField | TimeField | DurationField):
        return Kind.TEMPORAL
    if isinstance(field, JSONField):
        return Kind.JSON
    return Kind.OTHER


@dataclass(frozen=True)
class _Target:
    """A filterable attribute resolved against the model: where it lives and what it holds."""

    attribute: str
    path: str
    field: Field[Any, Any]
    many: bool  # the path crosses a to-many relation, so rows may repeat

    @property
    def kind(self) -> Kind:
        return _kind(self.field)


def _target(model: type[Model], attribute: str, path: str) -> _Target:
    """Resolve an ORM path; a bad one is the resource's mistake, not the client's."""
    opts = model._meta
    many = False
    parts = path.split(LOOKUP_SEP)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist as error:
            raise ImproperlyConfigured(f"Filterable {attribute!r}: {path!r} {error}") from error
        if not field.is_relation:
            if not last or not isinstance(field, Field):
                raise ImproperlyConfigured(f"Filterable {attribute!r}: {path!r} is not a column.")
            return _Target(attribute, path, field, many)
        if field.one_to_many or field.many_to_many:
            many = True
        if last and isinstance(field, ForeignKey):
            # Filter on the column the key points at (`market` -> `market__id`): Django reads
            # it from the foreign key without a join, and text lookups work on it.
            target = field.target_field
            return _Target(attribute, f"{path}{LOOKUP_SEP}{target.name}", target, many)
        related = field.related_model
        if last or related is None or isinstance(related, str):
            raise ImproperlyConfigured(f"Filterable {attribute!r}: {path!r} is not a column.")
        opts = related._meta
    raise ImproperlyConfigured(f"Filterable {attribute!r} has an empty path.")


def _split_attributes(text: str, fields: Mapping[str, str]) -> list[str] | None:
    """`a_or_b` -> ["a", "b"] when every piece is declared; a declared whole name wins."""
    if text in fields:
        return [text]
    start = text.find(_OR)
    while start != -1:
        head = text[:start]
        if head in fields:
            rest = _split_attributes(text[start + len(_OR) :], fields)
            if rest is not None:
                return [head, *rest]
        start = text.find(_OR, start + 1)
    return None


def _parse_key(key: str, fields: Mapping[str, str], parameter: str) -> tuple[list[str], str]:
    candidates = [
        (key[: -len(predicate) - 1], predicate)
        for predicate in _PREDICATES_LONGEST_FIRST
        if key.endswith(f"_{predicate}") and len(key) > len(predicate) + 1
    ]
    if not candidates:
        raise RansackError(
            f"{key!r} is not {{attribute}}_{{predicate}} with a supported predicate "
            f"({', '.join(PREDICATES)}).",
            parameter=parameter,
        )
    for remainder, predicate in candidates:
        attributes = _split_attributes(remainder, fields)
        if attributes is not None:
            if len(attributes) > MAX_OR_ATTRIBUTES:
                raise RansackError(
                    f"A filter may join at most {MAX_OR_ATTRIBUTES} attributes with _or_.",
                    parameter=parameter,
                )
            return attributes, predicate
    remainder = candidates[0][0]
    unknown = [piece for piece in remainder.split(_OR) if piece not in fields] or [remainder]
    raise RansackError(
        f"Not filterable: {', '.join(unknown)}. Filterable attributes: "
        f"{', '.join(sorted(fields)) or 'none'}.",
        parameter=parameter,
    )


def _invalid(target: _Target, raw: str, reason: str, parameter: str) -> RansackError:
    return RansackError(
        f"{raw!r} is not a valid value for {target.attribute}: {reason}",
        parameter=parameter,
        code=INVALID_FILTER_VALUE,
    )


def _parse_bool(raw: str) -> bool | None:
    text = raw.strip().lower()
    if text in _TRUE_VALUES:
        return True
    if text in _FALSE_VALUES:
        return False
    return None


def _cast(target: _Target, raw: str, parameter: str, connection: BaseDatabaseWrapper) -> object:
    """The value as the field stores it, or a RansackError naming what is wrong with it."""
    field = target.field
    value: Any
    try:
        if target.kind is Kind.BOOLEAN:
            value = _parse_bool(raw)
            if value is None:
                raise _invalid(target, raw, "expected true or false (1/0, t/f).", parameter)
            return value
        value = field.to_python(raw)
        if isinstance(field, DateTimeField):
            if timezone.is_naive(value):
                value = timezone.make_aware(value)
            # In UTC, as SQLite stores it: a datetime that overflows there is refused on every
            # database alike (PostgreSQL alone would take year 10000).
            value = value.astimezone(UTC)
        if isinstance(field, IntegerField) and not _INT64[0] <= value <= _INT64[1]:
            raise _invalid(target, raw, "out of range.", parameter)
        if isinstance(field, FloatField) and not math.isfinite(value):
            raise _invalid(target, raw, "not a finite number.", parameter)
        if isinstance(field, DecimalField) and isinstance(value, Decimal):
            DecimalValidator(field.max_digits, field.decimal_places)(value.normalize())
        # What the query will do with it: catches e.g. datetimes that overflow in UTC.
        field.get_db_prep_value(value, connection, prepared=False)
    except ValidationError as error:
        raise _invalid(target, raw, " ".join(error.messages), parameter) from error
    except (ArithmeticError, OverflowError, TypeError, ValueError) as error:
        raise _invalid(target, raw, str(error), parameter) from error
    return value


def _like_regex(pattern: str) -> str | None:
    r"""A LIKE pattern as an anchored regex: `%` -> `.*`, `_` -> `.`, `\x` -> literal x.
    None when the pattern ends in a lone escape character (PostgreSQL refuses those too)."""
    parts = [r"(?s)\A"]
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                return None
            parts.append(re.escape(escaped))
        elif char == "%":
            if parts[-1] != ".*":  # `%%` is `%`; fewer stars, less backtracking in Python's re
                parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    parts.append(r"\Z")
    return "".join(parts)


def _flag_condition(target: _Target, predicate: str, flag: bool) -> Q:
    path = target.path
    present = Q(**{f"{path}__{NotEqual.lookup_name}": ""})
    blank = Q(**{f"{path}__isnull": True}) | Q(**{path: ""})
    match predicate:
        case "null" | "not_null":
            return Q(**{f"{path}__isnull": flag == (predicate == "null")})
        case "present":
            return present if flag else blank
        case "blank":
            return blank if flag else present
        case _:  # true, false
            value = predicate == "true"
            return Q(**{path: value}) if flag else Q(**{f"{path}__{NotEqual.lookup_name}": value})


def _condition(
    target: _Target, predicate: str, raw: str, parameter: str, connection: BaseDatabaseWrapper
) -> Q:
    path = target.path
    match predicate:
        case "null" | "not_null" | "present" | "blank" | "true" | "false":
            flag = _parse_bool(raw)
            if flag is None:
                raise _invalid(target, raw, "expected true or false (1/0, t/f).", parameter)
            return _flag_condition(target, predicate, flag)
        case "cont":
            return Q(**{f"{path}__iregex": re.escape(raw)})
        case "start":
            return Q(**{f"{path}__iregex": rf"\A{re.escape(raw)}"})
        case "end":
            return Q(**{f"{path}__iregex": rf"{re.escape(raw)}\Z"})
        case "matches":
            regex = _like_regex(raw)
            if regex is None:
                raise _invalid(target, raw, "a LIKE pattern cannot end in '\\'.", parameter)
            return Q(**{f"{path}__iregex": regex})
        case "in" | "not_in":
            items = [item for item in (piece.strip() for piece in raw.split(",")) if item]
            if len(items) > MAX_LIST_VALUES:
                raise RansackError(
                    f"A list filter takes at most {MAX_LIST_VALUES} values.",
                    parameter=parameter,
                    code=INVALID_FILTER_VALUE,
                )
            if not items:
                return Q()
            values = [_cast(target, item, parameter, connection) for item in items]
            return Q(**{f"{path}__{_COMPARISONS[predicate]}": values})
        case _:
            value = _cast(target, raw, parameter, connection)
            condition = Q(**{f"{path}__{_COMPARISONS[predicate]}": value})
            if isinstance(target.field, IntegerField) and predicate in _ORDERING:
                # Django drops `gt=-1` on a positive column as always true, NULL rows included;
                # in SQL (and Ransack) a comparison never matches NULL.
                condition &= Q(**{f"{path}__isnull": False})
            return condition


def _check_value(raw: object, parameter: str) -> str:
    def invalid(reason: str) -> RansackError:
        return RansackError(reason, parameter=parameter, code=INVALID_FILTER_VALUE)

    if not isinstance(raw, str):
        raise invalid("A filter value is a single string.")
    if len(raw) > MAX_VALUE_LENGTH:
        raise invalid(f"A filter value is at most {MAX_VALUE_LENGTH} characters.")
    # PostgreSQL refuses NUL in text and psycopg cannot encode lone surrogates: both would be 500s.
    if "\x00" in raw:
        raise invalid("A filter value cannot contain NUL characters.")
    try:
        raw.encode()
    except UnicodeEncodeError as error:
        raise invalid("A filter value must be valid Unicode text.") from error
    return raw


def ransack_filter[M: Model](
    queryset: QuerySet[M], query: Mapping[str, str], fields: Mapping[str, str]
) -> QuerySet[M]:
    """Filter `queryset` by `query` ({"code_start": "TSHIRT"}: the keys inside filter[q][...]),
    allowing only the attributes of `fields` (API attribute -> ORM path, e.g.
    {"sku_code": "sku__code"}). Keys are ANDed. Raises RansackError."""
    if len(query) > MAX_FILTERS:
        raise RansackError(f"At most {MAX_FILTERS} filters per request.", parameter="filter[q]")
    connection = connections[queryset.db]
    condition = Q()
    distinct = False
    for key, raw in query.items():
        parameter = f"filter[q][{key}]"
        attributes, predicate = _parse_key(key, fields, parameter)
        targets = [_target(queryset.model, name, fields[name]) for name in attributes]
        for target in targets:
            if predicate not in _ALLOWED[target.kind]:
                raise RansackError(
                    f"{predicate!r} does not apply to {target.attribute} ({target.kind}).",
                    parameter=parameter,
                )
        value = _check_value(raw, parameter).strip()  # as Ransack's default strip_whitespace
        if not value:
            continue  # Ransack ignores blank values
        either = Q()
        for target in targets:
            either |= _condition(target, predicate, value, parameter, connection)
        condition &= either
        distinct = distinct or any(target.many for target in targets)
    queryset = queryset.filter(condition)
    return queryset.distinct() if distinct else queryset


def ransack_params(query_params: Mapping[str, str]) -> dict[str, str]:
    """{"filter[q][code_start]": "X", "page[size]": "5"} -> {"code_start": "X"}.

    Every `filter...` parameter must be `filter[q][key]`: @commercelayer/sdk sends
    `filters: {code_start: "X"}` as `filter[q][code_start]=X` (array values joined with
    commas) and nothing shorter, so `filter[code_start]` or `filter[q][a][]` is refused rather
    than ignored. A key given twice is refused too (a QueryDict would keep only the last)."""
    getlist = getattr(query_params, "getlist", None)
    params: dict[str, str] = {}
    for name in query_params:
        if name != "filter" and not name.startswith("filter["):
            continue
        match = _PARAMETER.fullmatch(name)
        if match is None:
            raise RansackError(
                "Filters are written filter[q][{attribute}_{predicate}]=value.", parameter=name
            )
        if getlist is not None and len(getlist(name)) > 1:
            raise RansackError(
                "A filter may be given only once.", parameter=name, code=INVALID_FILTER_VALUE
            )
        params[match.group(1)] = query_params[name]
    return params
