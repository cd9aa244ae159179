"""The customer page of the back office (issues 9 and 11): its address book and wallet next to
its orders; an entry removed through its service by a role that may, never by one that may
not; the roles made by the migrations hold the permissions of the newer models."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from markets.models import Address
from orders import services
from orders.models import Customer, CustomerAddress, CustomerPaymentSource
from orders.services.wallet import customer_payment_source_create
from tests import factories as catalog
from tests.orders.test_admin_order_page import login_as
from tests.payments import factories as money

pytestmark = pytest.mark.django_db

TOKEN = "pm_reusable_4242_abcd"


def customer_with_book_and_wallet() -> tuple[Customer, CustomerAddress, CustomerPaymentSource]:
    customer = services.customer_create(data={"email": "ada@example.com"})
    entry = services.customer_address_create(
        customer=customer,
        address=Address.objects.create(
            first_name="Ada",
            last_name="Lovelace",
            line_1="12 St James's Square",
            city="London",
            zip_code="SW1Y 4JH",
            country_code="GB",
            phone="+44 20 0000 0000",
        ),
    )
    method = money.PaymentMethodFactory.create(market=catalog.MarketFactory.create())
    source = customer_payment_source_create(
        customer=customer,
        payment_method=method,
        payment_source_token=TOKEN,
        customer_token="cus_1",
        name="Visa ending 4242",
    )
    return customer, entry, source


def page(client: Client, customer: Customer) -> Any:
    response = client.get(reverse("admin:orders_customer_change", args=[customer.pk]))
    assert response.status_code == 200
    return response


def removal_post(response: Any, *, delete: dict[str, int]) -> dict[str, Any]:
    """The customer form as the page renders it, with the DELETE box ticked for row `i` of
    each inline prefix in `delete`."""
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, bound in form.fields.items():
        value = form[name].value()
        if value is not None and not bound.disabled:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for i, row in enumerate(formset.forms):
            data[f"{formset.prefix}-{i}-id"] = row.instance.pk
            data[f"{formset.prefix}-{i}-customer"] = row.instance.customer_id
        if formset.prefix in delete:
            data[f"{formset.prefix}-{delete[formset.prefix]}-DELETE"] = "on"
    return data


def test_the_customer_page_shows_its_address_book_and_wallet_without_the_whole_token(client):
    customer, _, _ = customer_with_book_and_wallet()
    content = page(login_as(client, "Customer service"), customer).content.decode()
    assert "Address book" in content
    assert "12 St James" in content
    assert "Wallet" in content
    assert "Visa ending 4242" in content
    assert "…abcd" in content
    assert TOKEN not in content


def test_customer_service_removes_a_wallet_entry_and_an_address(client):
    customer, entry, source = customer_with_book_and_wallet()
    office = login_as(client, "Customer service")
    response = page(office, customer)
    data = removal_post(response, delete={"customer_payment_sources": 0, "customer_addresses": 0})
    saved = office.post(
        reverse("admin:orders_customer_change", args=[customer.pk]), data, follow=True
    )
    assert saved.status_code == 200
    assert not saved.context.get("errors"), saved.context.get("errors")
    assert not CustomerPaymentSource.objects.filter(pk=source.pk).exists()
    assert not CustomerAddress.objects.filter(pk=entry.pk).exists()
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_a_role_that_may_not_delete_gets_no_delete_box_and_a_forged_one_removes_nothing(client):
    customer, entry, source = customer_with_book_and_wallet()
    boss = Client()
    data = removal_post(
        page(login_as(boss, None), customer),
        delete={"customer_payment_sources": 0, "customer_addresses": 0},
    )
    reader = login_as(client, "Read only")
    response = page(reader, customer)
    assert "Visa ending 4242" in response.content.decode()
    assert 'name="customer_payment_sources-0-DELETE"' not in response.content.decode()
    forged = reader.post(reverse("admin:orders_customer_change", args=[customer.pk]), data)
    assert forged.status_code == 403
    assert CustomerPaymentSource.objects.filter(pk=source.pk).exists()
    assert CustomerAddress.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    ("role", "codename"),
    [
        ("Merchant admin", "delete_customerpaymentsource"),
        ("Merchant admin", "view_savedorderfilter"),
        ("Merchant admin", "add_stockadjustment"),
        ("Read only", "view_customerpaymentsource"),
        ("Merchant admin", "change_webhook"),
        ("Read only", "view_webhookdelivery"),
        ("Customer service", "delete_customerpaymentsource"),
    ],
)
def test_the_migrations_give_the_roles_the_permissions_of_the_newer_models(role, codename):
    # the groups as the migrations left them (no staff_roles_sync here)
    assert Group.objects.get(name=role).permissions.filter(codename=codename).exists()
