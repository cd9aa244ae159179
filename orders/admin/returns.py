"""The returns' list and page (spec section 5), and opening a return from the order page.

Every write of a return is an order-level workflow (`orders.services.returns`: it locks the
order, then the return), so these pages live with the orders admin, not the fulfillment one
(which may not import the orders services, see STYLE.md's arrows).

The list: number, order, status, customer, units, estimated refund; filters by status and
market; search by return number, order number (`299`, `#299`) or e-mail. The page is read
only, with its lines and the buttons of the triggers its status allows *and* the user's role
permits (`fulfillment.change_return`; the refund `orders.refund_order`). A button links to a
confirmation page; its POST calls the service and shows a refusal in the merchant's words
(`oms.errors.admin_message`). The permission is checked again on the POST (403).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django_fsm import can_proceed
from unfold.admin import ModelAdmin
from unfold.decorators import display

from fulfillment.models import Return, ReturnLineItem
from fulfillment.returns import line_item_returnable_quantity
from oms.errors import DomainError, admin_message
from orders.admin.actions import InputRefused, amount_cents_of
from orders.admin.base import ReadOnlyInline, actor_of
from orders.admin.orders import PAYMENT_COLOURS
from orders.models import LineItem, Order
from orders.services.returns import (
    order_return_create,
    order_return_line_item_create,
    order_return_refund,
    order_return_restock,
    order_return_status_trigger,
)
from payments.errors import PaymentFailed
from payments.models import Transaction

STATUS_COLOURS = {
    "draft": "info",
    "requested": "warning",
    "approved": "warning",
    "shipped": "warning",
    "received": "success",
    "refunded": "success",
    "cancelled": "danger",
    "rejected": "danger",
}
CHANGE = ("fulfillment.change_return",)
# Opening a return is moving one: the roles that handle returns (Customer service, Warehouse)
# hold `change_return`, and a return is only ever created by a person who will move it on.
CREATE = CHANGE


@dataclass(frozen=True)
class ReturnAction:
    """A button of the return page: its URL name, the trigger it fires and who may press it."""

    name: str
    trigger: str
    label: str
    permissions: tuple[str, ...]
    question: str  # the confirmation, with {number}
    done: str
    amount: bool = False  # asks for an optional amount (empty: what the lines cost)
    danger: bool = False


ACTIONS: dict[str, ReturnAction] = {
    action.name: action
    for action in (
        ReturnAction(
            "request",
            "_request",
            "Request",
            CHANGE,
            "Request return {number} for the customer? Its lines can no longer change.",
            "requested",
        ),
        ReturnAction(
            "approve",
            "_approve",
            "Approve",
            CHANGE,
            "Approve return {number}? The customer may send the goods back.",
            "approved",
        ),
        ReturnAction(
            "cancel",
            "_cancel",
            "Cancel",
            CHANGE,
            "Cancel return {number}? Nothing comes back, and its units may be returned again.",
            "cancelled",
            danger=True,
        ),
        ReturnAction(
            "ship",
            "_ship",
            "Mark shipped",
            CHANGE,
            "Mark return {number} shipped? The customer handed the parcel to a carrier.",
            "marked shipped",
        ),
        ReturnAction(
            "reject",
            "_reject",
            "Reject",
            CHANGE,
            "Reject return {number}? It is neither refunded nor restocked.",
            "rejected",
            danger=True,
        ),
        ReturnAction(
            "receive",
            "_receive",
            "Mark received",
            CHANGE,
            "Mark return {number} received at its stock location?",
            "marked received",
        ),
        ReturnAction(
            "restock",
            "_restock",
            "Restock",
            CHANGE,
            "Put the units of return {number} back in stock at its stock location?",
            "restocked",
        ),
        ReturnAction(
            "refund",
            "_refund",
            "Refund",
            ("orders.refund_order",),
            "Refund return {number}? The money goes back to the customer.",
            "refunded",
            amount=True,
            danger=True,
        ),
    )
}
STATUS_ACTIONS = tuple(a for a in ACTIONS.values() if a.name not in ("restock", "refund"))


def allowed_now(
    ret: Return, lines: Sequence[ReturnLineItem], refund: Transaction | None
) -> list[ReturnAction]:
    """The triggers the return's state allows now, from rows already read (no query). The
    service re-checks each on the locked rows: this only decides which buttons to show."""
    allowed = [a for a in STATUS_ACTIONS if can_proceed(getattr(ret, a.trigger))]
    if ret.status in Return.RESTOCKABLE and any(line.restocked_at is None for line in lines):
        allowed.append(ACTIONS["restock"])
    # a refund pending at the gateway or done is not asked for twice; a failed one may be
    if ret.status == Return.Status.RECEIVED and (
        refund is None or refund.status == Transaction.Status.FAILED
    ):
        allowed.append(ACTIONS["refund"])
    return allowed


def permitted(actions: list[ReturnAction], user: Any) -> list[ReturnAction]:
    return [a for a in actions if user.has_perms(a.permissions)]


def run(action: ReturnAction, *, ret: Return, request: HttpRequest) -> Return:
    """The one order-level workflow of each button: the function the API's trigger runs."""
    actor = actor_of(request)
    if action.name == "refund":
        amount = amount_cents_of(request.POST.get("amount", ""), ret.currency_code)
        return order_return_refund(ret=ret, actor=actor, amount_cents=amount)
    if action.name == "restock":
        return order_return_restock(ret=ret, actor=actor)
    return order_return_status_trigger(ret=ret, trigger=action.trigger, actor=actor)


