"""API applications in the admin: created through the service, revoked, never deleted."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from oms.admin import ServiceModelAdmin
from oms.oauth import services
from oms.oauth.models import Application


@admin.register(Application)
class ApplicationAdmin(ServiceModelAdmin):
    list_display = ("name", "kind", "role", "market", "client_id", "active", "created_at")
    list_filter = ("kind", "role", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "client_id")
    list_select_related = ("market",)
    actions = ("revoke_applications",)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "kind", "role", "market")
        return (
            "name",
            "id",
            "kind",
            "role",
            "market",
            "client_id",
            "revoked_at",
            "created_at",
            "updated_at",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        # Kind, role and market define what the tokens mean: a different client is a new one.
        return (
            "id",
            "kind",
            "role",
            "market",
            "client_id",
            "revoked_at",
            "created_at",
            "updated_at",
        )

    @admin.display(boolean=True)
    def active(self, application: Application) -> bool:
        return not application.is_revoked

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the row explains the tokens it issued

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        if change:
            services.application_update(application=obj, name=obj.name)
            return
        credentials = services.application_create(
            name=obj.name, kind=obj.kind, role=obj.role, market=obj.market
        )
        created = credentials.application
        # The admin goes on with `obj` (log entry, redirect): make it the saved row.
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if k != "_state"})
        obj._state.adding = False
        obj._state.db = created._state.db
        message = f"Client ID: {created.client_id}"
        if credentials.client_secret:
            message += (
                f" — client secret: {credentials.client_secret} "
                "(copy it now: it is stored hashed and will not be shown again)"
            )
        self.message_user(request, message, messages.WARNING)

    @admin.action(description="Revoke selected applications (their tokens stop working)")
    def revoke_applications(self, request: HttpRequest, queryset: QuerySet[Application]) -> None:
        count = 0
        for application in queryset:
            services.application_revoke(application=application)
            count += 1
        self.message_user(request, f"{count} application(s) revoked.", messages.SUCCESS)
