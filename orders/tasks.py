"""Background tasks of the orders app (`django.tasks`). They only call services."""

from __future__ import annotations

from typing import cast

from django.tasks import task

from oms.actors import Actor, ActorKind
from orders.services.placement import order_place_complete


@task()
def order_place_task(order_id: str, actor: dict[str, str]) -> str:
    """The background half of `place_async`; returns the order's status afterwards."""
    order = order_place_complete(
        order_id=order_id,
        actor=Actor(
            kind=cast(ActorKind, actor.get("kind", "system")),
            id=actor.get("id", ""),
            name=actor.get("name", ""),
        ),
    )
    return str(order.status)
