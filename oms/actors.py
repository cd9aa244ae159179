"""Who made a change: recorded on every timeline event and passed to every state-changing service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ActorKind = Literal["system", "user", "application", "customer"]


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str = ""
    name: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.name or self.id or '-'}"


SYSTEM = Actor(kind="system", name="system")


def actor_as_dict(actor: Actor) -> dict[str, str]:
    """An actor as a background task's JSON argument."""
    return {"kind": actor.kind, "id": actor.id, "name": actor.name}


def actor_from_dict(data: dict[str, str]) -> Actor:
    kind = data.get("kind", "system")
    if kind not in ("system", "user", "application", "customer"):
        kind = "system"
    return Actor(kind=kind, id=data.get("id", ""), name=data.get("name", ""))  # type: ignore[arg-type]
