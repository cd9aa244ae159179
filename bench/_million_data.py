"""A million orders, generated inside PostgreSQL: `INSERT … SELECT generate_series`, no ORM row.

The demo catalog (`markets.demo.catalog_seed`: three markets, their price lists and SKUs) is
built through the services; customers, orders and line items are then written by a handful of
set-based statements from one plan table, so a million orders and three million lines take
minutes instead of hours. Every row respects the models' constraints and the order workflows'
rules, as if the workflows had written it:

- every order has three SKU lines priced from its market's price list (SKUs that ship and have no
  volume tiers, so a refresh would price them the same), and totals that are their sum;
- carts are `draft` (no customer yet) or `pending`; a placed order has `placed_at` and its place
  total; `payment_status` and `fulfillment_status` are what `orders.statuses` derives from the
  money movement each scenario implies (see `SCENARIOS`);
- a customer's `total_orders_count` counts its orders that were placed, and its `status` follows.

Not generated (so the figures are the lists' and the export's, not a full history): addresses,
shipments, payment sources, transactions and timeline events. `orders.invariants` therefore
cannot check these orders' payments: the tests check the statuses against
`orders.statuses.payment_status_for` with the amounts each scenario implies.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import connection, transaction

from markets.demo import catalog_seed
from oms.ids import ALPHABET, PUBLIC_ID_LENGTH
from oms.models import SequenceCounter
from orders.models import Order
from orders.services.orders import ORDER_NUMBER_SEQUENCE

ORIGIN = "bench_million"  # reference_origin of every generated row
LINES_PER_ORDER = 3
ORDERS_PER_CUSTOMER = 10
DAYS = 365  # orders are spread over the last year, numbered in the order they were created


@dataclass(frozen=True)
class Scenario:
    """One kind of order: its share of the orders (per mille) and the columns it gets."""

    name: str
    per_mille: int
    status: str
    payment_status: str
    fulfillment_status: str
    placed: bool  # has placed_at and place_total_amount_cents
    approved: bool = False
    cancelled: bool = False
    archived: bool = False
    has_customer: bool = True


S = Order.Status
P = Order.PaymentStatus
F = Order.FulfillmentStatus
SCENARIOS = (
    # a cart without a customer yet: draft (spec 2.1)
    Scenario("draft", 80, S.DRAFT, P.UNPAID, F.UNFULFILLED, placed=False, has_customer=False),
    Scenario("pending", 100, S.PENDING, P.UNPAID, F.UNFULFILLED, placed=False),
    # authorized in full, awaiting approval
    Scenario("placed", 170, S.PLACED, P.AUTHORIZED, F.UNFULFILLED, placed=True),
    # approved and captured in full: shipments are being prepared ...
    Scenario("approved", 300, S.APPROVED, P.PAID, F.IN_PROGRESS, placed=True, approved=True),
    # ... or the merchant's `_fulfill` closed it
    Scenario("fulfilled", 230, S.APPROVED, P.PAID, F.FULFILLED, placed=True, approved=True),
    Scenario(
        "fulfilled_archived",
        20,
        S.APPROVED,
        P.PAID,
        F.FULFILLED,
        placed=True,
        approved=True,
        archived=True,
    ),
    # a cart given up by `_cancel` before placement: nothing moved
    Scenario("cart_cancelled", 40, S.CANCELLED, P.UNPAID, F.UNFULFILLED, False, cancelled=True),
    # placed, then cancelled: the authorization was voided in full
    Scenario("placed_cancelled", 40, S.CANCELLED, P.VOIDED, F.UNFULFILLED, True, cancelled=True),
    Scenario(
        "cancelled_archived",
        20,
        S.CANCELLED,
        P.VOIDED,
        F.UNFULFILLED,
        placed=True,
        cancelled=True,
        archived=True,
    ),
)
assert sum(scenario.per_mille for scenario in SCENARIOS) == 1000


@dataclass(frozen=True)
class Generated:
    orders: int
    line_items: int
    customers: int
    seconds: float
    steps: dict[str, float]


def generated_orders_count() -> int:
    return Order.objects.filter(reference_origin=ORIGIN).count()


def million_generate(*, orders: int, log: bool = False) -> Generated:
    """Replace the generated customers, orders and lines with `orders` new orders.

    Refuses to run over orders it did not generate: it empties the order tables first."""
    if connection.vendor != "postgresql":
        raise RuntimeError("the million-order generator needs PostgreSQL")
    if orders < 1:
        raise ValueError("orders must be at least 1")
    started = time.monotonic()
    steps: dict[str, float] = {}

    def step(name: str, sql: str, params: dict[str, int | str] | None = None) -> None:
        began = time.monotonic()
        with connection.cursor() as cursor:
            # one statement at a time: a statement with parameters is sent on its own
            for statement in filter(None, (part.strip() for part in sql.split(";\n"))):
                cursor.execute(statement, params if "%(" in statement else None)
        steps[name] = round(time.monotonic() - began, 2)
        if log:
            print(f"  {name}: {steps[name]:.1f} s", flush=True)

    with transaction.atomic():
        catalog_seed()
    if Order.objects.exclude(reference_origin=ORIGIN).exists():
        raise RuntimeError(
            "this database holds orders the generator did not write: use a database of its own"
        )
    customers = max(1, orders // ORDERS_PER_CUSTOMER)
    with transaction.atomic(), connection.cursor() as cursor:
        # One big transaction: an interrupted run leaves the previous data, not half of it.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # (checks still deferred in this transaction would refuse the TRUNCATE)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        step(
            "truncate",
            "TRUNCATE orders_orderevent, orders_lineitem, orders_order, orders_customer CASCADE",
        )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # checked once, at commit
        step("catalog", CATALOG_SQL)
        step("plan", PLAN_SQL, {"orders": orders, "customers": customers, "days": DAYS})
        step("customers", CUSTOMERS_SQL, {"origin": ORIGIN})
        step("orders", ORDERS_SQL, {"origin": ORIGIN})
        step("line_items", LINE_ITEMS_SQL, {"origin": ORIGIN})
        SequenceCounter.objects.update_or_create(
            name=ORDER_NUMBER_SEQUENCE, defaults={"value": orders}
        )
    # VACUUM sets the visibility map (index-only counts); it cannot run inside a transaction
    # (a test's), where ANALYZE alone gives the planner its statistics.
    analyze = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    for table in ("orders_customer", "orders_order", "orders_lineitem"):
        step(f"analyze {table}", f"{analyze} {table}")
    line_items = orders * LINES_PER_ORDER
    return Generated(
        orders=orders,
        line_items=line_items,
        customers=customers,
        seconds=round(time.monotonic() - started, 1),
        steps=steps,
    )


def _random_id() -> str:
    """SQL for a public id as `oms.ids.new_public_id` makes them: PUBLIC_ID_LENGTH characters of
    ALPHABET (random(), not a CSPRNG: the ids are a benchmark's, their shape is what counts)."""
    pick = f"substr('{ALPHABET}', 1 + floor(random() * {len(ALPHABET)})::int, 1)"
    return " || ".join([pick] * PUBLIC_ID_LENGTH)


def _scenario_table() -> str:
    rows = []
    low = 0
    for scenario in SCENARIOS:
        high = low + scenario.per_mille
        rows.append(
            f"({low}, {high}, '{scenario.name}', '{scenario.status}', '{scenario.payment_status}', "
            f"'{scenario.fulfillment_status}', {scenario.placed}, {scenario.approved}, "
            f"{scenario.cancelled}, {scenario.archived}, {scenario.has_customer})"
        )
        low = high
    return ",\n".join(rows)


# The SKUs a generated line may buy, numbered per market: priced in the market's price list,
# shipped (so no order is all digital), without volume tiers (the unit price is the same for
# every quantity).
CATALOG_SQL = """
DROP TABLE IF EXISTS million_sku;
CREATE TEMPORARY TABLE million_sku ON COMMIT DROP AS
SELECT m.id AS market_id,
       (row_number() OVER (PARTITION BY m.id ORDER BY s.code) - 1)::int AS k,
       s.id AS sku_id, s.code, s.name, p.amount_cents
FROM markets_market m
JOIN markets_price p ON p.price_list_id = m.price_list_id
JOIN markets_sku s ON s.id = p.sku_id
WHERE m.disabled_at IS NULL AND NOT s.do_not_ship
  AND NOT EXISTS (SELECT 1 FROM markets_pricevolumetier t WHERE t.price_id = p.id);
CREATE INDEX ON million_sku (market_id, k);
DROP TABLE IF EXISTS million_market;
CREATE TEMPORARY TABLE million_market ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY m.number) - 1)::int AS k, m.id, pl.currency_code,
       pl.tax_included, (SELECT count(*) FROM million_sku s WHERE s.market_id = m.id)::int AS skus
FROM markets_market m JOIN markets_pricelist pl ON pl.id = m.price_list_id
WHERE m.disabled_at IS NULL;
ANALYZE million_sku;
ANALYZE million_market;
"""

# One row per order to be: its number, id, scenario, market, customer, creation time and its
# three lines (SKU number within the market, quantity). Hashes of the number, not random(),
# choose them, so the same N gives the same mix.
PLAN_SQL = f"""
DROP TABLE IF EXISTS million_scenario;
CREATE TEMPORARY TABLE million_scenario
    (low int, high int, name text, status text, payment_status text, fulfillment_status text,
     placed bool, approved bool, cancelled bool, archived bool, has_customer bool)
    ON COMMIT DROP;
INSERT INTO million_scenario VALUES {_scenario_table()};
DROP TABLE IF EXISTS million_plan;
CREATE TEMPORARY TABLE million_plan ON COMMIT DROP AS
SELECT n, {_random_id()} AS id,
       mod(hashint8(n) & 2147483647, 1000) AS pick,
       mod(hashint8(n * 7 + 1) & 2147483647, (SELECT count(*)::int FROM million_market)) AS market_k,
       mod(hashint8(n * 7 + 2) & 2147483647, %(customers)s) AS customer_k,
       now() - make_interval(days => %(days)s + 4)
           + (n::float8 / %(orders)s) * make_interval(days => %(days)s) AS created_at,
       (hashint8(n * 7 + 3) & 2147483647) AS line_1,
       (hashint8(n * 7 + 4) & 2147483647) AS line_2,
       (hashint8(n * 7 + 5) & 2147483647) AS line_3
FROM generate_series(1, %(orders)s::bigint) AS n;
DROP TABLE IF EXISTS million_customer;
CREATE TEMPORARY TABLE million_customer ON COMMIT DROP AS
SELECT k, {_random_id()} AS id FROM generate_series(0, %(customers)s - 1) AS k;
CREATE UNIQUE INDEX ON million_customer (k);
ANALYZE million_plan;
ANALYZE million_customer;
"""  # noqa: S608 (built from constants, not input)

# A customer's count is of its orders that were placed (`customer_order_placed`), and its
# status follows the count (the database checks it).
CUSTOMERS_SQL = """
INSERT INTO orders_customer
    (id, created_at, updated_at, reference, reference_origin, metadata, email, status,
     customer_group_id, total_orders_count, shopper_reference, password_hash, profile_id,
     tax_exemption_code)
SELECT c.id, now() - interval '400 days', now(), '', %(origin)s, '{}',
       'customer' || c.k || '@million.example',
       CASE WHEN coalesce(placed.count, 0) = 0 THEN 'prospect'
            WHEN placed.count = 1 THEN 'acquired' ELSE 'repeat' END,
       NULL, coalesce(placed.count, 0), '', '', '', ''
FROM million_customer c
LEFT JOIN (
    SELECT p.customer_k, count(*) AS count
    FROM million_plan p JOIN million_scenario s ON p.pick >= s.low AND p.pick < s.high
    WHERE s.placed AND s.has_customer
    GROUP BY p.customer_k
) placed ON placed.customer_k = c.k;
"""

# The line prices of an order, looked up once here and again (the same hashes) for its lines.
_LINES = """
FROM million_plan p
JOIN million_scenario s ON p.pick >= s.low AND p.pick < s.high
JOIN million_market m ON m.k = p.market_k
JOIN million_sku s1 ON s1.market_id = m.id AND s1.k = mod(p.line_1, m.skus)
JOIN million_sku s2 ON s2.market_id = m.id AND s2.k = mod(p.line_2, m.skus)
JOIN million_sku s3 ON s3.market_id = m.id AND s3.k = mod(p.line_3, m.skus)
LEFT JOIN million_customer c ON c.k = p.customer_k AND s.has_customer
"""
_QUANTITY = "(1 + mod(p.line_{i} / 7919, 3))"
_SUBTOTAL = " + ".join(f"s{i}.amount_cents * {_QUANTITY.format(i=i)}" for i in (1, 2, 3))
_SKUS_COUNT = " + ".join(_QUANTITY.format(i=i) for i in (1, 2, 3))

ORDERS_SQL = f"""
INSERT INTO orders_order
    (id, created_at, updated_at, reference, reference_origin, metadata, number, market_id,
     customer_id, customer_email, guest, currency_code, tax_included, language_code, status,
     payment_status, fulfillment_status, shipping_address_id, billing_address_id,
     payment_method_id, autorefresh, place_async, affiliate_code, shipping_country_code_lock,
     cart_url, return_url, terms_url, privacy_url,
     subtotal_amount_cents, shipping_amount_cents, payment_method_amount_cents,
     discount_amount_cents, adjustment_amount_cents, gift_card_amount_cents,
     subtotal_tax_amount_cents, shipping_tax_amount_cents, payment_method_tax_amount_cents,
     adjustment_tax_amount_cents, total_tax_amount_cents, total_amount_cents,
     total_amount_with_taxes_cents, place_total_amount_cents, skus_count, placement_errors,
     placed_at, approved_at, cancelled_at, archived_at, payment_updated_at,
     fulfillment_updated_at, refreshed_at, save_billing_address_to_customer_address_book,
     save_shipping_address_to_customer_address_book, save_payment_source_to_customer_wallet,
     coupon_code, gift_card_code, redemptions_claimed, subtotal_taxable_amount_cents,
     shipping_taxable_amount_cents, payment_method_taxable_amount_cents,
     adjustment_taxable_amount_cents, total_taxable_amount_cents)
SELECT p.id, p.created_at, p.created_at + last.change, '', %(origin)s, '{{}}', p.n, m.id,
       c.id, coalesce('customer' || c.k || '@million.example', ''), false, m.currency_code,
       m.tax_included, 'en', s.status, s.payment_status, s.fulfillment_status, NULL, NULL,
       NULL, true, false, '', '', '', '', '', '',
       t.subtotal, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, t.subtotal, t.subtotal,
       CASE WHEN s.placed THEN t.subtotal END, t.skus, '[]',
       CASE WHEN s.placed THEN placed.at END,
       CASE WHEN s.approved THEN placed.at + interval '2 hours' END,
       CASE WHEN s.cancelled THEN placed.at + interval '1 day' END,
       CASE WHEN s.archived THEN placed.at + interval '3 days' END,
       CASE WHEN s.cancelled AND s.placed THEN placed.at + interval '1 day'
            WHEN s.approved THEN placed.at + interval '2 hours'
            WHEN s.placed THEN placed.at END,
       CASE WHEN s.approved THEN placed.at + interval '2 hours' END,
       p.created_at + interval '11 minutes', false, false, false, '', '', false, t.subtotal, 0, 0, 0, t.subtotal
{_LINES}
CROSS JOIN LATERAL (SELECT p.created_at + interval '12 minutes' AS at) placed
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.archived THEN interval '3 days 12 minutes'
                WHEN s.cancelled THEN interval '1 day 12 minutes'
                WHEN s.approved THEN interval '2 hours 12 minutes'
                ELSE interval '12 minutes' END AS change
) last
CROSS JOIN LATERAL (SELECT {_SUBTOTAL} AS subtotal, {_SKUS_COUNT} AS skus) t
ORDER BY p.n;
"""

LINE_ITEMS_SQL = f"""
INSERT INTO orders_lineitem
    (id, created_at, updated_at, reference, reference_origin, metadata, order_id, item_type,
     sku_id, item_id, sku_code, name, image_url, quantity, unit_amount_cents,
     unit_amount_manual, compare_at_amount_cents, total_amount_cents, discount_cents, tax_rate,
     tax_amount_cents, discount_breakdown, coupon_code)
SELECT {_random_id()}, p.created_at + line.k * interval '1 minute', p.created_at
           + interval '12 minutes', '', %(origin)s, '{{}}', p.id, 'skus',
       line.sku_id, '', line.code, line.name, '', line.quantity, line.amount_cents, false,
       NULL, line.amount_cents * line.quantity, 0, 0, 0, '{{}}', ''
{_LINES}
CROSS JOIN LATERAL (VALUES
    (1, s1.sku_id, s1.code, s1.name, s1.amount_cents, {_QUANTITY.format(i=1)}),
    (2, s2.sku_id, s2.code, s2.name, s2.amount_cents, {_QUANTITY.format(i=2)}),
    (3, s3.sku_id, s3.code, s3.name, s3.amount_cents, {_QUANTITY.format(i=3)})
) AS line (k, sku_id, code, name, amount_cents, quantity)
ORDER BY p.n, line.k;
"""
