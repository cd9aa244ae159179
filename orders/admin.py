"""The back office for customers and orders. Orders are read-only pages: every change goes
through the order-level workflow in `orders.services` (the approve / capture / refund / cancel /
fulfil / archive actions), whose refusals are shown as admin messages.

The transactions' money actions and the shipments' triggers change an order too (its payment
and fulfillment statuses, its timeline), so they are registered here, over the same
`orders.services` functions the API calls: the payments and fulfillment admins define those
pages without them, because those apps may not import the orders services (the arrows of
STYLE.md point from orders to them), and a function-level import would only hide that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline

from fulfillment.admin import ShipmentAdmin
from fulfillment.models import Shipment
from oms.actors import Actor
from oms.admin import ServiceModelAdmin
from oms.admin_pagination import EstimatedCountPaginator
from oms.errors import DomainError
from orders import services
from orders.models import Customer, CustomerAddress, LineItem, Order, OrderEvent
from orders.services.checkout import ORDER_SHIPMENT_TRIGGERS
from payments.admin import TransactionAdmin
from payments.models import Transaction


def actor_of(request: HttpRequest) -> Actor:
    user = request.user
    return Actor(kind="user", id=str(user.pk or ""), name=user.get_username())


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CustomerAddressInline(ReadOnlyInline):
    model = CustomerAddress
    fields = readonly_fields = ("address", "created_at")


@admin.register(Customer)
class CustomerAdmin(ServiceModelAdmin):
    list_display = ("email", "status", "total_orders_count", "customer_group", "created_at")
    list_filter = ("status", "customer_group")
    search_fields = ("email", "reference")
    readonly_fields = ("id", "status", "total_orders_count", "created_at", "updated_at")
    list_select_related = ("customer_group",)
    inlines = (CustomerAddressInline,)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        services.customer_save(customer=obj)


class LineItemInline(ReadOnlyInline):
    model = LineItem
    fields = readonly_fields = (
        "item_type",
        "sku_code",
        "name",
        "quantity",
        "formatted_unit_amount",
        "formatted_discount",
        "formatted_tax_amount",
        "formatted_total_amount",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[LineItem]:
        return super().get_queryset(request).select_related("order")


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name = "timeline event"
    verbose_name_plural = "timeline"
    fields = readonly_fields = (
        "created_at",
        "trigger",
        "subject_type",
        "field",
        "from_status",
        "to_status",
        "actor",
        "message",
    )


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


ORDER_TOTALS = (
    "formatted_subtotal_amount",
    "formatted_shipping_amount",
    "formatted_payment_method_amount",
    "formatted_discount_amount",
    "formatted_adjustment_amount",
    "formatted_gift_card_amount",
    "formatted_total_amount",
    "formatted_total_tax_amount",
    "formatted_total_amount_with_taxes",
    "formatted_place_total_amount",
    "skus_count",
)


@admin.register(Order)
class OrderAdmin(ModelAdmin):
    list_display = (
        "__str__",
        "status",
        "payment_status",
        "fulfillment_status",
        "market",
        "customer_email",
        "total",
        "placed_at",
        "archived",
    )
    list_display_links = ("__str__",)
    list_filter = ("status", "payment_status", "fulfillment_status", "market", ArchivedFilter)
    search_fields = ("customer_email", "reference", "id")
    list_select_related = ("market",)
    ordering = ("-created_at",)
    date_hierarchy = "created_at"
    # a million orders: no COUNT(*) of the list, nor of the whole table, on every page
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    inlines = (LineItemInline, OrderEventInline)
    actions = (
        "approve_orders",
        "approve_and_capture_orders",
        "capture_orders",
        "refund_orders",
        "fulfill_orders",
        "cancel_orders",
        "archive_orders",
        "unarchive_orders",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("number", "id"),
                    ("status", "payment_status", "fulfillment_status"),
                    ("market", "currency_code", "tax_included"),
                    ("customer", "customer_email", "guest"),
                    ("language_code", "autorefresh", "place_async"),
                    ("reference", "reference_origin"),
                )
            },
        ),
        ("Addresses", {"fields": ("shipping_address", "billing_address")}),
        ("Totals", {"fields": ORDER_TOTALS}),
        (
            "Dates",
            {
                "fields": (
                    ("created_at", "updated_at", "refreshed_at"),
                    ("placed_at", "approved_at", "cancelled_at", "archived_at"),
                    ("payment_updated_at", "fulfillment_updated_at"),
                )
            },
        ),
        ("Placement errors", {"fields": ("placement_errors",), "classes": ("collapse",)}),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Orders change only through their triggers: the page shows, the actions act.
        names: list[str] = []
        for _title, options in self.fieldsets:
            for line in options["fields"]:
                names.extend([line] if isinstance(line, str) else line)
        return names

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # placed orders are never deleted; abandoned carts are purged by command

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The list (and its actions) needs change permission; an order page is read-only.
        return obj is None and super().has_change_permission(request)

    @admin.display(description="total", ordering="total_amount_with_taxes_cents")
    def total(self, order: Order) -> str:
        return order.formatted_total_amount_with_taxes

    @admin.display(boolean=True, ordering="archived_at")
    def archived(self, order: Order) -> bool:
        return order.archived

    def _run(
        self,
        request: HttpRequest,
        queryset: QuerySet[Order],
        service: Callable[..., Order],
        done: str,
    ) -> None:
        actor = actor_of(request)
        succeeded = 0
        for order in queryset.order_by("pk"):
            try:
                service(order=order, actor=actor)
            except DomainError as exc:
                self.message_user(
                    request, f"Order #{order.number}: {exc.detail} ({exc.code})", messages.ERROR
                )
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{succeeded} order(s) {done}.", messages.SUCCESS)

    @admin.action(description="Approve selected orders", permissions=["change"])
    def approve_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_approve, "approved")

    @admin.action(description="Approve and capture selected orders", permissions=["change"])
    def approve_and_capture_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_approve_and_capture, "approved and captured")

    @admin.action(description="Capture the payment of selected orders", permissions=["change"])
    def capture_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_capture, "captured")

    @admin.action(description="Refund selected orders", permissions=["change"])
    def refund_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_refund, "refunded")

    @admin.action(description="Mark selected orders fulfilled", permissions=["change"])
    def fulfill_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_fulfill, "fulfilled")

    @admin.action(description="Cancel selected orders", permissions=["change"])
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_cancel, "cancelled")

    @admin.action(description="Archive selected orders", permissions=["change"])
    def archive_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_archive, "archived")

    @admin.action(description="Unarchive selected orders", permissions=["change"])
    def unarchive_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._run(request, queryset, services.order_unarchive, "unarchived")


class AmountActionForm(ActionForm):
    """The actions bar of the transactions, with the amount of a partial capture or refund
    (`_capture_amount_cents` / `_refund_amount_cents` in the API); empty for the balance. Text,
    not a number field: a bad amount is then reported by the action, not silently ignored."""

    amount_cents = forms.CharField(
        required=False,
        label="Amount (cents, empty for the whole balance):",
        widget=forms.TextInput(attrs={"size": 8, "inputmode": "numeric"}),
    )


class AmountRefused(Exception):
    """An amount the admin cannot send: the message says why, in plain words."""


def amount_of(request: HttpRequest, selected: int) -> int | None:
    raw = request.POST.get("amount_cents", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) == 0:
        raise AmountRefused(
            f"The amount must be a whole number of cents above zero (1250 for 12.50), not {raw!r}."
        )
    if selected != 1:
        raise AmountRefused("An amount applies to one transaction: select only one.")
    return int(raw)


@admin.register(Transaction)
class OrderTransactionAdmin(TransactionAdmin):
    """Money moves only through these actions, each the order-level workflow the API's
    authorization and capture triggers run: the same locks, balance checks and idempotency,
    then the order's payment and fulfillment statuses."""

    action_form = AmountActionForm
    actions = ("capture_balance", "void_balance", "refund_balance")

    def has_move_money_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("payments.change_transaction")

    @admin.action(
        description="Capture the selected authorizations (the amount, or their balance)",
        permissions=["move_money"],
    )
    def capture_balance(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> None:
        actor = actor_of(request)
        self._each(
            request,
            queryset,
            lambda txn, amount: services.order_authorization_capture(
                authorization=txn, amount_cents=amount, actor=actor
            ),
        )

    @admin.action(description="Void the selected authorizations", permissions=["move_money"])
    def void_balance(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> None:
        actor = actor_of(request)
        if request.POST.get("amount_cents", "").strip():
            messages.error(request, "A void gives back the whole balance: leave the amount empty.")
            return
        self._each(
            request,
            queryset,
            lambda txn, amount: services.order_authorization_void(authorization=txn, actor=actor),
        )

    @admin.action(
        description="Refund the selected captures (the amount, or their balance)",
        permissions=["move_money"],
    )
    def refund_balance(self, request: HttpRequest, queryset: QuerySet[Transaction]) -> None:
        actor = actor_of(request)
        self._each(
            request,
            queryset,
            lambda txn, amount: services.order_capture_refund(
                capture=txn, amount_cents=amount, actor=actor
            ),
        )

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Transaction],
        operation: Callable[[Transaction, int | None], Transaction],
    ) -> None:
        selected = list(queryset.order_by("pk"))
        try:
            amount = amount_of(request, len(selected))
        except AmountRefused as exc:
            messages.error(request, f"Nothing done: {exc}")
            return
        for txn in selected:
            try:
                result = operation(txn, amount)
            except DomainError as exc:
                messages.error(request, f"{txn.number}: {exc.detail} ({exc.code})")
                continue
            if result.succeeded:
                messages.success(
                    request,
                    f"{result.get_type_display()} {result.number}: {result.formatted_amount}",
                )
            else:
                messages.error(
                    request,
                    f"{result.get_type_display()} {result.number} failed: "
                    f"{result.message} ({result.error_code})",
                )


