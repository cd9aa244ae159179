"""Customers' wallets: payment sources saved for reuse (Commerce Layer's
`customer_payment_sources`), saved from a placed order or by the customer, and used again by a
returning customer's cart (`_customer_payment_source_id`).

A wallet entry holds the gateway's reusable token or reference and its customer token, never a
card number (the model refuses one). Saving from an order asks the gateway whether, and by
what, the source can be charged again: a gateway call, so it runs after the placement has
committed, with no lock held."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from oms.services import resource_save
from orders.errors import (
    CustomerPaymentSourceNotFound,
    InvalidAttribute,
    PaymentSourceNotReusable,
    attribute,
    relationship,
)
from orders.models import Customer, CustomerPaymentSource, Order
from payments.models import PaymentMethod, PaymentSourceModel
from payments.selectors import payment_methods_available
from payments.services import (
    REUSABLE_SOURCE_TYPES,
    payment_source_from_token,
    payment_source_reusable,
)

logger = logging.getLogger(__name__)


def customer_payment_source_create(
    *,
    customer: Customer,
    payment_method: PaymentMethod,
    payment_source_token: str,
    customer_token: str = "",
    name: str = "",
) -> CustomerPaymentSource:
    """Add a reusable token to the customer's wallet (the same token for the same method is
    the entry it already is)."""
    if payment_method.payment_source_type not in REUSABLE_SOURCE_TYPES:
        raise PaymentSourceNotReusable(
            f"{payment_method.payment_source_type} cannot be saved for reuse.",
            pointer=relationship("payment_method"),
        )
    existing = CustomerPaymentSource.objects.filter(
        customer=customer, payment_method=payment_method, payment_source_token=payment_source_token
    ).first()
    if existing is not None:
        return existing
    entry = CustomerPaymentSource(
        customer=customer,
        payment_method=payment_method,
        payment_source_type=payment_method.payment_source_type,
        payment_source_token=payment_source_token,
        customer_token=customer_token,
        name=name or f"{payment_method.name or payment_method.payment_source_type}",
    )
    try:
        return resource_save(entry)
    except ValidationError:
        raced = CustomerPaymentSource.objects.filter(
            customer=customer,
            payment_method=payment_method,
            payment_source_token=payment_source_token,
        ).first()
        if raced is None:
            raise
        return raced


def customer_payment_source_delete(*, customer_payment_source: CustomerPaymentSource) -> None:
    """Remove an entry from the wallet (orders paid with it keep their own payment source)."""
    customer_payment_source.delete()


def order_wallet_save(
    *, order: Order, source: PaymentSourceModel | None
) -> CustomerPaymentSource | None:
    """`_save_payment_source_to_customer_wallet`, once `order` is placed: ask the gateway
    whether `source` (the one it authorized) can be charged again and, if it says so, save
    what it keeps in the customer's wallet. Call with no lock held. None: nothing saved (not
    asked for, no customer, a source the gateway will not reuse)."""
    method = order.payment_method
    if (
        not order.save_payment_source_to_customer_wallet
        or order.customer_id is None
        or source is None
        or method is None
        or source.source_type not in REUSABLE_SOURCE_TYPES
        or source.source_type != method.payment_source_type
    ):
        return None
    reusable = payment_source_reusable(
        payment_method=method, source=source, customer_reference=order.customer_id
    )
    if reusable is None:
        return None
    try:
        return customer_payment_source_create(
            customer=Customer.objects.get(pk=order.customer_id),
            payment_method=method,
            payment_source_token=reusable.payment_source_token,
            customer_token=reusable.customer_token,
            name=reusable.name,
        )
    except ValidationError:
        # the gateway's token is not storable (a card number): the order stays placed
        logger.warning("order %s: the gateway's reusable token was refused", order.number)
        return None


def customer_payment_sources_available(*, order: Order) -> QuerySet[CustomerPaymentSource]:
    """The wallet entries a returning customer's cart can pay with: those of the order's
    payment method, or, before one is chosen, of any method available to the order."""
    if order.customer_id is None:
        return CustomerPaymentSource.objects.none()
    entries = CustomerPaymentSource.objects.filter(customer_id=order.customer_id)
    if order.payment_method_id is not None:
        return entries.filter(payment_method_id=order.payment_method_id)
    methods = payment_methods_available(
        market=order.market,
        currency_code=order.currency_code,
        amount_cents=order.total_amount_with_taxes_cents,
    )
    return entries.filter(payment_method__in=methods)


def order_wallet_entry_find(*, order: Order, entry_id: str) -> CustomerPaymentSource:
    """The entry of the order's customer's wallet with that id (`_customer_payment_source_id`)."""
    pointer = attribute("_customer_payment_source_id")
    if order.customer_id is None:
        raise InvalidAttribute("The order has no customer with a wallet.", pointer=pointer)
    entry = (
        CustomerPaymentSource.objects.select_related("payment_method")
        .filter(pk=str(entry_id), customer_id=order.customer_id)
        .first()
    )
    if entry is None:
        raise CustomerPaymentSourceNotFound(
            f"No payment source of the customer's wallet has the id {entry_id!r}.",
            pointer=pointer,
        )
    return entry


def order_payment_source_from_wallet(
    *, order: Order, entry: CustomerPaymentSource
) -> PaymentSourceModel:
    """A new payment source of `order` (its payment method set to the entry's by the caller)
    that charges the saved token again."""
    return payment_source_from_token(
        order=order,
        payment_source_type=entry.payment_source_type,
        payment_source_token=entry.payment_source_token,
        customer_token=entry.customer_token,
    )
