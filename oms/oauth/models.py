"""API clients (applications) and the refresh tokens issued to them."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from oms.models import Resource

CLIENT_ID_LENGTH = 43  # secrets.token_urlsafe(32): 256 random bits, like Commerce Layer's ids


def new_client_id() -> str:
    """256 random bits, URL-safe, never starting with "-" or "_": a leading dash would read as an
    option on the command line (`oms_application revoke <client_id>`)."""
    while True:
        client_id = secrets.token_urlsafe(32)
        if client_id[0].isalnum():
            return client_id


class Application(Resource):
    """A client of the API: a storefront (sales channel) or a back-office integration."""

    class Kind(models.TextChoices):
        SALES_CHANNEL = "sales_channel", "sales channel"
        """A public storefront: authenticates with its client_id alone, always market-scoped."""
        INTEGRATION = "integration", "integration"
        """A back-office system: authenticates with client_id and client_secret."""

    class Role(models.TextChoices):
        ADMIN = "admin", "admin"
        """An integration that may read and write everything."""
        READ_ONLY = "read_only", "read only"
        """An integration that may only read."""

    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    role = models.CharField(
        max_length=20,
        choices=Role.choices,
        blank=True,
        default="",
        help_text="Integrations only: admin or read only.",
    )
    client_id = models.CharField(
        max_length=CLIENT_ID_LENGTH, unique=True, default=new_client_id, editable=False
    )
    # A Django password hash (integrations only); the plain secret is shown once, at creation.
    client_secret_hash = models.CharField(max_length=255, blank=True, default="", editable=False)
    market = models.ForeignKey(
        "markets.Market",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        help_text="When set, tokens are only issued for this market, and it is the default scope.",
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Resource.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="sales_channel", role="")
                | Q(kind="integration", role__in=["admin", "read_only"]),
                name="application_role_matches_kind",
                violation_error_message=(
                    "An integration needs a role (admin or read_only); a sales channel has none."
                ),
            ),
            models.CheckConstraint(
                condition=Q(kind="sales_channel", client_secret_hash="")
                | (Q(kind="integration") & ~Q(client_secret_hash="")),
                name="application_secret_matches_kind",
                violation_error_message="Integrations have a client secret; sales channels do not.",
            ),
        ]

    def clean(self) -> None:
        if self.kind == self.Kind.SALES_CHANNEL and self.role:
            raise ValidationError({"role": "A sales channel has no role."})
        if self.kind == self.Kind.INTEGRATION and not self.role:
            raise ValidationError({"role": "An integration needs a role: admin or read_only."})

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_public(self) -> bool:
        """Public clients (storefronts) cannot keep a secret; Commerce Layer's `public` claim."""
        return self.kind == self.Kind.SALES_CHANNEL

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class RefreshToken(models.Model):
    """A refresh token, stored as a SHA-256 hash only: it has 256 random bits, so a fast hash
    is enough and lets us look it up; a slow salted password hash would not.

    Rotation: using a token marks it used and issues its successor in the same `family`. A used
    token presented again means one of the two copies was stolen, so the whole family is revoked
    (OAuth 2.0 Security BCP, refresh token rotation).
    """

    token_hash = models.CharField(max_length=64, unique=True)
    family = models.CharField(max_length=43, db_index=True)
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="refresh_tokens"
    )
    scope = models.CharField(max_length=1000, blank=True, default="")
    owner_type = models.CharField(max_length=50, blank=True, default="")
    owner_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_type="", owner_id="") | (~Q(owner_type="") & ~Q(owner_id="")),
                name="refresh_token_owner_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"refresh token {self.pk} of {self.application_id}"
