"""Roles, enforced in one place (spec section 7).

Each resource view declares a `Policy`: which actions a sales channel, a customer, a read-only
integration and an admin integration may take. `RolePermission` checks it for every request;
the view's `scope_queryset` narrows what a sales channel or a customer can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from oms.api.errors import ApiError
from oms.api.principal import Principal

READ = frozenset({"list", "retrieve"})
WRITE = frozenset({"create", "update", "destroy"})
EVERYTHING = READ | WRITE


class Forbidden(ApiError):
    """The token is valid but its role may not do this (Commerce Layer answers 401 here)."""

    status_code = 401
    default_code = "UNAUTHORIZED"


@dataclass(frozen=True)
class Policy:
    sales_channel: frozenset[str] = frozenset()
    customer: frozenset[str] = frozenset()  # on top of what the sales channel may do
    read_only: frozenset[str] = READ
    admin: frozenset[str] = EVERYTHING

    def allowed(self, principal: Principal) -> frozenset[str]:
        if principal.is_integration:
            return self.admin if principal.role == "admin" else self.read_only
        if principal.is_customer:
            return self.sales_channel | self.customer
        return self.sales_channel


CATALOG = Policy(sales_channel=READ)
BACK_OFFICE = Policy()
SINGLETON = Policy(sales_channel=frozenset({"retrieve"}), read_only=frozenset({"retrieve"}))


def principal_of(request: Request) -> Principal | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, Principal) else None


def view_action(view: Any) -> str:
    action = getattr(view, "action", None) or ""
    return {"partial_update": "update"}.get(action, action)


class RolePermission(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        principal = principal_of(request)
        if principal is None:
            raise NotAuthenticated("A valid access token is required (Authorization: Bearer …).")
        policy: Policy = getattr(view, "policy", BACK_OFFICE)
        action = view_action(view)
        if not action:
            return True  # no handler for this method: the view answers 405
        if action in ("related", "relationship"):
            action = "retrieve"
        if action not in policy.allowed(principal):
            raise Forbidden("You are not authorized to perform this action on this resource.")
        return True
