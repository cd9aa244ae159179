"""Prefetching children most records do not have (volume tiers of a price, weight tiers of a
shipping method): one query, not two, when none has any."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Exists, OuterRef, prefetch_related_objects


def with_children_if_any[M: models.Model](
    queryset: models.QuerySet[M], related_name: str
) -> list[M]:
    """The records of `queryset`, each with its `related_name` children prefetched: an EXISTS
    per record says which have any, and only theirs are read (a second query only then); the
    others get an empty prefetch, so reading their children asks nothing more."""
    relation: Any = queryset.model._meta.get_field(related_name)
    assert relation.one_to_many, f"{related_name} is a reverse foreign key"
    child: type[models.Model] = relation.related_model
    flag = f"_has_{related_name}"
    records = list(
        queryset.annotate(
            **{flag: Exists(child._default_manager.filter(**{relation.field.name: OuterRef("pk")}))}
        )
    )
    with_children = [record for record in records if getattr(record, flag)]
    for record in records:
        if not getattr(record, flag):
            cache = record.__dict__.setdefault("_prefetched_objects_cache", {})
            cache[related_name] = child._default_manager.none()
    if with_children:
        prefetch_related_objects(with_children, related_name)
    return records
