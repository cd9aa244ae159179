"""The admin's home page: the business per market and currency (issue 9).

Today, the last 7 and the last 30 days (each from local midnight): orders placed, revenue
captured, average order value, refunds; orders and revenue per day over 30 days; the queues that
need someone; the SKUs running out per location. Aggregate queries only, each over an index
range (`placed_at`, the captures' `created_at`) or a small table, so the page costs the same
seven statements at a hundred orders or a million.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import StockItem
from fulfillment.selectors import stock_items_with_availability
from markets.models import Market
from oms.money import currency_exponent, format_money
from orders.models import Order, OrderEvent
from payments.models import Transaction

PERIODS = (("today", "Today", 1), ("week", "7 days", 7), ("month", "30 days", 30))
LOW_STOCK_ROWS = 15
Status = Order.Status
PaymentStatus = Order.PaymentStatus
FulfillmentStatus = Order.FulfillmentStatus


@dataclass
class Figures:
    orders: int = 0
    value_cents: int = 0
    captured_cents: int = 0
    refunded_cents: int = 0

    @property
    def average_cents(self) -> int:
        return round(self.value_cents / self.orders) if self.orders else 0


@dataclass
class MarketSummary:
    market_id: str
    market_name: str
    currency_code: str
    periods: dict[str, Figures] = field(
        default_factory=lambda: {key: Figures() for key, *_ in PERIODS}
    )
    orders_per_day: dict[datetime.date, int] = field(default_factory=dict)
    captured_per_day: dict[datetime.date, int] = field(default_factory=dict)


def period_starts(now: datetime.datetime) -> dict[str, datetime.datetime]:
    """Local midnight of today, of 6 days ago and of 29 days ago (so "7 days" is today and the
    six before it)."""
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return {key: midnight - datetime.timedelta(days=days - 1) for key, _, days in PERIODS}


def market_summaries(*, now: datetime.datetime | None = None) -> list[MarketSummary]:
    """The figures of every market and currency that has had an order or money in 30 days."""
    now = now or timezone.now()
    starts = period_starts(now)
    since = starts["month"]
    summaries: dict[tuple[str, str], MarketSummary] = {}

    def summary(market_id: str, currency_code: str) -> MarketSummary:
        key = (market_id, currency_code)
        if key not in summaries:
            summaries[key] = MarketSummary(market_id, "", currency_code)
        return summaries[key]

    placed = Order.objects.filter(placed_at__gte=since).order_by()
    order_rows: Any = placed.values("market_id", "currency_code").annotate(
        **{
            f"{key}_orders": Count("id", filter=Q(placed_at__gte=start))
            for key, start in starts.items()
        },
        **{
            f"{key}_value": Sum("total_amount_with_taxes_cents", filter=Q(placed_at__gte=start))
            for key, start in starts.items()
        },
    )
    for row in order_rows:
        one = summary(row["market_id"], row["currency_code"])
        for key in starts:
            one.periods[key].orders = row[f"{key}_orders"]
            one.periods[key].value_cents = int(row[f"{key}_value"] or 0)

    money = Transaction.objects.filter(
        status=Transaction.Status.SUCCEEDED,
        type__in=[Transaction.Type.CAPTURES, Transaction.Type.REFUNDS],
        created_at__gte=since,
    ).order_by()
    money_rows: Any = money.values("order__market_id", "currency_code").annotate(
        **{
            f"{key}_{kind}": Sum("amount_cents", filter=Q(type=kind_type, created_at__gte=start))
            for key, start in starts.items()
            for kind, kind_type in (
                ("captured", Transaction.Type.CAPTURES),
                ("refunded", Transaction.Type.REFUNDS),
            )
        }
    )
    for row in money_rows:
        one = summary(row["order__market_id"], row["currency_code"])
        for key in starts:
            one.periods[key].captured_cents = int(row[f"{key}_captured"] or 0)
            one.periods[key].refunded_cents = int(row[f"{key}_refunded"] or 0)

    per_day: Any = (
        placed.annotate(day=TruncDate("placed_at"))
        .values("market_id", "currency_code", "day")
        .annotate(orders=Count("id"))
    )
    for row in per_day:
        summary(row["market_id"], row["currency_code"]).orders_per_day[row["day"]] = row["orders"]
    captured_per_day: Any = (
        money.filter(type=Transaction.Type.CAPTURES)
        .annotate(day=TruncDate("created_at"))
        .values("order__market_id", "currency_code", "day")
        .annotate(captured=Sum("amount_cents"))
    )
    for row in captured_per_day:
        one = summary(row["order__market_id"], row["currency_code"])
        one.captured_per_day[row["day"]] = int(row["captured"] or 0)

    names = dict(
        Market.objects.filter(pk__in={key[0] for key in summaries}).values_list("id", "name")
    )
    for one in summaries.values():
        one.market_name = names.get(one.market_id, one.market_id)
    return sorted(summaries.values(), key=lambda one: (one.market_name, one.currency_code))


@dataclass
class Queue:
    key: str
    label: str
    link: str
    count: int | None = None


def _waiting(now: datetime.datetime) -> dict[str, tuple[str, Q, str]]:
    """Each queue: its label, which orders wait in it, the order list's query showing them."""
    stale = now - datetime.timedelta(seconds=settings.OMS_PLACEMENT_STALE_SECONDS)
    return {
        "to_approve": (
            "Placed, not approved",
            Q(status=Status.PLACED),
            "status__exact=placed",
        ),
        "to_capture": (
            "Approved, not captured",
            Q(
                status=Status.APPROVED,
                payment_status__in=[PaymentStatus.AUTHORIZED, PaymentStatus.PARTIALLY_PAID],
            ),
            "status__exact=approved&payment_status__in=authorized,partially_paid",
        ),
        "to_ship": (
            "Captured, not shipped",
            Q(
                status=Status.APPROVED,
                payment_status=PaymentStatus.PAID,
                fulfillment_status__in=[
                    FulfillmentStatus.UNFULFILLED,
                    FulfillmentStatus.IN_PROGRESS,
                ],
            ),
            "status__exact=approved&payment_status__exact=paid"
            "&fulfillment_status__in=unfulfilled,in_progress",
        ),
        "stuck": (
            "Stuck placing",
            Q(status=Status.PLACING, updated_at__lt=stale),
            "status__exact=placing",
        ),
    }


