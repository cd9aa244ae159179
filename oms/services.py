"""The one way a plain resource row is written: validated, saved atomically, races mapped.

Entity services (`sku_create`, `price_update`, …) build on these so every write, from the
admin, the API or a command, passes the same model validation and database constraints.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django_fsm import FSMFieldMixin


def _protected_state_fields(instance: models.Model) -> list[str]:
    """The protected state-machine fields: `full_clean` assigns every field it cleans, and a
    protected FSM field refuses any assignment, even of its own value. Only its transitions
    change it (and they validate it), so model validation leaves it alone."""
    return [
        field.name
        for field in instance._meta.concrete_fields
        if isinstance(field, FSMFieldMixin) and field.protected
    ]


def resource_save[M: models.Model](instance: M) -> M:
    """Validate with the model's own rules, then save; a constraint lost to a race is a
    ValidationError too, never an IntegrityError reaching the caller."""
    instance.full_clean(exclude=_protected_state_fields(instance))
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError(f"The record conflicts with an existing one: {exc}") from exc
    return instance


def resource_create[M: models.Model](model: type[M], data: Mapping[str, Any]) -> M:
    return resource_save(model(**data))


def resource_update[M: models.Model](instance: M, data: Mapping[str, Any]) -> M:
    for field, value in data.items():
        setattr(instance, field, value)
    return resource_save(instance)


def resource_delete(instance: models.Model) -> None:
    try:
        with transaction.atomic():
            instance.delete()
    except models.ProtectedError as exc:
        raise ValidationError(
            f"{instance._meta.verbose_name} is still used by other records and cannot be deleted."
        ) from exc
