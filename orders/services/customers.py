"""Customers: found or created by e-mail, counted when they place orders, and their address
books."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Lower

from markets.models import Address
from oms.oauth.services import Owner
from oms.services import resource_save, row_insert_unless_taken
from orders.errors import (
    CustomerEmailInvalid,
    CustomerEmailMissing,
    CustomerEmailTaken,
    InvalidAttribute,
    attribute,
)
from orders.models import Customer, CustomerAddress
from orders.selectors import address_is_referenced
from orders.services.addresses import address_clone, address_same_content


def email_normalize(email: str) -> str:
    """E-mail addresses are compared and stored in lower case."""
    return email.strip().lower()


def email_validate(email: str, *, pointer: str = attribute("customer_email")) -> str:
    """The normalised address, or a CUSTOMER_EMAIL_MISSING / _INVALID error at `pointer`."""
    normalized = email_normalize(email)
    if not normalized:
        raise CustomerEmailMissing("An e-mail address is required.", pointer=pointer)
    try:
        validate_email(normalized)
    except ValidationError:
        raise CustomerEmailInvalid(
            f"{email!r} is not a valid e-mail address.", pointer=pointer
        ) from None
    return normalized


def customer_find(*, email: str) -> Customer | None:
    return (
        Customer.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower=email_normalize(email))
        .first()
    )


def customer_find_or_create(*, email: str, pointer: str = attribute("customer_email")) -> Customer:
    """The customer with this e-mail (case-insensitively), created as a prospect if new.

    Race-free: two concurrent callers with the same new address both get the one row, because
    the loser of the insert race (unique index on lower(email)) inserts nothing (no savepoint:
    the caller's transaction goes on) and reads the winner's row.
    """
    normalized = email_validate(email, pointer=pointer)
    existing = customer_find(email=normalized)
    if existing is not None:
        return existing
    customer = Customer(email=normalized)
    if row_insert_unless_taken(customer):
        return customer
    found = customer_find(email=normalized)
    if found is None:  # pragma: no cover - the conflicting row vanished: not our race
        raise IntegrityError(f"A customer with the e-mail {normalized!r} could not be created.")
    return found


def customer_save(*, customer: Customer) -> Customer:
    """Validate and save a customer built or changed by the back office; the e-mail is
    normalised first (so the case-insensitive uniqueness sees what is stored)."""
    customer.email = email_validate(customer.email, pointer=attribute("email"))
    return resource_save(customer)


def customer_create(*, data: Mapping[str, Any], password: str | None = None) -> Customer:
    """A customer from the back office or the API, or a storefront's sign-up (with a
    `password`: the customer can then log in). A taken e-mail is refused as Commerce Layer
    refuses it (422, "has already been taken"), before anything is written."""
    customer = Customer(**data)
    customer.email = email_validate(customer.email, pointer=attribute("email"))
    if password is not None:
        password_validate(password)
        customer.password_hash = make_password(password)
    if customer_find(email=customer.email) is not None:
        raise CustomerEmailTaken("email - has already been taken", pointer=attribute("email"))
    try:
        return customer_save(customer=customer)
    except ValidationError:
        if customer_find(email=customer.email) is not None:  # lost a race to the same e-mail
            raise CustomerEmailTaken(
                "email - has already been taken", pointer=attribute("email")
            ) from None
        raise


def customer_update(*, customer: Customer, data: Mapping[str, Any]) -> Customer:
    for name in ("status", "total_orders_count"):
        if name in data:
            raise ValidationError({name: "Derived from the customer's orders; not settable."})
    for name, value in data.items():
        setattr(customer, name, value)
    return customer_save(customer=customer)


def customer_order_placed(*, customer_id: str) -> None:
    """Count one more placed order: prospect → acquired → repeat (spec 2.2).

    One UPDATE with F(): concurrent placements of two orders of the same customer both count.
    SQL evaluates every SET expression against the row as it was, so `status` is decided from
    the count before this increment.
    """
    Customer.objects.filter(pk=customer_id).update(
        total_orders_count=F("total_orders_count") + 1,
        status=Case(
            When(total_orders_count__gte=1, then=Value(Customer.Status.REPEAT)),
            default=Value(Customer.Status.ACQUIRED),
        ),
    )


def customer_address_create(*, customer: Customer, address: Address) -> CustomerAddress:
    """Add an address to the customer's address book (idempotent for the same address)."""
    with transaction.atomic():
        existing = CustomerAddress.objects.filter(customer=customer, address=address).first()
        if existing is not None:
            return existing
        return resource_save(CustomerAddress(customer=customer, address=address))


def customer_address_add(*, customer: Customer, address: Address) -> CustomerAddress:
    """A customer's own new address book entry. An address something else uses already (a
    cart's, another entry's) goes in as a clone, so the entry and the order never share one."""
    if address_is_referenced(address):
        address = address_clone(address)
    return customer_address_create(customer=customer, address=address)


def customer_address_update(
    *, customer_address: CustomerAddress, data: Mapping[str, Any]
) -> CustomerAddress:
    """Point an address book entry at another address (cloned if something else uses it),
    or change its reference and metadata."""
    values = dict(data)
    address = values.pop("address", None)
    if isinstance(address, Address) and address.pk != customer_address.address_id:
        if address_is_referenced(address):
            address = address_clone(address)
        customer_address.address = address
    for name, value in values.items():
        setattr(customer_address, name, value)
    return resource_save(customer_address)


def customer_address_save_copy(*, customer_id: str, address: Address) -> CustomerAddress | None:
    """Put a clone of an order's address into the customer's address book, unless the book
    has an address with the same content already (a returning customer's order cloned from
    it). Returns the new entry (None: already there)."""
    book = CustomerAddress.objects.filter(customer_id=customer_id).select_related("address")
    if any(address_same_content(entry.address, address) for entry in book):
        return None
    return resource_save(CustomerAddress(customer_id=customer_id, address=address_clone(address)))


def customer_address_delete(*, customer_address: CustomerAddress) -> None:
    customer_address.delete()


MIN_PASSWORD_LENGTH = 8


def password_validate(password: Any, *, pointer: str = attribute("password")) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidAttribute(
            f"A password has at least {MIN_PASSWORD_LENGTH} characters.", pointer=pointer
        )
    return password


def customer_password_set(*, customer: Customer, password: str) -> Customer:
    """Let the customer log in to storefronts (the OAuth password grant) with `password`."""
    password_validate(password)
    Customer.objects.filter(pk=customer.pk).update(password_hash=make_password(password))
    customer.refresh_from_db(fields=["password_hash"])
    return customer


def customer_authenticate(
    *, application: Any, markets: Sequence[Any], username: str, password: str
) -> Any:
    """The `OMS_CUSTOMER_AUTHENTICATOR` of the password grant: the customer whose e-mail is
    `username` and whose password matches, if the token's markets may sell to them."""
    customer = Customer.objects.filter(email__iexact=(username or "").strip()).first()
    if customer is None or not customer.password_hash:
        make_password(password)  # the same work either way: no timing hint of who exists
        return None
    if not check_password(password, customer.password_hash):
        return None
    if any(
        market.customer_group_id is not None
        and market.customer_group_id != customer.customer_group_id
        for market in markets
    ):
        return None
    return Owner(type="Customer", id=customer.pk)
