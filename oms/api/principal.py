"""Who is calling the API: the claims of a verified access token.

`oms.oauth.authentication.BearerTokenAuthentication` sets `request.auth` to a `Principal`;
permission classes and queryset scoping (`oms.api.permissions`) read nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ApplicationKind = Literal["sales_channel", "integration"]
IntegrationRole = Literal["admin", "read_only"]


@dataclass(frozen=True)
class Principal:
    application_id: str
    kind: ApplicationKind
    role: IntegrationRole | None = None  # integrations only
    market_ids: tuple[str, ...] = ()  # public ids of the markets in the token's scope
    customer_id: str | None = None  # the owner of a password-grant (customer) token
    scope: str = ""
    claims: dict[str, object] = field(default_factory=dict, compare=False)

    @property
    def is_sales_channel(self) -> bool:
        return self.kind == "sales_channel"

    @property
    def is_integration(self) -> bool:
        return self.kind == "integration"

    @property
    def is_customer(self) -> bool:
        return self.customer_id is not None

    @property
    def can_write_back_office(self) -> bool:
        return self.is_integration and self.role == "admin"
