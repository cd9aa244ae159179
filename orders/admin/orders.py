"""The orders' list and page (issue 9).

The list: number, date, market, customer, total, the three statuses as badges; carts out of
the default view; search by number (`299`, `#299`), e-mail, name or SKU code; a fixed number of
queries whatever the page shows. The page: statuses, the buttons of the transitions allowed
now and permitted to this user (`orders.admin.actions`) and "Create return" once it is
fulfilled, lines, totals, addresses, payments, shipments, returns and the timeline, read in a
fixed number of queries.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Callable, Iterator
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import display

from fulfillment.models import Return, Shipment
from oms.admin_pagination import EstimatedCountPaginator
from oms.errors import TRIGGER_WORDS, DomainError, admin_message
from oms.money import cents_to_decimal, format_money
from orders import services
from orders.admin.actions import (
    ACTIONS,
    InputRefused,
    allowed_now,
    amount_cents_of,
    permitted,
    run,
    tracking_number_of,
)
from orders.admin.base import actor_of
from orders.admin.listing import RowLinksChangeList, checkbox_html, label_html
from orders.dashboard import order_queue_definitions
from orders.models import LineItem, Order, OrderEvent, SavedOrderFilter
from orders.selectors import orders_search
from payments.models import Transaction

STATUS_COLOURS = {
    "draft": "info",
    "pending": "info",
    "placing": "warning",
    "placed": "warning",
    "editing": "warning",
    "approved": "success",
    "cancelled": "danger",
}
PAYMENT_COLOURS = {
    "unpaid": "info",
    "authorized": "warning",
    "partially_authorized": "warning",
    "paid": "success",
    "partially_paid": "warning",
    "voided": "danger",
    "partially_voided": "warning",
    "refunded": "danger",
    "partially_refunded": "warning",
    "free": "success",
}
FULFILLMENT_COLOURS = {
    "unfulfilled": "info",
    "in_progress": "warning",
    "fulfilled": "success",
    "not_required": "success",
}


class StageFilter(admin.SimpleListFilter):
    """Carts (draft, pending) are the storefront's business, not the merchant's: they leave the
    default list, one click away. Choosing a cart status in the status filter shows them."""

    title = "stage"
    parameter_name = "stage"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("carts", "Carts (draft, pending)"), ("all", "Orders and carts")]

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Orders",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        carts = sorted(Order.CART_STATUSES)
        if self.value() == "carts":
            return queryset.filter(status__in=carts)
        if self.value() == "all" or request.GET.get("status__exact") in carts:
            return queryset
        return queryset.exclude(status__in=carts)


class ArchivedFilter(admin.SimpleListFilter):
    """Archived orders leave the default list (spec 2.1); they are one click away."""

    title = "archived"
    parameter_name = "archived"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("archived", "Archived"), ("all", "All")]

    def choices(self, changelist: ChangeList) -> Iterator[Any]:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Not archived",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "archived":
            return queryset.filter(archived_at__isnull=False)
        if self.value() == "all":
            return queryset
        return queryset.filter(archived_at__isnull=True)


class PlacedDateFilter(RangeDateFilter):
    """Placed between two days, both included, in the site's time zone (an index range on
    `placed_at`, not a date cast of every row). A date that does not parse is ignored."""

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        day_from = _day(self.used_parameters.get(f"{self.parameter_name}_from"))
        day_to = _day(self.used_parameters.get(f"{self.parameter_name}_to"))
        if day_from:
            queryset = queryset.filter(**{f"{self.parameter_name}__gte": _midnight(day_from)})
        if day_to:
            next_day = _midnight(day_to + datetime.timedelta(days=1))
            queryset = queryset.filter(**{f"{self.parameter_name}__lt": next_day})
        return queryset


def _day(value: Any) -> datetime.date | None:
    if not isinstance(value, str):
        return None
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


# The totals under the order page's lines: (label, the order's formatted_* property).
ORDER_TOTALS = (
    ("Subtotal", "formatted_subtotal_amount"),
    ("Shipping", "formatted_shipping_amount"),
    ("Payment method", "formatted_payment_method_amount"),
    ("Discounts", "formatted_discount_amount"),
    ("Adjustments", "formatted_adjustment_amount"),
    ("Gift cards", "formatted_gift_card_amount"),
    ("Taxes", "formatted_total_tax_amount"),
)

CSV_COLUMNS = (
    "number",
    "placed_at",
    "market",
    "customer_email",
    "customer_name",
    "status",
    "payment_status",
    "fulfillment_status",
    "currency_code",
    "total",
)


def customer_name(order: Order) -> str:
    address = order.billing_address
    if address is None:
        return ""
    return " ".join(part for part in (address.first_name, address.last_name) if part)


def bulk(service: Callable[..., Any], done: str, description: str, *permissions: str) -> Any:
    """A list action over the one order-level workflow: one order per transaction (the service
    is durable), then a summary of how many succeeded and why the others did not."""

    def action(modeladmin: OrderAdmin, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = actor_of(request)
        succeeded = 0
        refused: list[str] = []
        for order in queryset.order_by("pk"):
            try:
                service(order=order, actor=actor)
            except DomainError as exc:
                refused.append(f"#{order.number}: {admin_message(exc)}")
            else:
                succeeded += 1
        if succeeded:
            modeladmin.message_user(request, f"{succeeded} order(s) {done}.", messages.SUCCESS)
        if refused:
            modeladmin.message_user(
                request,
                f"{len(refused)} order(s) not {done}. " + " ".join(refused),
                messages.ERROR,
            )

    action.__name__ = f"{service.__name__.removeprefix('order_')}_orders"
    return admin.action(description=description, permissions=list(permissions))(action)


def saved_filter_query(query: str) -> str:
    """The part of a list's query string worth saving: its filters, search and ordering, not
    the page number or the admin's error flag."""
    params = QueryDict(query.lstrip("?"), mutable=True)
    for transient in ("p", "e", "_changelist_filters"):
        params.pop(transient, None)
    return params.urlencode()


