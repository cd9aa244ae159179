"""Query-string handling of list endpoints: allowed parameters, Ransack filters, sort."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from oms.api.errors import BadRequest
from oms.api.ransack import RansackError, ransack_filter, ransack_params

ALLOWED_PARAMETER = re.compile(
    r"^(include|sort|page\[(number|size)\]|fields\[[a-z_]+\]|filter\[q\]\[[A-Za-z0-9_]+\])$"
)


def check_query_parameters(request: Request) -> None:
    for name, values in request.query_params.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise BadRequest(
                "Query parameters may not contain NUL characters.",
                code="INVALID_FIELD_VALUE",
                parameter=name.replace("\x00", ""),
            )
    for name in request.query_params:
        if not ALLOWED_PARAMETER.match(name):
            raise BadRequest(
                f"{name} is not a query parameter this API understands.",
                code="PARAM_NOT_ALLOWED",
                parameter=name,
            )


class RansackFilterBackend(BaseFilterBackend):
    """`filter[q][attr_predicate]=value` on the attributes the view declares `filterable`."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        try:
            # reading the parameters refuses some too (a key given twice)
            query = ransack_params(request.query_params)
            if not query:
                return queryset
            return ransack_filter(queryset, query, getattr(view, "filterable", {}))
        except RansackError as exc:
            raise BadRequest(exc.detail, code=exc.code, parameter=exc.parameter) from exc


class SortBackend(BaseFilterBackend):
    """`sort=-created_at,number` on the attributes the view declares `sortable`; ties break on id."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        raw = request.query_params.get("sort")
        if not raw:
            return queryset
        sortable: dict[str, str] = getattr(view, "sortable", {})
        ordering = []
        for term in raw.split(","):
            term = term.strip()
            descending = term.startswith("-")
            name = term.lstrip("-")
            if name not in sortable:
                raise BadRequest(
                    f"{name or term!r} is not a sortable attribute of this resource.",
                    code="INVALID_SORT_CRITERIA",
                    parameter="sort",
                )
            ordering.append(("-" if descending else "") + sortable[name])
        return queryset.order_by(*ordering, "pk")