class ReturnLineItemInline(ReadOnlyInline):
    """What comes back: each line's SKU, units, what it cost and whether it is restocked."""

    model = ReturnLineItem
    fields = readonly_fields = (
        "sku_code",
        "name",
        "quantity",
        "formatted_total_amount",
        "return_reason",
        "restocked_at",
    )
    verbose_name = "returned line"
    verbose_name_plural = "Returned lines"
    ordering = ("created_at", "id")
    show_title = False  # the row's title would be its line item's id: the SKU column says it

    def get_queryset(self, request: HttpRequest) -> QuerySet[ReturnLineItem]:
        return super().get_queryset(request).select_related("line_item__order")

    @admin.display(description="SKU")
    def sku_code(self, line: ReturnLineItem) -> str:
        return line.sku_code

    @admin.display(description="Name")
    def name(self, line: ReturnLineItem) -> str:
        return line.name

    @admin.display(description="Estimated refund")
    def formatted_total_amount(self, line: ReturnLineItem) -> str:
        return line.formatted_total_amount


def returns_search(queryset: QuerySet[Return], term: str) -> QuerySet[Return]:
    """A return's number (`1234/R/001`), its order's number (`1234` or `#1234`) or the
    customer's e-mail."""
    term = term.strip()
    if not term:
        return queryset
    number = term.removeprefix("#").strip()
    if number.isascii() and number.isdigit():
        # a return's number has its order's in it, and "1" is in "21/R/001": the order's
        return queryset.filter(order__number=int(number))
    return queryset.filter(Q(number__icontains=term) | Q(order__customer_email__icontains=term))


