"""The gift cards' page (issue 10): the list (codes masked but for their end), the create and
change form over `gift_card_create` / `gift_card_update`, the actions that sell, activate,
deactivate and change the balance of the selected cards (each the service the API's trigger
runs, refusals shown as messages), and the card's balance log, read only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from unfold.decorators import display
from unfold.forms import ActionForm

from oms.admin import MoneyModelForm, ServiceModelAdmin
from oms.errors import DomainError, TransitionNotAllowed, admin_message
from oms.money import format_money, is_currency_code
from orders.admin.actions import InputRefused, amount_cents_of
from orders.admin.base import ReadOnlyInline
from orders.models import GiftCard, GiftCardBalanceChange
from orders.services import gift_cards as services

STATUS_COLOURS = {
    "draft": "info",
    "inactive": "warning",
    "active": "success",
    "redeemed": "danger",
}
# a trigger, as the end of "… can't be ___ now" and of "… card(s) ___"
TRIGGER_DONE = {
    "_purchase": "purchased",
    "_activate": "activated",
    "_deactivate": "deactivated",
}
# the form's money fields (major units) and the columns they stand for
MONEY_FIELDS = {"balance": "balance_cents", "balance_max": "balance_max_cents"}
FORM_FIELD_OF = {column: name for name, column in MONEY_FIELDS.items()}
EDITABLE_FIELDS = (
    "market",
    "currency_code",
    "balance",
    "balance_max",
    "single_use",
    "rechargeable",
    "distribute_discount",
    "image_url",
    "expires_at",
    "recipient_email",
    "reference",
    "reference_origin",
    "metadata",
)


def masked(code: str) -> str:
    """A code as the list shows it: only its last 4 characters (the whole code pays)."""
    return f"••••{code[-4:]}"


def refusal_message(error: DomainError) -> str:
    """A refusal in the merchant's words: "Gift card …1234 can't be activated now: it is
    redeemed." (`admin_message` does not know the gift cards' triggers)."""
    if isinstance(error, TransitionNotAllowed):
        for trigger, done in TRIGGER_DONE.items():
            suffix = f": {trigger} is not allowed."
            if error.detail.endswith(suffix):
                subject, _, status = error.detail.removesuffix(suffix).rpartition(" is ")
                return f"{subject} can't be {done} now: it is {status}."
    return admin_message(error)


