"""What the order center's API modules share: idempotency, who is asking, what they may see."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Header

from o2o.accounts.auth import API_AUTH
from o2o.accounts.models import Member
from o2o.accounts.permissions import actor_of, visible_location_ids
from o2o.common.errors import Forbidden, Unauthorized
from o2o.core.access import Actor, ActorKind, Perm
from o2o.inventory.idempotency import run_idempotent
from o2o.orders.actors import By, by_actor

try:
    from ninja import Status
except ImportError:  # django-ninja < 1.6: a (status, body) tuple means the same
    def Status(status_code: int, value: Any) -> tuple[int, Any]:  # type: ignore[no-redef]  # noqa: N802
        return status_code, value

IdemKey = Header(None, alias="Idempotency-Key", description="repeat-safe key (1-120 chars), kept 24 h")


class _Anonymous:
    """Lets a request through without credentials (carts of visitors); the view decides."""

    openapi_type = "apiKey"  # never shown: ninja documents only the real schemes

    def __call__(self, request: HttpRequest) -> bool:
        return True


OPTIONAL_AUTH = [*API_AUTH, _Anonymous()]


def maybe_actor(request: HttpRequest) -> Actor | None:
    try:
        return actor_of(request)
    except Unauthorized:
        return None


def member_of(request: HttpRequest) -> Member:
    actor = actor_of(request)
    if actor.kind is not ActorKind.MEMBER:
        raise Forbidden("仅会员可操作 Members only", code="members_only")
    return Member.objects.get(pk=actor.id)


def idempotent(request: HttpRequest, op: str, key: str | None, payload: Any, work) -> Status:  # noqa: ANN001
    actor = actor_of(request)
    out = run_idempotent(operation=f"{op}:{actor.kind.value}:{actor.id}"[:64], key=key, payload=payload, work=work)
    return Status(out.status, out.body)


def viewer(request: HttpRequest) -> tuple[Actor, int | None, list[int] | None]:
    """(actor, member id if a member, the locations a staff member may see or None for all)."""
    actor = actor_of(request)
    if actor.kind is ActorKind.MEMBER:
        return actor, actor.id, None
    return actor, None, visible_location_ids(request, Perm.ORDER_VIEW)


def by_of(request: HttpRequest) -> By:
    return by_actor(actor_of(request))
