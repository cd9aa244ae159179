"""What every orders admin page shares: who acts, and read-only inlines."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from unfold.admin import TabularInline

from oms.actors import Actor


def actor_of(request: HttpRequest) -> Actor:
    user = request.user
    return Actor(kind="user", id=str(user.pk or ""), name=user.get_username())


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
