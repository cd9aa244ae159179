"""The fulfillment admin pages load, save through the services and refuse bad input."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from fulfillment.models import Shipment, StockItem, StockLocation
from fulfillment.services import StockLine, shipments_build, stock_reserve_for_placement
from oms.actors import SYSTEM
from orders.models import OrderEvent
from tests.fulfillment.factories import (
    AddressFactory,
    ShippingMethodFactory,
    ShippingWeightTierFactory,
    ShippingZoneFactory,
    SkuFactory,
    shop_create,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("ops", "ops@example.com", "pw-123456!")
    client.force_login(user)
    return client


@pytest.fixture
def placed():
    shop = shop_create()
    sku = SkuFactory.create()
    (item,) = shop.stock(sku, 5)
    order, (line,) = shop.order((sku, 4))
    stock_reserve_for_placement(order=order, lines=[StockLine(line, sku, 4)], actor=SYSTEM)
    (shipment,) = shipments_build(order=order, actor=SYSTEM)
    method = ShippingMethodFactory.create(
        market=shop.market, shipping_zone=ShippingZoneFactory.create()
    )
    ShippingWeightTierFactory.create(shipping_method=method)
    return item, shipment


@pytest.mark.parametrize(
    "model",
    [
        "stocklocation",
        "stockitem",
        "inventorymodel",
        "shippingzone",
        "shippingmethod",
        "shipment",
        "parcel",
        "stockreservation",
    ],
)
def test_changelists_and_change_pages_load(staff_client, placed, model):
    response = staff_client.get(reverse(f"admin:fulfillment_{model}_changelist"))
    assert response.status_code == 200


def test_shipment_change_page_loads(staff_client, placed):
    _, shipment = placed
    response = staff_client.get(reverse("admin:fulfillment_shipment_change", args=[shipment.pk]))
    assert response.status_code == 200


def test_new_stock_location_gets_a_number(staff_client):
    address = AddressFactory.create()
    response = staff_client.post(
        reverse("admin:fulfillment_stocklocation_add"),
        {
            "name": "Milan",
            "code": "mi",
            "address": address.pk,
            "label_format": "PDF",
            "reference": "",
            "reference_origin": "",
            "metadata": "{}",
        },
    )
    assert response.status_code == 302
    assert StockLocation.objects.get().number == 1


def test_stock_quantity_below_reserved_is_refused_in_the_admin(staff_client, placed):
    item, _ = placed
    response = staff_client.post(
        reverse("admin:fulfillment_stockitem_change", args=[item.pk]),
        {
            "stock_location": item.stock_location_id,
            "sku": item.sku_id,
            "quantity": "3",
            "reference": "",
            "reference_origin": "",
            "metadata": "{}",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["quantity"] == ["The quantity cannot go below the 4 reserved units."]
    assert StockItem.objects.get(pk=item.pk).quantity == 5


def test_shipment_actions_run_the_trigger_services(staff_client, placed):
    _, shipment = placed
    url = reverse("admin:fulfillment_shipment_changelist")
    staff_client.post(url, {"action": "shipments_upcoming", "_selected_action": [shipment.pk]})
    assert Shipment.objects.get(pk=shipment.pk).status == "upcoming"
    assert OrderEvent.objects.exclude(subject_type="orders").get().actor.startswith("user:ops")

    response = staff_client.post(
        url, {"action": "shipments_deliver", "_selected_action": [shipment.pk]}, follow=True
    )
    assert Shipment.objects.get(pk=shipment.pk).status == "upcoming"
    assert "_deliver is not allowed" in response.content.decode()


def change_form_data(response):
    """What a browser sends back from a change page: every form's fields as rendered."""
    forms = [response.context["adminform"].form]
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is not None:
                data[form.add_prefix(name)] = field.prepare_value(value)
    return data


def test_shipment_page_saves_its_reference_and_metadata(staff_client, placed):
    _, shipment = placed
    url = reverse("admin:fulfillment_shipment_change", args=[shipment.pk])
    page = staff_client.get(url)
    assert "status" not in page.context["adminform"].form.fields  # moved by its triggers only
    data = change_form_data(page)
    data.update(reference="wh-42", metadata='{"dock": 3}')

    response = staff_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    shipment.refresh_from_db()
    assert (shipment.reference, shipment.metadata) == ("wh-42", {"dock": 3})
    assert shipment.status == "draft"


def test_shipment_page_ignores_a_posted_status(staff_client, placed):
    _, shipment = placed
    url = reverse("admin:fulfillment_shipment_change", args=[shipment.pk])
    data = change_form_data(staff_client.get(url))
    data["status"] = "shipped"
    assert staff_client.post(url, data).status_code == 302
    assert Shipment.objects.get(pk=shipment.pk).status == "draft"
