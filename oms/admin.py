"""Admin pages are a thin face over the services: every save and delete goes through them."""

from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template.response import TemplateResponse
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from oms.models import IdempotencyRecord
from oms.money import cents_to_decimal, currency_exponent
from oms.services import resource_delete, resource_save


class ServiceModelAdmin(ModelAdmin):
    """Saves through `resource_save` (model validation + constraints), never a bare `.save()`."""

    readonly_fields: ClassVar[tuple[str, ...]] = ("id", "created_at", "updated_at")

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        resource_save(obj)

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        resource_delete(obj)

    def delete_queryset(self, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
        for obj in queryset:
            resource_delete(obj)

    def save_formset(
        self, request: HttpRequest, form: ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            resource_delete(obj)
        for instance in instances:
            resource_save(instance)
        formset.save_m2m()


# --- staff users and roles, and the developers' pages, in the theme --------------------------

admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.unregister(DBTaskResult)


@admin.register(User)
class StaffUserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class StaffRoleAdmin(BaseGroupAdmin, ModelAdmin):
    pass


@admin.register(DBTaskResult)
class TaskResultAdmin(DBTaskResultAdmin, ModelAdmin):
    """The background tasks (read only): what ran, when, and each failure's traceback."""


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ModelAdmin):
    """Read only: the API writes these; a developer looks at them when a client retries."""

    list_display = ("key", "owner", "customer", "status_code", "created_at")
    list_filter = ("status_code",)
    search_fields = ("key", "owner")
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- money in major units ---------------------------------------------------------------------


class MoneyModelForm(forms.ModelForm):
    """Amounts typed and shown in major units of the row's currency (12.50 EUR, 1250 JPY),
    stored as the model's integer minor units. `money_fields` maps a form field (a
    `forms.DecimalField` declared on the form) to its model column."""

    money_fields: ClassVar[dict[str, str]] = {}

    def currency_code_of(self, data: dict[str, Any]) -> str:
        raise NotImplementedError

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = self._initial_currency()
        for name, column in self.money_fields.items():
            cents = getattr(self.instance, column, None)
            if currency and cents is not None:
                self.initial[name] = cents_to_decimal(cents, currency)
            if currency:
                self.fields[name].help_text = f"In {currency}, e.g. 12.50"

    def _initial_currency(self) -> str:
        if self.instance.pk is None:
            return ""
        try:
            return self.currency_code_of({})
        except (AttributeError, ObjectDoesNotExist):
            return ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            currency = self.currency_code_of(data)
        except (AttributeError, ObjectDoesNotExist):
            return data  # the field naming the currency has its own error
        exponent = currency_exponent(currency)
        for name, column in self.money_fields.items():
            amount = data.get(name)
            if amount is None:
                if not self.fields[name].required:
                    setattr(self.instance, column, None)
                continue
            cents = Decimal(amount).scaleb(exponent)
            if cents != cents.to_integral_value():
                self.add_error(
                    name, f"{currency} has {exponent} decimal places: {amount} has more."
                )
                continue
            setattr(self.instance, column, int(cents))
        return data


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 403 page (`handler403`): inside the admin's layout for staff on an admin URL, so a
    role that followed a link it may not use still has its navigation; elsewhere plain."""
    if request.path.startswith("/admin/") and getattr(request.user, "is_staff", False):
        context = {
            **admin.site.each_context(request),
            "title": "Not allowed",
            "reason": "Your role does not include this. Ask a merchant admin if you need it.",
        }
        return TemplateResponse(request, "admin/403.html", context, status=403)
    return HttpResponseForbidden("403 Forbidden")
