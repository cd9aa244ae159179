"""`{% order_list_rows as rows %}`: the order changelist's table rows in one string, exactly as
unfold's `admin/change_list_results.html` loop renders them for a list with no row actions,
no row sections, no drag ordering and no editable fields (`orders.admin.listing`): that loop
is about a dozen template nodes per row, a third of a 100-row page's rendering. For any other
list it answers "" and the template's own loop renders the rows."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# the two classes `{% cycle '' 'bg-base-50 dark:bg-white/[.02]' %}` alternates
STRIPES = ("", "bg-base-50 dark:bg-white/[.02]")
ROW_START = (
    '\n                <tbody class="relative {}" x-data="{{rowOpen: false}}" >\n'
    "                    \n\n"
    '                    <tr class="data-row relative">\n'
    "                        \n\n                        \n\n                        "
)
CELL = "\n                            {}\n                        "
ROW_END = "\n\n                        {}\n                    </tr>\n\n                    \n                </tbody>\n            "

# switched off by the test that holds these rows to the template's loop
enabled = True


def applies(context: Any) -> bool:
    cl = context.get("cl")
    if not enabled or cl is None or context.get("actions_row"):
        return False
    model_admin = cl.model_admin
    return bool(
        not getattr(cl, "formset", None)
        and not getattr(model_admin, "ordering_field", None)
        and not getattr(model_admin, "list_sections", None)
        and all(not getattr(result, "form", None) for result in context.get("results") or ())
    )


@register.simple_tag(takes_context=True)
def order_list_rows(context: Any) -> SafeString | str:
    if not applies(context):
        return ""
    actions = get_template("unfold/helpers/actions_row.html").render({"actions": []})
    end = ROW_END.format(actions)
    parts: list[str] = []
    for index, result in enumerate(context["results"]):
        parts.append(ROW_START.format(STRIPES[index % 2]))
        parts.extend(CELL.format(item) for item in result)
        parts.append(end)
    return mark_safe("".join(parts))  # noqa: S308 - the cells are unfold's escaped HTML