class GiftCardForm(MoneyModelForm):
    """Amounts in major units of the card's currency. The balance is set here only while the
    card is draft (afterwards: the "Change the balance" action); the code only on creation."""

    # not the model's `code` (which has a generated default): the service generates one
    new_code = forms.CharField(
        required=False,
        max_length=255,
        label="Code",
        help_text="Leave empty to generate a random code.",
    )
    currency_code = forms.CharField(
        required=False, max_length=3, help_text="ISO 4217 (e.g. EUR); empty: the market's."
    )
    balance = forms.DecimalField(min_value=0, decimal_places=4, required=False, label="Balance")
    balance_max = forms.DecimalField(
        min_value=0, decimal_places=4, required=False, label="Maximum balance"
    )
    money_fields = MONEY_FIELDS

    class Meta:
        model = GiftCard
        fields = (
            "market",
            "currency_code",
            "single_use",
            "rechargeable",
            "distribute_discount",
            "image_url",
            "expires_at",
            "recipient_email",
            "reference",
            "reference_origin",
            "metadata",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.status != GiftCard.Status.DRAFT:
            for name in ("balance", "currency_code"):
                if name in self.fields:
                    self.fields[name].disabled = True
            if "balance" in self.fields:
                self.fields["balance"].help_text = "Use the action “Change the balance”."

    def currency_code_of(self, data: dict[str, Any]) -> str:
        currency = str(data.get("currency_code") or "").strip().upper()
        market = data.get("market") or self.instance.market
        if not currency and market is not None:
            currency = str(market.price_list.currency_code)
        currency = currency or self.instance.currency_code
        if not currency or not is_currency_code(currency):
            raise AttributeError("no currency yet")  # the service's check names it
        return currency

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        probe = GiftCard(
            currency_code=data.get("currency_code") or "",
            market=data.get("market"),
            balance_max_cents=self.instance.balance_max_cents,
        )
        try:
            services.gift_card_check(
                gift_card=probe, balance_cents=self.instance.balance_cents or 0
            )
            code = str(data.get("new_code") or "").strip()
            if self.instance._state.adding and code and services.gift_card_by_code(code):
                raise services.gift_card_code_taken(code)
        except DomainError as exc:
            self.add_error(self.field_of(exc), exc.detail.split(" - ", 1)[-1])
            return data
        data["currency_code"] = probe.currency_code  # normalised, or the market's
        return data

    def field_of(self, error: DomainError) -> str | None:
        name = (error.pointer or "").rsplit("/", 1)[-1]
        name = FORM_FIELD_OF.get(name, "new_code" if name == "code" else name)
        return name if name in self.fields else None


class GiftCardActionForm(ActionForm):
    """The actions bar, with the amount of a balance change in major units of each selected
    card's currency: 25.00 recharges, -10.00 takes. Text, so a bad amount is reported."""

    balance_change = forms.CharField(
        required=False,
        label="Balance change (e.g. 25.00 or -10.00):",
        widget=forms.TextInput(attrs={"size": 10, "inputmode": "decimal"}),
    )


def balance_change_cents_of(raw: str, currency_code: str) -> int:
    """A signed amount typed in major units, in the currency's minor units."""
    raw = raw.strip()
    sign = -1 if raw.startswith("-") else 1
    cents = amount_cents_of(raw.lstrip("+-"), currency_code)
    if cents is None:
        raise InputRefused("Type the balance change, e.g. 25.00 or -10.00.")
    return sign * cents


class GiftCardBalanceLogInline(ReadOnlyInline):
    """The card's balance log: every move, by the merchant or by an order, with the balance
    after it."""

    model = GiftCardBalanceChange
    fields = readonly_fields = ("created_at", "kind", "amount", "balance_after", "order_link")
    verbose_name = "balance change"
    verbose_name_plural = "Balance log"
    ordering = ("created_at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[GiftCardBalanceChange]:
        return super().get_queryset(request).select_related("gift_card", "order")

    @admin.display(description="Amount")
    def amount(self, change: GiftCardBalanceChange) -> str:
        return format_money(change.amount_cents, change.gift_card.currency_code)

    @admin.display(description="Balance after")
    def balance_after(self, change: GiftCardBalanceChange) -> str:
        return format_money(change.balance_cents, change.gift_card.currency_code)

    @admin.display(description="Order")
    def order_link(self, change: GiftCardBalanceChange) -> str:
        if change.order is None:
            return "—"
        url = reverse("admin:orders_order_change", args=[change.order_id])
        return format_html('<a href="{}">#{}</a>', url, change.order.number)


def _transition_action(trigger: str, service: Callable[..., GiftCard], verb: str) -> Any:
    done = TRIGGER_DONE[trigger]

    def action(
        modeladmin: GiftCardAdmin, request: HttpRequest, queryset: QuerySet[GiftCard]
    ) -> None:
        modeladmin.each_card(request, queryset, lambda card: service(gift_card=card), done)

    action.__name__ = f"{trigger.lstrip('_')}_gift_cards"
    return admin.action(description=f"{verb} the selected gift cards", permissions=["change"])(
        action
    )


@admin.register(GiftCard)
class GiftCardAdmin(ServiceModelAdmin):
    form = GiftCardForm
    action_form = GiftCardActionForm
    list_display = ("masked_code", "status_badge", "formatted_balance", "market", "expires_at")
    list_filter = ("status", "currency_code", "market")
    search_fields = ("=code", "recipient_email", "reference")
    list_select_related = ("market",)
    inlines = (GiftCardBalanceLogInline,)
    actions = (
        _transition_action("_purchase", services.gift_card_purchase, "Purchase"),
        _transition_action("_activate", services.gift_card_activate, "Activate"),
        _transition_action("_deactivate", services.gift_card_deactivate, "Deactivate"),
        "change_balance",
    )

    @display(description="code", ordering="code")
    def masked_code(self, gift_card: GiftCard) -> str:
        return masked(gift_card.code)

    @display(description="status", ordering="status", label=STATUS_COLOURS)
    def status_badge(self, gift_card: GiftCard) -> str:
        return gift_card.status

    @admin.display(description="Balance", ordering="balance_cents")
    def formatted_balance(self, gift_card: GiftCard) -> str:
        return gift_card.formatted_balance

    @admin.display(description="Initial balance")
    def formatted_initial_balance(self, gift_card: GiftCard) -> str:
        return gift_card.formatted_initial_balance

    @admin.display(description="Code")
    def code_masked(self, gift_card: GiftCard) -> str:
        return masked(gift_card.code)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("new_code", *EDITABLE_FIELDS)
        return (
            self.code_field(request, obj),
            "status",
            "formatted_initial_balance",
            *EDITABLE_FIELDS,
            *ServiceModelAdmin.readonly_fields,
        )

    def code_field(self, request: HttpRequest, obj: GiftCard) -> str:
        """The whole code to a role that may change cards (it hands them out), else its end."""
        return "code" if self.has_change_permission(request, obj) else "code_masked"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ServiceModelAdmin.readonly_fields
        return (
            self.code_field(request, obj),
            "status",
            "formatted_initial_balance",
            *ServiceModelAdmin.readonly_fields,
        )

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.inlines if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        data = {
            name: form.cleaned_data[name]
            for name in form.cleaned_data
            if name in services.GIFT_CARD_EDITABLE and (not change or name in form.changed_data)
        }
        for name, column in MONEY_FIELDS.items():
            if not change or name in form.changed_data:
                data[column] = getattr(obj, column)
        try:
            if change:
                services.gift_card_update(gift_card=obj, data=data)
                return
            created = services.gift_card_create(
                data={**data, "code": form.cleaned_data.get("new_code", "")}
            )
        except DomainError as exc:  # lost a race after the form's checks
            self.message_user(request, f"Not saved: {refusal_message(exc)}", messages.ERROR)
            return
        # the admin goes on with the form's instance (its messages, its redirect)
        for field in GiftCard._meta.concrete_fields:
            if field.name != "status":
                setattr(obj, field.attname, getattr(created, field.attname))
        obj._state.adding = False

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        formset.save(commit=False)  # the balance log is read only: nothing to write

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        try:
            services.gift_card_delete(gift_card=obj)
        except DomainError as exc:
            self.message_user(request, f"Not deleted: {refusal_message(exc)}", messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for gift_card in queryset.order_by("pk"):
            self.delete_model(request, gift_card)

    @admin.action(
        description="Change the balance of the selected gift cards", permissions=["change"]
    )
    def change_balance(self, request: HttpRequest, queryset: QuerySet[GiftCard]) -> None:
        raw = request.POST.get("balance_change", "")

        def change(gift_card: GiftCard) -> GiftCard:
            amount = balance_change_cents_of(raw, gift_card.currency_code)
            return services.gift_card_balance_change(gift_card=gift_card, amount_cents=amount)

        self.each_card(request, queryset, change, "changed")

    def each_card(
        self,
        request: HttpRequest,
        queryset: QuerySet[GiftCard],
        operation: Callable[[GiftCard], GiftCard],
        done: str,
    ) -> None:
        """Each selected card through its service (one transaction each), then how many
        succeeded and why the others did not."""
        succeeded = 0
        for gift_card in queryset.order_by("pk"):
            try:
                operation(gift_card)
            except InputRefused as exc:
                self.message_user(request, f"Nothing done: {exc}", messages.ERROR)
                return
            except DomainError as exc:
                self.message_user(request, refusal_message(exc), messages.ERROR)
            else:
                succeeded += 1
        if succeeded:
            self.message_user(request, f"{succeeded} gift card(s) {done}.", messages.SUCCESS)
