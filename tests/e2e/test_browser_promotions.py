"""The back office's promotions, coupons and gift cards, in a real browser: the merchant creates
a percentage promotion with a coupon and disables it with the list action; creates a gift card,
sells, activates and debits it with the list actions and reads its balance log; a refused action
is a message, not an error page; the Read only role sees the lists but nothing that writes."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from orders.models import Coupon, GiftCard, Promotion, PromotionRule
from orders.roles import staff_roles_sync
from orders.services import gift_cards, promotions
from tests.e2e.browser import Page, expect, login
from tests.factories import MarketFactory

PASSWORD = "a-long-enough-passphrase"
ROLES = ("Merchant admin", "Read only")


@pytest.fixture
def staff(transactional_db: None, settings: Any) -> dict[str, str]:
    """One user per role used here (username = the role's name in lower case, dashed)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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


def row(page: Page, text: str) -> Any:
    return page.locator("#result_list tbody tr", has_text=text)


def run_action(page: Page, rows: list[str], action: str, **fields: str) -> None:
    """Tick the list's rows holding these texts, choose the action, fill its fields, and
    click Run as a merchant would (it shows once an action is chosen)."""
    for text in rows:
        row(page, text).locator("input.action-select").check()
    page.select_option("select[name=action]", action)
    for name, value in fields.items():
        page.fill(f"#changelist-actions [name={name}]", value)
    run = page.locator("#changelist-actions button[name=index]")
    expect(run).to_be_visible()
    run.click()


def fill_datetime(page: Page, name: str, when: Any) -> None:
    page.fill(f"[name={name}_0]", when.strftime("%Y-%m-%d"))
    page.fill(f"[name={name}_1]", when.strftime("%H:%M:%S"))


def added(page: Page) -> None:
    expect(page.get_by_text(re.compile("was added successfully"))).to_be_visible()


def promotion_through_the_add_form(page: Page, market: Any, name: str) -> None:
    """A 10 % promotion for the market, running from yesterday for a month."""
    page.goto("/admin/orders/promotion/add/")
    page.select_option("#id_kind", Promotion.Type.PERCENTAGE_DISCOUNT)
    page.fill("#id_name", name)
    page.select_option("#id_market", str(market.pk))
    now = timezone.now()
    fill_datetime(page, "starts_at", now - timedelta(days=1))
    fill_datetime(page, "expires_at", now + timedelta(days=30))
    page.fill("#id_percentage", "10")


def test_the_merchant_creates_a_coupon_promotion_and_disables_it(
    page: Page, staff: dict[str, str]
) -> None:
    market = MarketFactory.create(name="Europe")
    as_role(page, staff, "Merchant admin")
    promotion_through_the_add_form(page, market, "Spring sale")
    page.locator("[name=_continue]").click()
    added(page)
    promotion = Promotion.objects.get(name="Spring sale")
    assert promotion.type == Promotion.Type.PERCENTAGE_DISCOUNT
    assert (promotion.percentage, promotion.market, promotion.currency_code) == (10, market, "EUR")

    # (the inline adding the rule has its own test below; here the rule comes ready-made)
    rule = promotions.promotion_rule_save(
        promotion_rule=PromotionRule(type=PromotionRule.Type.COUPON_CODES, promotion=promotion)
    )
    page.reload()
    page.locator("#promotion_rules-3-group").get_by_role("link", name="0 coupon(s)").click()
    expect(page).to_have_url(re.compile(rf"promotion_rule__id__exact={rule.pk}"))

    page.goto("/admin/orders/coupon/add/")
    page.select_option("#id_promotion_rule", str(rule.pk))
    page.fill("#id_code", "SPRING10")
    page.locator("[name=_save]").click()
    added(page)
    expect(row(page, "SPRING10")).to_contain_text("Spring sale")
    assert Coupon.objects.get(code="SPRING10").promotion_rule == rule

    page.goto("/admin/orders/promotion/")
    listed = row(page, "Spring sale")
    expect(listed).to_contain_text("active")
    expect(listed).to_contain_text("percentage discount")
    expect(listed.locator("td.field-coupons_total")).to_have_text("1")
    run_action(page, ["Spring sale"], "disable_promotions")
    expect(page.get_by_text("1 promotion(s) disabled.")).to_be_visible()
    expect(row(page, "Spring sale")).to_contain_text("disabled")
    promotion.refresh_from_db()
    assert promotion.disabled_at is not None
    assert promotion.status == Promotion.Status.DISABLED


def test_the_coupon_codes_rule_inline_adds_the_rule(page: Page, staff: dict[str, str]) -> None:
    market = MarketFactory.create(name="Europe")
    as_role(page, staff, "Merchant admin")
    promotion_through_the_add_form(page, market, "Spring sale")
    page.get_by_text("Add another Coupon codes rule").click()
    group = page.locator("#promotion_rules-3-group")
    group.locator("input[name$=-needs_coupon]:not([name*=__prefix__])").check()
    page.locator("[name=_continue]").click()
    added(page)
    promotion = Promotion.objects.get(name="Spring sale")
    assert promotion.promotion_rules.filter(type=PromotionRule.Type.COUPON_CODES).exists()


def test_the_gift_cards_run_button_shows_once_an_action_is_chosen(
    page: Page, staff: dict[str, str]
) -> None:
    gift_cards.gift_card_create(data={"market": MarketFactory.create(), "code": "GIFT-0000-1234"})
    as_role(page, staff, "Merchant admin")
    page.goto("/admin/orders/giftcard/")
    row(page, "••••1234").locator("input.action-select").check()
    page.select_option("select[name=action]", "activate_gift_cards")
    expect(page.locator("#changelist-actions button[name=index]")).to_be_visible(timeout=2_000)


def test_the_merchant_sells_activates_and_debits_a_gift_card(
    page: Page, staff: dict[str, str]
) -> None:
    market = MarketFactory.create(name="Europe")
    as_role(page, staff, "Merchant admin")
    page.goto("/admin/orders/giftcard/add/")
    page.fill("#id_new_code", "GIFT-0000-1234")
    page.select_option("#id_market", str(market.pk))
    page.fill("#id_currency_code", "EUR")
    page.fill("#id_balance", "50.00")
    page.locator("[name=_save]").click()
    added(page)
    card = GiftCard.objects.get(code="GIFT-0000-1234")
    assert (card.status, card.balance_cents, card.currency_code) == ("draft", 5000, "EUR")

    run_action(page, ["••••1234"], "purchase_gift_cards")
    expect(page.get_by_text("1 gift card(s) purchased.")).to_be_visible()
    run_action(page, ["••••1234"], "activate_gift_cards")
    expect(page.get_by_text("1 gift card(s) activated.")).to_be_visible()
    expect(row(page, "••••1234")).to_contain_text("active")

    run_action(page, ["••••1234"], "change_balance", balance_change="-10.00")
    expect(page.get_by_text("1 gift card(s) changed.")).to_be_visible()
    expect(row(page, "••••1234")).to_contain_text("€40.00")
    card = GiftCard.objects.get(pk=card.pk)  # a protected FSM field: no refresh_from_db
    assert (card.balance_cents, card.status) == (4000, GiftCard.Status.ACTIVE)

    # refused: an active card cannot be activated again — a message, not an error page
    run_action(page, ["••••1234"], "activate_gift_cards")
    expect(page.get_by_text(re.compile(r"can't be activated now: it is active\."))).to_be_visible()
    expect(page.locator("#result_list")).to_be_visible()
    assert GiftCard.objects.get(pk=card.pk).balance_cents == 4000

    row(page, "••••1234").get_by_role("link", name="••••1234").click()
    moves = page.locator("#balance_changes-group tbody.original")
    expect(moves).to_have_count(2)
    expect(moves.nth(0)).to_contain_text("€50.00")
    expect(moves.nth(1)).to_contain_text(re.compile("[-\u2212]€10\\.00"))
    expect(moves.nth(1)).to_contain_text("€40.00")


def test_read_only_sees_the_lists_but_nothing_that_writes(
    page: Page, staff: dict[str, str]
) -> None:
    market = MarketFactory.create(name="Europe")
    now = timezone.now()
    promotions.promotion_save(
        promotion=Promotion(
            type=Promotion.Type.PERCENTAGE_DISCOUNT,
            name="Spring sale",
            market=market,
            starts_at=now - timedelta(days=1),
            expires_at=now + timedelta(days=30),
            percentage=10,
        )
    )
    card = gift_cards.gift_card_create(
        data={"market": market, "currency_code": "EUR", "balance_cents": 5000, "code": ""}
    )
    as_role(page, staff, "Read only")
    for url, text in (
        ("/admin/orders/promotion/", "Spring sale"),
        ("/admin/orders/giftcard/", card.code[-4:]),
        ("/admin/orders/coupon/", None),
    ):
        page.goto(url)
        if text is not None:
            expect(row(page, text)).to_have_count(1)
        expect(page.locator("a[href$='/add/']")).to_have_count(0)
        expect(page.locator("select[name=action]")).to_have_count(0)
        expect(page.locator("input.action-select")).to_have_count(0)
    page.goto(f"/admin/orders/giftcard/{card.pk}/change/")
    expect(page.locator("[name=_save]")).to_have_count(0)
    expect(page.locator("#balance_changes-group tbody.original")).to_have_count(1)
