"""The one way a plain resource row is written: validated, saved atomically, races mapped.

Entity services (`sku_create`, `price_update`, …) build on these so every write, from the
admin, the API or a command, passes the same model validation and database constraints.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models.constants import OnConflict
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


_READS = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK")


@contextmanager
def atomic_joined() -> Iterator[None]:
    """`transaction.atomic()` for a service that only runs inside a caller's transaction:
    standalone it is the transaction; inside a caller's it joins that one, with no savepoint
    (two statements saved per call). An error raised after the block wrote anything marks
    the caller's transaction for rollback (as `atomic(savepoint=False)` does): a caller that
    catches it cannot commit a half-made change, and can only go on past a savepoint of its
    own. A refusal raised before any write (a cart that cannot change, a plan that cannot
    ship) leaves the caller's transaction as it was, as the savepoint did."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    wrote = False

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal wrote
        # anything but a plain read counts (a composed or CTE statement too, to be safe)
        if not wrote and not (isinstance(sql, str) and sql.lstrip()[:9].upper().startswith(_READS)):
            wrote = True
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        try:
            yield
        except BaseException:
            if wrote:
                transaction.set_rollback(True)
            raise


def _may_lose_a_race(model: type[models.Model]) -> bool:
    """Whether saving a validated row can still fail in the database: only a uniqueness lost
    to a concurrent writer can (check constraints are row-local and proved by `full_clean`;
    foreign keys are checked at commit on PostgreSQL)."""
    opts = model._meta
    return (
        any(field.unique and not field.primary_key for field in opts.concrete_fields)
        or bool(opts.unique_together)
        or any(isinstance(c, models.UniqueConstraint) for c in opts.constraints)
    )


def _loaded_parents(instance: models.Model) -> list[str]:
    """The foreign keys set to a row the caller holds: `full_clean` would read each again to
    prove it exists (the database checks it too, at the latest when the transaction commits)."""
    return [
        field.name
        for field in instance._meta.concrete_fields
        if isinstance(field, models.ForeignKey)
        and field.is_cached(instance)
        and (parent := field.get_cached_value(instance)) is not None
        and not parent._state.adding
        and getattr(instance, field.attname) == parent.pk
    ]


def _full_clean(instance: models.Model, *, exclude: set[str]) -> None:
    """`Model.full_clean(exclude=...)`, step for step, except that a foreign key set to a row
    the caller holds is not read again to prove it exists: uniqueness and constraints on it
    are still checked."""
    errors: dict[str, Any] = {}
    try:
        instance.clean_fields(exclude=exclude | set(_loaded_parents(instance)))
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        instance.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    checked = exclude | {name for name in errors if name != NON_FIELD_ERRORS}
    pk = instance._meta.pk
    fresh_id = instance._state.adding and pk is not None and pk.has_default()
    try:
        # a new row's generated id is not looked up (the primary key still refuses a twin)
        instance.validate_unique(exclude=checked | {pk.name} if fresh_id and pk else checked)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        instance.validate_constraints(exclude=checked)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def resource_save[M: models.Model](instance: M) -> M:
    """Validate with the model's own rules, then save; a constraint lost to a race is a
    ValidationError too, never an IntegrityError reaching the caller (so only a row that can
    lose one pays for the savepoint that lets its caller's transaction go on)."""
    _full_clean(instance, exclude=set(_protected_state_fields(instance)))
    if not _may_lose_a_race(type(instance)):
        instance.save()
        return instance
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError(f"The record conflicts with an existing one: {exc}") from exc
    return instance


def row_insert_unless_taken(instance: models.Model) -> bool:
    """Insert a new `instance` in one statement (`INSERT … ON CONFLICT DO NOTHING
    RETURNING`), no savepoint: False, and nothing written, when a unique key it holds is
    taken (by a committed row, or by one a concurrent transaction commits while this waits).
    Only for rows whose ids are made here (a taken id then means a taken unique key), and
    valid ones: SQLite's `INSERT OR IGNORE` skips a row a NOT NULL or CHECK constraint
    refuses too."""
    model = type(instance)
    assert instance._state.adding, "a new row"
    assert instance.pk is not None, "with its id made here"
    fields = [field for field in model._meta.local_concrete_fields if not field.generated]
    using = router.db_for_write(model, instance=instance)
    returned = model._base_manager._insert(  # type: ignore[attr-defined]
        [instance],
        fields=fields,
        returning_fields=[model._meta.pk],
        using=using,
        on_conflict=OnConflict.IGNORE,
    )
    if not returned:
        return False
    instance._state.adding = False
    instance._state.db = using
    return True


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
