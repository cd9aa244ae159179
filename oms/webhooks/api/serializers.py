"""JSON:API serializers of webhooks and event callbacks (Commerce Layer's fields)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from oms.api.serializers import Relationship, ResourceSerializer, TypedMethodField
from oms.webhooks.models import Event, EventCallback, Webhook
from oms.webhooks.services import payload_json


class WebhookSerializer(ResourceSerializer):
    relationships = {
        "last_event_callbacks": Relationship("event_callbacks", many=True, reverse="webhook"),
    }
    include_resources = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False
    )
    _disable = serializers.BooleanField(write_only=True, required=False)
    _enable = serializers.BooleanField(write_only=True, required=False)
    _reset_circuit = serializers.BooleanField(write_only=True, required=False)
    _regenerate_shared_secret = serializers.BooleanField(write_only=True, required=False)

    class Meta:
        model = Webhook
        resource_name = "webhooks"
        fields = (
            "name",
            "topic",
            "callback_url",
            "include_resources",
            "disabled_at",
            "circuit_state",
            "circuit_failure_count",
            "shared_secret",
            "_disable",
            "_enable",
            "_reset_circuit",
            "_regenerate_shared_secret",
        )
        read_only_fields = (
            "disabled_at",
            "circuit_state",
            "circuit_failure_count",
            "shared_secret",
        )
        creatable = ("name", "topic", "callback_url", "include_resources", "_disable", "_enable")
        updatable = (*creatable, "_reset_circuit", "_regenerate_shared_secret")


class EventCallbackSerializer(ResourceSerializer):
    relationships = {"webhook": Relationship("webhooks")}
    payload = TypedMethodField({"type": "object", "nullable": True})
    signature = serializers.SerializerMethodField()

    class Meta:
        model = EventCallback
        resource_name = "event_callbacks"
        fields = ("callback_url", "payload", "response_code", "response_message", "signature")
        read_only_fields = fields
        creatable: tuple[str, ...] = ()
        updatable: tuple[str, ...] = ()

    def get_payload(self, instance: EventCallback) -> Any:
        return payload_json(instance.payload)

    def get_signature(self, instance: EventCallback) -> str:
        return ""  # not kept: recomputing it needs the secret of the time


# how many of an event's latest callbacks `last_event_callbacks` lists
LAST_EVENT_CALLBACKS = 10


class EventSerializer(ResourceSerializer):
    computed_relationships = {
        "webhooks": ("get_webhooks", "webhooks"),
        "last_event_callbacks": ("get_last_event_callbacks", "event_callbacks"),
    }
    _trigger = serializers.BooleanField(write_only=True, required=False)

    class Meta:
        model = Event
        resource_name = "events"
        fields = ("name", "_trigger")
        read_only_fields = ("name",)
        creatable: tuple[str, ...] = ()
        updatable = ("_trigger",)

    def get_webhooks(self, event: Event) -> list[Webhook]:
        return list(Webhook.objects.filter(topic=event.name).order_by("created_at", "pk"))

    def get_last_event_callbacks(self, event: Event) -> list[EventCallback]:
        return list(
            EventCallback.objects.filter(webhook__topic=event.name).order_by("-created_at", "-pk")[
                :LAST_EVENT_CALLBACKS
            ]
        )
