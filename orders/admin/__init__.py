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

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from unfold.forms import ActionForm

from fulfillment.admin import ShipmentAdmin
from fulfillment.models import Shipment
from oms.admin import ServiceModelAdmin
from oms.errors import DomainError
from orders import services
from orders.admin import gift_cards as gift_cards_admin  # noqa: F401  (the gift card pages)
from orders.admin import orders as orders_admin  # noqa: F401  (registers the order pages)
from orders.admin import promotions as promotions_admin  # noqa: F401  (the promotion pages)
from orders.admin import returns as returns_admin  # noqa: F401  (the return pages)
from orders.admin.actions import InputRefused, amount_cents_of
from orders.admin.base import ReadOnlyInline, actor_of
from orders.models import Customer, CustomerAddress, CustomerPaymentSource
from orders.selectors import customer_order_totals, customer_recent_orders
from orders.services.checkout import ORDER_SHIPMENT_TRIGGERS
from orders.services.wallet import customer_payment_source_delete
from payments.admin import TransactionAdmin
from payments.models import Transaction


class CustomerAddressInline(ReadOnlyInline):
    """The customer's address book: read only, an entry removable (through
    `customer_address_delete`) by a role that may delete addresses."""

    model = CustomerAddress
    fields = readonly_fields = ("address", "created_at")
    verbose_name_plural = "Address book"
    can_delete = True

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.delete_customeraddress")


class CustomerWalletInline(ReadOnlyInline):
    """The customer's wallet: what each saved payment source pays with and the end of its
    gateway token (never the whole token, never a card number); an entry removable (through
    `customer_payment_source_delete`) by a role that may delete wallet entries."""

    model = CustomerPaymentSource
    fields = readonly_fields = ("label", "payment_method", "payment_source_type", "token_end")
    verbose_name = "saved payment source"
    verbose_name_plural = "Wallet"
    can_delete = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerPaymentSource]:
        return super().get_queryset(request).select_related("payment_method")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("orders.delete_customerpaymentsource")

    @admin.display(description="Name")
    def label(self, source: CustomerPaymentSource) -> str:
        return source.name or "—"

    @admin.display(description="Token")
    def token_end(self, source: CustomerPaymentSource) -> str:
        return f"…{source.payment_source_token[-4:]}"


@admin.register(Customer)
class CustomerAdmin(ServiceModelAdmin):
    list_display = ("email", "status", "total_orders_count", "customer_group", "created_at")
    list_filter = ("status", "customer_group")
    search_fields = ("email", "reference")
    readonly_fields = ("id", "status", "total_orders_count", "created_at", "updated_at")
    list_select_related = ("customer_group",)
    inlines = (CustomerAddressInline, CustomerWalletInline)
    change_form_after_template = "admin/orders/customer/customer_orders.html"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = dict(extra_context or {})
        customer = self.get_object(request, object_id)
        if customer is not None and request.user.has_perm("orders.view_order"):
            extra["customer_orders"] = customer_recent_orders(customer=customer)
            extra["customer_totals"] = customer_order_totals(customer=customer)
            extra["customer_orders_url"] = (
                reverse("admin:orders_order_changelist") + f"?stage=all&q={customer.email}"
            )
        return super().change_view(request, object_id, form_url, extra)

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        services.customer_save(customer=obj)

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        # a new customer has neither an address book nor a wallet yet
        return self.inlines if obj is not None else ()

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        # the inlines only remove entries: each through its service
        formset.save(commit=False)
        for entry in formset.deleted_objects:
            if isinstance(entry, CustomerPaymentSource):
                customer_payment_source_delete(customer_payment_source=entry)
            elif isinstance(entry, CustomerAddress):
                services.customer_address_delete(customer_address=entry)


class AmountActionForm(ActionForm):
    """The actions bar of the transactions, with the amount of a partial capture or refund
    in major units of the transaction's currency (12.50), as the order page takes it
    (`_capture_amount_cents` / `_refund_amount_cents` in the API); empty for the balance. Text,
    not a number field: a bad amount is then reported by the action, not silently ignored."""

    amount = forms.CharField(
        required=False,
        label="Amount (e.g. 12.50; empty for the whole balance):",
        widget=forms.TextInput(attrs={"size": 8, "inputmode": "decimal"}),
    )


def amount_of(request: HttpRequest, selected: list[Transaction]) -> int | None:
    """The typed amount in the minor units of the one selected transaction's currency;
    `InputRefused` says in plain words why it cannot be sent."""
    raw = request.POST.get("amount", "").strip()
    if not raw:
        return None
    if len(selected) != 1:
        raise InputRefused("An amount applies to one transaction: select only one.")
    return amount_cents_of(raw, selected[0].currency_code)


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
        if request.POST.get("amount", "").strip():
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
            amount = amount_of(request, selected)
        except InputRefused as exc:
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
