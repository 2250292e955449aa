"""Who did something to an order: a staff user, a member, or a system job (for the history)."""

from __future__ import annotations

from dataclasses import dataclass

from o2o.core.access import Actor, ActorKind
from o2o.inventory.ledger import Who


@dataclass(frozen=True)
class By:
    user_id: int | None = None
    member_id: int | None = None
    label: str = "system"

    @property
    def who(self) -> Who:
        """As the inventory ledger records it."""
        return Who(user_id=self.user_id, label=self.label[:100])


SYSTEM = By(label="system")


def by_actor(actor: Actor) -> By:
    if actor.kind is ActorKind.MEMBER:
        return By(member_id=actor.id, label=f"member:{actor.id}")
    return By(user_id=actor.id, label=f"staff:{actor.id}")


def system(job: str) -> By:
    return By(label=f"system:{job}")
