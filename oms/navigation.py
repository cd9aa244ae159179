"""The admin's sidebar, grouped as a merchant thinks of the business (issue 9): Orders,
Customers, Catalog, Promotions, Inventory, Payments, Settings. Each link shows only to a user
who may view its page; developer-only pages (API applications, idempotency records) live under
Settings. Promotions has the promotions, their coupons and the SKU lists they target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse_lazy


def can_view(app_label: str, model: str) -> Callable[[HttpRequest], bool]:
    def check(request: HttpRequest) -> bool:
        return request.user.has_perm(f"{app_label}.view_{model}")

    return check


def page(title: str, icon: str, app_label: str, model: str) -> dict[str, Any]:
    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy(f"admin:{app_label}_{model}_changelist"),
        "permission": can_view(app_label, model),
    }


NAVIGATION: list[dict[str, Any]] = [
    {
        "title": "Orders",
        "items": [
            {"title": "Dashboard", "icon": "dashboard", "link": reverse_lazy("admin:index")},
            page("Orders", "shopping_cart", "orders", "order"),
            page("Shipments", "local_shipping", "fulfillment", "shipment"),
            page("Parcels", "package_2", "fulfillment", "parcel"),
            page("Returns", "assignment_return", "fulfillment", "return"),
        ],
    },
    {
        "title": "Customers",
        "items": [
            page("Customers", "person", "orders", "customer"),
            page("Customer groups", "groups", "markets", "customergroup"),
        ],
    },
    {
        "title": "Catalog",
        "items": [
            page("SKUs", "inventory_2", "markets", "sku"),
            page("Prices", "sell", "markets", "price"),
            page("Price lists", "list_alt", "markets", "pricelist"),
            page("Markets", "storefront", "markets", "market"),
            page("Tax calculators", "calculate", "markets", "taxcalculator"),
            page("Tax categories", "receipt", "markets", "taxcategory"),
            page("Shipping categories", "category", "markets", "shippingcategory"),
        ],
    },
    {
        "title": "Promotions",
        "items": [
            page("Promotions", "percent", "orders", "promotion"),
            page("Coupons", "confirmation_number", "orders", "coupon"),
            page("SKU lists", "checklist", "markets", "skulist"),
        ],
    },
    {
        "title": "Inventory",
        "items": [
            page("Stock items", "warehouse", "fulfillment", "stockitem"),
            page("Stock locations", "location_on", "fulfillment", "stocklocation"),
            page("Inventory models", "account_tree", "fulfillment", "inventorymodel"),
            page("Stock reservations", "lock_clock", "fulfillment", "stockreservation"),
            page("Shipping methods", "conveyor_belt", "fulfillment", "shippingmethod"),
            page("Shipping zones", "public", "fulfillment", "shippingzone"),
        ],
    },
    {
        "title": "Payments",
        "items": [
            page("Transactions", "receipt_long", "payments", "transaction"),
            page("Payment methods", "credit_card", "payments", "paymentmethod"),
            page("Payment gateways", "account_balance", "payments", "paymentgateway"),
            page("Wire transfers", "account_balance_wallet", "payments", "wiretransfer"),
            page("External payments", "payments", "payments", "externalpayment"),
            page("Test payments", "science", "payments", "testpayment"),
            page("Gift cards", "redeem", "orders", "giftcard"),
        ],
    },
    {
        "title": "Settings",
        "collapsible": True,
        "items": [
            page("Organization", "domain", "markets", "organization"),
            page("Merchants", "badge", "markets", "merchant"),
            page("Addresses", "home_pin", "markets", "address"),
            page("Staff users", "manage_accounts", "auth", "user"),
            page("Staff roles", "shield_person", "auth", "group"),
            page("API applications", "key", "oauth", "application"),
            page("Webhooks", "webhook", "webhooks", "webhook"),
            page("Webhook deliveries", "outbox", "webhooks", "webhookdelivery"),
            page("Idempotency records", "history", "oms", "idempotencyrecord"),
            page("Tasks", "schedule", "django_tasks_database", "dbtaskresult"),
        ],
    },
]


def navigation(request: HttpRequest) -> list[dict[str, Any]]:
    return NAVIGATION


def favicons(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {"rel": "icon", "sizes": "any", "type": "image/svg+xml", "href": static("oms/favicon.svg")}
    ]


def styles(request: HttpRequest) -> str:
    return static("oms/admin.css")
