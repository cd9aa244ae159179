"""What the read path caches between requests (field prototypes, link templates) gives the
same documents as building everything again, and nothing of one request leaks into another."""

from __future__ import annotations

import pytest
from django.urls import get_resolver
from rest_framework.reverse import reverse as drf_reverse
from rest_framework.test import APIRequestFactory

from oms.api.links import link_reverse
from orders.api.serializers import LineItemSerializer, OrderSerializer
from tests.api.test_order_query_counts import placed_order

pytestmark = pytest.mark.django_db


def view_names() -> list[str]:
    names = [
        name
        for name in get_resolver().reverse_dict
        if isinstance(name, str) and name.endswith(("-detail", "-related", "-relationships"))
    ]
    assert len(names) > 30, names
    return sorted(names)


@pytest.mark.parametrize("host", ["testserver", "shop.example.com:8443"])
def test_a_link_from_its_template_is_the_url_reverse_gives(host):
    request = APIRequestFactory().get("/api/orders", HTTP_HOST=host)
    for name in view_names():
        kwargs = {"pk": "AbC123_x-Y"}
        if not name.endswith("-detail"):
            kwargs["related_field"] = "line_items"
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("django.conf.settings.ALLOWED_HOSTS", ["*"])
            assert link_reverse(name, kwargs=kwargs, request=request) == drf_reverse(
                name, kwargs=kwargs, request=request
            ), name


def test_a_value_url_quoting_would_change_goes_through_reverse():
    kwargs = {"pk": "a b~é"}
    assert link_reverse("orders-detail", kwargs=kwargs) == drf_reverse(
        "orders-detail", kwargs=kwargs
    )


def request_for(host: str, include: str = "") -> object:
    from rest_framework.request import Request

    query = f"?include={include}" if include else ""
    return Request(APIRequestFactory().get(f"/api/orders/x{query}", HTTP_HOST=host))


def test_serializers_of_two_requests_do_not_share_fields_or_their_context(settings):
    settings.ALLOWED_HOSTS = ["*"]
    order = placed_order(2)
    first = OrderSerializer(order, context={"request": request_for("one.example.com")})
    second = OrderSerializer(order, context={"request": request_for("two.example.com")})
    assert first.fields["line_items"] is not second.fields["line_items"]
    assert first.fields["line_items"].parent is first
    assert second.fields["line_items"].parent is second
    assert first.data["url"].startswith("http://one.example.com/")
    assert second.data["url"].startswith("http://two.example.com/")
    # a to-many's child relation belongs to its own field, not to the prototype's
    child = second.fields["line_items"].child_relation
    assert child.parent is second.fields["line_items"]
    assert child.context["request"].get_host() == "two.example.com"


def test_fields_follow_what_include_names(settings):
    order = placed_order(1)
    linked = OrderSerializer(order, context={"request": request_for("testserver")})
    included = OrderSerializer(
        order, context={"request": request_for("testserver", include="line_items")}
    )
    # linkage data only when included, links otherwise
    assert type(linked.fields["line_items"]) is not type(included.fields["line_items"])
    line = order.line_items.get(item_type="skus")
    assert {"type": "line_items", "id": line.pk} in included.data["line_items"]
    assert "line_items" not in linked.data  # links only: the renderer adds them


def test_a_subclass_adds_its_own_fields_once():
    fields = LineItemSerializer(context={"request": request_for("testserver")}).fields
    assert fields["currency_code"].source == "order.currency_code"
    again = LineItemSerializer(context={"request": request_for("testserver")}).fields
    assert again["currency_code"] is not fields["currency_code"]