@admin.register(Return)
class ReturnAdmin(ModelAdmin):
    list_display = (
        "number",
        "order_link",
        "status_badge",
        "customer_email",
        "skus_count",
        "estimated_refund",
        "created",
    )
    list_filter = ("status", ("order__market", admin.RelatedOnlyFieldListFilter))
    list_filter_submit = True
    search_fields = ("number",)  # shows the box; `get_search_results` does the search
    search_help_text = "Return number, order number (299 or #299) or e-mail"
    list_select_related = ("order", "order__market")
    ordering = ("-created_at",)
    inlines = (ReturnLineItemInline,)
    change_form_outer_before_template = "admin/fulfillment/return/return_actions.html"
    fields = readonly_fields = (
        "number",
        "order_link",
        "status",
        "customer_email",
        "stock_location",
        "estimated_refund",
        "refund",
        "reference",
        "reference_origin",
        "created_at",
        "approved_at",
        "cancelled_at",
        "shipped_at",
        "rejected_at",
        "received_at",
        "refunded_at",
    )

    # --- permissions: a return changes only through its triggers ------------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # returns are opened from their order's page ("Create return")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the page shows, the buttons act

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- the list ----------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Return]:
        return (
            super()
            .get_queryset(request)
            .select_related("order", "stock_location", "reference_refund")
            .prefetch_related("return_line_items__line_item")
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Return], search_term: str
    ) -> tuple[QuerySet[Return], bool]:
        return returns_search(queryset, search_term), False

    @display(description="order", ordering="order__number")
    def order_link(self, ret: Return) -> str:
        url = reverse("admin:orders_order_change", args=[ret.order_id])
        return format_html('<a href="{}">#{}</a>', url, ret.order.number)

    @display(description="status", ordering="status", label=STATUS_COLOURS)
    def status_badge(self, ret: Return) -> str:
        return ret.status

    @display(description="customer", ordering="order__customer_email")
    def customer_email(self, ret: Return) -> str:
        return ret.customer_email

    @display(description="units")
    def skus_count(self, ret: Return) -> int:
        return ret.skus_count

    @display(description="estimated refund")
    def estimated_refund(self, ret: Return) -> str:
        return f"{ret.formatted_estimated_refund_amount} {ret.currency_code}"

    @display(description="created", ordering="created_at")
    def created(self, ret: Return) -> str:
        return timezone.localtime(ret.created_at).strftime("%Y-%m-%d %H:%M")

    @display(description="refund")
    def refund(self, ret: Return) -> str:
        refund = ret.reference_refund
        if refund is None:
            return "—"
        return f"{refund.number}: {refund.formatted_amount} ({refund.get_status_display()})"

    # --- the page ------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/act/<str:action>/",
                wrap(self.action_view),
                name="fulfillment_return_act",
            ),
            path(
                "create/<str:order_id>/",
                wrap(self.create_view),
                name="fulfillment_return_create",
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
        ret = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if ret is not None and self.has_view_permission(request, ret):
            context.update(return_page(ret, request))
        return super().change_view(request, object_id, form_url, context)

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        ret = self.get_object(request, object_id)
        if ret is None:
            raise Http404("No such return.")
        spec = ACTIONS.get(action)
        if spec is None:
            raise Http404("No such action.")
        if not request.user.has_perms(spec.permissions):
            raise PermissionDenied
        page_url = reverse("admin:fulfillment_return_change", args=[ret.pk])
        if request.method == "POST":
            try:
                done = run(spec, ret=ret, request=request)
            except InputRefused as exc:
                messages.error(request, f"Nothing done: {exc}")
            except PaymentFailed as exc:
                messages.error(
                    request,
                    f"The payment gateway declined: {exc.detail.rstrip('.')}. Nothing was "
                    "given back; the return stays received.",
                )
            except DomainError as exc:
                messages.error(request, admin_message(exc))
            else:
                messages.success(request, done_message(spec, done))
            return HttpResponseRedirect(page_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{spec.label}: return {ret.number}",
            "opts": self.opts,
            "original": ret,
            "spec": spec,
            "question": spec.question.format(number=ret.number),
            "page_url": page_url,
            "currency_code": ret.currency_code,
            "amount_hint": "leave empty for what the returned lines cost, "
            f"{ret.formatted_estimated_refund_amount}",
        }
        return TemplateResponse(request, "admin/orders/order/action_confirm.html", context)

    def create_view(self, request: HttpRequest, order_id: str) -> HttpResponse:
        """A return of some units of a fulfilled order's SKU lines: the return and its lines
        through the services, or nothing at all when one of them is refused."""
        if not request.user.has_perms(("orders.view_order", *CREATE)):
            raise PermissionDenied
        order = Order.objects.filter(pk=order_id).select_related("market").first()
        if order is None:
            raise Http404("No such order.")
        lines = list(
            LineItem.objects.filter(order_id=order.pk, item_type=LineItem.ItemType.SKUS).order_by(
                "created_at", "id"
            )
        )
        form = ReturnCreateForm(request.POST or None, lines=lines)
        order_url = reverse("admin:orders_order_change", args=[order.pk])
        if request.method == "POST" and form.is_valid():
            ret = return_with_lines_create(order=order, form=form, request=request)
            if ret is not None:
                messages.success(
                    request,
                    f"Return {ret.number} created with {ret.skus_count} unit(s), "
                    f"{ret.formatted_estimated_refund_amount}.",
                )
                return HttpResponseRedirect(
                    reverse("admin:fulfillment_return_change", args=[ret.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Create a return of order #{order.number}",
            "opts": self.opts,
            "order": order,
            "form": form,
            "rows": [
                {
                    "line": line,
                    "field": form[form.field_name(line)],
                    "returnable": line_item_returnable_quantity(line),
                }
                for line in lines
            ],
            "order_url": order_url,
        }
        return TemplateResponse(request, "admin/fulfillment/return/create.html", context)


def done_message(spec: ReturnAction, ret: Return) -> str:
    if spec.name == "refund":
        refund = ret.reference_refund
        if ret.status != Return.Status.REFUNDED and refund is not None:
            return f"Refund {refund.number} of return {ret.number} is {refund.status}."
        if refund is not None:
            return (
                f"Return {ret.number} refunded: {refund.formatted_amount} (refund {refund.number})."
            )
    return f"Return {ret.number} {spec.done}."


class ReturnCreateForm(forms.Form):
    """A quantity for each SKU line of the order (0: not returned). The most that can be
    returned is the service's to say: its refusal is shown on the line's field."""

    def __init__(self, *args: Any, lines: Sequence[LineItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[self.field_name(line)] = forms.IntegerField(
                min_value=0, initial=0, required=False, label=line.sku_code or line.name
            )

    @staticmethod
    def field_name(line: LineItem) -> str:
        return f"quantity_{line.pk}"

    def chosen(self) -> list[tuple[LineItem, int]]:
        return [
            (line, self.cleaned_data[self.field_name(line)])
            for line in self.lines
            if self.cleaned_data.get(self.field_name(line))
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not self.chosen():
            raise forms.ValidationError("Type how many units of at least one line come back.")
        return data


class _Refused(Exception):
    """A line was refused: undo the return and the lines made before it."""


def return_with_lines_create(
    *, order: Order, form: ReturnCreateForm, request: HttpRequest
) -> Return | None:
    """The return and each chosen line, every one through its service. One transaction around
    them: a refused line (too many units) leaves no return behind, and every refused line is
    reported on its own field, not just the first."""
    actor = actor_of(request)
    try:
        with transaction.atomic():
            try:
                ret = order_return_create(order=order, actor=actor)
            except DomainError as exc:
                form.add_error(None, admin_message(exc))
                raise _Refused from exc
            for line, quantity in form.chosen():
                try:
                    order_return_line_item_create(
                        ret=ret, line_item=line, quantity=quantity, actor=actor
                    )
                except DomainError as exc:  # its own savepoint is gone: go on with the others
                    form.add_error(form.field_name(line), admin_message(exc))
            if form.errors:
                raise _Refused
    except _Refused:
        return None
    return Return.objects.prefetch_related("return_line_items__line_item").get(pk=ret.pk)


def return_page(ret: Return, request: HttpRequest) -> dict[str, Any]:
    """What the return page shows above its fields: status, order, refund and buttons."""
    lines = list(ret.return_line_items.all())  # prefetched with the page's queryset
    refund = ret.reference_refund
    order = ret.order
    return {
        "ret": ret,
        "return_buttons": permitted(allowed_now(ret, lines, refund), request.user),
        "return_refund": refund,
        "return_colour": STATUS_COLOURS.get(ret.status, "info"),
        "payment_colour": PAYMENT_COLOURS.get(order.payment_status, "info"),
        "return_order": order,
        "return_order_url": reverse("admin:orders_order_change", args=[order.pk]),
    }
