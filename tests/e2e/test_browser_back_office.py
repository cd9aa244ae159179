"""A merchant's working day in the back office, in a real browser (issue 9): each staff role
logs in through the form and finds orders by number, e-mail and SKU; the merchant takes an
order from approval to fulfilled with the order page's buttons; the Warehouse role sees no
money button and is refused a money URL; a bulk approval reports what worked and what did not;
the dashboard's figures are those of a query of the same data.

`test_screenshots_of_the_seeded_demo` photographs the dashboard, the order list and an order
page of the seeded demo; `bin/screenshots` runs it with OMS_SCREENSHOTS_DIR=docs/screenshots.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import Sum

from orders.dashboard import period_starts
from orders.models import Order
from orders.roles import staff_roles_sync
from payments.gateways.test import TestGateway
from payments.models import Transaction
from tests.e2e.browser import Page, expect, login, screenshot
from tests.orders.factories import order_in_status
from tests.orders.test_face_equivalence import order_with_two_shipments

PASSWORD = "a-long-enough-passphrase"
ROLES = ("Merchant admin", "Customer service", "Warehouse", "Read only")


@pytest.fixture
def staff(transactional_db: None, settings: Any) -> dict[str, str]:
    """One user per staff role (username = the role's name in lower case, dashed)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    TestGateway.reset()
    staff_roles_sync()
    users = {}
    for role in ROLES:
        username = role.lower().replace(" ", "-")
        user = get_user_model().objects.create_user(username, "", PASSWORD, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        users[role] = username
    return users


def as_role(page: Page, staff: dict[str, str], role: str) -> Page:
    login(page, staff[role], PASSWORD)
    return page


def search(page: Page, term: str) -> Any:
    page.goto("/admin/orders/order/")
    page.fill("#searchbar", term)
    page.press("#searchbar", "Enter")
    return page.locator("#result_list tbody tr")


def press(page: Page, action: str, *, within: str = "body", **fields: str) -> None:
    """Click an order page's button, fill the confirmation's fields, confirm."""
    page.locator(within).locator(f"a[data-action={action}]").first.click()
    expect(page.locator("#confirm")).to_be_visible()
    for name, value in fields.items():
        page.fill(f"#id_{name}", value)
    page.click("#confirm button[name=confirm]")


def badge(page: Page, status: str) -> Any:
    return page.locator(f"#order-actions [data-status={status}]")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_finds_an_order_by_number_email_and_sku(
    page: Page, staff: dict[str, str], role: str
) -> None:
    order = order_in_status("placed")
    other = order_in_status("placed")
    sku_code = order.line_items.get(item_type="skus").sku_code
    as_role(page, staff, role)
    for term in (f"#{order.number}", str(order.number), order.customer_email):
        rows = search(page, term)
        expect(rows).to_have_count(1)
        expect(rows).to_contain_text(f"#{order.number}")
    rows = search(page, sku_code)
    expect(rows.filter(has_text=f"#{order.number}")).to_have_count(1)
    expect(search(page, f"#{order.number}").filter(has_text=f"#{other.number}")).to_have_count(0)


def test_the_merchant_takes_an_order_from_approval_to_fulfilled(
    page: Page, staff: dict[str, str], screenshots: Path
) -> None:
    order = order_with_two_shipments("placed")
    as_role(page, staff, "Merchant admin")
    rows = search(page, f"#{order.number}")
    rows.get_by_role("link", name=f"#{order.number}").click()
    expect(badge(page, "status")).to_have_text("placed")

    press(page, "approve")
    expect(page.get_by_text(f"Order #{order.number} approved.")).to_be_visible()
    expect(badge(page, "status")).to_have_text("approved")

    press(page, "capture", within="#order-payments", amount="10.00")
    expect(page.get_by_text(re.compile(r"Capture .*: €10\.00\."))).to_be_visible()
    expect(badge(page, "payment_status")).to_have_text("partially paid")
    press(page, "capture", within="#order-payments")  # the rest
    expect(badge(page, "payment_status")).to_have_text("paid")

    first_capture = (
        Transaction.objects.filter(order=order, type="captures").order_by("created_at").first()
    )
    assert first_capture is not None
    page.locator(f"#order-payments tr[data-transaction='{first_capture.number}']").locator(
        "a[data-action=refund]"
    ).click()
    page.fill("#id_amount", "2.50")
    page.click("#confirm button[name=confirm]")
    expect(badge(page, "payment_status")).to_have_text("partially refunded")

    shipments = list(order.shipments.order_by("number"))
    assert len(shipments) == 2
    for number, shipment in enumerate(shipments):
        press(
            page,
            "ship",
            within=f"[data-shipment='{shipment.number}']",
            tracking_number=f"TRACK{number}",
        )
        expect(page.get_by_text(f"Shipment {shipment.number} shipped.")).to_be_visible()
    expect(badge(page, "fulfillment_status")).to_have_text("fulfilled")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("approved")
    expect(timeline).to_contain_text("fulfilled")
    expect(page.locator("#order-shipments")).to_contain_text("TRACK1")
    screenshot(page, screenshots, "order-fulfilled")

    order.refresh_from_db()
    assert order.fulfillment_status == Order.FulfillmentStatus.FULFILLED
    assert order.payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED


def test_warehouse_ships_but_sees_no_money_button_and_is_refused_a_money_url(
    page: Page, staff: dict[str, str]
) -> None:
    order = order_with_two_shipments("captured")
    capture = order.transactions.get(type="captures")
    as_role(page, staff, "Warehouse")
    page.goto(f"/admin/orders/order/{order.pk}/change/")
    expect(page.locator("[data-shipment] a[data-action=ship]")).to_have_count(2)
    for money in ("refund", "capture", "void", "approve", "cancel"):
        expect(page.locator(f"a[data-action={money}]")).to_have_count(0)
    response = page.goto(f"/admin/orders/order/{order.pk}/act/refund/?target={capture.pk}")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_text("Not allowed (403)")).to_be_visible()
    expect(page.locator("#nav-sidebar")).to_contain_text("Stock items")  # the admin's layout
    assert not order.transactions.filter(type="refunds").exists()


def test_customer_service_and_read_only_see_only_their_buttons(
    page: Page, staff: dict[str, str]
) -> None:
    order = order_with_two_shipments("captured")
    url = f"/admin/orders/order/{order.pk}/change/"
    as_role(page, staff, "Customer service")
    page.goto(url)
    expect(page.locator("a[data-action=refund]")).to_have_count(1)
    expect(page.locator("a[data-action=approve]")).to_have_count(0)
    expect(page.locator("a[data-action=ship]")).to_have_count(0)
    page.context.clear_cookies()
    as_role(page, staff, "Read only")
    page.goto(url)
    expect(page.locator("#order-actions")).to_be_visible()
    expect(page.locator("a[data-action]")).to_have_count(0)


def test_a_bulk_approval_reports_the_approved_and_the_refused(
    page: Page, staff: dict[str, str]
) -> None:
    placed = order_in_status("placed")
    cancelled = order_in_status("cancelled")
    as_role(page, staff, "Merchant admin")
    page.goto("/admin/orders/order/?stage=all")
    for order in (placed, cancelled):
        page.locator("#result_list tr", has_text=f"#{order.number}").locator(
            "input.action-select"
        ).check()
    page.select_option("select[name=action]", "approve_orders")
    page.locator("button[name=index]").click()
    expect(page.get_by_text("1 order(s) approved.")).to_be_visible()
    expect(
        page.get_by_text(re.compile(rf"1 order\(s\) not approved\. #{cancelled.number}: "))
    ).to_be_visible()
    placed.refresh_from_db()
    assert placed.status == Order.Status.APPROVED


def test_the_dashboard_shows_the_figures_of_the_data(page: Page, staff: dict[str, str]) -> None:
    orders = [order_with_two_shipments("captured") for _ in range(2)]
    order_in_status("placed", market=orders[0].market)
    market = orders[0].market
    as_role(page, staff, "Merchant admin")
    page.goto("/admin/")
    since = period_starts(orders[0].created_at)["today"]
    placed = Order.objects.filter(market=market, placed_at__gte=since).count()
    captured = Transaction.objects.filter(
        order__market=market, type="captures", status="succeeded", created_at__gte=since
    ).aggregate(total=Sum("amount_cents"))["total"]
    card = page.locator(f"[data-market='{market.pk}']")
    expect(card.locator("[data-figure=orders-today]")).to_have_text(str(placed))
    expect(card.locator("[data-figure=captured-today]")).to_have_text(f"€{captured / 100:,.2f}")
    waiting = Order.objects.filter(status="placed", archived_at__isnull=True).count()
    expect(page.locator("[data-figure=to_approve]")).to_have_text(str(waiting))
    expect(card.locator("canvas")).to_have_count(2)


def test_screenshots_of_the_seeded_demo(
    page: Page, transactional_db: None, settings: Any, screenshots: Path
) -> None:
    """The README's pictures, from the demo as `bin/demo` seeds it (fewer orders)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", orders=int(os.environ.get("OMS_SCREENSHOT_ORDERS", "40")))
    directory = Path(os.environ.get("OMS_SCREENSHOTS_DIR") or screenshots)
    directory.mkdir(parents=True, exist_ok=True)
    login(page, "admin", os.environ.get("OMS_DEMO_ADMIN_PASSWORD", "oms-demo-2026"))
    expect(page.locator("[data-market]").first).to_be_visible()
    screenshot(page, directory, "dashboard", full_page=False)
    page.goto("/admin/orders/order/")
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    screenshot(page, directory, "order-list", full_page=False)
    order = (
        Order.objects.filter(status="approved", payment_status="paid")
        .exclude(fulfillment_status="fulfilled")
        .order_by("-number")
        .first()
    )
    assert order is not None
    page.goto(f"/admin/orders/order/{order.pk}/change/")
    expect(page.locator("#order-actions")).to_be_visible()
    screenshot(page, directory, "order-page", full_page=True)
    for name in ("dashboard", "order-list", "order-page"):
        assert (directory / f"{name}.png").stat().st_size > 10_000
