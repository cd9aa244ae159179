"""The order list's rows at a million orders (issue 8 item 4): the same HTML as unfold renders,
with each piece that is the same on every row rendered once.

A changelist page is 100 rows. Unfold renders every badge through two templates
(`display_label.html`, `label.html`), every row's checkbox through the form renderer, and every
row's link through `reverse()` plus `add_preserved_filters`, which parses the page's filters and
resolves the URL again for each row. Here:

- a badge's HTML depends only on its text and colour: rendered by unfold once per pair, then
  reused (`label_html`);
- a row's checkbox and its link differ from the next row's only by the primary key: both are
  rendered once per process (checkbox) or once per page (link, with the page's preserved
  filters) around a placeholder, and the placeholder is replaced by each row's key
  (`checkbox_html`, `RowLinksChangeList`). A key that `reverse()` would percent-encode takes the
  usual path.

`tests/orders/test_admin_list_rows.py` holds these to unfold's own rendering.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.db.models import Model
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from unfold.admin import checkbox
from unfold.utils import display_for_label
from unfold.views import ChangeList

# letters and digits only: unchanged by escaping, URL quoting and `admin.utils.quote`
PLACEHOLDER = "0omsRowKey0"
# what `reverse()` leaves as it is in a path segment (and `admin.utils.quote` never produces
# anything `reverse()` would change but these)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9._~-]+")

_labels: dict[tuple[str, str | None], SafeString] = {}


def label_html(value: str, colours: Mapping[str, str]) -> SafeString:
    """Unfold's badge for `value` (what `@display(label=colours)` renders), rendered once per
    text and colour."""
    key = (str(value), colours.get(value))
    html = _labels.get(key)
    if html is None:
        html = _labels[key] = display_for_label(value, "-", dict(colours))
    return html


def _around_placeholder(html: str) -> tuple[str, str] | None:
    before, found, after = html.partition(PLACEHOLDER)
    if not found or PLACEHOLDER in after:
        return None
    return before, after


_checkbox_parts: tuple[str, str] | None = None


def checkbox_html(pk: Any) -> SafeString:
    """`unfold.admin.ModelAdmin.action_checkbox` for this key: the widget rendered once."""
    global _checkbox_parts
    if _checkbox_parts is None:
        parts = _around_placeholder(checkbox.render(ACTION_CHECKBOX_NAME, PLACEHOLDER))
        if parts is None:  # pragma: no cover - the widget changed shape
            return checkbox.render(ACTION_CHECKBOX_NAME, str(pk))
        _checkbox_parts = parts
    before, after = _checkbox_parts
    return mark_safe(before + escape(str(pk)) + after)  # noqa: S308 - the widget's HTML


class RowLinksChangeList(ChangeList):
    """Each row's link built from one URL per page: the change page's URL with the list's
    preserved filters, as `add_preserved_filters` makes it, around a placeholder key.

    The rows then need no preserved filters of their own: `preserved_filters` is empty (unfold's
    and Django's row rendering are the only readers of it) and `list_preserved_filters` keeps
    the page's value."""

    preserved_filters: str
    list_preserved_filters: str

    def __init__(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.list_preserved_filters = self.preserved_filters
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=(PLACEHOLDER,),
            current_app=self.model_admin.admin_site.name,
        )
        link = add_preserved_filters(
            {"preserved_filters": self.list_preserved_filters, "opts": self.opts}, url
        )
        self._row_link = _around_placeholder(link)
        if self._row_link is not None:
            self.preserved_filters = ""

    def url_for_result(self, result: Model) -> str:
        key = quote(getattr(result, self.pk_attname))
        if self._row_link is not None and isinstance(key, str) and _PLAIN_KEY.fullmatch(key):
            before, after = self._row_link
            return before + key + after
        url = super().url_for_result(result)
        if self._row_link is None:
            return url  # the rows add the preserved filters themselves
        return str(
            add_preserved_filters(
                {"preserved_filters": self.list_preserved_filters, "opts": self.opts}, url
            )
        )
