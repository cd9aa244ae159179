"""The order list's rows built once per page (`orders.admin.listing`, the
`{% order_list_rows %}` tag) are the HTML unfold renders for them: badges, checkboxes, links
with the list's filters, and the rows' markup."""

import re
from pathlib import Path

import pytest
import unfold
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.urls import resolve, reverse
from unfold.admin import ModelAdmin as UnfoldModelAdmin
from unfold.admin import checkbox
from unfold.decorators import display
from unfold.utils import display_for_label
from unfold.views import ChangeList as UnfoldChangeList

import orders.templatetags.order_admin_list as order_admin_list
from orders.admin.listing import RowLinksChangeList, checkbox_html, label_html
from orders.admin.orders import FULFILLMENT_COLOURS, PAYMENT_COLOURS, STATUS_COLOURS
from orders.models import Order
from tests.orders.factories import order_in_status

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
UNFOLD_RESULTS = Path(unfold.__file__).parent / "templates/admin/change_list_results.html"
OURS = ROOT / "templates/admin/orders/order/change_list_results.html"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123456!")
    client.force_login(user)
    return client


@pytest.fixture
def as_unfold_renders(monkeypatch):
    """The order admin as unfold alone renders it: `label=` badges, its checkbox, its
    changelist, the template's own row loop."""

    model_admin = admin.site._registry[Order]

    def use_unfold() -> None:
        monkeypatch.setattr(order_admin_list, "enabled", False)
        monkeypatch.setattr(
            model_admin, "get_changelist", lambda request, **kw: UnfoldChangeList, raising=False
        )
        monkeypatch.setattr(
            model_admin,
            "action_checkbox",
            UnfoldModelAdmin.action_checkbox.__get__(model_admin),
            raising=False,
        )
        for name, field, colours in (
            ("status_badge", "status", STATUS_COLOURS),
            ("payment_badge", "payment_status", PAYMENT_COLOURS),
            ("fulfillment_badge", "fulfillment_status", FULFILLMENT_COLOURS),
        ):
            column = getattr(model_admin, name)

            def badge(order, field=field):
                return getattr(order, field)

            labelled = display(description=column.short_description, ordering=field, label=colours)
            monkeypatch.setattr(model_admin, name, labelled(badge), raising=False)

    return use_unfold


def page(client, query):
    response = client.get(reverse("admin:orders_order_changelist") + query)
    assert response.status_code == 200
    return CSRF.sub("", response.content.decode())


@pytest.mark.parametrize(
    "query", ["", "?status__exact=placed&o=-2", "?stage=all&q=example&o=3.-5&p=1"]
)
def test_the_order_list_is_the_html_unfold_renders(staff_client, as_unfold_renders, query):
    for status in ("placed", "approved", "cancelled", "draft"):
        order_in_status(status)
    ours = page(staff_client, query)
    assert "field-status_badge" in ours
    as_unfold_renders()
    theirs = page(staff_client, query)
    # the template's own loop (the fallback) indents the rows by a few more spaces
    assert re.sub(r"\s+", " ", ours) == re.sub(r"\s+", " ", theirs)


def test_the_rows_are_byte_for_byte_the_unfold_templates_loop(staff_client):
    for status in ("placed", "approved"):
        order_in_status(status)
    response = staff_client.get(reverse("admin:orders_order_changelist") + "?stage=all")
    context = {
        "cl": response.context["cl"],
        "results": response.context["results"],
        "actions_row": response.context["actions_row"],
    }
    assert len(context["results"]) == 2
    source = UNFOLD_RESULTS.read_text()
    loop = source[source.index("{% for result in results %}") : source.index("</table>")]
    loop = loop[: loop.rindex("{% endfor %}") + len("{% endfor %}")]
    theirs = Template("{% load admin_urls i18n unfold %}" + loop).render(Context(context))
    ours = Template("{% load order_admin_list %}{% order_list_rows %}").render(Context(context))
    assert ours == theirs


def test_our_results_template_is_unfolds_with_the_rows_tag_only():
    ours = OURS.read_text().splitlines()
    theirs = UNFOLD_RESULTS.read_text().splitlines()
    assert ours[0].endswith("{% load admin_urls i18n unfold order_admin_list %}")
    assert theirs[0] == "{% load admin_urls i18n unfold %}"
    body = ours[1:]
    start = next(i for i, line in enumerate(body) if "{% order_list_rows as fast_rows %}" in line)
    end = body.index("        </table>") - 1
    assert body[end] == "            {% endif %}"
    kept = body[:start] + body[start + 1 : end] + body[end + 1 :]
    assert kept == theirs[1:]


def test_badges_and_checkboxes_are_unfolds():
    for colours in (STATUS_COLOURS, PAYMENT_COLOURS, FULFILLMENT_COLOURS):
        for value in [*colours, "unknown", ""]:
            assert label_html(value, colours) == display_for_label(value, "-", colours)
            assert label_html(value, colours) == display_for_label(value, "-", colours)
    for pk in ("g72kJda9OeCy", 'a<b&"c', "42"):
        assert checkbox_html(pk) == checkbox.render(ACTION_CHECKBOX_NAME, pk)


def test_row_links_keep_the_filters_and_quote_odd_keys(rf):
    request = rf.get("/admin/orders/order/", {"status__exact": "placed", "o": "-2"})
    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    request.resolver_match = resolve("/admin/orders/order/")
    model_admin = admin.site._registry[Order]
    changelist = model_admin.get_changelist_instance(request)
    assert isinstance(changelist, RowLinksChangeList)
    filters = "?_changelist_filters=status__exact%3Dplaced%26o%3D-2"
    plain, odd = Order(id="g72kJda9OeCy"), Order(id="a/b c")
    assert changelist.url_for_result(plain) == f"/admin/orders/order/g72kJda9OeCy/change/{filters}"
    assert changelist.url_for_result(odd) == f"/admin/orders/order/a_2Fb%20c/change/{filters}"
