"""Admin pages of webhooks and their deliveries: every change goes through the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin, TabularInline

from oms.admin import ServiceModelAdmin
from oms.webhooks import services
from oms.webhooks.models import EventCallback, Webhook, WebhookDelivery
from oms.webhooks.topics import TOPICS


class WebhookForm(forms.ModelForm):
    # the topics this system publishes (the `events`), as a list to pick from
    topic = forms.ChoiceField(
        choices=[(name, f"{name}: {what}") for name, what in sorted(TOPICS.items())]
    )

    class Meta:
        model = Webhook
        fields = ("name", "topic", "callback_url", "include_resources")

    def clean_callback_url(self) -> str:
        url = str(self.cleaned_data["callback_url"])
        try:
            services.callback_url_check(url)
        except services.CallbackUrlRefused as exc:
            raise ValidationError(exc.detail) from exc
        return url


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DeliveryInline(ReadOnlyInline):
    model = WebhookDelivery
    fields = ("topic", "resource_type", "resource_id", "status", "attempts", "next_attempt_at")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    max_num = 0


class CallbackInline(ReadOnlyInline):
    model = EventCallback
    fields = ("created_at", "response_code", "response_message", "duration_ms")
    readonly_fields = fields
    ordering = ("created_at", "id")


@admin.register(Webhook)
class WebhookAdmin(ServiceModelAdmin):
    form = WebhookForm
    list_display = (
        "__str__",
        "topic",
        "callback_url",
        "enabled",
        "circuit_state",
        "circuit_failure_count",
    )
    list_filter = ("topic", "circuit_state")
    search_fields = ("name", "topic", "callback_url")
    readonly_fields = (
        "id",
        "shared_secret",
        "disabled_at",
        "circuit_state",
        "circuit_failure_count",
        "created_at",
        "updated_at",
    )
    inlines = (DeliveryInline,)
    actions = ("disable_webhooks", "enable_webhooks", "reset_circuits", "regenerate_secrets")

    @admin.display(boolean=True)
    def enabled(self, webhook: Webhook) -> bool:
        return webhook.enabled

    @admin.action(description="Disable the selected webhooks", permissions=["change"])
    def disable_webhooks(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        for webhook in queryset:
            services.webhook_disable(webhook=webhook)

    @admin.action(description="Enable the selected webhooks", permissions=["change"])
    def enable_webhooks(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        for webhook in queryset:
            services.webhook_enable(webhook=webhook)

    @admin.action(description="Reset the circuit of the selected webhooks", permissions=["change"])
    def reset_circuits(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        for webhook in queryset:
            services.webhook_reset_circuit(webhook=webhook)

    @admin.action(
        description="Regenerate the shared secret of the selected webhooks", permissions=["change"]
    )
    def regenerate_secrets(self, request: HttpRequest, queryset: QuerySet[Webhook]) -> None:
        for webhook in queryset:
            services.webhook_regenerate_shared_secret(webhook=webhook)
        messages.warning(request, "Update the secret on the receiving endpoints too.")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ModelAdmin):
    """Read only but for "resend": the outbox is written by the changes themselves."""

    list_display = (
        "id",
        "webhook",
        "topic",
        "resource_type",
        "resource_id",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "topic")
    search_fields = ("resource_id", "topic", "webhook__name")
    list_select_related = ("webhook",)
    inlines = (CallbackInline,)
    actions = ("resend",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        # re-queuing a delivery changes its webhook's traffic: who may change webhooks
        return request.user.has_perm("webhooks.change_webhook")

    @admin.action(description="Resend the selected deliveries", permissions=["resend"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = 0
        for delivery in queryset:
            services.delivery_resend(delivery=delivery)
            count += 1
        messages.success(request, f"{count} delivery(ies) queued again.")
