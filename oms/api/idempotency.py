"""`Idempotency-Key` on POST, PATCH and DELETE (spec sections 4 and 7).

The first request with a key claims it (a unique row, inserted before any work, so a concurrent
twin is refused with 409 instead of running twice), runs, and stores its response. A retry with
the same key and the same body within 24 hours gets the stored response; the same key with a
different body is a 422. Keys belong to the application and, for a customer token, the customer
that sent them. A claim older than `OMS_IDEMPOTENCY_CLAIM_TIMEOUT` whose request never finished
(its worker died) is given up, so the key can be retried.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from oms.api.errors import ApiError
from oms.api.permissions import principal_of
from oms.api.renderers import raw_document
from oms.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"
WINDOW = timedelta(hours=24)
MAX_KEY_LENGTH = 255
METHODS = {"POST", "PATCH", "DELETE"}


class ReplayResponse(Exception):
    def __init__(self, response: Response):
        self.response = response


def request_fingerprint(request: Request) -> str:
    body = request.body if hasattr(request, "_request") else b""
    digest = hashlib.sha256()
    digest.update(request.method.encode() if request.method else b"")
    digest.update(b" ")
    digest.update(request.get_full_path().encode())
    digest.update(b"\n")
    digest.update(body)
    return digest.hexdigest()


class IdempotencyMixin:
    """Mixed into the resource viewset; runs after authentication and permissions."""

    _idempotency_record: IdempotencyRecord | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._idempotency_record = None
        key = request.META.get(HEADER)
        if key is None or request.method not in METHODS:
            return
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
                code="BAD_REQUEST",
                parameter="Idempotency-Key",
            )
        principal = principal_of(request)
        scope = {
            "owner": principal.application_id if principal else "",
            "customer": (principal.customer_id or "") if principal else "",
            "key": key,
        }
        fingerprint = request_fingerprint(request)
        now = timezone.now()
        claim_timeout = timedelta(seconds=settings.OMS_IDEMPOTENCY_CLAIM_TIMEOUT)
        IdempotencyRecord.objects.filter(
            Q(created_at__lt=now - WINDOW)
            | Q(status_code__isnull=True, created_at__lt=now - claim_timeout),
            **scope,
        ).delete()  # expired, or claimed by a request that died
        try:
            with transaction.atomic():
                self._idempotency_record = IdempotencyRecord.objects.create(
                    **scope, fingerprint=fingerprint
                )
            return
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(**scope).first()
        if existing is None:  # expired and purged between the two statements
            raise ApiError("Retry the request.", code="CONFLICT", status_code=409)
        if existing.fingerprint != fingerprint:
            raise ApiError(
                "This Idempotency-Key was already used with a different request.",
                code="IDEMPOTENCY_KEY_REUSED",
                status_code=422,
                parameter="Idempotency-Key",
            )
        if existing.status_code is None:
            raise ApiError(
                "A request with this Idempotency-Key is still being processed.",
                code="CONFLICT",
                status_code=409,
            )
        body = json.loads(existing.response_body) if existing.response_body else None
        replay = raw_document(body, status=existing.status_code)
        replay["Idempotent-Replayed"] = "true"
        raise ReplayResponse(replay)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ReplayResponse):
            return exc.response
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        return response

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        record = self._idempotency_record
        if record is not None:
            self._idempotency_record = None
            # by pk and unclaimed: a claim taken for dead and retried meanwhile is not ours
            claim = IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True)
            if response.status_code >= 500:
                claim.delete()  # let the client retry a server failure
            else:
                response.render()
                claim.update(
                    status_code=response.status_code, response_body=response.content.decode()
                )
        return response
