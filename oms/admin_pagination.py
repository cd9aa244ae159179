"""An admin paginator for tables of a million rows: no `COUNT(*)` of the whole list per page.

Django's changelist counts the filtered list on every page (and, unless the admin sets
`show_full_result_count = False`, the unfiltered table as well). This paginator counts through
`oms.counting.list_count`: exactly up to `EXACT_COUNT_LIMIT` rows, PostgreSQL's planner estimate
above, so a page of a million orders reads one page of rows and the planner's statistics. An
estimate can be short of the truth: the pages past it are still served (empty when there is
nothing there), never refused.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import QuerySet

from oms.counting import EXACT_COUNT_LIMIT, ListCount, list_count


class EstimatedCountPaginator(Paginator):
    exact_up_to = EXACT_COUNT_LIMIT

    @cached_property
    def list_count(self) -> ListCount:
        rows = self.object_list
        if not isinstance(rows, QuerySet):
            return ListCount(len(rows), exact=True)
        return list_count(rows, exact_up_to=self.exact_up_to)

    @cached_property
    def count(self) -> int:
        return self.list_count.value

    def validate_number(self, number: Any) -> int:
        if self.list_count.exact:
            return super().validate_number(number)
        try:
            return super().validate_number(number)
        except EmptyPage:
            # past an estimate: the rows may be there all the same
            value = int(number)
            if value < 1:
                raise
            return value

    def page(self, number: Any) -> Page[Any]:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if self.list_count.exact and top + self.orphans >= self.count:
            top = self.count
        return Page(self.object_list[bottom:top], number, self)
