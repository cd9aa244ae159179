"""`page[number]` / `page[size]` pagination with Commerce Layer's meta and links.

`meta.record_count` is exact up to `oms.counting.EXACT_COUNT_LIMIT` records (10,000) and
PostgreSQL's planner estimate above: a list of a million orders is not counted row by row on
every page, and not at all when the first page holds the whole list (fewer records than a
page). Past an estimate, `page_count` and the `last` link are estimates too, and
a page beyond them is still read (it may hold records), never answered empty without looking.
"""

from __future__ import annotations

import math
from typing import Any

from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from oms.api.errors import BadRequest
from oms.counting import EXACT_COUNT_LIMIT, list_count

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 25
# the largest offset a page may start at: far past any list, well inside a 64-bit OFFSET
MAX_OFFSET = 2**53


def _positive_int(request: Request, parameter: str, default: int, maximum: int | None) -> int:
    raw = request.query_params.get(parameter)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(
            f"{parameter} must be a positive integer, not {raw!r}.",
            code="INVALID_PAGE_VALUE",
            parameter=parameter,
        ) from None
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" between 1 and {maximum}" if maximum else " of at least 1"
        raise BadRequest(
            f"{parameter} must be a number{limit}.", code="INVALID_PAGE_VALUE", parameter=parameter
        )
    return value


class Pagination(BasePagination):
    number_param = "page[number]"
    size_param = "page[size]"
    exact_up_to = EXACT_COUNT_LIMIT

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.request = request
        self.page_size = _positive_int(request, self.size_param, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        self.page_number = _positive_int(request, self.number_param, 1, None)
        start = (self.page_number - 1) * self.page_size
        page: list[Any] | None = None
        if start == 0:
            page = list(queryset[: self.page_size])
        if page is not None and len(page) < self.page_size:
            # the first page is the whole list: its records are counted (no COUNT)
            self.record_count = len(page)
        else:
            counted = list_count(queryset, exact_up_to=self.exact_up_to)
            self.record_count = counted.value
            if counted.exact and start >= self.record_count:
                page = []  # past the end: not read
            elif start > MAX_OFFSET:
                raise BadRequest(
                    f"{self.number_param} is past the end of any list.",
                    code="INVALID_PAGE_VALUE",
                    parameter=self.number_param,
                )
        self.page_count = math.ceil(self.record_count / self.page_size)
        if page is None:
            page = list(queryset[start : start + self.page_size])
        return page

    def _link(self, number: int) -> str:
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, self.size_param, self.page_size)
        return replace_query_param(url, self.number_param, number)

    def get_paginated_response(self, data: Any) -> Response:
        links = {"first": self._link(1)}
        if self.page_number > 1 and self.page_count:
            links["prev"] = self._link(min(self.page_number - 1, self.page_count))
        if self.page_number < self.page_count:
            links["next"] = self._link(self.page_number + 1)
        links["last"] = self._link(max(self.page_count, 1))
        return Response(
            {
                "results": data,
                "meta": {"record_count": self.record_count, "page_count": self.page_count},
                "links": links,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return schema
