"""The fields every resource of the spec carries."""

from collections.abc import Sequence
from typing import ClassVar

from django.db import models
from django.db.models.constraints import BaseConstraint

from oms.ids import PUBLIC_ID_LENGTH, new_public_id


def empty_metadata() -> dict[str, object]:
    return {}


class Resource(models.Model):
    """Abstract base: public random id, timestamps, reference fields and free metadata."""

    id = models.CharField(
        primary_key=True, max_length=PUBLIC_ID_LENGTH, default=new_public_id, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    reference = models.CharField(max_length=255, blank=True, default="", db_index=True)
    reference_origin = models.CharField(max_length=255, blank=True, default="")
    metadata = models.JSONField(default=empty_metadata, blank=True)

    # the names of the check constraints `full_clean` proves in Python (the fields or `clean`): it
    # does not ask the database again (a savepoint and a query each, for every row a checkout
    # writes); the database still enforces them
    CHECKED_IN_CLEAN: ClassVar[frozenset[str]] = frozenset()

    class Meta:
        abstract = True
        ordering = ("-created_at", "id")

    def get_constraints(self) -> list[tuple[type[models.Model], Sequence[BaseConstraint]]]:
        if not self.CHECKED_IN_CLEAN:
            return super().get_constraints()
        return [
            (model, [c for c in constraints if c.name not in self.CHECKED_IN_CLEAN])
            for model, constraints in super().get_constraints()
        ]


class UpperCodeField(models.CharField):
    """A code stored in upper case (ISO country and currency codes): ' eur ' becomes 'EUR'."""

    def to_python(self, value: object) -> str | None:
        text = super().to_python(value)
        return text.strip().upper() if isinstance(text, str) else text


class SequenceCounter(models.Model):
    """The last number handed out by a named sequence (see `oms.sequences`)."""

    name = models.CharField(primary_key=True, max_length=100)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class IdempotencyRecord(models.Model):
    """A claimed `Idempotency-Key` and, once the request finished, its response."""

    owner = models.CharField(max_length=64)  # the API application that sent it
    # the customer of a customer token (empty otherwise): two customers of one storefront
    # never share a key's response
    customer = models.CharField(max_length=64, blank=True, default="")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "customer", "key"], name="idempotency_key_unique_per_principal"
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner}:{self.customer}:{self.key}"


class RateLimitWindow(models.Model):
    """Hits of one rate-limit key in one fixed window (see `oms.ratelimit`): a row shared by
    every server process, incremented atomically by an upsert."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()  # unix seconds, a multiple of the window's length
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("key", "window_start"), name="ratelimit_key_window")
        ]
        indexes = [models.Index(fields=("window_start",), name="ratelimit_window_start")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}={self.hits}"
