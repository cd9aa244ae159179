"""Webhooks (spec section 8): a merchant's subscriptions to topics, the outbox of deliveries
written in the same transaction as the change, and one callback row per attempt."""

from __future__ import annotations

import secrets

from django.db import models

from oms.ids import PUBLIC_ID_LENGTH
from oms.models import Resource

# How many consecutive failed attempts of one webhook open its circuit (Commerce Layer's 30).
CIRCUIT_FAILURE_THRESHOLD = 30
# How many attempts a delivery gets before it is given up (spec: up to 10).
MAX_ATTEMPTS = 10
EXCERPT_CHARS = 2000  # of a response kept on its event callback
PAYLOAD_CHARS = 64 * 1024  # of a payload kept on its event callback (a larger one is cut)


def new_webhook_shared_secret() -> str:
    return secrets.token_hex(16)  # 128 bits, CL's 32 hex characters


def empty_list() -> list[str]:
    return []


class Webhook(Resource):
    class CircuitState(models.TextChoices):
        """Whether the webhook is being called."""

        CLOSED = "closed", "Closed"  # deliveries are sent
        OPEN = "open", "Open"  # too many consecutive failures: deliveries wait for a reset

    name = models.CharField(max_length=255, blank=True, default="")
    topic = models.CharField(max_length=100, db_index=True)
    callback_url = models.URLField(max_length=2000)
    include_resources = models.JSONField(default=empty_list, blank=True)
    shared_secret = models.CharField(
        max_length=128, default=new_webhook_shared_secret, editable=False
    )
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    circuit_state = models.CharField(
        max_length=10, choices=CircuitState.choices, default=CircuitState.CLOSED, editable=False
    )
    circuit_failure_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=models.Q(circuit_state__in=["closed", "open"]),
                name="webhook_circuit_state_valid",
            )
        ]

    def __str__(self) -> str:
        return self.name or f"Webhook {self.pk}"

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


class WebhookDelivery(models.Model):
    """The outbox row: one topic of one resource to send to one webhook."""

    class Status(models.TextChoices):
        """Where the delivery stands."""

        PENDING = "pending", "Pending"  # waiting for its next attempt
        SENDING = "sending", "Sending"  # claimed by a worker until `locked_until`
        DELIVERED = "delivered", "Delivered"  # the endpoint answered 2xx
        FAILED = "failed", "Failed"  # every attempt failed: given up (resend re-queues it)

    id = models.BigAutoField(primary_key=True)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    topic = models.CharField(max_length=100)
    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=PUBLIC_ID_LENGTH * 2)
    created_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # the sender's scan: due rows of the statuses it claims
            models.Index(fields=("status", "next_attempt_at"), name="webhook_delivery_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sending", "delivered", "failed"]),
                name="webhook_delivery_status_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} {self.resource_type}/{self.resource_id}"


class EventCallback(Resource):
    """One attempt to deliver: what was sent where, and what came back."""

    # Commerce Layer's name for the relationship from the webhook
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, related_name="last_event_callbacks"
    )
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="event_callbacks"
    )
    callback_url = models.CharField(max_length=2000)
    payload = models.TextField(blank=True, default="")  # the first PAYLOAD_CHARS sent
    response_code = models.CharField(max_length=10, blank=True, default="")
    response_message = models.TextField(blank=True, default="")  # excerpt, or why it failed
    duration_ms = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.callback_url} {self.response_code or '-'}"


class Event(Resource):
    """A topic webhooks can subscribe to (Commerce Layer's `events`): one row per name of
    `oms.webhooks.topics.TOPICS`, kept in step by `events_sync` after every migrate."""

    name = models.CharField(max_length=100, unique=True, editable=False)

    class Meta(Resource.Meta):
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name
