"""Every write of the webhooks app, and the sender.

The sender claims due deliveries under a short lock and a lease, then calls the merchant's
endpoint with no transaction or lock held, then records the attempt in a second short
transaction. A worker killed mid-send leaves its rows `sending` until their lease expires;
another worker then claims them again (delivery is at least once).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework.test import APIRequestFactory, force_authenticate

from oms.api.principal import Principal
from oms.errors import DomainError
from oms.http import ResponseTooLarge, http_post, payload_signature
from oms.services import resource_create, resource_update
from oms.webhooks.models import (
    CIRCUIT_FAILURE_THRESHOLD,
    EXCERPT_CHARS,
    MAX_ATTEMPTS,
    PAYLOAD_CHARS,
    Event,
    EventCallback,
    Webhook,
    WebhookDelivery,
    new_webhook_shared_secret,
)
from oms.webhooks.outbox import webhook_deliveries_record
from oms.webhooks.selectors import deliveries_due
from oms.webhooks.topics import TOPICS

logger = logging.getLogger("oms.webhooks")

DEADLINE_SECONDS = 5.0  # one call, connect to last byte (spec section 8)
# A claimed row belongs to its worker OMS_WEBHOOKS_LEASE_SECONDS (60): past every call's
# deadline, with room.
MIN_LEASE_SECONDS = DEADLINE_SECONDS + 1


def lease_seconds() -> float:
    return max(float(settings.OMS_WEBHOOKS_LEASE_SECONDS), MIN_LEASE_SECONDS)


MAX_BACKOFF_SECONDS = 3600
# Who renders the payloads: a read-only integration, so the document is what an integration
# would GET.
RENDERER = Principal(application_id="webhooks", kind="integration", role="read_only")


class CallbackUrlRefused(DomainError):
    code = "CALLBACK_URL_NOT_ALLOWED"


# --- webhooks ------------------------------------------------------------------------------------


def callback_url_check(url: str, *, resolve_host: bool = False) -> list[str]:
    """Refuse a callback URL the guard does not allow; return the addresses it resolved to.

    https only unless `OMS_WEBHOOKS_ALLOW_HTTP`; no private, loopback, link-local, multicast,
    reserved or unspecified address unless `OMS_WEBHOOKS_ALLOW_PRIVATE`. `resolve_host`: the
    name is resolved and every address it has is checked (at send time, so a name that is
    re-pointed at an internal address after the webhook was saved is refused too)."""
    parts = urllib.parse.urlsplit(url)
    allowed_schemes = {"https", "http"} if settings.OMS_WEBHOOKS_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed_schemes:
        raise CallbackUrlRefused(
            f"callback_url must be {' or '.join(sorted(allowed_schemes))}: {url[:200]}",
            pointer="/data/attributes/callback_url",
        )
    host = parts.hostname or ""
    if not host:
        raise CallbackUrlRefused(
            "callback_url has no host", pointer="/data/attributes/callback_url"
        )
    if settings.OMS_WEBHOOKS_ALLOW_PRIVATE:
        return []
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            raise CallbackUrlRefused(
                f"callback_url's host {host} is a loopback name",
                pointer="/data/attributes/callback_url",
            ) from None
        if not resolve_host:
            return []
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise CallbackUrlRefused(f"callback_url's host {host} does not resolve: {exc}") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        if not address.is_global or address.is_multicast:
            raise CallbackUrlRefused(
                f"callback_url's host {host} is a private, loopback or link-local address "
                f"({address}); set OMS_WEBHOOKS_ALLOW_PRIVATE to allow it",
                pointer="/data/attributes/callback_url",
            )
    return [str(address) for address in addresses]


class TopicUnknown(DomainError):
    code = "TOPIC_UNKNOWN"


class EventNeverFired(DomainError):
    code = "EVENT_NEVER_FIRED"


def _checked(data: Mapping[str, Any]) -> Mapping[str, Any]:
    if "topic" in data and data["topic"] not in TOPICS:
        raise TopicUnknown(
            f"{data['topic']!r} is not a topic: one of the events' names "
            f"({', '.join(sorted(TOPICS))})",
            pointer="/data/attributes/topic",
        )
    if "callback_url" in data:
        callback_url_check(str(data["callback_url"]))
    includes = data.get("include_resources")
    if includes is not None and (
        not isinstance(includes, list) or not all(isinstance(i, str) for i in includes)
    ):
        raise DomainError(
            "include_resources must be a list of relationship names",
            pointer="/data/attributes/include_resources",
        )
    return data


def webhook_create(*, data: Mapping[str, Any]) -> Webhook:
    return resource_create(Webhook, _checked(data))


def webhook_update(*, webhook: Webhook, data: Mapping[str, Any]) -> Webhook:
    return resource_update(webhook, _checked(data))


def _webhook_set(webhook: Webhook, **values: Any) -> Webhook:
    with transaction.atomic():
        locked = Webhook.objects.select_for_update().get(pk=webhook.pk)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*values, "updated_at"])
    return locked


def webhook_disable(*, webhook: Webhook) -> Webhook:
    """`_disable`: no new deliveries are recorded and waiting ones are not sent."""
    if webhook.disabled_at is not None:
        return webhook
    return _webhook_set(webhook, disabled_at=timezone.now())


def webhook_enable(*, webhook: Webhook) -> Webhook:
    return _webhook_set(webhook, disabled_at=None)


def webhook_reset_circuit(*, webhook: Webhook) -> Webhook:
    """`_reset_circuit`: close the circuit; the deliveries that waited are sent again."""
    return _webhook_set(webhook, circuit_state=Webhook.CircuitState.CLOSED, circuit_failure_count=0)


def webhook_regenerate_shared_secret(*, webhook: Webhook) -> Webhook:
    return _webhook_set(webhook, shared_secret=new_webhook_shared_secret())


def delivery_resend(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Queue a delivery again, with a fresh set of attempts (the admin's "resend")."""
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        locked.status = WebhookDelivery.Status.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.locked_until = None
        locked.save(update_fields=["status", "attempts", "next_attempt_at", "locked_until"])
    return locked


