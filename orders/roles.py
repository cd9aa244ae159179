"""The staff roles of the back office (issue 9): one group each, made by the migration
`orders/0006_staff_roles` (and again by `0009_staff_roles_again` and
`0012_staff_roles_for_promotions` and `0015_staff_roles_for_returns` for the models added
since) and kept by `staff_roles_sync`. Give a user a role, not permissions
one by one. A role sees only its pages and buttons; the admin's action views refuse (403)
what it lacks even when the URL is typed by hand."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

APPS = ("orders", "markets", "payments", "fulfillment", "oauth", "oms", "webhooks")

ROLES: dict[str, list[str]] = {
    # Everything of the business (the staff users themselves stay with superusers).
    "Merchant admin": ["*"],
    "Customer service": [
        "orders.view_order",
        "orders.cancel_order",
        "orders.refund_order",
        "orders.note_order",
        "orders.view_lineitem",
        "orders.view_orderevent",
        "orders.view_customer",
        "orders.add_customer",
        "orders.change_customer",
        "orders.view_customeraddress",
        "orders.add_customeraddress",
        "orders.change_customeraddress",
        "orders.delete_customeraddress",
        "orders.view_customerpaymentsource",
        "orders.delete_customerpaymentsource",
        # what a customer asks about: the coupon that did not apply, the card's balance
        "orders.view_promotion",
        "orders.view_coupon",
        "orders.view_giftcard",
        "payments.view_transaction",
        "fulfillment.view_shipment",
        "fulfillment.view_parcel",
        "fulfillment.view_return",
        "fulfillment.change_return",
        "fulfillment.view_returnlineitem",
        "markets.view_sku",
        "markets.view_price",
        "markets.view_market",
        "markets.view_address",
    ],
    "Warehouse": [
        "orders.view_order",
        "orders.view_lineitem",
        "orders.view_orderevent",
        "fulfillment.view_shipment",
        "fulfillment.change_shipment",
        "fulfillment.view_parcel",
        "fulfillment.add_parcel",
        "fulfillment.change_parcel",
        "fulfillment.view_return",
        "fulfillment.change_return",
        "fulfillment.view_returnlineitem",
        "fulfillment.view_stockitem",
        "fulfillment.change_stockitem",
        "fulfillment.view_stockadjustment",
        "fulfillment.add_stockadjustment",
        "fulfillment.view_stocklocation",
        "fulfillment.view_stockreservation",
        "fulfillment.view_inventorymodel",
        "fulfillment.view_shippingmethod",
        "markets.view_sku",
        "markets.view_address",
    ],
    "Read only": ["view_*"],
}


def staff_roles_sync(*, group_model: Any = None, permission_model: Any = None) -> None:
    """Create or update the role groups with exactly their permissions (the migration passes
    its historical models; tests and ops call it plainly)."""
    group_model = group_model or Group
    permission_model = permission_model or Permission
    ours = permission_model.objects.filter(content_type__app_label__in=APPS)
    for name, wanted in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=name)
        if wanted == ["*"]:
            permissions = list(ours)
        elif wanted == ["view_*"]:
            permissions = list(ours.filter(codename__startswith="view_"))
        else:
            # A permission a later migration adds is skipped here, and taken by the data
            # migration that comes with it (so an old migration never breaks on new code).
            wanted_q = Q(pk__in=[])
            for dotted in wanted:
                app_label, codename = dotted.split(".")
                wanted_q |= Q(content_type__app_label=app_label, codename=codename)
            permissions = list(permission_model.objects.filter(wanted_q))
        group.permissions.set(permissions)
