"""Customers are found or created by e-mail and progress prospect → acquired → repeat."""

import pytest
from django.db import IntegrityError, transaction

from oms.errors import DomainError
from orders import services
from orders.models import Customer, CustomerAddress
from tests import factories as catalog
from tests.orders.factories import STAFF, STOREFRONT, OrderFactory, order_ready

pytestmark = pytest.mark.django_db


def test_customer_email_on_an_order_creates_the_customer_as_a_prospect():
    order = OrderFactory.create(customer_email="  Ada@Example.COM ")
    assert order.customer is not None
    assert order.customer.email == "ada@example.com"
    assert order.customer_email == "ada@example.com"
    assert order.customer.status == Customer.Status.PROSPECT
    assert order.customer.total_orders_count == 0


def test_customer_email_finds_the_existing_customer_whatever_the_case():
    existing = services.customer_find_or_create(email="bob@example.com")
    order = OrderFactory.create(customer_email="BOB@example.com")
    assert order.customer == existing
    assert Customer.objects.count() == 1


def test_email_is_unique_case_insensitively_in_the_database():
    Customer.objects.create(email="carol@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(email="Carol@Example.com")


@pytest.mark.parametrize(
    ("email", "code"),
    [("not-an-email", "CUSTOMER_EMAIL_INVALID"), ("a@b", "CUSTOMER_EMAIL_INVALID")],
)
def test_invalid_customer_email_is_refused_with_a_pointer(email, code):
    order = OrderFactory.create()
    with pytest.raises(DomainError) as exc:
        services.order_update(order=order, actor=STOREFRONT, data={"customer_email": email})
    assert exc.value.code == code
    assert exc.value.pointer == "/data/attributes/customer_email"
    order.refresh_from_db()
    assert order.customer is None
    assert not Customer.objects.exists()


def test_clearing_the_customer_email_detaches_the_customer():
    order = OrderFactory.create(customer_email="dan@example.com")
    order = services.order_update(order=order, actor=STOREFRONT, data={"customer_email": ""})
    assert order.customer is None
    assert order.customer_email == ""


def test_placing_orders_moves_the_customer_from_prospect_to_acquired_to_repeat():
    first = order_ready(customer_email="eve@example.com")
    customer = first.customer
    assert customer is not None
    services.order_place(order=first, actor=STOREFRONT)
    customer.refresh_from_db()
    assert (customer.status, customer.total_orders_count) == (Customer.Status.ACQUIRED, 1)

    second = order_ready(customer_email="eve@example.com")
    services.order_place(order=second, actor=STOREFRONT)
    customer.refresh_from_db()
    assert (customer.status, customer.total_orders_count) == (Customer.Status.REPEAT, 2)

    third = order_ready(customer_email="EVE@example.com")
    services.order_place(order=third, actor=STOREFRONT)
    customer.refresh_from_db()
    assert (customer.status, customer.total_orders_count) == (Customer.Status.REPEAT, 3)


def test_customer_status_cannot_contradict_the_orders_count_in_the_database():
    customer = services.customer_find_or_create(email="fay@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.REPEAT)


def test_customer_status_is_not_settable_by_hand():
    customer = services.customer_find_or_create(email="gus@example.com")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.customer_update(customer=customer, data={"status": "repeat"})


def test_customer_group_is_kept():
    group = catalog.CustomerGroupFactory.create()
    customer = services.customer_create(data={"email": "Hal@Example.com", "customer_group": group})
    assert customer.email == "hal@example.com"
    assert customer.customer_group == group


def test_address_book_entries_are_clones_of_the_orders_addresses():
    # saved when the order is placed (issue 11), not when the trigger is sent
    order = order_ready(customer_email="ivy@example.com")
    order = services.order_update(
        order=order,
        actor=STOREFRONT,
        data={"_save_shipping_address_to_customer_address_book": True},
    )
    assert not CustomerAddress.objects.filter(customer=order.customer).exists()
    order = services.order_place(order=order, actor=STOREFRONT)
    entry = CustomerAddress.objects.get(customer=order.customer)
    assert entry.address_id != order.shipping_address_id
    assert order.shipping_address is not None
    assert entry.address.line_1 == order.shipping_address.line_1
    assert entry.name == entry.address.name
    assert entry.customer_email == "ivy@example.com"


def test_customer_address_create_is_idempotent():
    customer = services.customer_find_or_create(email="jo@example.com")
    address = catalog.AddressFactory.create()
    first = services.customer_address_create(customer=customer, address=address)
    again = services.customer_address_create(customer=customer, address=address)
    assert first == again
    services.customer_address_delete(customer_address=first)
    assert not CustomerAddress.objects.exists()
    assert STAFF.kind == "user"