def order_queue_definitions() -> list[Queue]:
    """The queues as links to the order list, without their counts (the list's views)."""
    changelist = reverse("admin:orders_order_changelist")
    return [
        Queue(key, label, f"{changelist}?{query}")
        for key, (label, _, query) in _waiting(timezone.now()).items()
    ]


def order_queues(*, now: datetime.datetime | None = None) -> list[Queue]:
    """How many orders wait for someone, each linking to the order list showing them."""
    waiting = _waiting(now or timezone.now())
    counts = (
        Order.objects.filter(
            archived_at__isnull=True,
            status__in=[Status.PLACED, Status.APPROVED, Status.PLACING],
        )
        .order_by()
        .aggregate(**{key: Count("id", filter=q) for key, (_, q, _) in waiting.items()})
    )
    return [
        Queue(queue.key, queue.label, queue.link, counts[queue.key] or 0)
        for queue in order_queue_definitions()
    ]


def low_stock(*, limit: int = LOW_STOCK_ROWS) -> list[Any]:
    """The tracked stock items with the fewest units available, at most the threshold."""
    items = StockItem.objects.filter(sku__do_not_track=False).select_related(
        "sku", "stock_location"
    )
    annotated: Any = stock_items_with_availability(items)
    return list(
        annotated.filter(available__lte=settings.OMS_LOW_STOCK_THRESHOLD).order_by(
            "available", "sku__code", "stock_location__name"
        )[:limit]
    )


def _charts(one: MarketSummary, days: list[datetime.date]) -> tuple[str, str]:
    """Chart.js data of unfold's chart components: orders placed per day (bars) and revenue
    captured per day in major units (a line)."""
    labels = [day.strftime("%d %b") for day in days]
    exponent = currency_exponent(one.currency_code)
    orders = {
        "labels": labels,
        "datasets": [
            {
                "label": "Orders placed",
                "data": [one.orders_per_day.get(day, 0) for day in days],
                "backgroundColor": "var(--color-primary-600)",
            }
        ],
    }
    revenue = {
        "labels": labels,
        "datasets": [
            {
                "label": f"Revenue captured ({one.currency_code})",
                "data": [one.captured_per_day.get(day, 0) / 10**exponent for day in days],
                "borderColor": "var(--color-primary-600)",
            }
        ],
    }
    return json.dumps(orders), json.dumps(revenue)


RECENT_CHANGES = 12
# the typed events a merchant follows on the dashboard: what webhooks publish and the
# timeline shows (notes and archiving stay on the order page)
RECENT_CHANGE_TYPES = (
    OrderEvent.Type.ORDER_STATUS_CHANGED,
    OrderEvent.Type.ORDER_PAYMENT_STATUS_CHANGED,
    OrderEvent.Type.ORDER_FULFILLMENT_STATUS_CHANGED,
    OrderEvent.Type.TRANSACTION_SETTLED,
    OrderEvent.Type.SHIPMENT_STATUS_CHANGED,
)


def recent_changes(*, limit: int = RECENT_CHANGES) -> list[OrderEvent]:
    """The latest status changes across every order, newest first, read from the typed
    events (the same rows the timeline and the webhooks read), in one query."""
    return list(
        OrderEvent.objects.filter(event_type__in=RECENT_CHANGE_TYPES)
        .select_related("order")
        .order_by("-created_at", "-pk")[:limit]
    )


def dashboard_context(*, now: datetime.datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    month_start = period_starts(now)["month"]
    days = [(month_start + datetime.timedelta(days=n)).date() for n in range(30)]
    markets = []
    for one in market_summaries(now=now):
        cells = []
        for key, label, _ in PERIODS:
            figures = one.periods[key]
            cells.append(
                {
                    "key": key,
                    "label": label,
                    "orders": figures.orders,
                    "captured": format_money(figures.captured_cents, one.currency_code),
                    "average": format_money(figures.average_cents, one.currency_code),
                    "refunded": format_money(figures.refunded_cents, one.currency_code),
                }
            )
        orders_chart, revenue_chart = _charts(one, days)
        markets.append(
            {
                "summary": one,
                "periods": cells,
                "orders_chart": orders_chart,
                "revenue_chart": revenue_chart,
            }
        )
    return {
        "dashboard_markets": markets,
        "dashboard_queues": order_queues(now=now),
        "dashboard_low_stock": low_stock(),
        "dashboard_recent_changes": recent_changes(),
        "dashboard_low_stock_threshold": settings.OMS_LOW_STOCK_THRESHOLD,
        "dashboard_stock_url": reverse("admin:fulfillment_stockitem_changelist") + "?stock=low",
    }


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """Unfold's DASHBOARD_CALLBACK: the figures for a user who may see orders (the others get
    the plain index)."""
    if request.user.has_perm("orders.view_order"):
        context.update(dashboard_context())
    return context
