"""Admin pages are a thin face over the services: every save and delete goes through them."""

from typing import Any, ClassVar

from django.contrib import admin
from django.db import models
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from oms.services import resource_delete, resource_save


class ServiceModelAdmin(admin.ModelAdmin):
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
