"""An order owns its addresses: same-as and clone ids copy, they never share a row."""

import pytest

from markets.models import Address
from oms.errors import DomainError
from orders import services
from tests import factories as catalog
from tests.orders.factories import STAFF, STOREFRONT, OrderFactory, order_in_status

pytestmark = pytest.mark.django_db


def same_content(a: Address | None, b: Address) -> bool:
    assert a is not None
    fields = ("first_name", "last_name", "company", "line_1", "city", "zip_code", "country_code")
    return all(getattr(a, name) == getattr(b, name) for name in fields)


def test_shipping_same_as_billing_is_a_copy_not_the_same_row():
    billing = catalog.AddressFactory.create()
    order = OrderFactory.create()
    order = services.order_update(
        order=order,
        actor=STOREFRONT,
        data={"billing_address": billing, "_shipping_address_same_as_billing": True},
    )
    assert order.billing_address_id == billing.pk
    assert order.shipping_address_id not in (None, billing.pk)
    assert same_content(order.shipping_address, billing)


def test_billing_same_as_shipping_is_a_copy_not_the_same_row():
    shipping = catalog.AddressFactory.create(city="Paris", country_code="FR", zip_code="75001")
    order = OrderFactory.create(shipping_address=shipping)
    order = services.order_update(
        order=order, actor=STOREFRONT, data={"_billing_address_same_as_shipping": True}
    )
    assert order.billing_address_id != shipping.pk
    assert same_content(order.billing_address, shipping)


def test_same_as_without_the_other_address_is_refused_with_a_pointer():
    order = OrderFactory.create()
    with pytest.raises(DomainError) as exc:
        services.order_update(
            order=order, actor=STOREFRONT, data={"_shipping_address_same_as_billing": True}
        )
    assert exc.value.code == "ADDRESS_MISSING"
    assert exc.value.pointer == "/data/relationships/billing_address"


def test_both_same_as_flags_at_once_are_refused():
    order = OrderFactory.create(billing_address=catalog.AddressFactory.create())
    with pytest.raises(DomainError) as exc:
        services.order_update(
            order=order,
            actor=STOREFRONT,
            data={
                "_shipping_address_same_as_billing": True,
                "_billing_address_same_as_shipping": True,
            },
        )
    assert exc.value.code == "VALIDATION_ERROR"


def test_clone_id_copies_the_address_into_a_new_row():
    source = catalog.AddressFactory.create()
    order = OrderFactory.create()
    order = services.order_update(
        order=order,
        actor=STOREFRONT,
        data={"_shipping_address_clone_id": source.pk, "_billing_address_clone_id": source.pk},
    )
    ids = {source.pk, order.shipping_address_id, order.billing_address_id}
    assert len(ids) == 3
    assert same_content(order.shipping_address, source)
    assert same_content(order.billing_address, source)

    # Editing the source afterwards leaves the order's addresses alone.
    Address.objects.filter(pk=source.pk).update(line_1="Elsewhere 1")
    assert Address.objects.get(pk=order.shipping_address_id).line_1 != "Elsewhere 1"


def test_unknown_clone_id_is_refused_with_a_pointer():
    order = OrderFactory.create()
    with pytest.raises(DomainError) as exc:
        services.order_update(
            order=order, actor=STOREFRONT, data={"_billing_address_clone_id": "nope"}
        )
    assert exc.value.code == "ADDRESS_NOT_FOUND"
    assert exc.value.pointer == "/data/attributes/_billing_address_clone_id"


def test_an_address_used_by_another_order_is_cloned_not_shared():
    address = catalog.AddressFactory.create()
    first = OrderFactory.create(shipping_address=address)
    second = OrderFactory.create(shipping_address=address)
    assert first.shipping_address_id == address.pk
    assert second.shipping_address_id != address.pk
    assert same_content(second.shipping_address, address)


def test_the_same_address_for_both_slots_is_cloned_for_the_second():
    address = catalog.AddressFactory.create()
    order = OrderFactory.create(shipping_address=address, billing_address=address)
    assert order.shipping_address_id != order.billing_address_id


def test_an_address_from_the_address_book_is_cloned():
    customer = services.customer_find_or_create(email="kim@example.com")
    address = catalog.AddressFactory.create()
    services.customer_address_create(customer=customer, address=address)
    order = OrderFactory.create(billing_address=address)
    assert order.billing_address_id != address.pk


def test_a_fresh_address_is_used_as_is():
    address = catalog.AddressFactory.create()
    order = OrderFactory.create(billing_address=address)
    assert order.billing_address_id == address.pk


def test_addresses_of_a_placed_order_cannot_change():
    order = order_in_status("placed")
    with pytest.raises(DomainError) as exc:
        services.order_update(
            order=order,
            actor=STAFF,
            data={"billing_address": catalog.AddressFactory.create()},
        )
    assert exc.value.code == "ORDER_NOT_EDITABLE"


def test_reference_and_metadata_change_at_any_time():
    order = order_in_status("placed")
    order = services.order_update(
        order=order, actor=STAFF, data={"reference": "ERP-1", "metadata": {"k": "v"}}
    )
    assert (order.reference, order.metadata) == ("ERP-1", {"k": "v"})


def test_unknown_attribute_is_refused_with_its_pointer():
    order = OrderFactory.create()
    with pytest.raises(DomainError) as exc:
        services.order_update(order=order, actor=STOREFRONT, data={"status": "placed"})
    assert exc.value.pointer == "/data/attributes/status"
    order.refresh_from_db()
    assert order.status == "draft"


def test_invalid_language_code_is_refused():
    order = OrderFactory.create()
    with pytest.raises(DomainError) as exc:
        services.order_update(order=order, actor=STOREFRONT, data={"language_code": "english"})
    assert exc.value.pointer == "/data/attributes/language_code"


def test_country_of_the_order_comes_from_its_shipping_address():
    order = OrderFactory.create(
        billing_address=catalog.AddressFactory.create(country_code="IT", zip_code="20100")
    )
    assert order.country_code == "IT"
    order = services.order_update(
        order=order,
        actor=STOREFRONT,
        data={"shipping_address": catalog.AddressFactory.create(country_code="DE", zip_code="1")},
    )
    assert order.country_code == "DE"


def test_an_address_another_order_took_unseen_is_a_clean_error_on_either_database(monkeypatch):
    """What the PostgreSQL race test provokes with two threads: the check that the address is
    free answers "free", the other order holds it; the save's unique constraint refuses, and
    the caller gets a validation error (by constraint name on PostgreSQL, column on SQLite)."""
    from orders.services import orders as order_services

    market = catalog.MarketFactory.create()
    holder, taker = (services.order_create(market=market, actor=STOREFRONT) for _ in range(2))
    address = catalog.AddressFactory.create()
    services.order_update(order=holder, actor=STOREFRONT, data={"shipping_address": address})
    monkeypatch.setattr(order_services, "address_is_referenced", lambda *a, **k: False)
    with pytest.raises(DomainError) as refused:
        services.order_update(order=taker, actor=STOREFRONT, data={"shipping_address": address})
    assert refused.value.code == "VALIDATION_ERROR"
    assert "conflicts with another record" in str(refused.value)
