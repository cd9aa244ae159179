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
