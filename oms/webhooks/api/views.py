"""Webhook endpoints: back office only (integrations; sales channels and customers get 401)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from oms.api.permissions import BACK_OFFICE, READ, Policy
from oms.api.views import ResourceViewSet, fields
from oms.webhooks import services
from oms.webhooks.api import serializers as s
from oms.webhooks.models import Webhook


class WebhookView(ResourceViewSet):
    resource_name = "webhooks"
    serializer_class = s.WebhookSerializer
    policy = BACK_OFFICE
    filterable = fields("name", "topic", "callback_url", "disabled_at", "circuit_state")
    sortable = fields("name", "topic", "disabled_at", "circuit_state", "circuit_failure_count")
    triggers = {
        "_disable": "trigger_disable",
        "_enable": "trigger_enable",
        "_reset_circuit": "trigger_reset_circuit",
        "_regenerate_shared_secret": "trigger_regenerate_shared_secret",
    }

    def perform_create_service(self, data: dict[str, Any]) -> Model:
        triggers = {name: data.pop(name) for name in list(data) if name.startswith("_")}
        webhook: Model = services.webhook_create(data=data)
        for name, value in triggers.items():
            if value:
                webhook = self.perform_trigger(webhook, name, value)
        return webhook

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, Webhook)
        return services.webhook_update(webhook=instance, data=data)

    def trigger_disable(self, instance: Webhook, value: Any) -> Webhook:
        return services.webhook_disable(webhook=instance)

    def trigger_enable(self, instance: Webhook, value: Any) -> Webhook:
        return services.webhook_enable(webhook=instance)

    def trigger_reset_circuit(self, instance: Webhook, value: Any) -> Webhook:
        return services.webhook_reset_circuit(webhook=instance)

    def trigger_regenerate_shared_secret(self, instance: Webhook, value: Any) -> Webhook:
        return services.webhook_regenerate_shared_secret(webhook=instance)


class EventCallbackView(ResourceViewSet):
    resource_name = "event_callbacks"
    serializer_class = s.EventCallbackSerializer
    policy = Policy(read_only=READ, admin=READ)
    filterable = fields("callback_url", "response_code", webhook_id="webhook__id")
    sortable = fields("response_code")