@admin.register(Order)
class OrderAdmin(ModelAdmin):
    list_display = (
        "number_link",
        "date",
        "market_name",
        "customer",
        "total",
        "status_badge",
        "payment_badge",
        "fulfillment_badge",
    )
    list_display_links = ("number_link",)
    list_filter = (
        StageFilter,
        "status",
        "payment_status",
        "fulfillment_status",
        "market",
        "payment_method",
        ("placed_at", PlacedDateFilter),
        ArchivedFilter,
    )
    list_filter_submit = True
    search_fields = ("customer_email",)  # shows the box; `get_search_results` does the search
    search_help_text = "Order number (299 or #299), e-mail, customer name or SKU code"
    list_select_related = ("market", "billing_address")
    ordering = ("-created_at",)
    # a million orders: no COUNT(*) of the list, nor of the whole table, on every page
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_before_template = "admin/orders/order/saved_filters.html"
    change_form_outer_before_template = "admin/orders/order/order_actions.html"
    change_form_outer_after_template = "admin/orders/order/order_details.html"
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("market", "currency_code", "tax_included"),
                    ("customer", "customer_email", "guest"),
                    ("payment_method", "language_code"),
                    ("reference", "reference_origin"),
                )
            },
        ),
        ("Addresses", {"fields": (("shipping_address", "billing_address"),)}),
        (
            "Dates",
            {
                "fields": (
                    ("created_at", "placed_at", "approved_at"),
                    ("cancelled_at", "archived_at", "updated_at"),
                )
            },
        ),
    )

    actions = (
        bulk(services.order_approve, "approved", "Approve selected orders", "approve"),
        bulk(
            services.order_approve_and_capture,
            "approved and captured",
            "Approve and capture selected orders",
            "approve",
            "capture",
        ),
        bulk(
            services.order_capture, "captured", "Capture the payment of selected orders", "capture"
        ),
        bulk(services.order_refund, "refunded", "Refund selected orders", "refund"),
        bulk(services.order_fulfill, "fulfilled", "Mark selected orders fulfilled", "ship"),
        bulk(services.order_cancel, "cancelled", "Cancel selected orders", "cancel"),
        bulk(services.order_archive, "archived", "Archive selected orders", "archive"),
        bulk(services.order_unarchive, "unarchived", "Unarchive selected orders", "archive"),
        "export_csv",
    )

    # --- permissions: a role sees its pages and buttons; the views check again -----------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # placed orders are never deleted; abandoned carts are purged by command

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An order changes only through its triggers: the page shows, the buttons act.
        return False

    def _perm(self, request: HttpRequest, codename: str) -> bool:
        return request.user.has_perm(f"orders.{codename}")

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return self._perm(request, "approve_order")

    def has_capture_permission(self, request: HttpRequest) -> bool:
        return self._perm(request, "capture_order")

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return self._perm(request, "refund_order")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return self._perm(request, "cancel_order")

    def has_archive_permission(self, request: HttpRequest) -> bool:
        return self._perm(request, "archive_order")

    def has_ship_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("fulfillment.change_shipment")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        names: list[str] = []
        for _title, options in self.fieldsets:
            for line in options["fields"]:
                names.extend([line] if isinstance(line, str) else line)
        return names

    # --- the list ----------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return (
            super()
            .get_queryset(request)
            .select_related("market", "customer", "billing_address", "shipping_address")
            .select_related("payment_method")
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        return orders_search(queryset, search_term), False

    @display(description="order", ordering="number")
    def number_link(self, order: Order) -> str:
        return f"#{order.number}"

    @display(description="date", ordering="placed_at")
    def date(self, order: Order) -> str:
        moment = timezone.localtime(order.placed_at or order.created_at)
        return moment.strftime("%Y-%m-%d %H:%M")

    @display(description="market", ordering="market__name")
    def market_name(self, order: Order) -> str:
        return order.market.name

    @display(description="customer", ordering="customer_email", header=True)
    def customer(self, order: Order) -> tuple[str, str]:
        return (customer_name(order) or order.customer_email or "guest", order.customer_email)

    @display(description="total", ordering="total_amount_with_taxes_cents")
    def total(self, order: Order) -> str:
        return f"{order.formatted_total_amount_with_taxes} {order.currency_code}"

    # The badges are unfold's `label=` badges, rendered once per status and colour
    # (`orders.admin.listing`): a page is 100 rows of three.
    @display(description="status", ordering="status")
    def status_badge(self, order: Order) -> SafeString:
        return label_html(order.status, STATUS_COLOURS)

    @display(description="payment", ordering="payment_status")
    def payment_badge(self, order: Order) -> SafeString:
        return label_html(order.payment_status, PAYMENT_COLOURS)

    @display(description="fulfillment", ordering="fulfillment_status")
    def fulfillment_badge(self, order: Order) -> SafeString:
        return label_html(order.fulfillment_status, FULFILLMENT_COLOURS)

    @display(description=ModelAdmin.action_checkbox.short_description)
    def action_checkbox(self, obj: Order) -> SafeString:
        return checkbox_html(obj.pk)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return RowLinksChangeList

    @admin.action(description="Export selected orders as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Order]) -> StreamingHttpResponse:
        class Echo:
            def write(self, value: str) -> str:
                return value

        writer = csv.writer(Echo())

        def rows() -> Iterator[str]:
            yield writer.writerow(CSV_COLUMNS)
            for order in (
                queryset.order_by("pk")
                .select_related("market", "billing_address")
                .iterator(chunk_size=500)
            ):
                yield writer.writerow(
                    (
                        order.number,
                        order.placed_at.isoformat() if order.placed_at else "",
                        order.market.code,
                        order.customer_email,
                        customer_name(order),
                        order.status,
                        order.payment_status,
                        order.fulfillment_status,
                        order.currency_code,
                        str(
                            cents_to_decimal(
                                order.total_amount_with_taxes_cents, order.currency_code
                            )
                        ),
                    )
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="orders.csv"'
        return response

    # --- the page ------------------------------------------------------------------------

    # --- saved filters: the list's views, as links above it ----------------------------

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        changelist = reverse("admin:orders_order_changelist")
        extra["saved_filters"] = [
            {"name": saved.name, "link": f"{changelist}?{saved.query}", "id": saved.pk}
            for saved in SavedOrderFilter.objects.filter(user_id=int(request.user.pk or 0))
        ]
        extra["queue_filters"] = [
            {"name": queue.label, "link": queue.link} for queue in order_queue_definitions()
        ]
        extra["current_query"] = saved_filter_query(request.GET.urlencode())
        return super().changelist_view(request, extra)

    def saved_filters_view(self, request: HttpRequest) -> HttpResponse:
        """Save the list's current filters under a name, or forget a saved one (POST)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = reverse("admin:orders_order_changelist")
        if request.method != "POST":
            return HttpResponseRedirect(changelist)
        query = saved_filter_query(request.POST.get("query", ""))
        if request.POST.get("delete"):
            SavedOrderFilter.objects.filter(
                user_id=int(request.user.pk or 0), pk=request.POST["delete"]
            ).delete()
            self.message_user(request, "Saved filter removed.", messages.SUCCESS)
            return HttpResponseRedirect(changelist)
        name = request.POST.get("name", "").strip()[:80]
        if not name:
            self.message_user(request, "Give the filter a name to save it.", messages.ERROR)
        elif len(query) > 1000:
            self.message_user(request, "These filters are too long to save.", messages.ERROR)
        else:
            SavedOrderFilter.objects.update_or_create(
                user_id=int(request.user.pk or 0), name=name, defaults={"query": query}
            )
            self.message_user(request, f"Filter “{name}” saved.", messages.SUCCESS)
        return HttpResponseRedirect(f"{changelist}?{query}")

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/act/<str:action>/",
                wrap(self.action_view),
                name="orders_order_act",
            ),
            path("<path:object_id>/note/", wrap(self.note_view), name="orders_order_note"),
            path(
                "saved-filters/",
                wrap(self.saved_filters_view),
                name="orders_order_saved_filters",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        order = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if order is not None and self.has_view_permission(request, order):
            context.update(order_page(order, request))
        return super().change_view(request, object_id, form_url, context)

    def _order_or_404(self, request: HttpRequest, object_id: str) -> Order:
        if not self.has_view_permission(request):
            raise PermissionDenied
        order = self.get_object(request, object_id)
        if order is None:
            raise Http404("No such order.")
        return order

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        order = self._order_or_404(request, object_id)
        spec = ACTIONS.get(action)
        if spec is None:
            raise Http404("No such action.")
        if not request.user.has_perms(spec.permissions):
            raise PermissionDenied
        page_url = reverse("admin:orders_order_change", args=[order.pk])
        target: Transaction | Shipment | None = None
        target_id = request.POST.get("target") or request.GET.get("target", "")
        if spec.target == "shipment":
            target = Shipment.objects.filter(order=order, pk=target_id).first()
        elif spec.target in ("authorization", "capture"):
            kind = (
                Transaction.Type.AUTHORIZATIONS
                if spec.target == "authorization"
                else Transaction.Type.CAPTURES
            )
            target = Transaction.objects.filter(order=order, pk=target_id, type=kind).first()
        if spec.target != "order" and target is None:
            messages.error(request, f"Nothing done: that {spec.target} is not one of this order's.")
            return HttpResponseRedirect(page_url)
        target_label = getattr(target, "number", "")
        if request.method == "POST":
            try:
                amount_cents = (
                    amount_cents_of(request.POST.get("amount", ""), order.currency_code)
                    if spec.amount
                    else None
                )
                tracking = tracking_number_of(request.POST.get("tracking_number", ""))
                result = run(
                    spec,
                    order=order,
                    target=target,
                    actor=actor_of(request),
                    amount_cents=amount_cents,
                    tracking_number=tracking,
                )
            except InputRefused as exc:
                messages.error(request, f"Nothing done: {exc}")
            except DomainError as exc:
                messages.error(request, admin_message(exc))
            else:
                if isinstance(result, Transaction) and not result.succeeded:
                    messages.error(
                        request,
                        f"The payment gateway declined: {result.message or result.error_code}. "
                        "Nothing was taken or given back.",
                    )
                elif isinstance(result, Transaction):
                    messages.success(
                        request,
                        f"{result.get_type_display().capitalize()} {result.number}: "
                        f"{result.formatted_amount}.",
                    )
                else:
                    subject = (
                        f"Shipment {target_label}" if target_label else f"Order #{order.number}"
                    )
                    messages.success(request, f"{subject} {spec.done}.")
            return HttpResponseRedirect(page_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{spec.label}: order #{order.number}",
            "opts": self.opts,
            "original": order,
            "spec": spec,
            "question": spec.question.format(number=order.number, target=target_label),
            "target_id": target_id,
            "page_url": page_url,
            "currency_code": order.currency_code,
        }
        return TemplateResponse(request, "admin/orders/order/action_confirm.html", context)

    def note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self._order_or_404(request, object_id)
        if not request.user.has_perm("orders.note_order"):
            raise PermissionDenied
        page_url = reverse("admin:orders_order_change", args=[order.pk])
        if request.method != "POST":
            return HttpResponseRedirect(page_url)
        try:
            services.order_note_add(
                order=order, actor=actor_of(request), message=request.POST.get("note", "")
            )
        except DomainError as exc:
            messages.error(request, f"Note not added: {admin_message(exc)}")
        else:
            messages.success(request, "Note added to the timeline.")
        return HttpResponseRedirect(page_url + "#timeline")


def order_page(order: Order, request: HttpRequest) -> dict[str, Any]:
    """What the order page shows besides its fields, in a fixed number of queries whatever the
    order holds: lines, transactions, shipments (with stock lines and parcels: two more),
    timeline, and returns (with their lines: one more) to a role that may see them."""
    lines = list(LineItem.objects.filter(order_id=order.pk).order_by("created_at", "id"))
    transactions = list(Transaction.objects.filter(order_id=order.pk).order_by("created_at", "pk"))
    shipments = list(
        Shipment.objects.filter(order_id=order.pk)
        .select_related("shipping_method", "inventory_stock_location__stock_location")
        .prefetch_related("stock_line_items__sku", "parcels")
        .order_by("number")
    )
    events = list(OrderEvent.objects.filter(order_id=order.pk).order_by("created_at", "id"))
    user = request.user
    can_view_returns = user.has_perm("fulfillment.view_return")
    returns = (
        list(
            Return.objects.filter(order_id=order.pk)
            .prefetch_related("return_line_items")
            .order_by("number")
        )
        if can_view_returns
        else []
    )
    buttons = permitted(allowed_now(order, transactions, shipments), user)
    currency = order.currency_code
    for line in lines:
        line.order = order  # the formatted_* properties read the order's currency
    return {
        "order": order,
        "order_lines": lines,
        "order_totals": [(label, getattr(order, name)) for label, name in ORDER_TOTALS],
        "order_transactions": [
            {
                "txn": txn,
                "amount": format_money(txn.amount_cents, txn.currency_code),
                "capture_balance": format_money(txn.capture_balance_cents, txn.currency_code),
                "refund_balance": format_money(txn.refund_balance_cents, txn.currency_code),
                "buttons": [b for b in buttons if b.target_id == txn.pk],
            }
            for txn in transactions
        ],
        "order_shipments": [
            {"shipment": shipment, "buttons": [b for b in buttons if b.target_id == shipment.pk]}
            for shipment in shipments
        ],
        "order_timeline": [
            {
                "event": event,
                "what": _event_words(event),
                "amount": format_money(event.amount_cents, event.currency_code or currency)
                if event.amount_cents is not None
                else "",
            }
            for event in events
        ],
        "order_buttons": [b for b in buttons if b.action.target == "order"],
        "order_returns": returns,
        "can_view_returns": can_view_returns,
        # only a fulfilled order can have a return; the service says so again on the form
        "can_create_return": order.fulfillment_status == Order.FulfillmentStatus.FULFILLED
        and user.has_perms(("fulfillment.change_return",)),
        "can_note": user.has_perm("orders.note_order"),
        "status_colours": (
            STATUS_COLOURS.get(order.status, "info"),
            PAYMENT_COLOURS.get(order.payment_status, "info"),
            FULFILLMENT_COLOURS.get(order.fulfillment_status, "info"),
        ),
    }


def _event_words(event: OrderEvent) -> str:
    if event.trigger == "_note":
        return "Note"
    subject = {
        "orders": "Order",
        "shipments": "Shipment",
        "returns": "Return",
        "return_line_items": "Return line",
    }.get(event.subject_type, event.subject_type.rstrip("s").capitalize())
    words = TRIGGER_WORDS.get(event.trigger, event.trigger.lstrip("_").replace("_", " "))
    field = "" if event.field == "status" else f" ({event.field.replace('_', ' ')})"
    return f"{subject} {words}{field}"