# The shipment triggers staff can press, in the order of a shipment's life (spec 5); each is
# `order_shipment_trigger`, as the API's shipment triggers are.
SHIPMENT_TRIGGERS = ORDER_SHIPMENT_TRIGGERS


def _shipment_trigger_action(trigger: str) -> Callable[..., None]:
    def action(
        modeladmin: OrderShipmentAdmin, request: HttpRequest, queryset: QuerySet[Shipment]
    ) -> None:
        actor = actor_of(request)
        done = 0
        for shipment in queryset.order_by("order_id", "number"):
            try:
                services.order_shipment_trigger(shipment=shipment, trigger=trigger, actor=actor)
            except DomainError as exc:
                modeladmin.message_user(
                    request, f"Shipment {shipment}: {exc.detail} ({exc.code})", messages.ERROR
                )
            else:
                done += 1
        if done:
            modeladmin.message_user(
                request, f"{trigger}: {done} shipment(s) updated.", messages.SUCCESS
            )

    action.__name__ = f"shipments{trigger}"
    return admin.action(
        description=f"Shipments: {trigger.lstrip('_').replace('_', ' ')}", permissions=["change"]
    )(action)


@admin.register(Shipment)
class OrderShipmentAdmin(ShipmentAdmin):
    """The shipments' page (from the fulfillment admin) and the triggers that move them."""

    actions = tuple(_shipment_trigger_action(trigger) for trigger in SHIPMENT_TRIGGERS)