# --- events --------------------------------------------------------------------------------------


def events_sync(*, using: str = "default") -> int:
    """One `events` row per topic this system publishes (run after every migrate, so a topic
    added in code appears without a migration of its own). Returns how many were added."""
    events = Event.objects.using(using)
    known = set(events.values_list("name", flat=True))
    missing = [Event(name=name) for name in TOPICS if name not in known]
    events.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def event_update(*, event: Event, data: Mapping[str, Any]) -> Event:
    return resource_update(event, data)


def event_trigger(*, event: Event) -> Event:
    """`_trigger`: send the event's latest occurrence again to every enabled webhook of its
    topic (a new delivery each, through the outbox like any other)."""
    with transaction.atomic():
        latest = (
            WebhookDelivery.objects.filter(topic=event.name)
            .order_by("-created_at", "-pk")
            .values_list("resource_type", "resource_id")
            .first()
        )
        if latest is None:
            raise EventNeverFired(
                f"{event.name} has not fired yet: there is no resource to send again.",
                pointer="/data/attributes/_trigger",
            )
        webhook_deliveries_record(events=[(event.name, *latest)])
    return event


# --- the sender ----------------------------------------------------------------------------------


@dataclass
class SendSummary:
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return (
            f"{self.claimed} due: {self.delivered} delivered, {self.retrying} to retry, "
            f"{self.failed} given up"
        )


def _claim(limit: int) -> list[tuple[WebhookDelivery, Any]]:
    now = timezone.now()
    locked_until = now + timedelta(seconds=lease_seconds())
    with transaction.atomic():
        # skip_locked: two workers claiming at once take different rows instead of waiting
        # (SQLite ignores it: its write transactions are serialized anyway).
        rows = list(
            deliveries_due(now=now)
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at", "id")[:limit]
        )
        WebhookDelivery.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=WebhookDelivery.Status.SENDING, locked_until=locked_until
        )
    return [(row, locked_until) for row in rows]


def deliveries_send_due(*, limit: int = 100) -> SendSummary:
    """Send up to `limit` due deliveries, one attempt each."""
    summary = SendSummary()
    for delivery, locked_until in _claim(limit):
        summary.claimed += 1
        outcome = delivery_attempt(delivery=delivery, locked_until=locked_until)
        if outcome == WebhookDelivery.Status.DELIVERED:
            summary.delivered += 1
        elif outcome == WebhookDelivery.Status.FAILED:
            summary.failed += 1
        else:
            summary.retrying += 1
    return summary


def payload_render(*, resource_type: str, resource_id: str, include: list[str]) -> bytes | None:
    """The JSON:API document of the resource, rendered now by its API view (the same
    serializers, includes and rules as a GET by a read-only integration). None: it is gone."""
    path = f"/api/{resource_type}/{resource_id}"
    try:
        match = resolve(path)
    except Resolver404:
        return None
    params = {"include": ",".join(include)} if include else {}
    public = urllib.parse.urlsplit(settings.OMS_PUBLIC_URL)
    request = APIRequestFactory().get(
        path,
        params,
        HTTP_ACCEPT="application/vnd.api+json",
        HTTP_HOST=public.netloc,
        secure=public.scheme == "https",
    )
    # the host is this system's own configured name, not a client's header: links are built
    # on it without the ALLOWED_HOSTS check a request from outside gets
    request.get_host = lambda: public.netloc  # type: ignore[method-assign]
    force_authenticate(request, token=RENDERER)  # type: ignore[arg-type]
    response = match.func(request, *match.args, **match.kwargs)
    response.render()
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise DomainError(
            f"{path} could not be rendered ({response.status_code}): "
            f"{bytes(response.content)[:300].decode('utf-8', 'replace')}"
        )
    return bytes(response.content)


