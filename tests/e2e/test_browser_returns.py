"""Returns in the back office, in a real browser (spec section 5): the merchant opens a fulfilled
order, creates a return of one of its lines, requests, approves, marks it shipped and received,
restocks and refunds it with the return page's buttons, and reads the status, the refund and
the order's payment status on the pages; a quantity too big is a form error with nothing
created; the Read only role sees the return but no button."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from fulfillment.models import Return, StockItem
from orders.models import Order
from orders.roles import staff_roles_sync
from payments.gateways.test import TestGateway
from payments.models import Transaction
from tests.e2e.browser import Page, expect, login, screenshot, sidebar_link
from tests.fulfillment.return_factories import order_fulfilled, return_with_lines, sku_lines

PASSWORD = "a-long-enough-passphrase"
ROLES = ("Merchant admin", "Read only")


@pytest.fixture
def staff(transactional_db: None, settings: Any) -> dict[str, str]:
    """One user per role used here (username = the role's name in lower case, dashed)."""
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


def press(page: Page, action: str, **fields: str) -> None:
    """Click a return page's button, fill the confirmation's fields, confirm."""
    page.locator(f"#return-actions a[data-action={action}]").click()
    expect(page.locator("#confirm")).to_be_visible()
    for name, value in fields.items():
        page.fill(f"#id_{name}", value)
    page.click("#confirm button[name=confirm]")


def status(page: Page) -> Any:
    return page.locator("#return-actions [data-status=return]")


def test_the_merchant_takes_a_return_from_creation_to_refund(
    page: Page, staff: dict[str, str], screenshots: Path
) -> None:
    order = order_fulfilled(amounts=(1000, 2500), quantity=2)
    first, second = sku_lines(order)
    as_role(page, staff, "Merchant admin")
    page.goto(f"/admin/orders/order/{order.pk}/change/")
    expect(page.locator("#order-actions [data-status=fulfillment_status]")).to_have_text(
        "fulfilled"
    )
    expect(page.locator("#order-returns")).to_contain_text("No returns.")
    page.locator("#order-actions a[data-action=create_return]").click()

    # one unit of the first line; the second stays at 0
    expect(page.locator("#create-return")).to_be_visible()
    page.fill(f"[name=quantity_{first.pk}]", "1")
    screenshot(page, screenshots, "return-create")
    page.click("#create-return button[name=create]")
    expect(
        page.get_by_text(re.compile(r"Return \S+ created with 1 unit\(s\), €10\.00\."))
    ).to_be_visible()
    ret = Return.objects.get(order=order)
    expect(page).to_have_url(re.compile(rf"/admin/fulfillment/return/{ret.pk}/change/"))
    expect(status(page)).to_have_text("draft")
    expect(page.locator("#return_line_items-group")).to_contain_text(first.sku_code)
    expect(page.locator("#return_line_items-group")).not_to_contain_text(second.sku_code)

    item = StockItem.objects.get(sku=first.sku, stock_location=ret.stock_location)
    before = item.quantity
    for action, label, now in (
        ("request", "requested", "requested"),
        ("approve", "approved", "approved"),
        ("ship", "marked shipped", "shipped"),
        ("receive", "marked received", "received"),
        ("restock", "restocked", "received"),
    ):
        press(page, action)
        expect(page.get_by_text(f"Return {ret.number} {label}.")).to_be_visible()
        expect(status(page)).to_have_text(now)
    item.refresh_from_db()
    assert item.quantity == before + 1
    expect(page.locator("#return-actions a[data-action=restock]")).to_have_count(0)

    press(page, "refund")  # no amount: what the line cost
    refund = Transaction.objects.get(order=order, type="refunds")
    assert (refund.status, refund.amount_cents) == ("succeeded", 1000)
    expect(
        page.get_by_text(f"Return {ret.number} refunded: €10.00 (refund {refund.number}).")
    ).to_be_visible()
    expect(status(page)).to_have_text("refunded")
    expect(page.locator(f"#return-actions [data-refund='{refund.number}']")).to_contain_text(
        "€10.00"
    )
    expect(page.locator("#return-actions [data-status=payment_status]")).to_have_text(
        "partially refunded"
    )
    expect(page.locator("#return-actions a[data-action]")).to_have_count(0)
    screenshot(page, screenshots, "return-refunded")

    # the order's page: its payment status, the refund and the return
    page.locator(f"#return-actions a[data-order='{order.number}']").click()
    expect(page.locator("#order-actions [data-status=payment_status]")).to_have_text(
        "partially refunded"
    )
    expect(page.locator(f"#order-payments [data-transaction='{refund.number}']")).to_contain_text(
        "€10.00"
    )
    expect(page.locator(f"#order-returns [data-return='{ret.number}']")).to_contain_text("refunded")
    expect(page.locator("#timeline")).to_contain_text("Return created")
    screenshot(page, screenshots, "return-order-page")
    assert Order.objects.get(pk=order.pk).payment_status == Order.PaymentStatus.PARTIALLY_REFUNDED

    # and the list of returns, from the sidebar
    sidebar_link(page, "Returns").click()
    row = page.locator("#result_list tbody tr", has_text=ret.number)
    expect(row).to_contain_text("refunded")
    expect(row).to_contain_text(order.customer_email)
    screenshot(page, screenshots, "return-list")


def test_a_quantity_too_big_is_a_form_error_and_nothing_is_created(
    page: Page, staff: dict[str, str]
) -> None:
    order = order_fulfilled(quantity=2)
    [line] = sku_lines(order)
    as_role(page, staff, "Merchant admin")
    page.goto(f"/admin/fulfillment/return/create/{order.pk}/")
    page.fill(f"[name=quantity_{line.pk}]", "3")
    page.click("#create-return button[name=create]")
    expect(page.locator("#create-return .errorlist")).to_contain_text(
        f"Only 2 of {line.sku_code} can be returned."
    )
    assert not Return.objects.filter(order=order).exists()


def test_read_only_sees_a_return_but_no_button(page: Page, staff: dict[str, str]) -> None:
    order = order_fulfilled()
    ret = return_with_lines(order, to="requested")
    as_role(page, staff, "Read only")
    page.goto(f"/admin/orders/order/{order.pk}/change/")
    expect(page.locator("#order-actions a[data-action=create_return]")).to_have_count(0)
    page.locator(f"#order-returns [data-return='{ret.number}'] a").click()
    expect(status(page)).to_have_text("requested")
    expect(page.locator("#return-actions a[data-action]")).to_have_count(0)
    expect(page.locator("[name=_save]")).to_have_count(0)
