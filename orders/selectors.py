"""Non-trivial reads of the orders app."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from markets.models import Address, Price, Sku
from oms.money import format_money
from oms.prefetch import with_children_if_any
from orders.models import LineItem, Order
from payments.models import Transaction


def orders_with_details() -> QuerySet[Order]:
    """Orders with everything an order page shows, in a fixed number of queries."""
    return Order.objects.select_related(
        "market", "customer", "shipping_address", "billing_address"
    ).prefetch_related("line_items", "events")


def drafts_to_purge(*, cutoff: datetime) -> QuerySet[Order]:
    """Draft carts without a customer not updated since `cutoff` (spec 2.1)."""
    return Order.objects.filter(
        status=Order.Status.DRAFT, customer__isnull=True, updated_at__lt=cutoff
    ).order_by("pk")


def abandoned_carts(*, cutoff: datetime) -> QuerySet[Order]:
    """Pending carts nobody touched since `cutoff`."""
    return Order.objects.filter(status=Order.Status.PENDING, updated_at__lt=cutoff).order_by("pk")


def orders_to_auto_capture(*, authorized_before: datetime) -> QuerySet[Order]:
    """Approved orders nothing of which is captured yet, with a succeeded authorization made
    before `authorized_before` that still has a balance to capture."""
    return (
        Order.objects.filter(
            status=Order.Status.APPROVED,
            payment_status__in=[
                Order.PaymentStatus.AUTHORIZED,
                Order.PaymentStatus.PARTIALLY_AUTHORIZED,
            ],
        )
        .filter(
            Exists(
                Transaction.objects.filter(
                    order_id=OuterRef("pk"),
                    type=Transaction.Type.AUTHORIZATIONS,
                    status=Transaction.Status.SUCCEEDED,
                    created_at__lt=authorized_before,
                    amount_cents__gt=F("capture_amount_cents") + F("void_amount_cents"),
                )
            )
        )
        .order_by("pk")
    )


def orders_default_list() -> QuerySet[Order]:
    """The orders a default list shows: archived orders leave it (spec 2.1)."""
    return Order.objects.filter(archived_at__isnull=True).select_related("market", "customer")


def prices_for_skus(*, price_list_id: str, sku_ids: set[str]) -> dict[str, Price]:
    """The price of each SKU in a price list, with its volume tiers: one query, two when
    one of them has tiers."""
    prices = Price.objects.filter(price_list_id=price_list_id, sku_id__in=sku_ids)
    return {price.sku_id: price for price in with_children_if_any(prices, "price_volume_tiers")}


def skus_by_id(sku_ids: set[str]) -> dict[str, Sku]:
    return {sku.pk: sku for sku in Sku.objects.filter(pk__in=sku_ids)}


def _address_relations() -> list[models.ForeignObjectRel]:
    """Every relation pointing at an address (hidden ones too: merchants, stock locations)."""
    relations = []
    for relation in Address._meta.get_fields(include_hidden=True):
        if not (relation.one_to_many and relation.auto_created and not relation.concrete):
            continue
        assert isinstance(relation, models.ForeignObjectRel)
        relations.append(relation)
    return relations


def _referencing(relation: models.ForeignObjectRel, address: Any) -> QuerySet[Any]:
    model = relation.related_model
    assert isinstance(model, type)
    assert issubclass(model, models.Model)
    return model._default_manager.filter(**{relation.field.name: address})


def address_is_referenced(address: Address, *, order: Order | None = None, slot: str = "") -> bool:
    """Whether anything other than `order`'s own `slot` ("shipping_address" or
    "billing_address") points at the address: another order, the order's other slot, a
    customer's address book, a merchant, a stock location… Every relation counts, present and
    future ones alike. An order given a referenced address gets a clone instead. One query."""
    condition = Q()
    for relation in _address_relations():
        referencing = _referencing(relation, address)
        if order is not None and relation.related_model is Order and relation.field.name == slot:
            referencing = referencing.exclude(pk=order.pk)
        condition |= Q(Exists(referencing))
    return Address.objects.filter(condition, pk=address.pk).exists()


def addresses_unreferenced() -> Q:
    """Addresses nothing points at yet: a storefront's, just created, to attach to its cart."""
    condition = Q()
    for relation in _address_relations():
        condition &= Q(~Exists(_referencing(relation, OuterRef("pk"))))
    return condition


def orders_search(queryset: QuerySet[Order], term: str) -> QuerySet[Order]:
    """The admin's search box: an order number (`299` or `#299`), an e-mail, a customer's name
    (as on the billing address) or a SKU code bought. One WHERE clause, no join that repeats
    an order, so the list needs no DISTINCT."""
    term = " ".join(term.split())
    if not term:
        return queryset
    number = term.removeprefix("#").strip()
    if number.isascii() and number.isdigit():
        return queryset.filter(number=int(number))
    match = Q(customer_email__icontains=term) | Q(
        Exists(LineItem.objects.filter(order_id=OuterRef("pk"), sku_code__iexact=term))
    )
    words = term.split(" ")
    if len(words) == 1:
        match |= Q(billing_address__first_name__icontains=term) | Q(
            billing_address__last_name__icontains=term
        )
    else:
        match |= Q(billing_address__first_name__icontains=words[0]) & Q(
            billing_address__last_name__icontains=" ".join(words[1:])
        )
    return queryset.filter(match)


CUSTOMER_RECENT_ORDERS = 20


def customer_recent_orders(*, customer: Any, limit: int = CUSTOMER_RECENT_ORDERS) -> list[Order]:
    """The customer's latest placed orders (carts, and carts cancelled before placement, left
    out), newest first, for its admin page."""
    return list(
        Order.objects.filter(customer=customer, placed_at__isnull=False)
        .select_related("market")
        .order_by("-placed_at", "-created_at")[:limit]
    )


def customer_order_totals(*, customer: Any) -> list[dict[str, Any]]:
    """Per currency: how many orders the customer placed, how many were cancelled, and what the
    others are worth (one aggregate query)."""
    placed = Order.objects.filter(customer=customer, placed_at__isnull=False)
    rows = (
        placed.order_by()
        .values("currency_code")
        .annotate(
            orders=models.Count("id"),
            cancelled=models.Count("id", filter=Q(status=Order.Status.CANCELLED)),
            spent_cents=models.Sum(
                "total_amount_with_taxes_cents", filter=~Q(status=Order.Status.CANCELLED)
            ),
        )
        .order_by("currency_code")
    )
    return [
        {**row, "spent": format_money(row["spent_cents"] or 0, row["currency_code"])}
        for row in rows
    ]