def delivery_attempt(*, delivery: WebhookDelivery, locked_until: Any) -> str:
    """One attempt, with no transaction or lock held while the endpoint is called; returns
    the delivery's status after it.

    The guard resolves the host and checks every address; `http_post` then connects to the
    first checked address itself (the Host header, TLS's server name and its certificate check
    stay the URL's host), so a name whose DNS answer flips after the check cannot slip an
    internal address in (DNS rebinding)."""
    webhook = Webhook.objects.get(pk=delivery.webhook_id)
    if not webhook.enabled or webhook.circuit_state == Webhook.CircuitState.OPEN:
        # The circuit opened (or the webhook was disabled) since the claim, by an earlier
        # row of this batch perhaps: the row goes back to wait, with no attempt spent.
        WebhookDelivery.objects.filter(
            pk=delivery.pk, status=WebhookDelivery.Status.SENDING, locked_until=locked_until
        ).update(status=WebhookDelivery.Status.PENDING, locked_until=None)
        return str(WebhookDelivery.Status.PENDING)
    url = webhook.callback_url
    body = b""
    started = time.monotonic()
    code, message = "", ""
    try:
        checked = callback_url_check(url, resolve_host=True)
        rendered = payload_render(
            resource_type=delivery.resource_type,
            resource_id=delivery.resource_id,
            include=list(webhook.include_resources or []),
        )
        if rendered is None:
            raise DomainError(f"{delivery.resource_type}/{delivery.resource_id} is gone")
        body = rendered
        headers = {
            "Content-Type": "application/vnd.api+json",
            "Accept": "application/json",
            "User-Agent": "oms-webhooks",
            "X-CommerceLayer-Topic": delivery.topic,
            "X-CommerceLayer-Signature": payload_signature(body, webhook.shared_secret),
        }
        answer = http_post(
            url,
            body=body,
            headers=headers,
            timeout=DEADLINE_SECONDS,
            connect_to=checked[0] if checked else None,
        )
        code = str(answer.status)
        message = answer.body.decode("utf-8", "replace")
        succeeded = 200 <= answer.status < 300
    except DomainError as exc:
        message, succeeded = exc.detail, False
    except ResponseTooLarge:
        code, message, succeeded = "", "the answer was too large", False
    except TimeoutError:
        message, succeeded = f"no answer within {DEADLINE_SECONDS:g} s", False
    except OSError as exc:
        message, succeeded = f"could not connect: {exc}", False
    duration_ms = int((time.monotonic() - started) * 1000)
    return _attempt_record(
        delivery=delivery,
        webhook=webhook,
        locked_until=locked_until,
        succeeded=succeeded,
        callback=EventCallback(
            webhook=webhook,
            delivery_id=delivery.pk,
            callback_url=url[:2000],
            payload=body.decode("utf-8", "replace")[:PAYLOAD_CHARS],
            response_code=code,
            response_message=message[:EXCERPT_CHARS],
            duration_ms=duration_ms,
        ),
    )


def _attempt_record(
    *,
    delivery: WebhookDelivery,
    webhook: Webhook,
    locked_until: Any,
    succeeded: bool,
    callback: EventCallback,
) -> str:
    now = timezone.now()
    attempts = delivery.attempts + 1
    if succeeded:
        status = WebhookDelivery.Status.DELIVERED
    elif attempts >= MAX_ATTEMPTS:
        status = WebhookDelivery.Status.FAILED
    else:
        status = WebhookDelivery.Status.PENDING
    backoff = min(settings.OMS_WEBHOOKS_BACKOFF_SECONDS * 2 ** (attempts - 1), MAX_BACKOFF_SECONDS)
    with transaction.atomic():
        callback.save()
        # Only while the lease is still ours: a worker that overran it leaves the row to the
        # one that claimed it since (its attempt is recorded all the same).
        WebhookDelivery.objects.filter(
            pk=delivery.pk, status=WebhookDelivery.Status.SENDING, locked_until=locked_until
        ).update(
            status=status,
            attempts=attempts,
            locked_until=None,
            next_attempt_at=now + timedelta(seconds=backoff),
            delivered_at=now if succeeded else None,
        )
        hooks = Webhook.objects.filter(pk=webhook.pk)
        if succeeded:
            hooks.filter(circuit_failure_count__gt=0).update(circuit_failure_count=0)
        else:
            hooks.update(circuit_failure_count=F("circuit_failure_count") + 1)
            hooks.filter(circuit_failure_count__gte=CIRCUIT_FAILURE_THRESHOLD).update(
                circuit_state=Webhook.CircuitState.OPEN
            )
    logger.info(
        "webhook %s %s %s/%s attempt %d: %s %s",
        webhook.pk,
        delivery.topic,
        delivery.resource_type,
        delivery.resource_id,
        attempts,
        callback.response_code or "-",
        status,
        extra={"delivery_id": delivery.pk, "duration_ms": callback.duration_ms},
    )
    return str(status)


def payload_json(body: str) -> Any:
    """An event callback's payload as JSON; None when it was cut (longer than
    PAYLOAD_CHARS) or nothing was sent."""
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None
