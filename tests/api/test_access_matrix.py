"""Who sees and changes which customer data (spec section 7): every role x the customer,
address, order, line item and transaction endpoints x list, retrieve, update, and the includes
that reach from an order to its customer, addresses and money.

A sales channel holds only what it was given (its market's carts and placed orders, by id), a
customer only their own records in the token's market, an integration everything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from orders.api.views import order_visible, visible_orders
from orders.models import Order
from tests.api.conftest import doc
from tests.api.world import ROLES, World, build_world

pytestmark = pytest.mark.django_db

STOREFRONTS = ("sales_channel_a", "sales_channel_b", "customer_a", "customer_b")
MONEY = ("authorizations", "captures", "transactions")

# what each storefront role may read by id, per resource
VISIBLE: dict[str, dict[str, set[str]]] = {
    "sales_channel_a": {
        "orders": {"cart_a", "ada_placed_a"},
        "line_items": {"cart_line"},
        "addresses": {"cart_a", "ada_placed_a"},
        "money": {"ada_placed_a"},
    },
    "sales_channel_b": {
        "orders": {"ada_placed_b"},
        "addresses": {"ada_placed_b"},
        "money": {"ada_placed_b"},
    },
    "customer_a": {
        "customers": {"ada"},
        "customer_addresses": {"ada_book"},
        "orders": {"cart_a", "ada_placed_a"},
        "line_items": {"cart_line"},
        "addresses": {"cart_a", "ada_placed_a", "ada_book"},
        "money": {"ada_placed_a"},
    },
    "customer_b": {
        "customers": {"bob"},
        "customer_addresses": {"bob_book"},
        "orders": {"bob_approved_a"},
        "line_items": {"bob_line"},
        "addresses": {"bob_approved_a", "bob_book"},
        "money": {"bob_approved_a"},
    },
}
RECORDS: dict[str, tuple[str, ...]] = {
    "customers": ("ada", "bob"),
    "customer_addresses": ("ada_book", "bob_book"),
    "orders": ("cart_a", "ada_placed_a", "ada_placed_b", "bob_approved_a"),
    "line_items": ("cart_line", "bob_line"),
    "addresses": (
        "cart_a",
        "ada_placed_a",
        "ada_placed_b",
        "bob_approved_a",
        "ada_book",
        "bob_book",
    ),
    **dict.fromkeys(MONEY, ("ada_placed_a", "ada_placed_b", "bob_approved_a")),
}
# storefront roles whose policy has no read of the resource at all
UNREADABLE = {
    "customers": {"sales_channel_a", "sales_channel_b"},
    "customer_addresses": {"sales_channel_a", "sales_channel_b"},
}


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once for the module inside a transaction rolled back at its end; each test runs
    in a savepoint of it (what it changes is undone after it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def record_id(world: World, resource: str, name: str) -> str:
    if resource == "addresses":
        return world.address(name).pk
    if resource in MONEY:
        paid = world.paid[name]
        return paid.capture.pk if resource == "captures" else paid.authorization.pk
    return str(getattr(world, name).pk)


def visible(role: str, resource: str) -> set[str]:
    key = "money" if resource in MONEY else resource
    return VISIBLE[role].get(key, set())


def cases(resources: tuple[str, ...] = tuple(RECORDS)) -> list[tuple[str, str, str]]:
    return [
        (role, resource, name)
        for role in ROLES
        for resource in resources
        for name in RECORDS[resource]
    ]


def expected_retrieve(role: str, resource: str, name: str) -> int:
    if role == "anonymous":
        return 401
    if role in ("admin", "read_only"):
        return 200
    if role in UNREADABLE.get(resource, ()):
        return 401
    return 200 if name in visible(role, resource) else 404


@pytest.mark.parametrize(("role", "resource", "name"), cases())
def test_retrieve_by_id(world, role, resource, name):
    response = world.api(role).get(f"/api/{resource}/{record_id(world, resource, name)}")
    assert response.status_code == expected_retrieve(role, resource, name), response.doc


# what each role's list shows; None: the list is refused (401)
LISTED: dict[str, dict[str, set[str] | None]] = {
    "customer_a": {
        "customers": {"ada"},
        "customer_addresses": {"ada_book"},
        "orders": {"cart_a", "ada_placed_a"},
    },
    "customer_b": {
        "customers": {"bob"},
        "customer_addresses": {"bob_book"},
        "orders": {"bob_approved_a"},
    },
}


@pytest.mark.parametrize("resource", tuple(RECORDS))
@pytest.mark.parametrize("role", ROLES)
def test_list(world, role, resource):
    response = world.api(role).get(f"/api/{resource}?page[size]=25")
    if role == "anonymous":
        assert response.status_code == 401
        return
    if role in ("admin", "read_only"):
        assert response.status_code == 200
        ids = {r["id"] for r in response.doc["data"]}
        assert {record_id(world, resource, name) for name in RECORDS[resource]} <= ids
        return
    expected = LISTED.get(role, {}).get(resource)
    if expected is None:
        assert response.status_code == 401, response.doc
        return
    assert response.status_code == 200, response.doc
    assert {r["id"] for r in response.doc["data"]} == {
        record_id(world, resource, name) for name in expected
    }


UPDATES: dict[str, dict[str, Any]] = {
    "customers": {"reference": "changed"},
    "orders": {"reference": "changed"},
    "addresses": {"city": "Paris"},
    "line_items": {"quantity": 2},
    "authorizations": {"_void": True},
    "captures": {"_refund": True},
}
# storefront records that are visible but no longer changeable (placed or approved orders')
FROZEN = {
    "orders": {"ada_placed_a", "ada_placed_b", "bob_approved_a"},
    "addresses": {"ada_placed_a", "ada_placed_b", "bob_approved_a"},
    "line_items": {"bob_line"},
}


def expected_update(role: str, resource: str, name: str) -> int:
    if role == "anonymous":
        return 401
    if role == "read_only" or resource in ("customers", *MONEY):
        return 200 if role == "admin" else 401
    if role == "admin":
        return 422 if resource == "line_items" and name in FROZEN["line_items"] else 200
    if name not in visible(role, resource):
        return 404
    return 422 if name in FROZEN.get(resource, ()) else 200


@pytest.mark.parametrize(("role", "resource", "name"), cases(tuple(UPDATES)))
def test_update_by_id(world, role, resource, name):
    pk = record_id(world, resource, name)
    response = world.api(role).patch(f"/api/{resource}/{pk}", doc(resource, UPDATES[resource], pk))
    expected = expected_update(role, resource, name)
    assert response.status_code == expected, response.doc
    if expected == 422:
        error = response.doc["errors"][0]
        assert error["code"] == "ORDER_NOT_EDITABLE"
        assert error["source"]["pointer"].startswith("/data")


INCLUDES = (
    "customer",
    "customer.orders",
    "customer.orders.shipping_address",
    "billing_address",
    "shipping_address",
    "authorizations",
    "captures",
)


def expected_included(world: World, role: str, include: str) -> set[tuple[str, str]] | int:
    """What `GET /api/orders/{Ada's placed order in A}?include=…` answers: a status, or the
    (type, id) pairs of `included`."""
    if role == "anonymous":
        return 401
    if include.startswith("customer") and role.startswith("sales_channel"):
        return 401  # a sales channel cannot read customers
    if role in ("sales_channel_b", "customer_b"):
        return 404  # not theirs
    order = world.ada_placed_a
    if include == "customer":
        return {("customers", world.ada.pk)}
    if include.startswith("customer.orders"):
        orders = [world.cart_a, world.ada_placed_a]
        if role in ("admin", "read_only"):
            orders.append(world.ada_placed_b)  # every market's
        # the root order is the document's data, not repeated in `included`
        pairs = {("customers", world.ada.pk)} | {("orders", o.pk) for o in orders if o != order}
        if include.endswith("shipping_address"):
            pairs |= {("addresses", o.shipping_address_id) for o in orders}  # type: ignore[misc]
        return pairs
    if include in ("billing_address", "shipping_address"):
        return {("addresses", getattr(order, f"{include}_id"))}
    paid = world.paid["ada_placed_a"]
    transaction = paid.authorization if include == "authorizations" else paid.capture
    return {(include, transaction.pk)}


@pytest.mark.parametrize("include", INCLUDES)
@pytest.mark.parametrize("role", ROLES)
def test_order_includes(world, role, include):
    response = world.api(role).get(f"/api/orders/{world.ada_placed_a.pk}?include={include}")
    expected = expected_included(world, role, include)
    if isinstance(expected, int):
        assert response.status_code == expected, response.doc
        return
    assert response.status_code == 200, response.doc
    included = {(r["type"], r["id"]) for r in response.doc.get("included", [])}
    assert included == expected


@pytest.mark.parametrize("role", STOREFRONTS)
def test_a_sales_channel_cart_does_not_lead_to_the_customer(world, role):
    """The storefront holding Ada's cart (made with her e-mail) reaches none of her other orders
    or addresses through it."""
    response = world.api(role).get(
        f"/api/orders/{world.cart_a.pk}?include=customer.orders.shipping_address"
    )
    if role == "customer_a":
        assert response.status_code == 200
        orders = {r["id"] for r in response.doc["included"] if r["type"] == "orders"}
        assert orders == {world.ada_placed_a.pk}  # her other order in market A (not B's)
    elif role == "customer_b":
        assert response.status_code == 404
    else:
        assert response.status_code in (401, 404)
        assert "included" not in (response.doc or {})


@pytest.mark.parametrize("role", ["customer_a", "customer_b", "admin"])
def test_customer_includes_its_orders_and_address_book(world, role):
    response = world.api(role).get(
        f"/api/customers/{world.ada.pk}?include=orders,customer_addresses.address"
    )
    if role == "customer_b":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    included = {(r["type"], r["id"]) for r in response.doc["included"]}
    orders = {world.cart_a.pk, world.ada_placed_a.pk}
    if role == "admin":
        orders.add(world.ada_placed_b.pk)
    assert {pk for kind, pk in included if kind == "orders"} == orders
    assert {pk for kind, pk in included if kind == "customer_addresses"} == {world.ada_book.pk}
    assert ("addresses", world.ada_book.address_id) in included


@pytest.mark.parametrize("status", list(Order.Status))
def test_the_visibility_predicate_agrees_with_the_visible_orders_query(world, status):
    """`order_visible` (a relationship's target checked from the row the request read) holds
    exactly the orders `visible_orders` lets each role see, in every status."""
    orders = [world.cart_a, world.ada_placed_a, world.ada_placed_b, world.bob_approved_a]
    now = timezone.now()  # the lifecycle's timestamps every status may need
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(
        status=status, placed_at=now, place_total_amount_cents=0, approved_at=now, cancelled_at=now
    )
    seen = 0
    for role in ROLES:
        principal = world.principal(role)
        if principal is None:
            continue
        for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
            queried = visible_orders(principal).filter(pk=order.pk).exists()
            assert order_visible(principal, order) is queried, (role, order.number, status)
            seen += queried
    assert seen  # some role sees some order in every status (integrations always do)
