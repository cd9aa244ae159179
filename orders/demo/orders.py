"""A few hundred demo orders in every state, built only through the services, as a storefront
and a back office would: carts, checkouts, placements, approvals, captures, shipments,
cancellations and refunds.

Deterministic: the same `seed` and `count` on the same catalog give the same orders (their
random ids aside). Idempotent: when demo orders exist (`reference="seed_demo"`), none are added.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F, QuerySet

from fulfillment.models import (
    InventoryModel,
    Parcel,
    Shipment,
    StockItem,
    UnitOfWeight,
)
from fulfillment.selectors import (
    inventory_stock_locations,
    reserved_quantities,
    shipment_weight,
    shipping_methods_available,
)
from fulfillment.services import parcel_save
from markets.models import Address, Market, Sku
from orders.demo import SEED_ACTOR
from orders.demo.customers import CUSTOMERS, DemoCustomer, customer_address_of
from orders.models import Order, OrderEvent
from orders.services import (
    line_item_create,
    line_item_delete,
    order_approve,
    order_cancel,
    order_capture,
    order_create,
    order_place,
    order_refund,
    order_shipment_shipping_method_set,
    order_shipment_trigger,
    order_update,
)
from orders.services.money import order_authorization_capture, order_capture_refund
from payments.errors import PaymentFailed
from payments.models import PaymentMethod, PaymentSourceType, Transaction
from payments.selectors import order_capturable_authorizations, order_refundable_captures
from payments.services import test_payment_create, wire_transfer_create

ORDER_REFERENCE = "seed_demo"
DEFAULT_COUNT = 300
DEFAULT_SEED = 2026

# Scenario -> share of the orders (out of 100). Every scenario gets at least one order when
# there are enough orders for all of them.
SCENARIOS: dict[str, int] = {
    "draft": 5,  # a guest cart without an e-mail, or an e-mail without lines
    "pending": 9,  # a cart with a customer, some ready for checkout
    "cart_cancelled": 4,  # an abandoned cart, cancelled before placement
    "payment_declined": 4,  # checkout with a declined card: still pending, errors recorded
    "placed": 12,  # placed and authorized, waiting for approval
    "placed_cancelled": 5,  # placed, then cancelled: the authorization voided
    "captured": 14,  # approved and captured, being picked or packed
    "partially_captured": 4,  # approved, half of the authorization captured
    "partially_shipped": 8,  # two shipments, one of them shipped
    "fulfilled": 24,  # every shipment shipped, most delivered
    "refunded": 3,  # approved and captured, then fully refunded (cancelled)
    "partially_refunded": 8,  # fulfilled, then part of the capture refunded (a return)
}
MARKET_WEIGHTS = {"eu": 5, "us": 3, "uk": 2}
LANGUAGES = {"NL": "nl", "DE": "de", "FR": "fr", "IT": "it", "ES": "es"}
LINES_PER_ORDER = (1, 1, 2, 2, 2, 3, 3, 4)
QUANTITIES = (1, 1, 1, 1, 2, 2, 3)


def scenario_plan(count: int, rng: random.Random) -> list[str]:
    """`count` scenarios in a shuffled order, in the shares of SCENARIOS (largest remainder),
    each at least once when `count` allows."""
    total = sum(SCENARIOS.values())
    minimum = 1 if count >= len(SCENARIOS) else 0
    exact = {name: count * weight / total for name, weight in SCENARIOS.items()}
    counts = {name: max(minimum, int(share)) for name, share in exact.items()}
    by_remainder = sorted(SCENARIOS, key=lambda name: exact[name] - int(exact[name]), reverse=True)
    while sum(counts.values()) < count:
        for name in by_remainder:
            if sum(counts.values()) < count:
                counts[name] += 1
    while sum(counts.values()) > count:
        largest = max(counts, key=lambda name: counts[name])
        counts[largest] -= 1
    plan = [name for name, times in counts.items() for _ in range(times)]
    rng.shuffle(plan)
    return plan


class DemoStockExhausted(Exception):
    """The demo stock cannot serve another order (thousands of orders were asked for)."""


@dataclass
class MarketSetup:
    """What the demo orders of one market draw from."""

    market: Market
    inventory_model: InventoryModel
    customers: list[tuple[DemoCustomer, Address]]
    skus: list[Sku]  # shippable, tracked, priced
    digital: list[Sku]
    payment_methods: dict[str, PaymentMethod]  # payment source type -> method
    location_ids: list[str] = field(default_factory=list)  # by priority

    def stock(self) -> dict[str, dict[str, int]]:
        """Units available now, per stock location (by priority) and SKU."""
        items = list(
            StockItem.objects.filter(stock_location_id__in=self.location_ids).values_list(
                "pk", "stock_location_id", "sku_id", "quantity"
            )
        )
        reserved = reserved_quantities(stock_item_ids=[pk for pk, _, _, _ in items])
        available: dict[str, dict[str, int]] = {pk: {} for pk in self.location_ids}
        for pk, location_id, sku_id, quantity in items:
            available[location_id][sku_id] = quantity - reserved.get(pk, 0)
        return available

    def can_ship(self, stock: dict[str, dict[str, int]], wanted: dict[str, int]) -> bool:
        """Whether the inventory model can serve these units (SKU id -> quantity): from one
        location with `no_split`, from all of them together with `split_shipments`."""
        if self.inventory_model.strategy == InventoryModel.Strategy.NO_SPLIT:
            return any(
                all(stock[location].get(sku, 0) >= units for sku, units in wanted.items())
                for location in self.location_ids
            )
        return all(
            sum(stock[location].get(sku, 0) for location in self.location_ids) >= units
            for sku, units in wanted.items()
        )


def _market_setups() -> dict[str, MarketSetup]:
    setups: dict[str, MarketSetup] = {}
    for market in Market.objects.select_related("price_list", "inventory_model").order_by("code"):
        if market.inventory_model is None:
            continue
        priced = Sku.objects.filter(prices__price_list=market.price_list_id).order_by("code")
        methods = {
            method.payment_source_type: method
            for method in PaymentMethod.objects.filter(
                market=market, disabled_at__isnull=True, payment_gateway__disabled_at__isnull=True
            ).order_by("name", "pk")
        }
        setups[market.code] = MarketSetup(
            market=market,
            inventory_model=market.inventory_model,
            customers=[
                (person, customer_address_of(person))
                for person in CUSTOMERS
                if person.market == market.code
            ],
            skus=list(priced.filter(do_not_ship=False, do_not_track=False)),
            digital=list(priced.filter(do_not_ship=True)),
            payment_methods=methods,
            location_ids=[
                location.stock_location_id
                for location in inventory_stock_locations(inventory_model=market.inventory_model)
            ],
        )
    return setups


# --- building blocks ---------------------------------------------------------------------------


def _pick_lines(
    rng: random.Random, setup: MarketSetup, *, in_stock: bool, categories: int = 1
) -> list[tuple[Sku, int]]:
    """SKUs and quantities for a cart. With `in_stock`, only what the market can ship now
    (so that placing succeeds); `categories` asks for SKUs of at least that many shipping
    categories (two shipping categories make two shipments)."""
    stock = setup.stock() if in_stock else {}
    wanted: dict[str, int] = {}
    lines: list[tuple[Sku, int]] = []
    size = max(rng.choice(LINES_PER_ORDER), categories)
    for _ in range(size * 4):  # a few tries per line: some SKUs are scarce
        if len(lines) == size:
            break
        used = {sku.shipping_category_id for sku, _ in lines}
        pool = setup.skus
        if len(used) < categories and lines:
            pool = [sku for sku in pool if sku.shipping_category_id not in used] or pool
        sku = rng.choice(pool)
        quantity = rng.choice(QUANTITIES)
        if sku.pk in wanted:
            continue
        if in_stock and not setup.can_ship(stock, {**wanted, sku.pk: quantity}):
            continue
        wanted[sku.pk] = quantity
        lines.append((sku, quantity))
    if in_stock and not lines:
        raise DemoStockExhausted(
            f"The demo stock of the market {setup.market.code} is used up: seed fewer orders."
        )
    if setup.digital and rng.random() < 0.1:
        lines.append((rng.choice(setup.digital), 1))  # digital goods ship nothing
    return lines


def _cart(
    rng: random.Random,
    setup: MarketSetup,
    scenario: str,
    *,
    in_stock: bool,
    categories: int = 1,
) -> Order:
    """A new cart with its lines, built with `autorefresh` off: adding each line then skips
    re-planning shipments and recomputing totals, which the caller's next `_finish` (turning
    `autorefresh` back on) does once for all of them, as a storefront batching its changes."""
    order = order_create(
        market=setup.market,
        actor=SEED_ACTOR,
        data={
            "reference": ORDER_REFERENCE,
            "metadata": {"demo_scenario": scenario},
            "autorefresh": False,
        },
    )
    for sku, quantity in _pick_lines(rng, setup, in_stock=in_stock, categories=categories):
        line_item_create(order=order, actor=SEED_ACTOR, sku=sku, quantity=quantity)
    return order


def _finish(order: Order, **data: object) -> Order:
    """Turn `autorefresh` back on, with `data`: prices, shipments and totals are recomputed."""
    return order_update(order=order, actor=SEED_ACTOR, data={**data, "autorefresh": True})


def _customer_set(rng: random.Random, setup: MarketSetup, order: Order) -> Order:
    person, _ = rng.choice(setup.customers)
    return _finish(
        order,
        customer_email=person.email,
        language_code=LANGUAGES.get(person.country_code, "en"),
    )


def _checkout(rng: random.Random, setup: MarketSetup, order: Order, *, token: str = "") -> Order:
    """Customer, addresses (from the customer's address book), shipping methods, payment
    method and source: what `_place` needs. A card (with `token`) or, if not given, a card
    or a bank transfer."""
    person, home = rng.choice(setup.customers)
    source_type = (
        PaymentSourceType.TEST_PAYMENTS
        if token or rng.random() < 0.7
        else PaymentSourceType.WIRE_TRANSFERS
    )
    order = _finish(
        order,
        customer_email=person.email,
        language_code=LANGUAGES.get(person.country_code, "en"),
        shipping_address=home,
        _billing_address_same_as_shipping=True,
        payment_method=setup.payment_methods[source_type],
    )
    shipments = Shipment.objects.filter(order=order).select_related(
        "order__shipping_address", "inventory_stock_location"
    )
    for shipment in shipments.order_by("number"):
        methods = shipping_methods_available(shipment=shipment)
        # Mostly the cheapest (standard, often free over its threshold), sometimes express.
        method = rng.choices(methods, weights=([6, 3] + [1] * len(methods))[: len(methods)])[0]
        order_shipment_shipping_method_set(
            shipment=shipment, shipping_method=method, actor=SEED_ACTOR
        )
    if source_type == PaymentSourceType.TEST_PAYMENTS:
        test_payment_create(order=order, token=token or "tok_success")
    else:
        wire_transfer_create(order=order)
    return order


def _placed(rng: random.Random, setup: MarketSetup, scenario: str, *, categories: int = 1) -> Order:
    order = _cart(rng, setup, scenario, in_stock=True, categories=categories)
    order = _checkout(rng, setup, order)
    return order_place(order=order, actor=SEED_ACTOR)


def _captured(
    rng: random.Random, setup: MarketSetup, scenario: str, *, categories: int = 1
) -> Order:
    order = order_approve(
        order=_placed(rng, setup, scenario, categories=categories), actor=SEED_ACTOR
    )
    return order_capture(order=order, actor=SEED_ACTOR)


SHIPPING_STEPS = ("_picking", "_packing", "_ready_to_ship", "_ship", "_deliver")


def _ship(rng: random.Random, shipment: Shipment, *, until: str) -> None:
    """Move a shipment through the warehouse up to `until`, with a parcel once packed."""
    for trigger in SHIPPING_STEPS[: SHIPPING_STEPS.index(until) + 1]:
        if trigger == "_ready_to_ship":
            grams = shipment_weight(shipment=shipment) + Decimal(150)  # the box
            parcel_save(
                parcel=Parcel(
                    shipment=shipment,
                    weight=grams,
                    unit_of_weight=UnitOfWeight.GRAMS,
                    tracking_number=f"DEMO{rng.randrange(10**10):010d}",
                ),
                actor=SEED_ACTOR,
            )
        shipment = order_shipment_trigger(shipment=shipment, trigger=trigger, actor=SEED_ACTOR)


def _shipments(order: Order) -> list[Shipment]:
    return list(
        Shipment.objects.filter(order=order)
        .exclude(status=Shipment.Status.CANCELLED)
        .order_by("number")
    )


# --- the scenarios -----------------------------------------------------------------------------


def _draft(rng: random.Random, setup: MarketSetup) -> Order:
    order = _cart(rng, setup, "draft", in_stock=False)
    if rng.random() < 0.6:
        return _finish(order)  # a guest still browsing: no e-mail yet
    # A customer who emptied the cart: back from pending to draft.
    order = _customer_set(rng, setup, order)
    for line in order.line_items.filter(item_type="skus").order_by("pk"):
        line_item_delete(line_item=line, actor=SEED_ACTOR)
    return order


def _pending(rng: random.Random, setup: MarketSetup) -> Order:
    order = _cart(rng, setup, "pending", in_stock=False)
    if rng.random() < 0.5:
        return _customer_set(rng, setup, order)
    return _checkout(rng, setup, order)  # ready to place, not placed yet


def _cart_cancelled(rng: random.Random, setup: MarketSetup) -> Order:
    order = _customer_set(rng, setup, _cart(rng, setup, "cart_cancelled", in_stock=False))
    return order_cancel(order=order, actor=SEED_ACTOR)


def _payment_declined(rng: random.Random, setup: MarketSetup) -> Order:
    order = _cart(rng, setup, "payment_declined", in_stock=True)
    order = _checkout(rng, setup, order, token="tok_declined")  # noqa: S106
    with contextlib.suppress(PaymentFailed):  # stays pending, the decline recorded
        order_place(order=order, actor=SEED_ACTOR)
    return order


def _placed_only(rng: random.Random, setup: MarketSetup) -> Order:
    return _placed(rng, setup, "placed")


def _placed_cancelled(rng: random.Random, setup: MarketSetup) -> Order:
    return order_cancel(order=_placed(rng, setup, "placed_cancelled"), actor=SEED_ACTOR)


def _captured_only(rng: random.Random, setup: MarketSetup) -> Order:
    order = _captured(rng, setup, "captured")
    step = rng.choice([None, None, "_picking", "_packing"])
    if step is not None:
        for shipment in _shipments(order):
            _ship(rng, shipment, until=step)
    return order


def _partially_captured(rng: random.Random, setup: MarketSetup) -> Order:
    order = order_approve(order=_placed(rng, setup, "partially_captured"), actor=SEED_ACTOR)
    authorization = order_capturable_authorizations(order_id=order.pk).first()
    assert authorization is not None
    order_authorization_capture(
        authorization=authorization,
        amount_cents=authorization.amount_cents // 2,
        actor=SEED_ACTOR,
    )
    return Order.objects.get(pk=order.pk)


def _partially_shipped(rng: random.Random, setup: MarketSetup) -> Order:
    order = _captured(rng, setup, "partially_shipped", categories=2)
    first, *others = _shipments(order)
    _ship(rng, first, until="_ship")
    for shipment in others:
        _ship(rng, shipment, until=rng.choice(["_picking", "_packing"]))
    return order


def _fulfilled(rng: random.Random, setup: MarketSetup, scenario: str = "fulfilled") -> Order:
    order = _captured(rng, setup, scenario)
    *earlier, last = _shipments(order)
    for shipment in earlier:
        _ship(rng, shipment, until="_deliver" if rng.random() < 0.8 else "_ship")
    # Shipping the last shipment fulfills the order, and the fulfillment app then refuses
    # `_deliver` (it needs the fulfillment in progress): the last one stays shipped.
    _ship(rng, last, until="_ship")
    return order


def _refunded(rng: random.Random, setup: MarketSetup) -> Order:
    return order_refund(order=_captured(rng, setup, "refunded"), actor=SEED_ACTOR)


def _partially_refunded(rng: random.Random, setup: MarketSetup) -> Order:
    """A fulfilled order of which the customer sent one unit back: that unit is refunded."""
    order = _fulfilled(rng, setup, "partially_refunded")
    capture = order_refundable_captures(order_id=order.pk).first()
    assert capture is not None
    cheapest = order.line_items.filter(item_type="skus").order_by("unit_amount_cents").first()
    unit = cheapest.unit_amount_cents if cheapest is not None else 0
    amount = min(unit, capture.amount_cents - 1) or capture.amount_cents // 2
    order_capture_refund(capture=capture, amount_cents=amount, actor=SEED_ACTOR)
    return Order.objects.get(pk=order.pk)


BUILDERS: dict[str, Callable[[random.Random, MarketSetup], Order]] = {
    "draft": _draft,
    "pending": _pending,
    "cart_cancelled": _cart_cancelled,
    "payment_declined": _payment_declined,
    "placed": _placed_only,
    "placed_cancelled": _placed_cancelled,
    "captured": _captured_only,
    "partially_captured": _partially_captured,
    "partially_shipped": _partially_shipped,
    "fulfilled": _fulfilled,
    "refunded": _refunded,
    "partially_refunded": _partially_refunded,
}


ORDER_DATES = (
    "created_at",
    "updated_at",
    "placed_at",
    "approved_at",
    "cancelled_at",
    "payment_updated_at",
    "fulfillment_updated_at",
)
SHIPMENT_DATES = (
    "created_at",
    "updated_at",
    "on_hold_at",
    "picking_at",
    "packing_at",
    "ready_to_ship_at",
    "shipped_at",
    "delivered_at",
)


def _shifted(fields: tuple[str, ...], by: timedelta) -> dict[str, Any]:
    return {name: F(name) - by for name in fields}


def _spread_over_past_month(rng: random.Random) -> None:
    """Move each placed demo order's history (its dates, transactions, shipments, timeline)
    back by up to 29 days, more of them recent, so the dashboard's days and periods have a
    month to show. Carts stay today: their reservations expire from now."""
    placed = demo_orders().filter(placed_at__isnull=False).order_by("number")
    for order_id in placed.values_list("id", flat=True):
        days = min(int(rng.expovariate(1 / 9)), 29)
        by = timedelta(days=days, minutes=rng.randrange(0, 600))
        if not days:
            continue
        Order.objects.filter(pk=order_id).update(**_shifted(ORDER_DATES, by))
        Transaction.objects.filter(order_id=order_id).update(
            **_shifted(("created_at", "updated_at"), by)
        )
        Shipment.objects.filter(order_id=order_id).update(**_shifted(SHIPMENT_DATES, by))
        OrderEvent.objects.filter(order_id=order_id).update(**_shifted(("created_at",), by))


def demo_orders() -> QuerySet[Order]:
    return Order.objects.filter(reference=ORDER_REFERENCE)


def orders_seed(*, count: int = DEFAULT_COUNT, seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Build `count` demo orders (none if demo orders exist). Returns the number of demo
    orders per status."""
    if not demo_orders().exists():
        rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        setups = _market_setups()
        markets = [code for code in MARKET_WEIGHTS if code in setups]
        weights = [MARKET_WEIGHTS[code] for code in markets]
        for scenario in scenario_plan(count, rng):
            setup = setups[rng.choices(markets, weights=weights)[0]]
            BUILDERS[scenario](rng, setup)
        _spread_over_past_month(rng)
    counts: dict[str, int] = defaultdict(int)
    counts.update(Counter(demo_orders().values_list("status", flat=True)))
    return dict(counts)
