"""Webhook endpoints: back office only (integrations; sales channels and customers get 401)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Model

from oms.api.permissions import BACK_OFFICE, READ, Policy
from oms.api.views import ResourceViewSet, fields
from oms.webhooks import services
from oms.webhooks.api import serializers as s
from oms.webhooks.models import Event, Webhook


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


class EventView(ResourceViewSet):
    """The topics (read by the back office; `_trigger` and the reference fields updated by an
    admin integration; sales channels and customers get 401)."""

    resource_name = "events"
    serializer_class = s.EventSerializer
    policy = Policy(read_only=READ, admin=READ | frozenset({"update"}))
    filterable = fields("name")
    sortable = fields("name")
    triggers = {"_trigger": "trigger_event"}
    computed_relationships = {
        "webhooks": "webhooks",
        "last_event_callbacks": "event_callbacks",
    }

    def perform_update_service(self, instance: Model, data: dict[str, Any]) -> Model:
        assert isinstance(instance, Event)
        return services.event_update(event=instance, data=data)

    def trigger_event(self, instance: Event, value: Any) -> Event:
        return services.event_trigger(event=instance)

    def computed_related_ids(self, name: str, parent: Model) -> Sequence[str]:
        assert isinstance(parent, Event)
        serializer = s.EventSerializer(context={"request": self.request})
        if name == "webhooks":
            return [webhook.pk for webhook in serializer.get_webhooks(parent)]
        return [callback.pk for callback in serializer.get_last_event_callbacks(parent)]
